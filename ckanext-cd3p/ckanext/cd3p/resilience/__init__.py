"""Resilience: what the portal does when a service it runs on fails, so that nothing written is lost
and every page answers clearly.

- Solr down: searches answer 503 "search is unavailable"; datasets written meanwhile are kept and
  indexed when Solr is back (``index.py``).
- Redis down: pages keep answering from the DataStore (``indicators/cache.py``); an upload is
  stored and its check is queued once Redis is back (``ingestion/checks.py``).
- A worker killed: a check it was running is started again (``ingestion/checks.py``).
- PostgreSQL restarted: connections are tested before use (``sqlalchemy.pool_pre_ping``).

The recovery job (``recovery.py``), queued by the scheduler every
``ckanext.cd3p.recovery.period`` seconds, does the catching up.
"""
