"""The TAXII view of an embedded (SQLite) store: SQL over its ``observations`` and ``entities``
tables (the graph the hunts read) and ``taxii_objects`` (the other STIX objects posted over
TAXII, every version).  Each of the three is read in ``(added, key)`` order and merged; a
``next`` cursor is the last ``(added, source, key)`` returned.

POSTed ``observed-data`` and SCOs go into the graph exactly as a GET stores them (normalised,
merged by id, edges per ref), so hunts see them; an observed-data may reference SCOs posted
earlier.  DELETE of a graph object hides it from TAXII (``taxii_hidden``) and leaves the
graph alone: a hunt's variables holding it stay as they were.  Posting it again shows it again,
as newly added.

One connection per store collection; the server calls in from many threads, so every call
holds one lock (SQLite writes one transaction at a time anyway).
"""
from __future__ import annotations

from pathlib import Path

import orjson

from ...stix.model import SPEC_VERSION, Observation
from ...store.sqlite import SQLiteStore
from .base import (Collection, Filter, Page, Record, Status, TaxiiBackend, format_us,
                   object_version, parse_us)

_OBS, _ENT, _TAXII = 0, 1, 2  # the three sources, in their tie-break order
_GRAPH_VERSION = ("COALESCE(json_extract(o.props, '$.modified'), "
                  "json_extract(o.props, '$.created'), o.first_observed)")


def _us_or_null(text):
    try:
        return parse_us(text) if isinstance(text, str) else None
    except ValueError:
        return None


