"""What every feature's actions share: validation with the action's schema, the commit, the caller."""

from __future__ import annotations

from typing import Any

from ckan import model
from ckan.plugins import toolkit as tk
from ckan.types import Context, DataDict

Session = model.Session


def validate(data_dict: DataDict, schema_: dict[str, Any], context: Context) -> dict[str, Any]:
    data, errors = tk.navl_validate(data_dict, schema_, context)
    if errors:
        Session.rollback()
        raise tk.ValidationError(errors)
    data.pop("__extras", None)  # unknown keys are ignored, never stored
    data.pop("__junk", None)
    return data


def commit(context: Context) -> None:
    if not context.get("defer_commit"):
        Session.commit()


def actor(context: Context) -> model.User:
    user = model.User.get(context.get("user") or "")
    if user is None:
        raise tk.NotAuthorized(tk._("You must be logged in"))
    return user
