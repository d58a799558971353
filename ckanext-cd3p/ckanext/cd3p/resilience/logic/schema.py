"""Schemas of the resilience actions."""

from __future__ import annotations

from ckan.types import Schema


def recovery_show() -> Schema:
    return {}
