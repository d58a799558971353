#!/usr/bin/env bash
# Local Apache Solr 9 for CKAN, built from Maven Central artifacts (no Docker,
# no Solr tarball).  See config/solr/launcher/pom.xml for why that works.
#
# usage: scripts/solr.sh build|start|stop|status
#
# Environment (defaults):
#   CD3P_ROOT                 repo root (parent of this script's dir)
#   CD3P_VAR                  $CD3P_ROOT/var        (git-ignored; build, solr home, data, logs)
#   CD3P_SOLR_PORT            8983                  (always bound to 127.0.0.1)
#   CD3P_TEST_WORKERS         2                     (parallel test processes, each with its core)
#   CD3P_SOLR_CORES           "ckan ckan_test ckan_test_gw0 ckan_test_gw1"
#   CD3P_SOLR_JAVA_OPTS       "-Xms128m -Xmx512m"
#   CD3P_SOLR_BUILD_DIR       $CD3P_VAR/solr/launcher (the launcher's build)
#   CD3P_SOLR_START_TIMEOUT   90                    (seconds to wait for all cores to ping OK)
#
# All subcommands are idempotent and may be run from any directory.
set -euo pipefail

CD3P_ROOT="${CD3P_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
CD3P_VAR="${CD3P_VAR:-$CD3P_ROOT/var}"
CD3P_SOLR_PORT="${CD3P_SOLR_PORT:-8983}"
CD3P_TEST_WORKERS="${CD3P_TEST_WORKERS:-2}"
# The development core, the test core, the scale benchmark's cores (ckan_scale: CD3P; ckan_plain:
# CKAN with ckanext-scheming alone; make bench-scale), and one core per parallel test process (make test).
default_cores() {
  local cores="ckan ckan_test ckan_scale ckan_plain" i
  for ((i = 0; i < CD3P_TEST_WORKERS; i++)); do cores="$cores ckan_test_gw$i"; done
  echo "$cores"
}
CD3P_SOLR_CORES="${CD3P_SOLR_CORES:-$(default_cores)}"
CD3P_SOLR_JAVA_OPTS="${CD3P_SOLR_JAVA_OPTS:--Xms128m -Xmx512m}"
CD3P_SOLR_START_TIMEOUT="${CD3P_SOLR_START_TIMEOUT:-90}"

SRC_DIR="$CD3P_ROOT/config/solr"
LAUNCHER_DIR="$SRC_DIR/launcher"
CONFIGSET_DIR="$SRC_DIR/configsets/ckan/conf"
# The launcher's build: one per machine is enough (a second set of services, such as the failure
# tests', shares the first one's through CD3P_SOLR_BUILD_DIR).
BUILD_DIR="${CD3P_SOLR_BUILD_DIR:-$CD3P_VAR/solr/launcher}"
SOLR_HOME="$CD3P_VAR/solr/home"
SOLR_DATA="$CD3P_VAR/solr/data"
LOG_DIR="$CD3P_VAR/log"
LOG_FILE="$LOG_DIR/solr.log"
BUILD_LOG="$LOG_DIR/solr-build.log"
PID_FILE="$CD3P_VAR/run/solr.pid"
BASE_URL="http://127.0.0.1:$CD3P_SOLR_PORT/solr"
MAIN_CLASS="org.cd3p.solr.Launcher"

die() { echo "solr: $*" >&2; exit 1; }

require_java() {
  command -v java >/dev/null 2>&1 ||
    die "java not found; install it with: apt-get install openjdk-17-jre-headless maven"
  local v
  v="$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n1)"
  [[ -n "$v" && "$v" -ge 17 ]] ||
    die "java >= 17 required (found: ${v:-unknown}); install: apt-get install openjdk-17-jre-headless maven"
}

require_maven() {
  command -v mvn >/dev/null 2>&1 ||
    die "mvn not found; install it with: apt-get install openjdk-17-jre-headless maven"
}

require_curl() {
  command -v curl >/dev/null 2>&1 ||
    die "curl not found (used for health checks); install it with: apt-get install curl"
}

