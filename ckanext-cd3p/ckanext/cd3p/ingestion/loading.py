"""Loading a checked file into the DataStore: all of it, or nothing.

ckanext-xloader clears a resource's table before it copies the new file in, in several
transactions, so a load that fails or a worker that dies half-way leaves an empty or half-filled
table, and the indicators built on it go with it. Here the check job (:mod:`ckanext.cd3p.ingestion.checks`)
loads the file itself, once it has passed, in **one PostgreSQL transaction** (:class:`Staging`):

1. a staging table is made with the DataStore's own ``create_table`` (same ``_id`` and
   ``_full_text`` columns, the data dictionary kept as column comments);
2. ``COPY`` reads a CSV, TSV or TXT file as it is (:class:`Source`), straight into typed columns
   where the check's sample allows, and an XLSX or JSON file from the UTF-8 CSV copy the check
   wrote in its pass (:class:`CsvCopy`); failing that, all text, then the check's CSV copy;
3. columns copied as text are converted to their types in one table rewrite, with thousands
   separators, percent signs and blanks handled (:data:`CONVERT`). A type set by an editor in the
   data dictionary (``type_override``) wins over the guess; a guessed type that a later row
   contradicts falls back to text, with a warning in the log;
4. the old table is dropped and the staging table takes its name; DataStore aliases and the
   public, small-cell-suppressed view (:mod:`ckanext.cd3p.ingestion.suppression`) are made again.

A delimited file's ``COPY`` starts while the check still reads it (:meth:`Staging.copy_early`) and
is kept only if the check passes and read the file the same way. Until the commit, readers see the
old table; if anything fails, the check does not pass or the worker is killed, PostgreSQL rolls
the whole transaction back and the old table is untouched. After the commit the full-text
column is filled in chunks and its index built, as xloader does after its load.

Progress (phase, rows of the total, elapsed seconds) and a log are kept in the check's report under
``load`` and written every second by a heartbeat thread; a load whose heartbeat stops was killed
with its worker (:func:`state`). xloader's own task status is kept in step, so ``xloader_status``
and its DataStore tab agree.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import psycopg2
import sqlalchemy as sa
from ckan import model
from ckan.plugins import toolkit as tk
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from ckanext.cd3p import config as cd3p_config
from ckanext.cd3p.common.model import utcnow
from ckanext.cd3p.ingestion import screening
from ckanext.cd3p.ingestion.model import ResourceCheck

log = logging.getLogger(__name__)

# The data dictionary's type choices and the PostgreSQL type each is stored as.
TYPES: dict[str, str] = {
    "text": "text",
    "integer": "int8",
    "numeric": "numeric",
    "date": "date",
    "timestamp": "timestamp",
}
# A column's PostgreSQL type (as datastore_info names it) back to its choice.
CHOICE_OF_PG = {
    "text": "text",
    "int": "integer",
    "int4": "integer",
    "int8": "integer",
    "bigint": "integer",
    "integer": "integer",
    "numeric": "numeric",
    "float8": "numeric",
    "date": "date",
    "timestamp": "timestamp",
}
# SQL turning a text column ``{c}`` into each type: blanks are NULL; thousands separators go, and
# so does a trailing percent sign ("45%" is stored as 45).
CONVERT = {
    "integer": "NULLIF(replace(btrim({c}), ',', ''), '')::int8",
    "numeric": "NULLIF(regexp_replace(btrim({c}), '[,%]', '', 'g'), '')::numeric",
    "date": "NULLIF(btrim({c}), '')::date",
    "timestamp": "NULLIF(btrim({c}), '')::timestamp",
}

_INTEGER = re.compile(r"[+-]?(?:0|[1-9]\d{0,2}(?:,\d{3})+|[1-9]\d{0,17})")
_NUMERIC = re.compile(r"[+-]?(?:(?:0|[1-9]\d{0,2}(?:,\d{3})+|[1-9]\d*)(?:\.\d+)?|\.\d+)%?")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2}/\d{4}")
_TIMESTAMP = re.compile(
    r"(?:\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2}/\d{4})(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
)
# Names of columns that hold codes, kept as text whatever their values look like (leading zeros,
# GEOIDs and ZIP codes are not amounts).
_CODE_NAME = re.compile(r"(?:^|[_\s-])(?:id|geoid|geo_?id|fips|zip|zipcode|code|tract)(?:$|[_\s-])", re.I)

HEARTBEAT_SECONDS = 1.0
FULLTEXT_CHUNK = 100_000


class LoadError(Exception):
    """The file could not be loaded; the message is for the partner. The old table is unchanged."""


def guess(values: Iterable[str]) -> str:
    """The narrowest type that every non-blank value fits: integer, numeric, date, timestamp or text."""
    seen = [v.strip() for v in values if v is not None and v.strip()]
    if not seen:
        return "text"
    for choice, pattern in (
        ("integer", _INTEGER),
        ("numeric", _NUMERIC),
        ("date", _DATE),
        ("timestamp", _TIMESTAMP),
    ):
        if all(pattern.fullmatch(v) for v in seen):
            return choice
    return "text"


def guess_types(table: screening.Table, text_columns: Iterable[str] = ()) -> dict[str, str]:
    """Each column's guessed type from the check's sample of the table. ``text_columns`` (the
    declared geography key) and columns named like codes stay text."""
    keep = {c for c in text_columns if c}
    types = {}
    for index, name in enumerate(table.header):
        if name in keep or _CODE_NAME.search(name):
            types[name] = "text"
        else:
            types[name] = guess(row[index] for row in table.rows if index < len(row))
    return types


def needs_cleaning(table: screening.Table, types: dict[str, str]) -> set[str]:
    """The number columns whose sampled values have thousands separators or percent signs, which
    ``COPY`` cannot read as numbers: they are copied as text and converted (:data:`CONVERT`)."""
    found = set()
    for index, name in enumerate(table.header):
        if types.get(name) in ("integer", "numeric") and any(
            index < len(row) and ("," in row[index] or "%" in row[index]) for row in table.rows
        ):
            found.add(name)
    return found


# PostgreSQL's names of the encodings the check detects.
PG_ENCODINGS = {"utf-8": "UTF8", "utf-8-sig": "UTF8", "windows-1252": "WIN1252", "iso-8859-1": "LATIN1"}


@dataclass(frozen=True)
class Source:
    """A delimited text file as ``COPY`` reads it: the uploaded file itself, or the check's CSV copy."""

    path: Path
    encoding: str = "UTF8"
    delimiter: str = ","
    bom: bool = False

    @classmethod
    def of(cls, path: Path, table: screening.Table) -> Source:
        """The file of a CSV, TSV or TXT table, read as the check read it."""
        return cls(
            path,
            PG_ENCODINGS.get(table.encoding or "utf-8", "UTF8"),
            table.delimiter or ",",
            table.encoding == "utf-8-sig",
        )


