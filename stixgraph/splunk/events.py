"""An indexed set of Splunk result rows (CIM rows as Splunk's REST API returns them), searched
with the SPL subset of :mod:`.spl`.

Rows are kept sorted by ``_time``; a search bisects the time hull of its ``earliest``/``latest``
terms, takes candidates from an inverted index (field -> lower-cased value -> row positions) for
the most selective ``f=v`` / ``f IN (...)`` conjunct (wildcard values are matched against the
index's distinct values, not the rows), and then verifies every candidate against the whole
search expression, so the index only ever narrows.  Results come newest first, as Splunk's, after
``where``, ``head`` and ``fields`` (which keeps the listed fields plus ``_*`` fields).
Internal ``_*`` fields are not indexed; ``index`` is (``main`` for rows without one).

:meth:`EventStore.from_files` loads, per file, by content (magic bytes) then suffix:

* JSON Lines of Splunk CIM rows (``.jsonl``/``.json``/``.ndjson``, optionally gzip-compressed;
  one JSON array of rows is accepted too): a file whose first record has ``_time``;
* raw flat Windows events as JSON Lines (the OTRF "Mordor" shape): a file whose first record
  has no ``_time`` but an ``EventID`` and a ``Channel`` or ``SourceName``; converted by
  :func:`.cim.sysmon_to_cim` (only the Sysmon / Security events it covers become rows);
* OTRF ``.zip`` archives of such JSON Lines, read in place (:func:`.cim.iter_otrf_zip`);
* ``.evtx`` files (:func:`.cim.iter_evtx`, PyPI ``evtx``).

A directory stands for its files with those suffixes (not recursive); a path that does not
exist but has ``*``/``?``/``[`` is a glob.  A file named twice is loaded once.  Any other shape
(e.g. Winlogbeat/ECS JSON, EVTX records as nested JSON) is refused; a bad file is one
:class:`EventFileError` line naming the file (and line, when known).  ``python -m
stixgraph.splunk.cim`` converts the same inputs to a CIM JSON Lines file once, for reuse.
"""
from __future__ import annotations

import glob
import gzip
import itertools
import json
import os
import time
import zipfile
import zlib
from array import array
from bisect import bisect_left
from dataclasses import dataclass
from datetime import datetime, timezone
from itertools import islice
from typing import Callable, Iterable, Iterator
from zoneinfo import ZoneInfo

from ..errors import StixgraphError
from . import cim
from .spl import (And, FieldsCmd, HeadCmd, InTerm, Or, Term, WhereCmd, compile_search,
                  compile_where, parse, parse_event_time, time_bounds, time_kinds, wildcard)

__all__ = ["EventStore", "EventFileError", "SourceStats", "expand_paths", "sniff_format"]