build_hash() {
  cat "$LAUNCHER_DIR/pom.xml" "$LAUNCHER_DIR/src/main/java/org/cd3p/solr/Launcher.java" |
    sha256sum | cut -d' ' -f1
}

is_built() {
  [[ -f "$BUILD_DIR/.build-stamp" && -f "$BUILD_DIR/cd3p-solr-launcher.jar" && -d "$BUILD_DIR/lib" ]] &&
    [[ "$(cat "$BUILD_DIR/.build-stamp")" == "$(build_hash)" ]]
}

cmd_build() {
  require_java
  if is_built; then
    echo "solr: launcher already built ($BUILD_DIR)"
    return 0
  fi
  require_maven
  echo "solr: building launcher with Maven into $BUILD_DIR (first run downloads ~80 MB of jars)..."
  # Wipe first: copy-dependencies never deletes jars left over from an older Solr version.
  rm -rf "$BUILD_DIR"
  mkdir -p "$BUILD_DIR" "$LOG_DIR"
  # Output goes to a log (shown on failure): keeps the console clean, Debian's
  # Maven 3.8 prints stray ANSI codes even with -B -q.
  if ! mvn -B -DskipTests -f "$LAUNCHER_DIR/pom.xml" -Dcd3p.build.dir="$BUILD_DIR" package \
    >"$BUILD_LOG" 2>&1; then
    tail -n 50 "$BUILD_LOG" >&2
    die "maven build failed; full output in $BUILD_LOG"
  fi
  build_hash >"$BUILD_DIR/.build-stamp"
  echo "solr: launcher built"
}

# Pid from the pid file if that process is alive and really is our launcher
# (guards against pid reuse: we must never signal somebody else's process).
our_pid() {
  [[ -f "$PID_FILE" ]] || return 1
  local pid
  pid="$(cat "$PID_FILE" 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$MAIN_CLASS" || return 1
  echo "$pid"
}

core_ok() {
  curl -fsS --max-time 5 "$BASE_URL/$1/admin/ping?wt=json" 2>/dev/null |
    grep -Eq '"status"[[:space:]]*:[[:space:]]*"OK"'
}

all_cores_ok() {
  local core
  for core in $CD3P_SOLR_CORES; do
    core_ok "$core" || return 1
  done
}

port_in_use() {
  # A successful connect means something already listens on 127.0.0.1:PORT
  # (this also catches listeners on 0.0.0.0).
  (exec 3<>"/dev/tcp/127.0.0.1/$CD3P_SOLR_PORT") 2>/dev/null
}

log_tail() {
  echo "solr: did not become healthy; last lines of $LOG_FILE:" >&2
  tail -n 30 "$LOG_FILE" >&2 || true
}

wait_healthy() {
  local pid="$1" deadline=$((SECONDS + CD3P_SOLR_START_TIMEOUT))
  while ((SECONDS < deadline)); do
    all_cores_ok && return 0
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 1
  done
  return 1
}

# Rebuild the (disposable) solr home: solr.xml + one instance dir per core with a
# fresh copy of the configset.  Index data lives in $SOLR_DATA and is kept.
prepare_home() {
  local core
  [[ -d "$CONFIGSET_DIR" ]] || die "configset not found: $CONFIGSET_DIR"
  rm -rf "${SOLR_HOME:?}"
  mkdir -p "$SOLR_HOME" "$SOLR_DATA" "$LOG_DIR" "$(dirname "$PID_FILE")"
  cp "$SRC_DIR/solr.xml" "$SOLR_HOME/solr.xml"
  for core in $CD3P_SOLR_CORES; do
    [[ "$core" =~ ^[A-Za-z0-9_.-]+$ ]] || die "invalid core name: '$core'"
    mkdir -p "$SOLR_HOME/$core"
    cp -R "$CONFIGSET_DIR" "$SOLR_HOME/$core/conf"
    printf 'name=%s\n' "$core" >"$SOLR_HOME/$core/core.properties"
  done
}