class _Retry(Exception):
    """COPY read the file differently from the check: the next way of reading it is tried."""


class CsvCopy:
    """An ``on_row`` callback of the check's pass (:func:`screening.read_tables`) that writes the
    first table's rows as UTF-8 CSV, the one form the load reads, whatever the file's format."""

    def __init__(self, out: IO[str], text: Callable[[Any], str]):
        self._writer = csv.writer(out, lineterminator="\n")
        self._text = text  # the values as the check's sample read them (text_of)
        self.sheet: str | None = None
        self.header: list[str] = []
        self.rows = 0

    def __call__(self, sheet: str, header: Sequence[str], number: int, values: Sequence[Any]) -> None:
        if self.sheet is None:
            self.sheet = sheet
            self.header = list(header)
            self._writer.writerow(self.header)
        elif sheet != self.sheet:
            return  # a workbook's first sheet with data is its table
        self._writer.writerow([v if isinstance(v, str) else self._text(v) for v in values])
        self.rows += 1


class Progress:
    """The load's phase, rows and log, written to the check's report every second while it runs."""

    def __init__(self, check_id: str, total_rows: int | None):
        self.check_id = check_id
        self.started = time.monotonic()
        self.started_at = utcnow()
        self.status: dict[str, Any] = {
            "state": "running",
            "phase": "starting",
            "rows": 0,
            "total_rows": total_rows,
            "started": self.started_at.isoformat(),
            "pid": os.getpid(),  # the worker process doing the load, for the operator
            "log": [],
        }
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"cd3p-load-{check_id}", daemon=True)

    def __enter__(self) -> Progress:
        if not self.running:  # already writing, if it began with a copy while checking
            self._write()
            self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop(write=True)

    def stop(self, write: bool) -> None:
        """Stops the heartbeat; ``write``: records the last status (not for a copy rolled back
        before it became a load, which leaves no trace in the report)."""
        self._stop.set()
        if self.running:
            self._thread.join()
            if write:
                self._write()

    def snapshot(self) -> dict[str, Any]:
        """The status as it would be written now."""
        with self._lock:
            status = {**self.status, "log": list(self.status["log"])}
        status["elapsed"] = self.elapsed()
        status["heartbeat"] = utcnow().isoformat()
        return status

    @property
    def running(self) -> bool:
        """Whether the heartbeat is writing the status."""
        return self._thread.is_alive()

    def total(self, rows: int) -> None:
        self.status["total_rows"] = rows

    def elapsed(self) -> float:
        return round(time.monotonic() - self.started, 2)

    def phase(self, phase: str, message: str | None = None) -> None:
        with self._lock:
            self.status["phase"] = phase
            if message:
                self.status["log"].append({"seconds": self.elapsed(), "message": message})

    def note(self, message: str) -> None:
        with self._lock:
            self.status["log"].append({"seconds": self.elapsed(), "message": message})

    def rows(self, rows: int) -> None:
        self.status["rows"] = rows

    def end(self, state: str, message: str, **extra: Any) -> None:
        with self._lock:
            self.status.update(state=state, phase=state, **extra)
            self.status["log"].append({"seconds": self.elapsed(), "message": message})

    def _beat(self) -> None:
        while not self._stop.wait(HEARTBEAT_SECONDS):
            try:
                self._write()
            except Exception:  # a missed beat is not worth failing the load for
                log.exception("cd3p: could not record the progress of load %s", self.check_id)

    def _write(self) -> None:
        status = self.snapshot()
        session = model.meta.create_local_session()
        try:
            session.execute(
                sa.update(ResourceCheck)
                .where(ResourceCheck.id == self.check_id)
                .values(
                    report=sa.func.jsonb_set(
                        ResourceCheck.report,
                        sa.literal(["load"], ARRAY(sa.UnicodeText)),
                        sa.literal(status, JSONB),
                    )
                )
            )
            session.commit()
        finally:
            session.close()


