"""The rate limit on what users post to data requests: new requests and comments, together, at
most ``ckanext.cd3p.requests.hourly_limit`` a clock hour per user (sysadmins are not limited),
counted in Redis. Without Redis nothing is counted, and nothing refused: a limit on abuse is not
worth refusing every resident while Redis is down."""

from __future__ import annotations

import datetime as dt
import logging

from ckan import model
from ckan.plugins import toolkit as tk

from ckanext.cd3p import config

log = logging.getLogger(__name__)


def spend(user: model.User, now: dt.datetime | None = None) -> None:
    """Counts one post of the user's in this hour.

    :raises ValidationError: the user has posted ``hourly_limit`` times already this hour
    """
    if user.sysadmin:
        return
    hour = (now or dt.datetime.now(dt.UTC)).strftime("%Y%m%d%H")
    key = f"cd3p:requests:posts:{user.id}:{hour}"
    try:
        from ckan.lib.redis import connect_to_redis

        redis = connect_to_redis()
        posted = int(redis.incr(key))
        if posted == 1:
            redis.expire(key, 3600)
    except Exception:  # Redis down: see the module
        log.warning("cd3p: the data request rate limit could not be counted", exc_info=True)
        return
    limit = config.requests_hourly_limit()
    if posted > limit:
        raise tk.ValidationError(
            {
                "limit": [
                    tk._(
                        "You have posted {limit} data requests and comments this hour, the most one "
                        "person may; please try again after the hour turns."
                    ).format(limit=limit)
                ]
            }
        )