class SQLiteTaxiiBackend(TaxiiBackend):
    def __init__(self, path: str | Path):
        super().__init__()
        self.path = str(path)
        self._store("default")

    def _open_store(self, name: str) -> SQLiteStore:
        s = SQLiteStore(self.path, collection=name)
        s.db.create_function("sg_ts_us", 1, _us_or_null, deterministic=True)
        return s

    def collections(self) -> list[Collection]:
        with self._lock:
            db = self._store("default").db
            return [Collection(n, n, f"stixgraph store collection {n!r}: its observations, "
                                     f"their SCOs, and the STIX objects posted to it")
                    for (n,) in db.execute("SELECT name FROM collections ORDER BY cid")]

    # -- reading ---------------------------------------------------------------------
    @staticmethod
    def _sources(flt: Filter, p: dict) -> list[tuple[int, str]]:
        """(source, SELECT of (added, k, r, id, type, spec_version, version)) per source the
        filter can match, each already restricted by it."""
        def within(col: str, values, name: str) -> str:
            if not values:
                return ""
            keys = []
            for i, v in enumerate(values):
                p[f"{name}{i}"] = v
                keys.append(f":{name}{i}")
            return f" AND {col} IN ({', '.join(keys)})"

        after = " AND {a} > :added_after" if flt.added_after is not None else ""
        if flt.added_after is not None:
            p["added_after"] = flt.added_after
        stamps = [v for v in flt.versions if v not in ("first", "last", "all")]
        for i, v in enumerate(stamps):
            p[f"ver{i}"] = parse_us(v)
        named = set(flt.versions) & {"first", "last", "all"}
        stamp_keys = ", ".join(f":ver{i}" for i in range(len(stamps)))
        out = []
        if "2.1" in flt.spec_versions or not flt.spec_versions:
            hidden = ("AND NOT EXISTS (SELECT 1 FROM taxii_hidden h WHERE h.cid = :cid "
                      "AND h.id = {x}.id)")
            if not flt.types or "observed-data" in flt.types:
                vcond = "" if named else f" AND sg_ts_us({_GRAPH_VERSION}) IN ({stamp_keys})"
                out.append((_OBS, (
                    f"SELECT o.added AS added, {_OBS} AS k, o.oid AS r, o.id AS id, "
                    f"'observed-data' AS type, '2.1' AS sv, {_GRAPH_VERSION} AS ver "
                    f"FROM observations o WHERE o.cid = :cid {hidden.format(x='o')}"
                    f"{after.format(a='o.added')}{within('o.id', flt.ids, 'id')}{vcond}")))
            types = [t for t in flt.types if t != "observed-data"]
            if not flt.types or types:
                vcond = "" if named else f" AND e.added IN ({stamp_keys})"
                out.append((_ENT, (
                    f"SELECT e.added AS added, {_ENT} AS k, e.eid AS r, e.id AS id, "
                    f"e.type AS type, '2.1' AS sv, NULL AS ver FROM entities e "
                    f"WHERE e.cid = :cid {hidden.format(x='e')}{after.format(a='e.added')}"
                    f"{within('e.id', flt.ids, 'id')}{within('e.type', types, 'type')}{vcond}")))
        conds = []
        if named and "all" not in named:
            agg = [f"t.vus = (SELECT {f}(u.vus) FROM taxii_objects u WHERE u.cid = t.cid "
                   f"AND u.id = t.id)" for f, w in (("MIN", "first"), ("MAX", "last"))
                   if w in named]
            if stamps:
                agg.append(f"t.vus IN ({stamp_keys})")
            conds.append("(" + " OR ".join(agg) + ")")
        elif not named:
            conds.append(f"t.vus IN ({stamp_keys})")
        out.append((_TAXII, (
            f"SELECT t.added AS added, {_TAXII} AS k, t.seq AS r, t.id AS id, t.type AS type, "
            f"t.spec_version AS sv, t.version AS ver FROM taxii_objects t WHERE t.cid = :cid"
            f"{after.format(a='t.added')}{within('t.id', flt.ids, 'id')}"
            f"{within('t.type', flt.types, 'type')}"
            f"{within('t.spec_version', flt.spec_versions, 'sv')}"
            + "".join(f" AND {c}" for c in conds))))
        return out

    def page(self, collection, flt, limit, after, objects=True):
        with self._lock:
            store = self._store(collection)
            p = {"cid": store.cid, "limit": limit + 1}
            parts = []
            for _, sql in self._sources(flt, p):
                if after is not None:
                    sql += " AND (added, k, r) > (:ca, :ck, :cr)"
                parts.append(f"SELECT * FROM ({sql} ORDER BY added, r LIMIT :limit)")
            if after is not None:
                p.update(ca=after[0], ck=after[1], cr=after[2])
            rows = store.db.execute(" UNION ALL ".join(parts)
                                    + " ORDER BY added, k, r LIMIT :limit", p).fetchall()
            more = len(rows) > limit
            recs = [Record(i, t, a, v if v is not None else format_us(a), sv, (a, k, r))
                    for a, k, r, i, t, sv, v in rows[:limit]]
            if objects and recs:
                self._attach(store, recs)
            return Page(recs, more)

    @staticmethod
    def _attach(store: SQLiteStore, recs: list[Record]) -> None:
        db = store.db
        by = {_OBS: {}, _ENT: {}, _TAXII: {}}
        for rec in recs:
            by[rec.cursor[1]][rec.cursor[2]] = rec

        def rows(sql: str, keys):
            keys = list(keys)
            for i in range(0, len(keys), 500):
                chunk = keys[i:i + 500]
                yield from db.execute(sql.format(q=", ".join("?" * len(chunk))), chunk)

        refs: dict[int, dict] = {k: {} for k in by[_OBS]}
        for oid, sid in rows("SELECT c.oid, e.id FROM contains c JOIN entities e ON e.eid = c.eid "
                             "WHERE c.oid IN ({q}) ORDER BY c.oid, c.eid", by[_OBS]):
            refs[oid][sid] = None
        for oid, sid, first, last, n, props in rows(
                "SELECT oid, id, first_observed, last_observed, number_observed, props "
                "FROM observations WHERE oid IN ({q})", by[_OBS]):
            by[_OBS][oid].object = Observation(sid, first, last, n, refs[oid],
                                               orjson.loads(props)).to_stix()
        for eid, props in rows("SELECT eid, props FROM entities WHERE eid IN ({q})", by[_ENT]):
            obj = orjson.loads(props)
            obj.setdefault("spec_version", SPEC_VERSION)
            by[_ENT][eid].object = obj
        for seq, text in rows("SELECT seq, json FROM taxii_objects WHERE seq IN ({q})", by[_TAXII]):
            by[_TAXII][seq].object = orjson.loads(text)

    # -- writing (the steps TaxiiBackend.add calls) ------------------------------------
    def _writing(self, collection):
        return _Locked(self._lock, self._store(collection))

    def _graph_store(self, collection):
        return self._store(collection)

    def _stored_objects(self, collection, ids):
        store = self._store(collection)
        return [orjson.loads(t) for (t,) in self._in(
            store, "SELECT props FROM entities WHERE cid = ? AND id IN ({q})", ids)]

    def _added_times(self, collection, ids):
        store = self._store(collection)
        return dict(self._in(store, "SELECT id, added FROM entities WHERE cid = ? AND id IN ({q})",
                             ids))

    @staticmethod
    def _in(store, sql: str, keys):
        keys = list(keys)
        for i in range(0, len(keys), 500):
            chunk = keys[i:i + 500]
            yield from store.db.execute(sql.format(q=", ".join("?" * len(chunk))),
                                        [store.cid, *chunk])

    def _show_again(self, collection, ids):
        store = self._store(collection)
        db, cid = store.db, store.cid
        if not db.execute("SELECT 1 FROM taxii_hidden WHERE cid = ? LIMIT 1", (cid,)).fetchone():
            return
        for (i,) in list(self._in(store, "SELECT id FROM taxii_hidden WHERE cid = ? AND id IN "
                                         "({q})", ids)):
            db.execute("DELETE FROM taxii_hidden WHERE cid = ? AND id = ?", (cid, i))
            t = store.stamp()
            db.execute("UPDATE entities SET added = ? WHERE cid = ? AND id = ?", (t, cid, i))
            db.execute("UPDATE observations SET added = ? WHERE cid = ? AND id = ?", (t, cid, i))

    def _store_other(self, collection, objs):
        store = self._store(collection)
        rows = []
        for o in objs:
            v = object_version(o) or ""
            rows.append((store.cid, o["id"], o["type"], o.get("spec_version") or "2.0", v,
                         parse_us(v) if v else 0, orjson.dumps(o).decode()))
        t0 = store.stamp(len(rows))
        store.db.executemany(
            "INSERT OR IGNORE INTO taxii_objects(cid, id, type, spec_version, version, vus, "
            "added, json) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [(*r[:6], t0 + i, r[6]) for i, r in enumerate(rows)])

    def delete(self, collection, flt):
        with self._lock:
            store = self._store(collection)
            n = 0
            with store.atomic():
                for rec in list(self._matching(collection, flt)):
                    if rec.cursor[1] == _TAXII:
                        store.db.execute("DELETE FROM taxii_objects WHERE seq = ?",
                                         (rec.cursor[2],))
                    else:
                        store.db.execute("INSERT OR IGNORE INTO taxii_hidden VALUES (?, ?)",
                                         (store.cid, rec.id))
                    n += 1
            return n

    def save_status(self, collection, status):
        with self._lock:
            store = self._store(collection)
            store.db.execute("INSERT OR REPLACE INTO taxii_status VALUES (?, ?, ?, ?)",
                             (status.id, store.cid, parse_us(status.request_timestamp),
                              orjson.dumps(status.__dict__).decode()))

    def status(self, status_id):
        with self._lock:
            db = self._store("default").db
            row = db.execute("SELECT c.name, s.json FROM taxii_status s JOIN collections c "
                             "ON c.cid = s.cid WHERE s.id = ?", (status_id,)).fetchone()
            return None if row is None else (row[0], Status(**orjson.loads(row[1])))



class _Locked:
    """The backend's lock, then the store's transaction."""

    def __init__(self, lock, store):
        self.lock, self.store, self._atomic = lock, store, None

    def __enter__(self):
        self.lock.acquire()
        try:
            self._atomic = self.store.atomic()
            self._atomic.__enter__()
        except BaseException:
            self.lock.release()
            raise
        return self

    def __exit__(self, *exc):
        try:
            return self._atomic.__exit__(*exc)
        finally:
            self.lock.release()