class _CountingReader:
    """The CSV file as COPY reads it, counting its lines as they go by for the progress."""

    def __init__(self, file: IO[bytes], progress: Progress):
        self._file = file
        self._progress = progress
        self._lines = 0

    def read(self, size: int = -1) -> bytes:
        chunk = self._file.read(size)
        self._lines += chunk.count(b"\n")
        self._progress.rows(max(self._lines - 1, 0))  # less the header
        return chunk


def stale_after() -> dt.timedelta:
    return dt.timedelta(seconds=cd3p_config.load_stale_after())


def state(load: dict[str, Any] | None, now: dt.datetime | None = None) -> dict[str, Any] | None:
    """A load's status as a reader should see it: a running load whose heartbeat stopped more than
    ``ckanext.cd3p.load.stale_after`` seconds ago died with its worker, and is reported failed."""
    if not load or load.get("state") != "running":
        return load
    beat = dt.datetime.fromisoformat(load.get("heartbeat") or load["started"])
    if (now or utcnow()) - beat <= stale_after():
        return load
    return {
        **load,
        "state": "failed",
        "phase": "failed",
        "error": tk._(
            "The load stopped without finishing: its worker ended (no sign of it since {time} UTC). "
            "Nothing was changed in the DataStore; check the file again to retry."
        ).format(time=beat.strftime("%Y-%m-%d %H:%M:%S")),
    }


def _existing(resource_id: str) -> dict[str, dict[str, Any]]:
    """The current table's columns (name → type and data-dictionary info), empty if it has none."""
    try:
        info = tk.get_action("datastore_info")({"ignore_auth": True}, {"id": resource_id})
    except tk.ObjectNotFound:
        return {}
    return {f["id"]: f for f in info.get("fields", []) if not f["id"].startswith("_")}


def column_types(
    guessed: dict[str, str], existing: dict[str, dict[str, Any]]
) -> tuple[dict[str, str], set[str]]:
    """The type each column is loaded as, and the columns whose type an editor set: a
    ``type_override`` in the data dictionary wins over the guess."""
    types, overridden = {}, set()
    for name, choice in guessed.items():
        override = ((existing.get(name) or {}).get("info") or {}).get("type_override")
        override = CHOICE_OF_PG.get(override, override)
        if override in TYPES:
            types[name] = override
            overridden.add(name)
        else:
            types[name] = choice
    return types, overridden


