"""One signal, one place: a DataStore table changed (its load finished, or a DataStore write:
``datastore_create``, ``_upsert``, ``_delete``). Whatever depends on a table's content is told here,
and only here:

- the indicator cache forgets what it read from the table (its version is bumped, the signal other
  readers compare against: ``indicators/cache.py``);
- the results saved from the table are computed again (``analysis/derived.py``);
- the table's dataset has new data: it is fresh again (``feeds/changes.py``).
"""

from __future__ import annotations


def table_changed(resource_id: str) -> None:
    from ckanext.cd3p.analysis import derived
    from ckanext.cd3p.feeds import changes
    from ckanext.cd3p.indicators import cache

    cache.invalidate(resource_id)
    derived.source_changed(resource_id)
    changes.resource_changed(resource_id)
