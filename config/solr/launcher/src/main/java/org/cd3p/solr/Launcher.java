package org.cd3p.solr;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import org.apache.solr.embedded.JettyConfig;
import org.apache.solr.embedded.JettySolrRunner;

/**
 * Runs a standalone (non-cloud) Solr node on 127.0.0.1 for local CKAN development/tests.
 *
 * <p>Usage: {@code java -cp 'lib/*:cd3p-solr-launcher.jar' org.cd3p.solr.Launcher SOLR_HOME [PORT]}
 *
 * <p>PORT falls back to the {@code jetty.port} system property, then 8983. The context path is
 * {@code /solr} (override with {@code -Dcd3p.solr.context}). JettySolrRunner always binds to
 * 127.0.0.1, which is exactly what we want: never expose this Solr on the network.
 */
public final class Launcher {

  private Launcher() {}

  public static void main(String[] args) throws Exception {
    if (args.length < 1 || args.length > 2) {
      System.err.println("usage: Launcher SOLR_HOME [PORT]");
      System.exit(2);
    }
    Path home = Paths.get(args[0]).toAbsolutePath().normalize();
    if (!Files.isRegularFile(home.resolve("solr.xml"))) {
      System.err.println("solr home " + home + " has no solr.xml");
      System.exit(2);
    }
    int port = args.length == 2 ? Integer.parseInt(args[1]) : Integer.getInteger("jetty.port", 8983);
    String context = System.getProperty("cd3p.solr.context", "/solr");

    // Parts of Solr read solr home from this property rather than from the servlet context.
    System.setProperty("solr.solr.home", home.toString());

    JettyConfig config =
        JettyConfig.builder()
            .setPort(port)
            .setContext(context)
            // Fail fast if the port is taken (the default retries for 60 s).
            .withPortRetryTime(0)
            // We stop Jetty ourselves so Solr cores get closed (index committed/unlocked).
            .stopAtShutdown(false)
            .waitForLoadingCoresToFinish(120_000L)
            .build();
    JettySolrRunner runner = new JettySolrRunner(home.toString(), new Properties(), config);

    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  System.out.println("cd3p-solr: shutting down (signal received)");
                  try {
                    runner.stop();
                    System.out.println("cd3p-solr: stopped cleanly");
                  } catch (Throwable t) {
                    System.err.println("cd3p-solr: error while stopping: " + t);
                  } finally {
                    stopped.countDown();
                  }
                },
                "cd3p-solr-shutdown"));

    try {
      runner.start();
    } catch (Throwable t) {
      System.err.println("cd3p-solr: failed to start on 127.0.0.1:" + port);
      t.printStackTrace();
      // halt: skip the shutdown hook, there is nothing sensible to stop.
      Runtime.getRuntime().halt(1);
    }
    System.out.println(
        "cd3p-solr: listening on http://127.0.0.1:" + runner.getLocalPort() + context
            + " (solr home " + home + ")");
    // Jetty's threads keep the JVM alive; park main until the hook has run.
    stopped.await();
  }
}