def _typed(types: dict[str, str], clean: Iterable[str]) -> set[str]:
    """The columns ``COPY`` reads straight into their types: not text, and with no thousands
    separators or percent signs to drop first (``clean``)."""
    return {n for n, t in types.items() if t != "text" and n not in set(clean)}


@dataclass
class _Copy:
    """One ``COPY`` of the file into the staging table, in its own savepoint: how it read the file
    and what came of it."""

    source: Source
    header: list[str]
    types: dict[str, str]
    typed: set[str]  # the columns read straight into their types; the others are text
    savepoint: sa.engine.NestedTransaction
    rows: int = 0
    error: BaseException | None = None
    thread: threading.Thread | None = None

    def miscounted(self, total: int | None) -> str | None:
        """Why the copy cannot be kept if it read other rows than the check's ``total``."""
        if not total or self.rows == total:  # (a check that counted no rows has nothing to compare)
            return None
        return tk._("COPY read {rows} rows where the check read {total}").format(rows=self.rows, total=total)

    def keep(self, progress: Progress) -> None:
        self.savepoint.commit()
        progress.rows(self.rows)
        progress.note(tk._("Copied {rows} rows").format(rows=self.rows))

    def fits(self, source: Source, header: list[str], types: dict[str, str], typed: set[str]) -> bool:
        """Whether the copy read the file as the check says it is, into the same column types."""
        return (self.source, self.header, self.typed) == (source, header, typed) and all(
            self.types[n] == types[n] for n in typed
        )


