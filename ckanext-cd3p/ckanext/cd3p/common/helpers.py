"""Template helpers several features use: http(s) links, Markdown without images, UTC times."""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Iterator
from typing import Any

import bleach
from bleach import html5lib_shim
from ckan.lib.helpers import MARKDOWN_ATTRIBUTES, MARKDOWN_TAGS
from ckan.plugins import toolkit as tk
from markupsafe import Markup

from ckanext.cd3p.common import i18n, validators


def cd3p_http_url(value: Any) -> str | None:
    """The value if it is a web link (http or https, see :func:`validators.http_url`), else None:
    a page links a URL field only then, and shows anything else (a value stored before URLs were
    checked) as text."""
    return validators.http_url(value)


class _ImagesAsText(html5lib_shim.Filter):
    """Each image becomes its alt text (escaped when the HTML is written out): no remote picture."""

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for token in super().__iter__():
            if token["type"] in ("StartTag", "EmptyTag") and token["name"] == "img":
                alt = token["data"].get((None, "alt"))  # as written in the HTML, entities and all
                if alt:
                    yield {"type": "Characters", "data": html.unescape(alt)}
                continue
            yield token


_WITHOUT_IMAGES = bleach.Cleaner(
    tags=MARKDOWN_TAGS, attributes=MARKDOWN_ATTRIBUTES, strip=True, filters=[_ImagesAsText]
)


def cd3p_markdown(text: str | None) -> Markup:
    """Markdown as CKAN renders it (``h.render_markdown``: raw HTML stripped, links to http(s) and
    mailto only), without images: each is shown as its alt text, so that a page never makes its
    reader's browser fetch a remote picture (a tracking pixel). For the agreement's text and the
    dataset's Markdown fields (``scheming/display_snippets/markdown.html``)."""
    if not text:
        return Markup("")
    rendered = tk.h.render_markdown(text, auto_link=False)
    return Markup(_WITHOUT_IMAGES.clean(str(rendered)))  # sanitized by bleach just now


def cd3p_utc(value: str | dt.datetime | None, with_seconds: bool = True) -> str:
    """A timestamp in UTC, as the ledger records it: ``2026-05-01 14:03:09 UTC``."""
    if not value:
        return ""
    moment = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    fmt = "%Y-%m-%d %H:%M:%S UTC" if with_seconds else "%Y-%m-%d %H:%M UTC"
    return moment.astimezone(dt.UTC).strftime(fmt)


def cd3p_number(value: float | int | None, digits: int = 0, sign: bool = False) -> str:
    """A number in the reader's locale (``1,234.5``; ``1.234,5``), ``digits`` decimals."""
    return i18n.number(value, digits, sign)


def cd3p_percent(value: float | int | None, digits: int = 1) -> str:
    """Percentage points in the reader's locale (``12.5%``; ``12,5 %``)."""
    return i18n.percent(value, digits)


def cd3p_money(value: float | int | None, digits: int = 0) -> str:
    """US dollars in the reader's locale (``$1,234``; ``1.234 US$``)."""
    return i18n.money(value, digits)
