"""What a reader sees while Solr cannot be reached: a 503 "search is unavailable" page, or in the
API a 503 error, each with ``Retry-After`` (the recovery job's period). Registered for the whole
application: any page or action that searches raises :class:`index.SearchUnavailable`.

CKAN's Action API answers any error it does not know with a 500 of its own before an error handler
sees it; so the search marks the request (:func:`index.mark_unavailable`), and the API's 500 that
follows is answered as the 503 it is."""

from __future__ import annotations

import flask
from ckan.plugins import toolkit as tk
from ckan.types import Response

from ckanext.cd3p import config
from ckanext.cd3p.resilience import index

cd3p_resilience = flask.Blueprint("cd3p_resilience", __name__)


def _message() -> str:
    return tk._(
        "Search is unavailable for a moment. Nothing you saved is lost: changes made meanwhile "
        "are found by search once it is back. Please try again shortly."
    )


def _headers() -> dict[str, str]:
    return {"Retry-After": str(config.recovery_period())}


@cd3p_resilience.app_errorhandler(index.SearchUnavailable)
def search_unavailable(error: index.SearchUnavailable) -> Response:
    page = tk.render("cd3p/resilience/unavailable.html", {"message": _message()})
    return flask.make_response(page, 503, _headers())


@cd3p_resilience.after_app_request
def api_search_unavailable(response: Response) -> Response:
    if (
        response.status_code != 500
        or not index.marked_unavailable()
        or not flask.request.path.startswith("/api/")
    ):
        return response
    body = {"success": False, "error": {"__type": "Search Unavailable", "message": _message()}}
    return flask.make_response(flask.jsonify(body), 503, _headers())


blueprints = [cd3p_resilience]