class Staging:
    """The load's one transaction in the DataStore's database, which may begin before the check
    has decided.

    For a CSV, TSV or TXT file :meth:`copy_early` starts PostgreSQL's ``COPY`` of the file, with
    the column types its first rows suggest, while the check is still reading it, so that the
    check's pass in Python and PostgreSQL's parse of the file run at once on two processors
    instead of one after the other (``ckanext.cd3p.load.copy_while_checking``). The copied rows are
    in an uncommitted transaction, which no other session can see. :func:`load` commits them only
    after the check has passed, and only if the check read the file as the copy did (encoding,
    delimiter, rows and column types); otherwise it copies again. Leaving the ``with`` block
    without that commit (the file was held or failed, the job died) rolls everything back.
    """

    def __init__(self, resource_id: str, check_id: str) -> None:
        self.resource_id = resource_id
        self.check_id = check_id
        self.stage = f"{resource_id}-{check_id[:8]}"
        self.progress: Progress | None = None  # begun by copy_early
        self._conn: sa.Connection | None = None
        self._transaction: sa.engine.RootTransaction | None = None
        self._early: _Copy | None = None

    def __enter__(self) -> Staging:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: Any) -> None:
        if error is not None and self.progress is not None and self.progress.running:
            # the job failed while copying and checking: say so, rather than leave a silent heartbeat
            message = tk._("The load failed unexpectedly: {error}").format(error=_first_line(error))
            self.progress.end("failed", message, error=message)
            self.rollback()
            self.progress.stop(write=True)
        self.discard()

    @property
    def conn(self) -> sa.Connection:
        """The transaction's connection, opened when first needed: no transaction is held open
        while a check that is not copying reads a file."""
        if self._conn is None:
            from ckanext.datastore.backend.postgres import get_write_engine

            self._conn = get_write_engine().connect()
            self._transaction = self._conn.begin()
            self._conn.execute(sa.text("SET LOCAL statement_timeout = 0"))
        return self._conn

    def copy_early(self, path: Path, fmt: str, text_columns: Iterable[str]) -> None:
        """Starts copying a delimited file into the staging table in a thread, typed as its first
        rows (the check's sample size) suggest. Progress is recorded from now on."""
        head = screening.read_head(path, fmt, cd3p_config.check_sample_rows())
        if head is None or not head.header:
            return
        try:
            existing = _existing(self.resource_id)
            types, _ = column_types(guess_types(head, text_columns), existing)
            typed = _typed(types, needs_cleaning(head, types))
            copy = self.begin_copy(Source.of(path, head), head.header, existing, types, typed)
        except Exception as e:  # only a head start: the load after the check reports any problem
            log.warning(
                "cd3p: could not start copying resource %s while checking it: %s", self.resource_id, e
            )
            self.rollback()
            return
        progress = Progress(self.check_id, None)
        progress.phase("copying", tk._("Copying the file into a new table while it is checked"))
        self.progress = progress.__enter__()
        copy.thread = threading.Thread(
            target=self._copy_in_thread, args=(copy, progress), name=f"cd3p-copy-{self.check_id}", daemon=True
        )
        self._early = copy
        copy.thread.start()

    def _copy_in_thread(self, copy: _Copy, progress: Progress) -> None:
        try:
            self.run_copy(copy, progress)
        except BaseException as e:  # handed to the load, which decides
            copy.error = e

    def take_early(
        self, source: Source, header: list[str], types: dict[str, str], typed: set[str], progress: Progress
    ) -> tuple[int, set[str]] | None:
        """The rows and typed columns of the copy made while checking, if it read the file as the
        check says it is; otherwise it is rolled back (and ``None``), and the load copies again."""
        copy, self._early = self._early, None
        if copy is None:
            return None
        assert copy.thread is not None
        copy.thread.join()
        miscounted = copy.miscounted(progress.status["total_rows"])
        if copy.error is None and copy.fits(source, header, types, typed) and not miscounted:
            copy.keep(progress)
            return copy.rows, typed
        copy.savepoint.rollback()
        if copy.error is not None and not isinstance(copy.error, psycopg2.DataError):
            raise copy.error
        if copy.error is not None:
            why = _first_line(copy.error)
        else:
            why = miscounted or tk._("the whole file's sample gave other column types than its first rows")
        progress.note(
            tk._("The copy made while checking cannot be used ({why}); copying again").format(why=why)
        )
        return None

    def begin_copy(
        self,
        source: Source,
        header: list[str],
        existing: dict[str, dict[str, Any]],
        types: dict[str, str],
        typed: set[str],
    ) -> _Copy:
        """Makes the staging table in a new savepoint, as the DataStore makes a resource's table,
        with the ``typed`` columns of their types and the others text."""
        from ckanext.datastore.backend import postgres as ds

        fields = [
            {
                "id": name,
                "type": TYPES[types[name]] if name in typed else "text",
                **({"info": existing[name]["info"]} if existing.get(name, {}).get("info") else {}),
            }
            for name in header
        ]
        savepoint = self.conn.begin_nested()
        try:
            ds.create_table({"connection": self.conn}, {"resource_id": self.stage, "fields": fields}, {})
            # The key's index is built once after the copy, not row by row during it.
            key = ds.identifier(self.stage + "_pkey")
            self.conn.execute(sa.text(f"ALTER TABLE {ds.identifier(self.stage)} DROP CONSTRAINT {key}"))
        except tk.ValidationError as e:
            savepoint.rollback()
            raise LoadError(_validation_message(e)) from e
        except BaseException:
            savepoint.rollback()
            raise
        return _Copy(source, header, types, typed, savepoint)

    def run_copy(self, copy: _Copy, progress: Progress) -> None:
        """``COPY``s the file into the staging table, then builds its key."""
        from ckanext.datastore.backend.postgres import identifier

        copy.rows = _copy(self.conn, self.stage, copy.header, copy.source, copy.typed, progress)
        key = identifier(self.stage + "_pkey")
        self.conn.execute(
            sa.text(f"ALTER TABLE {identifier(self.stage)} ADD CONSTRAINT {key} PRIMARY KEY (_id)")
        )

    def commit(self) -> None:
        assert self._transaction is not None
        self._transaction.commit()

    def rollback(self) -> None:
        """Stops a copy under way and rolls back what the transaction did (nothing once committed)."""
        copy, self._early = self._early, None
        if copy is not None and copy.thread is not None and copy.thread.is_alive():
            assert self._conn is not None
            self._conn.connection.dbapi_connection.cancel()  # type: ignore[union-attr]
            copy.thread.join()
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                if self._transaction is not None and self._transaction.is_active:
                    self._transaction.rollback()
            finally:
                conn.close()

    def discard(self) -> None:
        """Rolls back, and stops recording progress without a trace in the report: a copy made
        while checking a file that did not pass was never a load."""
        self.rollback()
        if self.progress is not None:
            self.progress.stop(write=False)