class EventStore:
    """Splunk result rows, time-sorted and indexed; :meth:`search` runs SPL over them."""

    def __init__(self, rows: Iterable[dict], *, tz: str = "UTC"):
        self.tz = ZoneInfo(tz)
        #: per loaded file, what :meth:`from_files` read (empty for rows given directly)
        self.sources: list[SourceStats] = []
        keyed = []
        for n, row in enumerate(rows):
            try:
                keyed.append((parse_event_time(row["_time"]), row))
            except (KeyError, ValueError, TypeError) as e:
                raise ValueError(f"row {n}: bad or missing _time ({e!r})") from None
        self._build(keyed)

    def _build(self, keyed: list) -> None:
        keyed.sort(key=lambda tr: tr[0])
        self._times = array("d", (t for t, _ in keyed))
        self._rows = [r for _, r in keyed]
        # field -> lower-cased value -> position (one row) or array of positions (ascending)
        self._index: dict[str, dict[str, int | array]] = {}
        index = self._index
        for pos, row in enumerate(self._rows):
            if "index" not in row:
                _post(index.setdefault("index", {}), "main", pos)
            for name, value in row.items():
                if value is None or name[0] == "_":
                    continue
                by_value = index.get(name)
                if by_value is None:
                    by_value = index[name] = {}
                if isinstance(value, list):
                    for v in value:
                        _post(by_value, str(v).lower(), pos)
                    continue
                _post(by_value, value.lower() if isinstance(value, str) else str(value).lower(),
                      pos)

    @classmethod
    def from_files(cls, paths, *, tz: str = "UTC", index: str = "main",
                   on_file: Callable[["SourceStats"], None] | None = None) -> "EventStore":
        """Load event files of any format the module docstring lists (CIM rows, raw Windows
        events as JSON Lines, OTRF ``.zip``, ``.evtx``; directories and globs expand).  Rows
        converted from raw events get ``index``.  ``on_file`` is called with each file's
        :class:`SourceStats` as soon as it is read; the list is also left in ``.sources``.
        A bad file raises :class:`EventFileError` (a ``ValueError``), one line naming it."""
        store = cls.__new__(cls)
        store.tz = ZoneInfo(tz)          # a bad zone fails before any file is read
        store.sources = []
        keyed: list = []
        for path in expand_paths(paths):
            t0 = time.perf_counter()
            n0 = len(keyed)
            kind, events = _load_file(path, index, keyed)
            st = SourceStats(path, kind, len(keyed) - n0, events, time.perf_counter() - t0)
            store.sources.append(st)
            if on_file is not None:
                on_file(st)
        store._build(keyed)
        return store

    def __len__(self) -> int:
        return len(self._rows)

    # ------------------------------------------------------------------ search

    def search(self, spl: str, *, now: datetime) -> list[dict]:
        """Run ``spl`` (raises :class:`~.spl.SPLError`); copies of the matching rows, newest
        first.  ``now`` anchors relative times (a naive ``now`` is taken as UTC)."""
        query = parse(spl)
        if now.tzinfo is None:
            now = now.replace(tzinfo=timezone.utc)
        expr = query.search.expr
        match = compile_search(expr, now, self.tz)
        lo, hi = time_bounds(expr, now, self.tz)
        if time_kinds(expr) == {"earliest"}:   # Splunk's latest defaults to now
            hi = min(hi, now.timestamp())
        first, last = bisect_left(self._times, lo), bisect_left(self._times, hi)
        est = self._estimate(expr)
        # an unselective index answer (index="main" OR ...) costs more than a scan of the window
        cand = None if est is None or est > (last - first) // 4 else self._candidates(expr)
        if cand is None:
            positions: Iterable[int] = range(last - 1, first - 1, -1)
        else:
            positions = sorted((p for p in cand if first <= p < last), reverse=True)
        rows, times = self._rows, self._times
        out: Iterator[dict] = (rows[p] for p in positions if match(rows[p], times[p]))
        for cmd in query.commands[1:]:
            out = _apply(cmd, out)
        return [_copy(r) for r in out]

    def _estimate(self, node) -> int | None:
        """Upper bound of the rows ``node`` can match from the index, None if unknown."""
        if isinstance(node, (Term, InTerm)):
            keys = self._keys(node)
            by_value = self._index.get(node.field, {})
            return None if keys is None else sum(len(_postings(by_value[k])) for k in keys)
        if isinstance(node, And):
            known = [e for e in map(self._estimate, node.items) if e is not None]
            return min(known) if known else None
        if isinstance(node, Or):
            ests = [self._estimate(x) for x in node.items]
            return None if None in ests else sum(ests)
        return None

    def _keys(self, node) -> list[str] | None:
        """Index keys an equality term can match; None if the term cannot use the index."""
        if isinstance(node, Term) and node.op != "=":
            return None
        if node.field.startswith("_"):
            return None
        values = node.values if isinstance(node, InTerm) else [node.value]
        by_value = self._index.get(node.field, {})
        keys: set[str] = set()
        for v in values:
            if "*" in v:
                m = wildcard(v)
                keys.update(k for k in by_value if m(k))
            elif v.lower() in by_value:
                keys.add(v.lower())
        return sorted(keys)

    def _candidates(self, node) -> set[int] | None:
        """Row positions that may match ``node`` (a superset), None for 'any row'."""
        if self._estimate(node) is None:
            return None
        if isinstance(node, (Term, InTerm)):
            out: set[int] = set()
            for k in self._keys(node):
                out.update(_postings(self._index[node.field][k]))
            return out
        if isinstance(node, And):   # the most selective conjunct; the rest is verified later
            best = min((x for x in node.items if self._estimate(x) is not None),
                       key=self._estimate)
            return self._candidates(best)
        out = set()
        for x in node.items:        # Or, every branch indexable
            out |= self._candidates(x)
        return out


def _post(by_value: dict, key: str, pos: int) -> None:
    old = by_value.get(key)
    if old is None:
        by_value[key] = pos
    elif type(old) is int:
        if old != pos:
            by_value[key] = array("I", (old, pos))
    elif old[-1] != pos:
        old.append(pos)


def _postings(p) -> Iterable[int]:
    return (p,) if type(p) is int else p


def _apply(cmd, rows: Iterator[dict]) -> Iterator[dict]:
    if isinstance(cmd, WhereCmd):
        pred = compile_where(cmd.expr)
        return (r for r in rows if pred(r) is True)
    if isinstance(cmd, HeadCmd):
        return islice(rows, cmd.n)
    if isinstance(cmd, FieldsCmd):
        keep = set(cmd.names)
        return ({k: v for k, v in r.items() if k in keep or k.startswith("_")} for r in rows)
    raise TypeError(cmd)


