"""The fetch of a linked file or a feed against a real local HTTP server: the addresses it refuses
(loopback, private, link-local and metadata, shared, IPv6, a name resolving to one, a redirect to one),
the allow-list that the tests need for their own server, the conditional request, the size limit
and the hash."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from ckanext.cd3p.common import fetch
from tests.helpers import serving

BODY = b"geoid,households\n26163500100,900\n"
ETAG = '"v1"'


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def do_GET(self) -> None:  # the name http.server calls
        if self.path == "/data.csv":
            if self.headers.get("If-None-Match") == ETAG:
                self.send_response(304)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("ETag", ETAG)
            self.send_header("Last-Modified", "Mon, 07 Dec 2026 00:00:00 GMT")
            self.send_header("Content-Length", str(len(BODY)))
            self.end_headers()
            self.wfile.write(BODY)
        elif self.path == "/to-metadata":
            self.send_response(302)
            self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
            self.end_headers()
        elif self.path == "/to-data":
            self.send_response(301)
            self.send_header("Location", "/data.csv")
            self.end_headers()
        elif self.path == "/loop":
            self.send_response(302)
            self.send_header("Location", "/loop")
            self.end_headers()
        else:
            self.send_response(404)
            self.end_headers()


@pytest.fixture
def server() -> Iterator[str]:
    with serving(ThreadingHTTPServer(("127.0.0.1", 0), _Handler)) as base:
        yield base


LOCAL = ["127.0.0.1"]  # what the tests allow: their own server


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/feed.csv",
        "http://localhost/feed.csv",  # a name resolving to loopback
        "http://10.1.2.3/feed.csv",
        "http://172.16.0.1/feed.csv",
        "http://192.168.1.10/feed.csv",
        "http://169.254.169.254/latest/meta-data/",  # the cloud metadata service (link-local)
        "http://100.64.0.1/feed.csv",  # shared address space
        "http://0.0.0.0/feed.csv",
        "http://[::1]/feed.csv",
        "http://[fe80::1]/feed.csv",
        "http://[fd00:ec2::254]/feed.csv",  # unique local (AWS's IPv6 metadata)
        "http://[::ffff:127.0.0.1]/feed.csv",  # IPv4-mapped loopback
        "http://224.0.0.1/feed.csv",
    ],
)
def test_addresses_inside_the_portal_s_networks_are_refused(url: str) -> None:
    reason = fetch.refusal(url, allowed=[])
    assert reason is not None and "refused" in reason
    with pytest.raises(fetch.FetchError, match="refused"):
        fetch.fetch(url, allowed=[])


@pytest.mark.parametrize(
    "url", ["ftp://example.org/f.csv", "file:///etc/passwd", "gopher://x/", "http:///nohost"]
)
def test_only_http_and_https_with_a_host(url: str) -> None:
    assert fetch.refusal(url, allowed=[]) is not None


def test_a_public_address_passes_the_rule() -> None:
    assert fetch.refusal("https://93.184.215.14/data.csv", allowed=[]) is None


def test_the_allow_list_names_a_host_or_a_network() -> None:
    assert fetch.refusal("http://10.1.2.3/f.csv", allowed=["10.0.0.0/8"]) is None
    assert fetch.refusal("http://10.1.2.3/f.csv", allowed=["10.2.0.0/16"]) is not None
    assert fetch.refusal("http://localhost/f.csv", allowed=["localhost"]) is None


def test_a_fetch_gets_the_content_its_hash_and_validators(server: str) -> None:
    got = fetch.fetch(server + "/data.csv", allowed=LOCAL)
    assert (got.status, got.content, got.sha256) == ("changed", BODY, hashlib.sha256(BODY).hexdigest())
    assert (got.etag, got.last_modified) == (ETAG, "Mon, 07 Dec 2026 00:00:00 GMT")
    again = fetch.fetch(server + "/data.csv", etag=got.etag, allowed=LOCAL)
    assert (again.status, again.content) == ("unchanged", b"")


def test_redirects_are_followed_only_where_the_rule_allows(server: str) -> None:
    followed = fetch.fetch(server + "/to-data", allowed=LOCAL)
    assert (followed.content, followed.url) == (BODY, server + "/data.csv")
    with pytest.raises(fetch.FetchError, match="169.254.169.254"):
        fetch.fetch(server + "/to-metadata", allowed=LOCAL)
    with pytest.raises(fetch.FetchError, match="redirects"):
        fetch.fetch(server + "/loop", allowed=LOCAL)


def test_the_size_limit_and_failures(server: str) -> None:
    with pytest.raises(fetch.FetchError, match="larger than"):
        fetch.fetch(server + "/data.csv", max_bytes=10, allowed=LOCAL)
    with pytest.raises(fetch.FetchError, match="404"):
        fetch.fetch(server + "/missing", allowed=LOCAL)
    with pytest.raises(fetch.FetchError, match="does not resolve"):
        fetch.fetch("http://no-such-host.invalid/f.csv", allowed=[])
