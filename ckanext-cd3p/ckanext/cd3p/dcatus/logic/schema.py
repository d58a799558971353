"""Schemas of ckanext-dcat's actions as we chain them: each value is checked to be text (a page a
whole number, a date an ISO 8601 one) before ckanext-dcat parses it; a format is one the
endpoints serve, and the profile ours (any other would describe the datasets by other rules).
A refused value names its field: the API answers 409, the catalog's pages 409 with the reason."""

from __future__ import annotations

from typing import Any

from ckan.logic.schema import validator_args
from ckan.plugins import toolkit as tk
from ckan.types import Schema, Validator

from ckanext.cd3p.common.validators import cd3p_date, cd3p_required_text, cd3p_text
from ckanext.cd3p.requests.logic.validators import max_length

FORMATS = ["ttl", "jsonld", "xml", "rdf", "turtle", "json-ld", "pretty-xml", "n3", "nt"]
PROFILE = "cd3p_dcat_us_3"
QUERY_LENGTH = 1000
# Solr counts results from a 32-bit offset: 100 a page.
MAX_PAGE = 20_000_000


@validator_args
def _shared(ignore_empty: Validator, one_of: Validator) -> Schema:
    return {
        "format": [ignore_empty, cd3p_text, one_of(FORMATS)],
        "profiles": [ignore_empty, _ours],
    }


@validator_args
def catalog(ignore_empty: Validator, natural_number_validator: Validator, int_validator: Validator) -> Schema:
    return {
        **_shared(),
        "page": [ignore_empty, _page],
        "modified_since": [ignore_empty, cd3p_text, cd3p_date],
        "q": [ignore_empty, cd3p_text, max_length(QUERY_LENGTH)],
        "fq": [ignore_empty, cd3p_text, max_length(QUERY_LENGTH)],
    }


@validator_args
def dataset() -> Schema:
    return {**_shared(), "id": [cd3p_required_text, max_length(100)]}


def _page(value: Any) -> int:
    """A page number: a whole number from 1 to :data:`MAX_PAGE`, or its digits as text."""
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) <= 9:
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_PAGE:
        raise tk.Invalid(tk._("Must be a whole number from 1 to {n}").format(n=MAX_PAGE))
    return value


def _ours(value: Any) -> Any:
    """The profile (text, or the list ckanext-dcat's view makes of it): ours only."""
    names = value if isinstance(value, list) else [value]
    if not all(isinstance(n, str) for n in names) or set(names) - {PROFILE}:
        raise tk.Invalid(tk._("The only profile is {profile}").format(profile=PROFILE))
    return value
