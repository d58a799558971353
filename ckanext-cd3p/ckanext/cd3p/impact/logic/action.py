"""Actions of programme impact: the outcome measures, the outcome report's template, the programmes
and their reach against need."""

from __future__ import annotations

import base64
import dataclasses
import math
from typing import Any

from ckan import model
from ckan.plugins import toolkit as tk
from ckan.types import Action, Context, DataDict

from ckanext.cd3p.common import actions, inputs
from ckanext.cd3p.common import schema as common_schema
from ckanext.cd3p.impact import computation, outcomes, reach, registry, reports, suppression
from ckanext.cd3p.impact.logic import schema

MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@tk.side_effect_free
def cd3p_measure_list(context: Context, data_dict: DataDict) -> list[dict[str, Any]]:
    """The outcome measures a programme reports (``impact/measures.yaml``), in order: each with
    ``id``, ``title``, ``unit``, ``kind`` (``count`` or ``median``), ``definition``, ``source``,
    ``people`` (small counts are suppressed), ``need`` (the indicator and count it answers, or None
    where no shipped indicator counts that need), ``need_note`` and ``of`` (a median's count)."""
    tk.check_access("cd3p_measure_list", context, data_dict)
    actions.validate(data_dict, common_schema.nothing(), context)
    return [dataclasses.asdict(m) for m in registry.MEASURES.values()]


