"""Schemas of the freshness and feed actions (written as ``common.schema`` says)."""

from __future__ import annotations

from ckan.types import Schema

from ckanext.cd3p.common import schema as common


def freshness_show() -> Schema:
    """A dataset: its ``id`` (or name)."""
    return common.by_id()


def freshness_list() -> Schema:
    """One page of the datasets past due."""
    return common.paging()


def feed_show() -> Schema:
    """A resource: its ``id``."""
    return common.by_id()


def feed_run() -> Schema:
    """A resource with a feed: its ``id``."""
    return common.by_id()