def load(
    staging: Staging,
    source: Source,
    header: list[str],
    guessed: dict[str, str],
    progress: Progress,
    *,
    clean: Iterable[str] = (),
    fallback: Callable[[], Source] | None = None,
    suppressed: tuple[list[str], int] | None = None,
) -> dict[str, Any]:
    """Loads the file as the resource's DataStore table in ``staging``'s transaction.

    The copy made while checking is used if it read the file as the check did. Otherwise ``COPY``
    reads ``source`` straight into typed columns where the sample allows (``clean``: the number
    columns that need their separators or percent signs removed first are copied as text). If it
    cannot (a value further on does not fit, or it reads another number of rows than the check
    counted), it tries again with every column as text, then from ``fallback()`` (the check's CSV
    copy of the file), each in a savepoint; text columns are then converted.

    :param guessed: each column's guessed type (:func:`guess_types`)
    :param suppressed: the count columns and threshold of a public table's suppressed view
    :returns: the columns' final types and the rows loaded
    :raises LoadError: nothing was changed
    """
    from ckanext.datastore.backend import postgres as ds
    from ckanext.datastore.logic.action import set_datastore_active_flag

    resource_id = staging.resource_id
    existing = _existing(resource_id)
    types, overridden = column_types(guessed, existing)
    direct = _typed(types, clean)
    attempts: list[tuple[Callable[[], Source], set[str]]] = [(lambda: source, direct)]
    if direct:
        attempts.append((lambda: source, set()))
    if fallback is not None:
        attempts.append((fallback, set()))
    try:
        conn = staging.conn
        copied = staging.take_early(source, header, types, direct, progress)
        rows, typed = copied or _copy_first(staging, header, existing, types, attempts, progress)
        pending = {n for n, t in types.items() if t != "text" and n not in typed}
        types = _convert(conn, staging.stage, types, overridden, pending, progress)
        ds._create_fulltext_trigger(conn, staging.stage)
        progress.phase("replacing", tk._("Replacing the previous table"))
        aliases = _aliases(conn, resource_id)
        _swap(conn, staging.stage, resource_id)
        if aliases:
            ds.create_alias({"connection": conn}, {"resource_id": resource_id, "aliases": aliases})
        if suppressed:
            from ckanext.cd3p.ingestion import suppression

            suppression.create_view(
                conn, resource_id, [{"id": n, "type": TYPES[types[n]]} for n in header], *suppressed
            )
        staging.commit()
    except (sa.exc.OperationalError, psycopg2.OperationalError) as e:
        staging.rollback()
        raise LoadError(tk._("The database refused the load: {error}").format(error=_first_line(e))) from e
    except BaseException:
        staging.rollback()
        raise
    progress.note(tk._("The new table is in place; the previous one is gone"))
    set_datastore_active_flag({"model": model, "ignore_auth": True}, {"resource_id": resource_id}, True)
    engine = ds.get_write_engine()
    with engine.begin() as conn:
        conn.execute(sa.text(f"ANALYZE {ds.identifier(resource_id)}"))
    _fill_full_text(engine, resource_id, header, rows, progress)
    return {"rows": rows, "types": types}


def _copy_first(
    staging: Staging,
    header: list[str],
    existing: dict[str, dict[str, Any]],
    types: dict[str, str],
    attempts: list[tuple[Callable[[], Source], set[str]]],
    progress: Progress,
) -> tuple[int, set[str]]:
    """Copies the file into a new staging table by the first of ``attempts`` (a source, and the
    columns typed as they are copied) that reads it whole; returns the rows and those columns."""
    error: Exception | None = None
    for make_source, typed in attempts:
        copy = staging.begin_copy(make_source(), header, existing, types, typed)
        progress.phase(
            "copying",
            tk._("Copying {rows} rows into a new table").format(rows=progress.status["total_rows"]),
        )
        try:
            staging.run_copy(copy, progress)
            miscounted = copy.miscounted(progress.status["total_rows"])
            if miscounted:
                raise _Retry(miscounted)
        except (psycopg2.DataError, _Retry) as e:
            copy.savepoint.rollback()
            error = e
            progress.note(
                tk._("Could not copy the file that way ({error}); trying another").format(
                    error=_first_line(e)
                )
            )
            continue
        except BaseException:
            copy.savepoint.rollback()
            raise
        copy.keep(progress)
        return copy.rows, typed
    raise LoadError(
        tk._("The file could not be copied into the database: {error}").format(
            error=_first_line(error) if error else "?"
        )
    )