def _copy(row: dict) -> dict:
    return {k: (list(v) if isinstance(v, list) else v) for k, v in row.items()}


# ---------------------------------------------------------------------------------- loading


class EventFileError(StixgraphError, ValueError):
    """An event file that cannot be loaded; ``str()`` is one line naming the file."""


@dataclass(frozen=True)
class SourceStats:
    """What was loaded from one file: ``kind`` is ``cim-json`` (JSON of CIM rows),
    ``events-json`` (raw Windows events as JSON), ``otrf-zip`` or ``evtx``; ``events`` is the
    number of raw events read (None for CIM rows), ``rows`` the rows they gave."""
    path: str
    kind: str
    rows: int
    events: int | None
    seconds: float

    def __str__(self) -> str:
        what = {"cim-json": "CIM rows", "events-json": "raw Windows events, JSON",
                "otrf-zip": "OTRF zip", "evtx": "EVTX"}[self.kind]
        got = (f"{self.rows} rows" if self.events is None
               else f"{self.rows} rows from {self.events} events")
        return f"{self.path}: {got} ({what}) in {self.seconds:.2f}s"


#: suffixes a directory is searched for
EVENT_SUFFIXES = (".zip", ".evtx", ".jsonl", ".json", ".ndjson", ".jsonl.gz", ".json.gz",
                  ".ndjson.gz")
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
_EVTX_MAGIC = b"ElfFile\x00"
_GZIP_MAGIC = b"\x1f\x8b"
_READ_ERRORS: tuple = (OSError, EOFError, ValueError, RuntimeError, zipfile.BadZipFile,
                       zlib.error)
try:  # zip members compressed with LZMA
    import lzma
    _READ_ERRORS += (lzma.LZMAError,)
except ImportError:  # pragma: no cover
    pass


