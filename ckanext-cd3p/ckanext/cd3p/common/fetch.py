"""Fetching a linked file or a feed's URL without being turned against the portal's own network
(server-side request forgery), conditionally, within the size limit, with the content's hash.

:func:`refusal` is the one rule of which addresses a feed may reach: ``http`` or ``https`` only, and
a host every address of which (as resolved now) is public: no loopback, private, link-local (the
cloud metadata service at 169.254.169.254 among them), shared (100.64.0.0/10), multicast, reserved
or unspecified address, in IPv4 or IPv6, unless ``ckanext.cd3p.feeds.allowed_hosts`` names the host
or a network holding its address. :func:`fetch` asks the rule again for every redirect before
following it, and never lets the HTTP library follow one by itself.

What it does not cover: a name that resolves to a public address when checked and to a private one
a moment later (DNS rebinding) is refused only if the first answer is private.
"""

from __future__ import annotations

import hashlib
import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from typing import IO
from urllib.parse import urljoin, urlsplit

import requests
from ckan.plugins import toolkit as tk

from ckanext.cd3p import config

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

MAX_REDIRECTS = 5
CHUNK = 64 * 1024
# Shared address space (carrier-grade NAT): not "private" to Python, not public either.
_SHARED = ipaddress.ip_network("100.64.0.0/10")


class FetchError(Exception):
    """The feed could not be fetched; the message says why, for the feed's log."""


@dataclass(frozen=True)
class Fetched:
    status: str  # "changed" or "unchanged" (a 304 to the conditional request)
    content: bytes = b""
    sha256: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    url: str = ""  # where the content came from, after the redirects
    size: int = 0


def _allowed(host: str, addresses: Iterable[Address], allowed: Iterable[str]) -> bool:
    for entry in allowed:
        entry = entry.strip()
        if not entry:
            continue
        if entry.lower() == host.lower():
            return True
        try:
            network = ipaddress.ip_network(entry, strict=False)
        except ValueError:
            continue
        if any(address in network for address in addresses):
            return True
    return False


def _forbidden(address: Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or (isinstance(address, ipaddress.IPv4Address) and address in _SHARED)
        or not address.is_global
    )


def resolve(host: str) -> list[Address]:
    """Every address the host resolves to now (an IP literal: itself).

    :raises FetchError: the name does not resolve
    """
    try:
        return [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        pass
    try:
        found = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as e:
        raise FetchError(
            tk._("The host {host} does not resolve: {error}").format(host=host, error=e)
        ) from None
    return [ipaddress.ip_address(info[4][0].split("%")[0]) for info in found]


def refusal(url: str, allowed: Iterable[str] | None = None) -> str | None:
    """Why a feed may not fetch this URL, or None when it may."""
    allowed = list(config.feeds_allowed_hosts() if allowed is None else allowed)
    try:
        parts = urlsplit(url)
    except ValueError:
        return tk._("Not a URL")
    if parts.scheme not in ("http", "https"):
        return tk._("Only http and https addresses can be fetched")
    host = parts.hostname
    if not host:
        return tk._("The address names no host")
    try:
        addresses = resolve(host)
    except FetchError as e:
        return str(e)
    if _allowed(host, addresses, allowed):
        return None
    bad = [str(a) for a in addresses if _forbidden(a)]
    if bad:
        # The addresses a name resolves to are not told: whoever may see the reason must not learn
        # the layout of the portal's network from it.
        return tk._(
            "The host {host} is inside a network the portal does not fetch from: loopback, private, "
            "link-local, shared or reserved addresses are refused"
        ).format(host=host)
    return None


def fetch(
    url: str,
    etag: str | None = None,
    last_modified: str | None = None,
    max_bytes: int | None = None,
    timeout: float | None = None,
    allowed: Iterable[str] | None = None,
    sink: IO[bytes] | None = None,
) -> Fetched:
    """The URL's content, asked conditionally (``If-None-Match``, ``If-Modified-Since``); written
    to ``sink`` as it arrives when one is given (the answer's ``content`` is then empty).

    :raises FetchError: a refused address (the first URL or a redirect), too many redirects, an
        answer that is not 200 or 304, a body over ``max_bytes`` (CKAN's upload limit by default),
        or the connection failing or timing out
    """
    limit = max_bytes if max_bytes is not None else config.max_resource_mb() * 1024 * 1024
    seconds = timeout if timeout is not None else config.link_timeout()
    headers = {"User-Agent": "CD3P feeds (ckanext-cd3p)"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    current = url
    for _ in range(MAX_REDIRECTS + 1):
        reason = refusal(current, allowed)
        if reason:
            raise FetchError(reason)
        try:
            response = requests.get(
                current, headers=headers, timeout=seconds, stream=True, allow_redirects=False
            )
        except requests.RequestException as e:
            raise FetchError(tk._("The fetch failed: {error}").format(error=e)) from None
        with response:
            if response.is_redirect or response.status_code in (301, 302, 303, 307, 308):
                location = response.headers.get("Location")
                if not location:
                    raise FetchError(tk._("A redirect without a Location"))
                current = urljoin(current, location)
                continue
            if response.status_code == 304:
                return Fetched("unchanged", etag=etag, last_modified=last_modified, url=current)
            if response.status_code != 200:
                raise FetchError(tk._("The server answered {status}").format(status=response.status_code))
            declared = response.headers.get("Content-Length")
            if declared and declared.isdigit() and int(declared) > limit:
                raise FetchError(
                    tk._("The file is larger than {mb} MB").format(mb=limit // (1024 * 1024) or 1)
                )
            digest = hashlib.sha256()
            body = bytearray()
            size = 0
            try:
                for chunk in response.iter_content(CHUNK):
                    size += len(chunk)
                    if size > limit:
                        raise FetchError(
                            tk._("The file is larger than {mb} MB").format(mb=limit // (1024 * 1024) or 1)
                        )
                    digest.update(chunk)
                    if sink is None:
                        body.extend(chunk)
                    else:
                        sink.write(chunk)
            except requests.RequestException as e:
                raise FetchError(tk._("The fetch failed: {error}").format(error=e)) from None
            return Fetched(
                "changed",
                content=bytes(body),
                sha256=digest.hexdigest(),
                etag=response.headers.get("ETag"),
                last_modified=response.headers.get("Last-Modified"),
                url=current,
                size=size,
            )
    raise FetchError(tk._("More than {n} redirects").format(n=MAX_REDIRECTS))