def _copy(
    conn: sa.Connection, stage: str, header: list[str], source: Source, typed: set[str], progress: Progress
) -> int:
    """``COPY``s the file into the staging table; blanks in typed columns are NULL."""
    from ckanext.datastore.backend.postgres import identifier, literal_string

    options = [
        "FORMAT csv",
        "HEADER true",
        f"DELIMITER {literal_string(source.delimiter)}",
        f"ENCODING {literal_string(source.encoding)}",
    ]
    if typed:
        options.append(f"FORCE_NULL ({', '.join(identifier(n) for n in header if n in typed)})")
    columns = ", ".join(identifier(n) for n in header)
    with open(source.path, "rb") as file:
        if source.bom:
            file.seek(3)
        cursor = conn.connection.cursor()
        cursor.copy_expert(
            f"COPY {identifier(stage)} ({columns}) FROM STDIN WITH ({', '.join(options)})",
            _CountingReader(file, progress),
            size=1 << 20,
        )
        return cursor.rowcount


def _swap(conn: sa.Connection, stage: str, resource_id: str) -> None:
    """Drops the old table and gives the staging table (with its sequence and key) its name."""
    from ckanext.datastore.backend.postgres import identifier

    conn.execute(sa.text(f"SET LOCAL lock_timeout = '{cd3p_config.load_lock_timeout()}s'"))
    conn.execute(sa.text(f"DROP TABLE IF EXISTS {identifier(resource_id)} CASCADE"))
    for kind, suffix in (("TABLE", ""), ("SEQUENCE", "__id_seq"), ("INDEX", "_pkey")):
        old, new = identifier(stage + suffix), identifier(resource_id + suffix)
        conn.execute(sa.text(f"ALTER {kind} {old} RENAME TO {new}"))


def _convert(
    conn: sa.Connection,
    stage: str,
    types: dict[str, str],
    overridden: set[str],
    pending: set[str],
    progress: Progress,
) -> dict[str, str]:
    """Converts the text columns to their types in one rewrite of the table. A column whose values
    do not fit: a guessed type falls back to text (noted in the log); a type set in the data
    dictionary fails the load, naming the row."""
    from ckanext.datastore.backend.postgres import identifier

    types = dict(types)
    while True:
        typed = {n: types[n] for n in sorted(pending) if types[n] != "text"}
        if not typed:
            return types
        progress.phase("converting", tk._("Converting columns to their types"))
        alter = ", ".join(
            f"ALTER COLUMN {identifier(n)} TYPE {TYPES[t]} USING {CONVERT[t].format(c=identifier(n))}"
            for n, t in typed.items()
        )
        savepoint = conn.begin_nested()
        try:
            conn.execute(sa.text(f"ALTER TABLE {identifier(stage)} {alter}"))
            savepoint.commit()
            progress.note(
                tk._("Column types: {types}").format(types=", ".join(f"{n} {t}" for n, t in typed.items()))
            )
            return types
        except sa.exc.DataError:
            savepoint.rollback()
        for name, choice in typed.items():
            bad = _first_misfit(conn, stage, name, choice)
            if bad is None:
                continue
            row, value = bad
            if name in overridden:
                raise LoadError(
                    tk._(
                        'Column "{column}" is set to {type} in the data dictionary, but row {row} holds '
                        '"{value}". Correct the file, or change the column\'s type in the data dictionary.'
                    ).format(column=name, type=choice, row=row, value=value[:80])
                )
            types[name] = "text"
            progress.note(
                tk._(
                    'Column "{column}" looked like {type} in the sampled rows, but row {row} holds '
                    '"{value}": it is loaded as text. Set its type in the data dictionary to change this.'
                ).format(column=name, type=choice, row=row, value=value[:80])
            )