def expand_paths(paths) -> list[str]:
    """``paths`` (one or several) with directories replaced by their event files (sorted, not
    recursive) and non-existing glob patterns by their matches; duplicates dropped."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    out: list[str] = []
    seen: set[str] = set()

    def add(p: str) -> None:
        real = os.path.realpath(p)
        if real not in seen:
            seen.add(real)
            out.append(p)

    def visit(p: str) -> None:
        if not os.path.isdir(p):
            add(p)
            return
        found = sorted(os.path.join(p, n) for n in os.listdir(p)
                       if n.lower().endswith(EVENT_SUFFIXES) and os.path.isfile(os.path.join(p, n)))
        if not found:
            raise EventFileError(f"{p}: a directory with no event file "
                                 f"({', '.join(EVENT_SUFFIXES)})")
        for f in found:
            add(f)

    for p in map(os.fspath, paths):
        if not os.path.exists(p) and any(c in p for c in "*?["):
            found = sorted(glob.glob(p))
            if not found:
                raise EventFileError(f"{p}: no file matches")
            for f in found:
                visit(f)
        else:
            visit(p)
    return out


def sniff_format(path: str) -> str:
    """``zip``, ``evtx`` or ``json`` (CIM rows or raw events, possibly gzip-compressed): by the
    first bytes, else by the suffix (so a damaged ``.zip`` is reported as a zip)."""
    try:
        with open(path, "rb") as f:
            head = f.read(8)
    except OSError as e:
        raise EventFileError(f"{path}: {e.strerror or e}") from None
    if head.startswith(_ZIP_MAGIC):
        return "zip"
    if head == _EVTX_MAGIC:
        return "evtx"
    low = path.lower()
    if low.endswith(".zip"):
        return "zip"
    if low.endswith(".evtx"):
        return "evtx"
    return "json"


def _load_file(path: str, index: str, keyed: list) -> tuple[str, int | None]:
    """Append ``(time, row)`` for every row of ``path`` to ``keyed``; returns the file's kind
    (see :class:`SourceStats`) and how many raw events were read (None for CIM rows)."""
    kind = sniff_format(path)

    def unreadable(e: BaseException) -> EventFileError:
        what = {"zip": "a damaged or unreadable zip archive", "evtx": "a damaged EVTX file",
                "json": "cannot be read"}[kind]
        msg = " ".join(str(e).split()) or type(e).__name__
        return EventFileError(f"{path}: {what} ({msg})")

    if kind == "json":
        try:
            return _load_json(path, index, keyed)
        except EventFileError:
            raise
        except _READ_ERRORS as e:
            raise unreadable(e) from None
    n = 0
    # only reading is guarded: an error in the conversion is a bug, not a damaged file
    events = cim.iter_otrf_zip(path) if kind == "zip" else _evtx_events(path)
    while True:
        try:
            ev = next(events)
        except StopIteration:
            break
        except EventFileError:
            raise
        except _READ_ERRORS as e:
            raise unreadable(e) from None
        n += 1
        row = cim.sysmon_to_cim(ev, index=index)
        if row is not None:
            keyed.append((parse_event_time(row["_time"]), row))
    if n == 0:
        raise EventFileError(f"{path}: no events in the " + (
            "zip archive (no JSON Lines member with a JSON object)" if kind == "zip"
            else "EVTX file"))
    return ("otrf-zip" if kind == "zip" else "evtx"), n


def _evtx_events(path: str) -> Iterator[dict]:
    try:
        import evtx  # noqa: F401
    except ImportError as e:
        raise EventFileError(f"{path}: reading .evtx needs the 'evtx' package "
                             f"(pip install evtx): {e}") from None
    return cim.iter_evtx(path)


try:
    import orjson as _orjson

    def _loads(b: bytes):
        try:
            return _orjson.loads(b)
        except _orjson.JSONDecodeError:   # the stdlib's verdict (and message) decides
            return json.loads(b)
except ImportError:  # pragma: no cover
    _loads = json.loads


def _is_raw_event(obj: dict) -> bool:
    """A flat Windows event :func:`.cim.sysmon_to_cim` can read (OTRF shape)."""
    return ("EventID" in obj or "EventCode" in obj) and ("Channel" in obj or "SourceName" in obj)


def _load_json(path: str, index: str, keyed: list) -> tuple[str, int | None]:
    """A JSON Lines file (or one JSON array) of CIM rows or of raw events, told apart by its
    first record: CIM rows have ``_time``, raw events an ``EventID`` and a ``Channel`` /
    ``SourceName`` but no ``_time``."""
    with open(path, "rb") as raw:
        gz = raw.read(2) == _GZIP_MAGIC
    fh = gzip.open(path, "rb") if gz else open(path, "rb")
    with fh:
        records = _json_records(path, fh)
        first = next(records, None)
        if first is None:
            return "cim-json", None     # an empty file: no rows
        where, obj = first
        if "_time" in obj:
            kind = "cim-json"
        elif _is_raw_event(obj):
            kind = "events-json"
        else:
            raise EventFileError(
                f"{where}: neither a Splunk CIM row (no _time) nor a raw Windows event (no "
                f"EventID with Channel/SourceName); convert other shapes to CIM rows first")
        n = 0
        for n, (where, obj) in enumerate(itertools.chain([first], records), 1):
            if kind == "cim-json":
                try:
                    keyed.append((parse_event_time(obj["_time"]), obj))
                except KeyError:
                    raise EventFileError(f"{where}: a row without _time (this file holds CIM "
                                         f"rows: its first record has _time)") from None
                except (ValueError, TypeError) as e:
                    raise EventFileError(f"{where}: bad _time {obj['_time']!r} ({e})") from None
                continue
            row = cim.sysmon_to_cim(obj, index=index)
            if row is not None:
                keyed.append((parse_event_time(row["_time"]), row))
        return kind, (None if kind == "cim-json" else n)


def _json_records(path: str, fh) -> Iterator[tuple[str, dict]]:
    """``(where, object)`` for each record of a JSON Lines file or of one JSON array."""
    for n, line in enumerate(fh, 1):
        if n == 1 and line.startswith(b"\xef\xbb\xbf"):   # UTF-8 BOM
            line = line[3:]
        if not line.strip():
            continue
        if line.lstrip().startswith(b"["):   # one JSON array of records
            try:
                items = json.loads(line + fh.read())
            except ValueError as e:
                raise EventFileError(f"{path}: not a JSON array "
                                     f"({getattr(e, 'msg', e)})") from None
            for i, obj in enumerate(items, 1):
                if not isinstance(obj, dict):
                    raise EventFileError(f"{path}: row {i}: a row must be a JSON object")
                yield f"{path}: row {i}", obj
            return
        try:
            obj = _loads(line)
        except ValueError as e:
            if n == 1 and line.lstrip().startswith(b"{"):   # one object over several lines?
                try:
                    whole = json.loads(line + fh.read())
                except ValueError:
                    whole = None
                if isinstance(whole, dict):
                    raise EventFileError(
                        f"{path}: one JSON object over several lines (a STIX bundle?), not "
                        f"JSON Lines of rows or events") from None
            raise EventFileError(f"{path}:{n}: not a JSON row ({getattr(e, 'msg', e)})") from None
        if not isinstance(obj, dict):
            raise EventFileError(f"{path}:{n}: a row must be a JSON object")
        yield f"{path}:{n}", obj
