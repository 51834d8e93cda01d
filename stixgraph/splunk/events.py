"""An indexed set of Splunk result rows (CIM rows as Splunk's REST API returns them), searched
with the SPL subset of :mod:`.spl`.

Rows are kept sorted by ``_time``; a search bisects the time hull of its ``earliest``/``latest``
terms, takes candidates from an inverted index (field -> lower-cased value -> row positions) for
the most selective ``f=v`` / ``f IN (...)`` conjunct (wildcard values are matched against the
index's distinct values, not the rows), and then verifies every candidate against the whole
search expression, so the index only ever narrows.  Results come newest first, as Splunk's, after
``where``, ``head`` and ``fields`` (which keeps the listed fields plus ``_*`` fields).
Internal ``_*`` fields are not indexed; ``index`` is (``main`` for rows without one).
"""
from __future__ import annotations

import gzip
import json
import os
from array import array
from bisect import bisect_left
from datetime import datetime, timezone
from itertools import islice
from typing import Iterable, Iterator
from zoneinfo import ZoneInfo

from .spl import (And, FieldsCmd, HeadCmd, InTerm, Or, Term, WhereCmd, compile_search,
                  compile_where, parse, parse_event_time, time_bounds, time_kinds, wildcard)

__all__ = ["EventStore"]


class EventStore:
    """Splunk result rows, time-sorted and indexed; :meth:`search` runs SPL over them."""

    def __init__(self, rows: Iterable[dict], *, tz: str = "UTC"):
        self.tz = ZoneInfo(tz)
        keyed = []
        for n, row in enumerate(rows):
            try:
                keyed.append((parse_event_time(row["_time"]), row))
            except (KeyError, ValueError, TypeError) as e:
                raise ValueError(f"row {n}: bad or missing _time ({e!r})") from None
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
    def from_files(cls, paths, *, tz: str = "UTC") -> "EventStore":
        """Load JSON Lines files (``.jsonl``/``.json``, optionally ``.gz``), one row per line; a
        file whose content is a JSON array of rows is accepted too."""
        if isinstance(paths, (str, os.PathLike)):
            paths = [paths]
        return cls(_read_rows(paths), tz=tz)

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


def _read_rows(paths) -> Iterator[dict]:
    for path in paths:
        path = os.fspath(path)
        opener = gzip.open if path.endswith(".gz") else open
        with opener(path, "rt", encoding="utf-8") as fh:
            for n, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                if line.lstrip().startswith("["):   # a JSON array of rows
                    yield from json.loads(line + fh.read())
                    break
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as e:
                    raise ValueError(f"{path}:{n}: not a JSON row ({e.msg})") from None
                if not isinstance(row, dict):
                    raise ValueError(f"{path}:{n}: a row must be a JSON object")
                yield row
