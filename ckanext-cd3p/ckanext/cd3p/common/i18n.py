"""Languages: the shipped texts of our YAML files in the catalogs, and numbers in the reader's locale.

The portal speaks English, Spanish and Arabic (``ckan.locales_offered``); our messages are in
``i18n/<lang>/LC_MESSAGES/ckanext-cd3p.po`` (``make i18n`` extracts and merges them, ``make install``
compiles them). Three things live here:

- :func:`extract_yaml`, the Babel extractor of the texts people read in our YAML files (the scheming
  schemas' labels, help texts, placeholders and choices; the indicators' and measures' titles and
  descriptions), declared in ``setup.py``'s ``message_extractors``;
- :class:`Text`, the type of those texts in the registries: it stays English as data (ids, the
  API's JSON, sorting) and is shown in the request's language wherever a page or message prints it;
- :func:`number`, :func:`percent`, :func:`money`: numbers formatted by Babel for the request's
  locale (``1,234.5`` in English, ``1.234,5`` in Spanish; ``$1,234`` and ``1.234 US$``), in Latin
  digits in every language, as CKAN's own numbers are (``h.localised_number``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import IO, Any

import flask_babel
import yaml
from babel import Locale, numbers
from ckan.plugins import toolkit as tk
from flask import has_request_context
from markupsafe import escape

# The keys of our YAML files whose values people read. A schema's choice labels are ``label``s too.
TEXT_KEYS = frozenset(
    {
        "label",
        "help_text",
        "form_placeholder",
        "repeating_label",
        "title",
        "description",
        "caveat",
        "definition",
        "need_note",
    }
)


def _texts(node: Any) -> Iterator[tuple[int, str]]:
    """(line, text) of each :data:`TEXT_KEYS` value under a node composed by PyYAML."""
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if (
                isinstance(key, yaml.ScalarNode)
                and key.value in TEXT_KEYS
                and isinstance(value, yaml.ScalarNode)
                and value.tag == "tag:yaml.org,2002:str"
                and re.search(r"[^\W\d_]", value.value)  # words, not a placeholder like "500"
            ):
                yield value.start_mark.line + 1, value.value
            else:
                yield from _texts(value)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            yield from _texts(item)


def extract_yaml(
    fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: dict[str, Any]
) -> Iterator[tuple[int, str, str, list[str]]]:
    """Babel extractor: the texts of a YAML file (see :data:`TEXT_KEYS`)."""
    node = yaml.compose(fileobj.read().decode("utf-8"), Loader=yaml.SafeLoader)
    for line, text in _texts(node):
        yield line, "_", text, []


def shown(text: str) -> str:
    """A text in the request's language (as it is, outside a request: a job, the shell)."""
    plain = str.__str__(text)  # never a Text: gettext hands back what it cannot translate
    return tk._(plain) if plain and has_request_context() else plain


class Text(str):
    """A shipped English text (a registry's title, say) that shows itself translated.

    Its value, as data, is the English msgid: the API's JSON, comparisons and sorting use it.
    Printed (a template, ``str()``, ``format``, ``%s``) it is the request's language.
    """

    __slots__ = ()

    def __str__(self) -> str:
        return shown(self)

    def __html__(self) -> str:
        return str(escape(shown(self)))

    def __format__(self, spec: str) -> str:
        return format(shown(self), spec)


def text_or_none(value: Any) -> Any:
    """A YAML value as :class:`Text` when it is text."""
    return Text(value) if isinstance(value, str) else value


def locale() -> str:
    """The request's locale (``en``, ``es``, ``ar``), or the default one outside a request."""
    if has_request_context():
        found = flask_babel.get_locale()  # the request's, or the one a notification forces
        if found is not None:
            return str(found)
    return tk.config.get("ckan.locale_default") or "en"


def number(value: float | int | None, digits: int = 0, sign: bool = False) -> str:
    """A number with its locale's grouping and decimal signs, ``digits`` decimals; None: ''."""
    if value is None:
        return ""
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    if sign:
        pattern = f"+{pattern};-{pattern}"
    return numbers.format_decimal(value, format=pattern, locale=locale())


def _in_locale_pattern(kind: str, value: float, digits: int, **extra: Any) -> str:
    """``value`` in the locale's own ``percent`` or ``currency`` pattern, ``digits`` decimals."""
    loc = Locale.parse(locale())
    formats = loc.percent_formats if kind == "percent" else loc.currency_formats
    pattern = numbers.parse_pattern(formats["standard" if kind == "currency" else None].pattern)
    pattern.frac_prec = (digits, digits)
    return pattern.apply(value, loc, **extra)


def percent(value: float | int | None, digits: int = 1) -> str:
    """A value in percentage points (``12.5`` for 12.5%) in the locale's percent pattern
    (``12.5%``; ``12,5 %`` with a no-break space in Spanish), ``digits`` decimals."""
    return "" if value is None else _in_locale_pattern("percent", value / 100, digits)


def money(value: float | int | None, digits: int = 0) -> str:
    """US dollars in the locale's currency pattern (``$1,234``; ``1.234 US$``), ``digits`` decimals."""
    if value is None:
        return ""
    return _in_locale_pattern("currency", value, digits, currency="USD", currency_digits=False)