@tk.side_effect_free
def cd3p_outcome_template(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """The blank outcome report: one row per measure, in the documented columns.

    :param format: ``csv`` (default) or ``xlsx`` (with a sheet of the measures' definitions)
    :returns: ``format``, ``filename``, ``media_type``, ``columns``, ``encoding`` (``utf-8`` for
        CSV, ``base64`` for a workbook) and ``content``
    """
    tk.check_access("cd3p_outcome_template", context, data_dict)
    data = actions.validate(data_dict, schema.outcome_template(), context)
    fmt = data["format"]
    if fmt == "csv":
        encoding, content = "utf-8", reports.template_csv().decode("utf-8")
    else:
        encoding, content = "base64", base64.b64encode(reports.template_xlsx()).decode("ascii")
    return {
        "format": fmt,
        "filename": f"cd3p-outcome-report.{fmt}",
        "media_type": MEDIA_TYPES[fmt],
        "columns": list(reports.COLUMNS),
        "encoding": encoding,
        "content": content,
    }


# --- programmes and their reach -------------------------------------------------------------------


def _selection(data: dict[str, Any]) -> computation.Selection:
    low, high = data.get("period_from"), data.get("period_to")
    if low and high and reports.quarter_key(low) > reports.quarter_key(high):
        raise tk.ValidationError({"period_to": [tk._("The last quarter comes before the first")]})
    return computation.Selection(low, high, data.get("programme"), data.get("organization"))


def _totals(
    context: Context, listed: list[reach.Programme], selection: computation.Selection
) -> dict[str, list[dict[str, Any]]]:
    """Each listed programme's totals per measure (every quarter, city level): outcomes, spend,
    cost per outcome and target, suppressed as one table with the all-programmes total. That total
    is hidden wherever ``cd3p_impact_show`` hides the city's (a small place beside a larger one can
    hide it): one programme alone, or one shown beside it, would otherwise give it back."""
    cells = reach.cells_for(context, listed)
    found = reach.programme_totals(listed, computation.EVERYTHING)
    city = reach.summary(context, selection)["measures"]
    city_hidden = {item["measure"]["id"] for item in city if item["city"]["suppressed"]}
    out: dict[str, list[dict[str, Any]]] = {p.id: [] for p in listed}
    for m in registry.MEASURES.values():
        if not m.summable:
            continue
        values = {
            p.id: found[(p.id, m.id, computation.WHOLE)]
            for p in listed
            if (p.id, m.id, computation.WHOLE) in found
        }
        if not values:
            continue
        counts: dict[Any, float] = {pid: s.outcomes for pid, s in values.items()}
        counts["all"] = math.nan if m.id in city_hidden else sum(counts.values())  # nan: hidden
        hidden = suppression.suppress(
            counts, [suppression.Group("all", tuple(values))], cells, people=m.people
        )
        for pid, s in values.items():
            entry = {
                "measure": m.id,
                "title": m.title,
                "outcomes": s.outcomes,
                "spend": s.spend,
                "cost_per_outcome": computation.cost_per_outcome(s.spend, s.outcomes),
                "target": s.target,
            }
            out[pid].append(suppression.blank(entry, pid in hidden))
    return out


@tk.side_effect_free
def cd3p_programme_list(context: Context, data_dict: DataDict) -> list[dict[str, Any]]:
    """The programmes the caller may see, each with ``id``, ``name``, ``title``, ``organization``,
    ``illustrative``, ``access_level`` and ``totals``: per measure reported, the ``outcomes``,
    ``spend``, ``cost_per_outcome`` and ``target`` over every quarter and place (small counts
    suppressed for the public, ``suppressed`` true).

    :param organization: only this organization's programmes (name or id)
    """
    tk.check_access("cd3p_programme_list", context, data_dict)
    data = actions.validate(data_dict, schema.programme_list(), context)
    selection = computation.Selection(organization=data.get("organization"))
    listed = reach.chosen(reach.programmes(context), selection)
    totals = _totals(context, listed, selection)
    return [{**reach.programme_out(p), "totals": totals[p.id]} for p in listed]


@tk.side_effect_free
def cd3p_programme_show(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """One programme: its dataset (as ``package_show`` gives it), and its reach citywide: per
    measure, the totals and the trend by quarter (outcomes, target, spend, cost per outcome), the
    reported earnings per programme dollar where both are reported, and its reports' check states.

    :param id: the programme's name or id
    """
    tk.check_access("cd3p_programme_show", context, data_dict)
    data = actions.validate(data_dict, schema.programme_show(), context)
    dataset = tk.get_action("package_show")(dict(context), {"id": data["id"]})
    if dataset.get("type") != outcomes.PROGRAMME:
        raise tk.ObjectNotFound(tk._("Programme not found"))
    programme = next((p for p in reach.programmes(context) if p.id == dataset["id"]), None)
    counted = [programme] if programme is not None else []
    cells = reach.cells_for(context, counted)
    selection = computation.Selection(programme=dataset["name"])
    summable = [m for m in registry.MEASURES.values() if m.summable]
    summed = reach.sums_by_measure([m.id for m in summable], counted, computation.EVERYTHING)
    measures = []
    for m in summable:
        if m.id not in summed:
            continue
        # The places and quarters suppressed as one table: a small place can hide the city's total,
        # and its quarters with it.
        shown = computation.impact(summed[m.id], m.id, "city", {}, selection=selection, cells=cells)
        measures.append(
            {
                "measure": {"id": m.id, "title": m.title, "unit": m.unit},
                "city": shown["city"],
                "target": summed[m.id].total().target,
                "trend": shown["trend"],
            }
        )
    earnings = computation.reported_earnings_per_dollar(
        reach.earning_pairs(counted, computation.EVERYTHING), cells=cells
    )
    return {
        "programme": dataset,
        "illustrative": dataset.get("illustrative") == "yes",
        "measures": measures,
        "earnings_per_dollar": earnings,
        "reports": outcomes.report_states(dataset),
        "small_cell_threshold": cells.threshold,
        "raw": cells.raw,
    }


@tk.side_effect_free
def cd3p_impact_show(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Outcomes against need, place by place, for one measure.

    Counts only the programmes the caller may see. Small counts are hidden for the public, with the
    cells that would give them back (``suppressed``); a selection of quarters, a programme or an
    organization below city level needs partner access (see ``impact/reach.py``).

    :param measure: a count measure's id (see cd3p_measure_list)
    :param level: ``tract`` (default), ``council_district``, ``neighborhood``, ``zip`` or ``city``
    :param period_from: the first quarter counted, e.g. ``2025-Q1`` (default: the first reported)
    :param period_to: the last quarter counted (default: the last reported)
    :param programme: only this programme (name or id)
    :param organization: only this organization's programmes (name or id)
    :returns: ``values`` (one per place: ``id``, ``name``, ``outcomes``, ``need``, ``coverage``,
        outcomes per 100 in need, ``unmet``, ``spend``, ``cost_per_outcome``, ``suppressed``),
        ``city`` in the same shape, ``trend`` (per quarter, citywide), ``targeting`` (shares of
        outcomes and spend reaching the fifth of tracts with the highest Digital Equity Index, and
        the concentration index), ``need`` (what is counted and from which indicator),
        ``programmes`` counted, ``illustrative``, ``method`` and ``small_cell_threshold``
    """
    tk.check_access("cd3p_impact_show", context, data_dict)
    data = actions.validate(data_dict, schema.impact_show(), context)
    return reach.show(context, data["measure"], data["level"], _selection(data))


@tk.side_effect_free
def cd3p_impact_summary(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Every count measure citywide, by quarter: what the impact page's table of outcomes by
    measure and quarter, and its costs per outcome, show. The same numbers and suppression as
    ``cd3p_impact_show`` at city level, for every measure from one query.

    :param measure: optionally, a count measure whose total per partner organization is wanted
    :param period_from: the first quarter counted (default: the first reported)
    :param period_to: the last quarter counted (default: the last reported)
    :param programme: only this programme (name or id)
    :param organization: only this organization's programmes (name or id)
    :returns: ``measures`` (each: ``measure``, ``city`` with ``outcomes``, ``spend``,
        ``cost_per_outcome``, ``suppressed``, and ``trend``, one entry per quarter, as in
        ``cd3p_impact_show``); ``organizations`` (for ``measure``: each partner's city total, in
        the same shape, suppressed as its own selection); ``programmes`` counted, ``illustrative``,
        ``raw`` and ``small_cell_threshold``
    """
    tk.check_access("cd3p_impact_summary", context, data_dict)
    data = actions.validate(data_dict, schema.impact_summary(), context)
    return reach.summary(context, _selection(data), data.get("measure"))


@tk.side_effect_free
def cd3p_impact_place_show(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Programme reach in one place, against the city: what a place page shows.

    Counts only the programmes the caller may see, with the suppression of ``cd3p_impact_show``
    (whose every-quarter, every-programme reading each measure's numbers are).

    :param level: ``tract``, ``council_district``, ``neighborhood`` or ``city``
    :param id: the place: a tract GEOID, ``district-3``, ``neighborhood-arden-park`` or ``city``
    :returns: ``level``, ``id``, ``name``; ``measures``: each measure reported anywhere, with the
        ``place``'s and the ``city``'s ``outcomes``, ``need``, ``coverage``, ``unmet``, ``spend``,
        ``cost_per_outcome`` and ``suppressed``, the ``measure`` and its ``need``; ``programmes``
        serving the place (each with the ``measures`` it reported there; named only where one of
        its counts there is not a small one the caller may not see); ``illustrative``, ``raw`` and
        ``small_cell_threshold``
    """
    tk.check_access("cd3p_impact_place_show", context, data_dict)
    data = actions.validate(data_dict, schema.impact_place_show(), context)
    return reach.place(context, data["level"], data["id"])


# --- a report deleted: its rows no longer count ----------------------------------------------------


@tk.chained_action
def resource_delete(up_func: Action, context: Context, data_dict: DataDict) -> Any:
    """Core resource_delete; a deleted outcome report's rows stop counting."""
    inputs.guard(data_dict, ids=("id",), required=("id",))
    result = up_func(context, data_dict)
    resource = model.Resource.get(data_dict["id"])
    outcomes.forget([resource.id if resource is not None else data_dict["id"]])
    return result


@tk.chained_action
def package_update(up_func: Action, context: Context, data_dict: DataDict) -> Any:
    """Core package_update (and so package_patch); the rows of reports an update takes out of a
    programme stop counting."""
    result = up_func(context, data_dict)
    if isinstance(result, dict) and result.get("type") == outcomes.PROGRAMME:
        outcomes.forget_removed(result["id"], [r["id"] for r in result.get("resources", [])])
    return result


@tk.chained_action
def dataset_purge(up_func: Action, context: Context, data_dict: DataDict) -> Any:
    """Core dataset_purge; a purged programme's rows go with it."""
    inputs.guard(data_dict, ids=("id",), required=("id",))
    dataset = model.Package.get(data_dict["id"])
    result = up_func(context, data_dict)
    if dataset is not None:
        outcomes.forget(package_id=dataset.id)
    return result