cmd_start() {
  local pid
  [[ -n "${CD3P_SOLR_CORES// /}" ]] || die "CD3P_SOLR_CORES is empty"
  require_curl
  cmd_build

  if pid="$(our_pid)"; then
    if all_cores_ok; then
      echo "solr: already running"
      return 0
    fi
    local core
    for core in $CD3P_SOLR_CORES; do
      if [[ ! -d "$SOLR_HOME/$core" ]]; then
        # Started with fewer cores (CD3P_TEST_WORKERS grew): start again with them all.
        echo "solr: running without core $core; restarting"
        cmd_stop
        cmd_start
        return
      fi
    done
    # Alive but not answering yet: probably still starting (e.g. a concurrent start).
    echo "solr: pid $pid is running but not healthy yet; waiting up to ${CD3P_SOLR_START_TIMEOUT}s"
    if wait_healthy "$pid"; then
      echo "solr: already running"
      return 0
    fi
    log_tail
    exit 1
  fi
  rm -f "$PID_FILE"

  if port_in_use; then
    die "port $CD3P_SOLR_PORT is already in use by another process (see: ss -ltnp 'sport = :$CD3P_SOLR_PORT')"
  fi

  prepare_home
  # Keep one previous log around; the current one only covers this run.
  if [[ -f "$LOG_FILE" ]]; then mv -f "$LOG_FILE" "$LOG_FILE.1"; fi

  echo "solr: starting on 127.0.0.1:$CD3P_SOLR_PORT (cores: $CD3P_SOLR_CORES, log: $LOG_FILE)"
  local start=$SECONDS
  # setsid: own session, so Ctrl-C / hangup of the calling terminal does not reach Solr.
  # shellcheck disable=SC2086  # CD3P_SOLR_JAVA_OPTS is intentionally word-split
  setsid nohup java $CD3P_SOLR_JAVA_OPTS \
    -Dlog4j2.configurationFile="$SRC_DIR/log4j2.xml" \
    -Dsolr.log.dir="$LOG_DIR" \
    -Dsolr.install.dir="$BUILD_DIR" \
    -Dsolr.data.home="$SOLR_DATA" \
    -Djetty.port="$CD3P_SOLR_PORT" \
    -cp "$BUILD_DIR/cd3p-solr-launcher.jar:$BUILD_DIR/lib/*" \
    "$MAIN_CLASS" "$SOLR_HOME" "$CD3P_SOLR_PORT" \
    </dev/null >>"$LOG_FILE" 2>&1 &
  pid=$!
  echo "$pid" >"$PID_FILE"

  if wait_healthy "$pid"; then
    echo "solr: running on 127.0.0.1:$CD3P_SOLR_PORT (pid $pid, healthy after $((SECONDS - start))s)"
    return 0
  fi
  log_tail
  # Don't leave a half-working Solr behind (it would also block the next start).
  cmd_stop >&2
  exit 1
}

cmd_stop() {
  local pid i
  if ! pid="$(our_pid)"; then
    rm -f "$PID_FILE"
    echo "solr: not running"
    return 0
  fi
  echo "solr: stopping pid $pid"
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 30; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 1
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "solr: pid $pid still alive after 30s, sending KILL"
    kill -KILL "$pid" 2>/dev/null || true
    sleep 1
  fi
  rm -f "$PID_FILE"
  echo "solr: stopped"
}

cmd_status() {
  local pid
  require_curl
  if ! pid="$(our_pid)"; then
    echo "solr: not running"
    return 1
  fi
  if all_cores_ok; then
    echo "solr: running on 127.0.0.1:$CD3P_SOLR_PORT"
    return 0
  fi
  echo "solr: pid $pid is alive but not healthy (cores: $CD3P_SOLR_CORES)"
  return 1
}

case "${1:-}" in
  build) cmd_build ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  *)
    echo "usage: $0 build|start|stop|status" >&2
    exit 2
    ;;
esac