def _first_misfit(conn: sa.Connection, stage: str, name: str, choice: str) -> tuple[int, str] | None:
    """The first row (as a spreadsheet numbers it: the header is row 1) whose value does not convert
    to ``choice``, found in one scan by a function that tries each value with :data:`CONVERT`."""
    from ckanext.datastore.backend.postgres import identifier

    cases = "\n".join(
        f"    WHEN '{t}' THEN PERFORM {expression.format(c='v')};" for t, expression in CONVERT.items()
    )
    conn.execute(
        sa.text(
            "CREATE OR REPLACE FUNCTION pg_temp.cd3p_fits(v text, t text) RETURNS boolean\n"
            "LANGUAGE plpgsql AS $$\n"
            f"BEGIN\n  CASE t\n{cases}\n  END CASE;\n  RETURN true;\n"
            "EXCEPTION WHEN others THEN RETURN false;\nEND $$"
        )
    )
    column = identifier(name)
    found = conn.execute(
        sa.text(
            f"SELECT _id, {column} FROM {identifier(stage)} "
            f"WHERE NOT pg_temp.cd3p_fits({column}, :t) ORDER BY _id LIMIT 1"
        ),
        {"t": choice},
    ).first()
    return None if found is None else (found[0] + 1, found[1])


def _aliases(conn: sa.Connection, resource_id: str) -> list[str]:
    """The DataStore aliases of the resource's table (views the DataStore made), kept across loads."""
    rows = conn.execute(
        sa.text('SELECT name FROM "_table_metadata" WHERE alias_of = :id'), {"id": resource_id}
    )
    from ckanext.cd3p.ingestion import suppression

    return [name for (name,) in rows if name != suppression.view_name(resource_id)]


def _fill_full_text(
    engine: sa.Engine, resource_id: str, header: list[str], rows: int, progress: Progress
) -> None:
    """Fills the full-text column a chunk per transaction, then builds its index: the table is
    queryable meanwhile, and full-text search follows. The text is what the DataStore's trigger
    would make (every column's value as text), computed in one expression rather than by the
    trigger's JSON round trip per row, which is about ten times slower; a value set here is kept
    by the trigger."""
    from ckanext.datastore.backend import postgres as ds

    progress.phase("indexing", tk._("Building the full-text search index"))
    table = ds.identifier(resource_id)
    values = ", ".join(f"CAST({ds.identifier(n)} AS text)" for n in header)
    text = f"to_tsvector(concat_ws(' ', {values}))".replace(":", r"\:")  # names are not bind parameters
    last = 0
    while last < rows:
        with engine.begin() as conn:
            conn.execute(sa.text("SET LOCAL statement_timeout = 0"))
            conn.execute(
                sa.text(f"UPDATE {table} SET _full_text = {text} WHERE _id > :a AND _id <= :b"),
                {"a": last, "b": last + FULLTEXT_CHUNK},
            )
        last += FULLTEXT_CHUNK
        progress.rows(min(last, rows))
    with engine.begin() as conn:
        ds.create_indexes({"connection": conn}, {"resource_id": resource_id})  # type: ignore[typeddict-item]
    progress.note(tk._("Full-text search index built"))


def _validation_message(error: tk.ValidationError) -> str:
    messages = [
        m for value in error.error_dict.values() for m in (value if isinstance(value, list) else [value])
    ]
    return tk._("The table's columns cannot be created: {error}").format(
        error="; ".join(str(m) for m in messages)
    )


def _first_line(error: Exception) -> str:
    text = str(getattr(error, "orig", None) or error)
    return text.strip().splitlines()[0] if text.strip() else type(error).__name__


def mark_task(resource_id: str, check_id: str, task_state: str, error: str | None = None) -> None:
    """Keeps xloader's task status of the resource in step (its ``xloader_status`` API and
    DataStore tab read it): states pending, running, complete or error; the job id is the check's."""
    session = model.meta.create_local_session()
    try:
        existing = (
            session.query(model.TaskStatus.id)
            .filter_by(entity_id=resource_id, task_type="xloader", key="xloader")
            .scalar()
        )
    finally:
        session.close()
    tk.get_action("task_status_update")(
        {"session": model.meta.create_local_session(), "ignore_auth": True},
        {
            **({"id": existing} if existing else {}),
            "entity_id": resource_id,
            "entity_type": "resource",
            "task_type": "xloader",
            "key": "xloader",
            "value": json.dumps({"job_id": check_id}),
            "error": json.dumps({"message": error} if error else {}),
            "state": task_state,
            "last_updated": dt.datetime.utcnow().isoformat(),
        },
    )
