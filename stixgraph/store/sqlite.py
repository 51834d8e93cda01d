"""The embedded backend: the STIX graph in one SQLite file (or in memory).

Layout (one row per thing, integer keys for joins, JSON for properties):

* ``entities(eid, cid, id, type, props)``: one row per SCO per collection; ``props`` is the
  STIX 2.1 object as JSON, merged across observations (newer non-null values win).
* ``edges(src, rel, dst)``: one row per ``*_ref`` value and per ``*_refs`` element; ``rel`` is
  the property name.  Indexed both ways, so FIND is an index join.
* ``observations(oid, cid, id, first_observed, last_observed, number_observed, props)`` and
  ``contains(oid, eid, etype)``: which SCOs each observed-data holds (unique pairs, so
  reloading data never inflates #(RECORDS)).
* ``queries(qid, ...)`` and ``query_obs(qid, oid)``: what each GET brought in.
* ``variables`` and ``var_rows(rid, vid, eid, oid, data)``: hunt variables, materialised, in
  order; they persist, so a later ``stixgraph hunt --store`` continues the hunt.

Everything is grouped by collection (``cid``); one collection, ``default``, unless told.
"""
from __future__ import annotations

import ipaddress
import re
import sqlite3
from contextlib import contextmanager
from datetime import datetime, timezone
from functools import lru_cache
from itertools import islice
from pathlib import Path
from typing import Iterable

import orjson

from .. import ir
from ..display import Table
from ..errors import HuntSemanticError, StoreError
from ..relations import Hop
from ..stix.model import Observation
from . import sql as S
from .base import Birth, GraphStore, VarInfo

SCHEMA_VERSION = "1"

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS collections(cid INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL);
CREATE TABLE IF NOT EXISTS entities(
    eid INTEGER PRIMARY KEY, cid INTEGER NOT NULL, id TEXT NOT NULL, type TEXT NOT NULL,
    props TEXT NOT NULL, UNIQUE(cid, id));
CREATE INDEX IF NOT EXISTS entities_type ON entities(cid, type);
CREATE TABLE IF NOT EXISTS entity_types(cid INTEGER NOT NULL, type TEXT NOT NULL,
    PRIMARY KEY(cid, type)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS edges(src INTEGER NOT NULL, rel TEXT NOT NULL, dst INTEGER NOT NULL,
    PRIMARY KEY(src, rel, dst)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS edges_dst ON edges(dst, rel, src);
CREATE TABLE IF NOT EXISTS observations(
    oid INTEGER PRIMARY KEY, cid INTEGER NOT NULL, id TEXT NOT NULL,
    first_observed TEXT NOT NULL, last_observed TEXT NOT NULL, number_observed INTEGER NOT NULL,
    props TEXT NOT NULL, UNIQUE(cid, id));
CREATE INDEX IF NOT EXISTS observations_time ON observations(cid, first_observed, last_observed);
CREATE TABLE IF NOT EXISTS contains(oid INTEGER NOT NULL, eid INTEGER NOT NULL,
    etype TEXT NOT NULL, PRIMARY KEY(oid, eid)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS contains_eid ON contains(eid, oid);
CREATE TABLE IF NOT EXISTS queries(qid INTEGER PRIMARY KEY, cid INTEGER NOT NULL, uri TEXT,
    pattern TEXT, created TEXT);
CREATE TABLE IF NOT EXISTS query_obs(qid INTEGER NOT NULL, oid INTEGER NOT NULL,
    PRIMARY KEY(qid, oid)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS query_obs_oid ON query_obs(oid, qid);
CREATE TABLE IF NOT EXISTS variables(
    vid INTEGER PRIMARY KEY, cid INTEGER NOT NULL, name TEXT NOT NULL, type TEXT NOT NULL,
    kind TEXT NOT NULL, columns TEXT, entities INTEGER, records INTEGER, cached TEXT,
    command TEXT, line INTEGER, statement TEXT, source TEXT, inputs TEXT, updated INTEGER,
    UNIQUE(cid, name));
CREATE TABLE IF NOT EXISTS var_rows(rid INTEGER PRIMARY KEY, vid INTEGER NOT NULL,
    eid INTEGER, oid INTEGER, data TEXT);
CREATE INDEX IF NOT EXISTS var_rows_vid ON var_rows(vid);
CREATE INDEX IF NOT EXISTS var_rows_eid ON var_rows(vid, eid);
"""

STAGING = """
CREATE TEMP TABLE IF NOT EXISTS stage_contains(obs TEXT, ent TEXT);
CREATE TEMP TABLE IF NOT EXISTS stage_edges(src TEXT, rel TEXT, dst TEXT);
CREATE TEMP TABLE IF NOT EXISTS stage_obs(id TEXT);
"""


def default_store_path() -> Path:
    """``$STIXGRAPH_STORE``, else ``$XDG_DATA_HOME/stixgraph/store.db``
    (``~/.local/share/stixgraph/store.db``)."""
    import os

    if os.environ.get("STIXGRAPH_STORE"):
        return Path(os.environ["STIXGRAPH_STORE"])
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "stixgraph" / "store.db"


@lru_cache(maxsize=256)
def _regex(pattern: str):
    return re.compile(pattern)


def _matches(pattern, value):
    if pattern is None or value is None:
        return None
    try:
        return _regex(str(pattern)).search(str(value)) is not None
    except re.error as e:
        raise ValueError(f"bad regular expression {pattern!r}: {e}") from None


def _in_subnet(value, cidr):
    if value is None or cidr is None:
        return None
    try:
        net = ipaddress.ip_network(str(cidr), strict=False)
        addr = ipaddress.ip_network(str(value), strict=False)
    except ValueError:
        return 0
    return int(addr.version == net.version and addr.subnet_of(net))


def _bin_time(value, seconds):
    if value is None:
        return None
    try:
        t = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    if t.tzinfo is None:
        t = t.replace(tzinfo=timezone.utc)
    epoch = int(t.timestamp()) // seconds * seconds
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _dumps(obj) -> str:
    return orjson.dumps(obj).decode()


def _edges_of(obj: dict):
    for key, val in obj.items():
        if key.endswith("_ref") and isinstance(val, str):
            yield key, val
        elif key.endswith("_refs") and isinstance(val, list):
            for v in val:
                if isinstance(v, str):
                    yield key, v


def _merge(old: dict, new: dict) -> dict:
    merged = dict(old)
    for k, v in new.items():
        if v is not None:
            merged[k] = v
    return merged


def _clean(obj: dict) -> dict:
    return {k: v for k, v in obj.items() if v is not None}


class SQLiteStore(GraphStore):
    def __init__(self, path: str | Path = ":memory:", collection: str = "default"):
        self.path = str(path)
        if self.path != ":memory:":
            p = Path(self.path)
            p.parent.mkdir(parents=True, exist_ok=True)
            if p.exists() and p.stat().st_size and not _looks_like_sqlite(p):
                raise StoreError(f"{p}: not a stixgraph store (not an SQLite file)")
        try:
            self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self.db.executescript(SCHEMA)
        except sqlite3.DatabaseError as e:
            raise StoreError(f"{self.path}: cannot open store: {e}") from None
        self.db.execute("PRAGMA journal_mode=WAL" if self.path != ":memory:" else "PRAGMA journal_mode=MEMORY")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("PRAGMA case_sensitive_like=ON")  # LIKE is case-sensitive, as in STIX
        self.db.execute("PRAGMA temp_store=MEMORY")
        self.db.execute("PRAGMA cache_size=-65536")
        self.db.executescript(STAGING)
        self.db.create_function("sg_matches", 2, _matches, deterministic=True)
        self.db.create_function("sg_in_subnet", 2, _in_subnet, deterministic=True)
        self.db.create_function("sg_bin_time", 2, _bin_time, deterministic=True)
        self.db.execute("INSERT OR IGNORE INTO meta VALUES ('schema', ?)", (SCHEMA_VERSION,))
        self.collection = collection
        self.db.execute("INSERT OR IGNORE INTO collections(name) VALUES (?)", (collection,))
        self.cid = self.db.execute("SELECT cid FROM collections WHERE name = ?",
                                   (collection,)).fetchone()[0]
        self._sp = 0
        self._tick = self.db.execute("SELECT COALESCE(MAX(updated), 0) FROM variables").fetchone()[0]

    # -- plumbing ------------------------------------------------------------
    def close(self) -> None:
        self.db.close()

    @contextmanager
    def atomic(self):
        self._sp += 1
        name = f"sp{self._sp}"
        self.db.execute(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            self.db.execute(f"ROLLBACK TO {name}")
            self.db.execute(f"RELEASE {name}")
            raise
        else:
            self.db.execute(f"RELEASE {name}")
        finally:
            self._sp -= 1

    def _run(self, q: S.Query | str, params: dict | None = None):
        if isinstance(q, S.Query):
            sql, params = q.sql, q.params
        else:
            sql = q
        params = dict(params or {})
        params["cid"] = self.cid
        try:
            return self.db.execute(sql, params)
        except sqlite3.OperationalError as e:
            raise HuntSemanticError(f"query failed: {e}") from e
        except sqlite3.Error as e:
            msg = str(e)
            if "regular expression" in msg or "user-defined function raised" in msg:
                raise HuntSemanticError("bad regular expression in MATCHES") from e
            raise

    # -- ingest ----------------------------------------------------------------
    def begin_query(self, uri: str, pattern: str) -> int:
        cur = self.db.execute(
            "INSERT INTO queries(cid, uri, pattern, created) VALUES (?, ?, ?, ?)",
            (self.cid, uri, pattern, datetime.now(timezone.utc).isoformat()))
        return cur.lastrowid

    def ingest(self, observations: Iterable[Observation], qid: int | None = None,
               batch_size: int = 4000) -> dict:
        stats = {"observations": 0, "objects": 0}
        it = iter(observations)
        with self.atomic():
            while True:
                chunk = list(islice(it, batch_size))
                if not chunk:
                    break
                self._ingest_batch(chunk, qid, stats)
        return stats

    def _ingest_batch(self, chunk: list[Observation], qid, stats) -> None:
        cid = self.cid
        ents: dict[str, dict] = {}
        contains = []
        obs_rows = []
        for ob in chunk:
            obs_rows.append((cid, ob.id, ob.first_observed, ob.last_observed,
                             int(ob.number_observed or 1), _dumps(ob.props or {})))
            for sid, obj in ob.objects.items():
                prev = ents.get(sid)
                ents[sid] = _clean(obj) if prev is None else _merge(prev, obj)
                contains.append((ob.id, sid))
        stats["observations"] += len(chunk)
        stats["objects"] += len(contains)
        self._upsert_entities(ents)
        db = self.db
        db.executemany(
            "INSERT INTO observations(cid, id, first_observed, last_observed, number_observed, props)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(cid, id) DO NOTHING", obs_rows)
        db.executemany("INSERT INTO stage_contains VALUES (?, ?)", contains)
        db.execute(
            "INSERT OR IGNORE INTO contains(oid, eid, etype) SELECT o.oid, e.eid, e.type "
            "FROM stage_contains s JOIN observations o ON o.cid = ? AND o.id = s.obs "
            "JOIN entities e ON e.cid = ? AND e.id = s.ent", (cid, cid))
        db.execute("DELETE FROM stage_contains")
        if qid is not None:
            db.executemany("INSERT INTO stage_obs VALUES (?)", [(r[1],) for r in obs_rows])
            db.execute("INSERT OR IGNORE INTO query_obs(qid, oid) SELECT ?, o.oid FROM stage_obs s "
                       "JOIN observations o ON o.cid = ? AND o.id = s.id", (qid, cid))
            db.execute("DELETE FROM stage_obs")

    def _upsert_entities(self, ents: dict[str, dict]) -> None:
        cid = self.cid
        db = self.db
        db.executemany(
            "INSERT INTO entities(cid, id, type, props) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(cid, id) DO UPDATE SET props = json_patch(props, excluded.props)",
            [(cid, sid, obj.get("type", sid.split("--")[0]), _dumps(obj)) for sid, obj in ents.items()])
        db.executemany("INSERT OR IGNORE INTO entity_types VALUES (?, ?)",
                       [(cid, t) for t in {o.get("type", "") for o in ents.values()}])
        edges = [(sid, rel, dst) for sid, obj in ents.items() for rel, dst in _edges_of(obj)]
        if edges:
            db.executemany("INSERT INTO stage_edges VALUES (?, ?, ?)", edges)
            db.execute(
                "INSERT OR IGNORE INTO edges(src, rel, dst) SELECT a.eid, s.rel, b.eid "
                "FROM stage_edges s JOIN entities a ON a.cid = ? AND a.id = s.src "
                "JOIN entities b ON b.cid = ? AND b.id = s.dst", (cid, cid))
            db.execute("DELETE FROM stage_edges")

    def add_objects(self, objects: list[dict]) -> list[str]:
        with self.atomic():
            ents = {}
            for obj in objects:
                ents[obj["id"]] = _merge(ents[obj["id"]], obj) if obj["id"] in ents else _clean(obj)
            self._upsert_entities(ents)
        return [o["id"] for o in objects]

    # -- variables ---------------------------------------------------------------
    def var(self, name: str) -> VarInfo | None:
        row = self.db.execute(
            "SELECT name, type, kind, columns, entities, records, cached, command, line, statement,"
            " source, inputs FROM variables WHERE cid = ? AND name = ?", (self.cid, name)).fetchone()
        return _varinfo(row) if row else None

    def variables(self) -> list[VarInfo]:
        rows = self.db.execute(
            "SELECT name, type, kind, columns, entities, records, cached, command, line, statement,"
            " source, inputs FROM variables WHERE cid = ? AND name NOT LIKE '~%' ORDER BY updated",
            (self.cid,)).fetchall()
        return [_varinfo(r) for r in rows]

    def entity_types(self) -> list[str]:
        return [r[0] for r in self.db.execute(
            "SELECT type FROM entity_types WHERE cid = ? ORDER BY type", (self.cid,))]

    def values(self, var: str, path: ir.AttrPath) -> list:
        p = S.Params()
        return [r[0] for r in self._run(S.select_values(p, var, path.parts), p.values)]

    def time_range(self, var: str):
        p = S.Params()
        row = self._run(
            f"SELECT MIN(o.first_observed), MAX(o.last_observed) FROM var_rows v "
            f"JOIN contains c ON c.eid = v.eid JOIN observations o ON o.oid = c.oid "
            f"WHERE v.vid = {S.var_id(p, var)}", p.values).fetchone()
        return None if row is None or row[0] is None else (row[0], row[1])

    def _new_var(self, out: str, etype: str, kind: str, select: str, params: dict, birth: Birth,
                 columns: list[str] | None = None) -> VarInfo:
        """Materialise ``select`` (eid, oid, data columns) as variable ``out``, replacing it."""
        tmp = "~" + out
        self.db.execute("DELETE FROM var_rows WHERE vid IN (SELECT vid FROM variables "
                        "WHERE cid = ? AND name = ?)", (self.cid, tmp))
        self.db.execute("DELETE FROM variables WHERE cid = ? AND name = ?", (self.cid, tmp))
        vid = self.db.execute(
            "INSERT INTO variables(cid, name, type, kind) VALUES (?, ?, ?, ?)",
            (self.cid, tmp, etype, kind)).lastrowid
        cols = {"eid", "oid", "data"} & set(_select_columns(select))
        target = ", ".join(c for c in ("eid", "oid", "data") if c in cols)
        self._run(f"INSERT INTO var_rows(vid, {target}) SELECT {vid}, {target} FROM ({select})",
                  params)
        # swap in: the old variable goes only now, after its replacement was computed
        old = self.db.execute("SELECT vid FROM variables WHERE cid = ? AND name = ?",
                              (self.cid, out)).fetchone()
        if old:
            self.db.execute("DELETE FROM var_rows WHERE vid = ?", (old[0],))
            self.db.execute("DELETE FROM variables WHERE vid = ?", (old[0],))
        self._tick += 1
        self.db.execute("UPDATE variables SET name = ?, updated = ? WHERE vid = ?",
                        (out, self._tick, vid))
        info = VarInfo(name=out, type=etype, kind=kind, columns=columns, command=birth.command,
                       line=birth.line, statement=birth.statement, source=birth.source,
                       inputs=list(birth.inputs))
        self._count(vid, info, birth.count_cached)
        self.db.execute(
            "UPDATE variables SET columns = ?, entities = ?, records = ?, cached = ?, command = ?,"
            " line = ?, statement = ?, source = ?, inputs = ? WHERE vid = ?",
            (_dumps(columns) if columns is not None else None, info.entities, info.records,
             _dumps(info.cached), info.command, info.line, info.statement, info.source,
             _dumps(info.inputs), vid))
        return info

    def _count(self, vid: int, info: VarInfo, cached: bool) -> None:
        db = self.db
        if info.kind == "table":
            info.entities = 0
            info.records = db.execute("SELECT COUNT(*) FROM var_rows WHERE vid = ?", (vid,)).fetchone()[0]
            return
        info.entities = db.execute("SELECT COUNT(DISTINCT eid) FROM var_rows WHERE vid = ?",
                                   (vid,)).fetchone()[0]
        if info.kind == "records":
            info.records = db.execute(
                "SELECT COALESCE(SUM(o.number_observed), 0) FROM var_rows v "
                "JOIN observations o ON o.oid = v.oid WHERE v.vid = ?", (vid,)).fetchone()[0]
        else:
            info.records = db.execute(
                "SELECT COALESCE(SUM(o.number_observed), 0) FROM (SELECT DISTINCT eid FROM var_rows"
                " WHERE vid = ?) v JOIN contains c ON c.eid = v.eid JOIN observations o ON o.oid = c.oid",
                (vid,)).fetchone()[0]
        if info.records == 0:  # no observations (NEW, LOAD): count rows, as Kestrel
            info.records = db.execute("SELECT COUNT(*) FROM var_rows WHERE vid = ?", (vid,)).fetchone()[0]
        if cached and info.entities:
            rows = db.execute(
                "SELECT c.etype, COUNT(*) FROM contains c WHERE c.oid IN (SELECT oid FROM query_obs "
                "WHERE qid IN (SELECT DISTINCT q.qid FROM (SELECT DISTINCT eid FROM var_rows "
                "WHERE vid = ?) v JOIN contains c2 ON c2.eid = v.eid JOIN query_obs q ON q.oid = c2.oid))"
                " GROUP BY c.etype", (vid,)).fetchall()
            info.cached = {t: n - (info.entities if t == info.type else 0) for t, n in rows}

    # -- statements ------------------------------------------------------------------
    def get_from_query(self, out, etype, qid, where, birth):
        p = S.Params()
        sel = S.select_get_from_query(p, etype, where, p.named("qid", qid))
        return self._new_var(out, etype, "entities", sel, p.values, birth)

    def get_from_ids(self, out, etype, ids, birth):
        self.db.execute("CREATE TEMP TABLE IF NOT EXISTS stage_ids(pos INTEGER PRIMARY KEY, id TEXT)")
        self.db.execute("DELETE FROM stage_ids")
        self.db.executemany("INSERT INTO stage_ids(id) VALUES (?)", [(i,) for i in ids])
        sel = ("SELECT e.eid AS eid FROM stage_ids s JOIN entities e ON e.cid = :cid AND e.id = s.id "
               "GROUP BY e.eid ORDER BY MIN(s.pos)")
        return self._new_var(out, etype, "entities", sel, {}, birth)

    def _compile_find(self, stmt: ir.Find, hops, start, stop):
        p = S.Params()
        sel = S.select_find(p, stmt.etype, stmt.relation, stmt.var, hops, stmt.where,
                            start, stop, stmt.limit)
        return sel, p.values

    def find(self, out, stmt, input_type, hops, start, stop, birth):
        sel, params = self._compile_find(stmt, hops, start, stop)
        return self._new_var(out, stmt.etype, "entities", sel, params, birth)

    def _compile_assign(self, expr: ir.VarExpr, src: VarInfo):
        p = S.Params()
        records = expr.transform is not None or src.kind == "records"
        if src.kind == "table":
            raise HuntSemanticError(f"variable {expr.var} holds a GROUP/JOIN table, not entities")
        if expr.transform:
            base = S.select_records(p, expr.var, src.type, expr.where)
            sel = f"SELECT eid, oid FROM ({base})"
        else:
            sel = S.select_filter_var(p, expr.var, src.type, expr.where)
            if expr.sort is not None:
                obs = " LEFT JOIN observations o ON o.oid = v.oid" if records else ""
                sel = (f"SELECT v.eid AS eid, v.oid AS oid, v.data AS data FROM var_rows v "
                       f"JOIN entities e ON e.eid = v.eid{obs} WHERE v.vid = {S.var_id(p, expr.var)} "
                       f"AND {S.where_cond(p, expr.where, src.type)} "
                       f"ORDER BY {S.order_by(p, expr.sort, records)}")
        if expr.limit is not None or expr.offset is not None:
            sel += f" LIMIT {p(-1 if expr.limit is None else int(expr.limit))}"
            sel += f" OFFSET {p(int(expr.offset or 0))}"
        return sel, p.values, ("records" if records else "entities")

    def assign(self, out, expr, birth):
        src = self._require(expr.var)
        sel, params, kind = self._compile_assign(expr, src)
        columns = [a.name for a in expr.attrs] if expr.attrs else src.columns
        if expr.transform and columns is None:
            columns = None
        return self._new_var(out, src.type, kind, sel, params, birth, columns=columns)

    def merge(self, out, names, birth):
        infos = [self._require(n) for n in names]
        p = S.Params()
        parts = " UNION ALL ".join(
            f"SELECT eid, {i} AS k, rid FROM var_rows WHERE vid = {S.var_id(p, n)}"
            for i, n in enumerate(names))
        sel = (f"SELECT eid FROM ({parts}) GROUP BY eid ORDER BY MIN(k * 1000000000000 + rid)")
        return self._new_var(out, infos[0].type, "entities", sel, p.values, birth)

    def _require(self, name: str) -> VarInfo:
        info = self.var(name)
        if info is None:
            raise HuntSemanticError(f"unknown variable {name!r}")
        return info

    def _all_columns(self, var: str, info: VarInfo, depth: int = 2) -> list[str]:
        """Kestrel's default DISP columns: every attribute of the variable's entities except
        refs and type, with ``id``, plus ``ref.attr`` columns of referenced objects."""
        p = S.Params()
        keys: list[str] = []
        seen = set()
        rows = self._run(
            f"SELECT DISTINCT j.key FROM var_rows v JOIN entities e ON e.eid = v.eid, "
            f"json_each(e.props) j WHERE v.vid = {S.var_id(p, var)}", p.values).fetchall()
        plain = [k for (k,) in rows if k not in ("type",) and not k.endswith(("_ref", "_refs"))]
        refs = [k for (k,) in rows if k.endswith("_ref")]
        ordered = ["id"] + sorted(k for k in plain if k != "id")
        for k in ordered:
            if k not in seen:
                seen.add(k)
                keys.append(k)
        if depth:
            for ref in sorted(refs):
                q = S.Params()
                sub = self._run(
                    f"SELECT DISTINCT j.key FROM var_rows v JOIN edges g ON g.src = v.eid AND g.rel = "
                    f"{q(ref)} JOIN entities t ON t.eid = g.dst, json_each(t.props) j "
                    f"WHERE v.vid = {S.var_id(q, var)}", q.values).fetchall()
                sk = sorted(k for (k,) in sub if k != "type" and not k.endswith(("_ref", "_refs")))
                keys += [f"{ref}.{k}" for k in sk]
        return keys

    def display(self, expr: ir.VarExpr, line: int, max_rows: int | None = None) -> Table:
        info = self._require(expr.var)
        if info.kind == "table":
            return self._display_table(expr, info, line)
        records = expr.transform is not None or info.kind == "records"
        if expr.attrs:
            names = [a.name for a in expr.attrs]
            for a in expr.attrs:
                if a.etype and a.etype != info.type:
                    raise HuntSemanticError(f"attribute {a} does not belong to {info.type}")
        elif info.columns:
            names = list(info.columns)
        else:
            names = self._all_columns(expr.var, info)
        prefix = {"TIMESTAMPED": ["first_observed"],
                  "RECORDS": ["number_observed", "first_observed", "last_observed", "observation_id"],
                  "ADDOBSID": ["observation_id"]}.get(expr.transform or "", [])
        names = prefix + [n for n in names if n not in prefix]
        cols = [(n, _parts(n)) for n in names]
        p = S.Params()
        if expr.transform:
            rows = self._records_rows(p, expr, info, cols)
        else:
            sql = S.select_display(p, expr.var, info.type, cols, expr.where, expr.sort, records)
            rows = self._run(sql, p.values)
        return Table(statement=line, columns=names, rows=_shape(rows, expr.limit, expr.offset, max_rows))

    def _records_rows(self, p: S.Params, expr: ir.VarExpr, info: VarInfo, cols):
        """DISP TIMESTAMPED(v)/RECORDS(v)/ADDOBSID(v): one row per (entity, observation)."""
        colsql = ", ".join(S.column_expr(p, n, parts, True) for n, parts in cols)
        order = S.order_by(p, expr.sort, True) if expr.sort else "o.first_observed, v.rid, c.oid"
        sql = (f"SELECT {colsql} FROM var_rows v JOIN entities e ON e.eid = v.eid "
               f"JOIN contains c ON c.eid = v.eid JOIN observations o ON o.oid = c.oid "
               f"WHERE v.vid = {S.var_id(p, expr.var)} AND {S.where_cond(p, expr.where, info.type)} "
               f"ORDER BY {order}")
        return self._run(sql, p.values)

    def _display_table(self, expr: ir.VarExpr, info: VarInfo, line: int) -> Table:
        cols = list(info.columns or [])
        if expr.attrs:
            want = [a.name for a in expr.attrs]
            missing = [w for w in want if w not in cols]
            if missing:
                raise HuntSemanticError(f"{expr.var} has no column {missing[0]!r}; it has: "
                                        + ", ".join(cols))
        else:
            want = cols
        rows = [orjson.loads(d) for (d,) in self.db.execute(
            "SELECT data FROM var_rows WHERE vid = (SELECT vid FROM variables WHERE cid = ? AND "
            "name = ?) ORDER BY rid", (self.cid, expr.var))]
        if expr.where is not None:
            raise HuntSemanticError("WHERE on a GROUP result is not supported; filter before GROUP")
        if expr.sort is not None:
            key = expr.sort.attr.name
            rows.sort(key=lambda r: (r.get(key) is None, r.get(key)), reverse=expr.sort.descending)
        out = ([r.get(c) for c in want] for r in rows)
        return Table(statement=line, columns=want, rows=_shape(out, expr.limit, expr.offset, None))

    def records(self, var: str) -> list[dict]:
        t = self.display(ir.VarExpr(var=var), 0)
        return [dict(zip(t.columns, r)) for r in t.rows]

    # -- GROUP / JOIN -------------------------------------------------------------
    def group(self, out, stmt, birth):
        info = self._require(stmt.var)
        records = info.kind == "records"
        p = S.Params()
        keys = []
        for k in stmt.by:
            if isinstance(k, ir.Bin):
                keys.append((k.column, S.bin_expr(p, S.column_expr(p, k.attr.name, k.attr.parts, records),
                                                  k.size, k.unit)))
            else:
                keys.append((k.name, S.column_expr(p, k.name, k.parts, records)))
        aggs = []
        if stmt.aggregates:
            for a in stmt.aggregates:
                aggs.append((a.column, a.func, S.column_expr(p, a.attr.name, a.attr.parts, records)))
        else:
            keynames = {k for k, _ in keys}
            q = S.Params()
            jtypes: dict[str, set] = {}
            for key, jt in self._run(
                    f"SELECT DISTINCT j.key, j.type FROM var_rows v JOIN entities e ON e.eid = v.eid, "
                    f"json_each(e.props) j WHERE v.vid = {S.var_id(q, stmt.var)}", q.values):
                jtypes.setdefault(key, set()).add(jt)
            for col in self._all_columns(stmt.var, info, depth=0):
                if col in keynames or col in ("id", "type"):
                    continue
                func, name = _auto_aggregate(info.type, col, jtypes.get(col, set()))
                aggs.append((name, func, S.column_expr(p, col, _parts(col), records)))
        sql = S.select_group(p, stmt.var, keys, aggs, records)
        columns = [k for k, _ in keys] + [a for a, _, _ in aggs]
        rows = self._run(sql, p.values).fetchall()
        data = [_dumps(dict(zip(columns, r))) for r in rows]
        return self._table_var(out, info.type, columns, data, birth)

    def _table_var(self, out, etype, columns, data: list[str], birth):
        self.db.execute("CREATE TEMP TABLE IF NOT EXISTS stage_rows(pos INTEGER PRIMARY KEY, data TEXT)")
        self.db.execute("DELETE FROM stage_rows")
        self.db.executemany("INSERT INTO stage_rows(data) VALUES (?)", [(d,) for d in data])
        return self._new_var(out, etype, "table", "SELECT data FROM stage_rows ORDER BY pos", {},
                             birth, columns=columns)

    def join(self, out, stmt, birth):
        left, right = self._require(stmt.left), self._require(stmt.right)
        la = stmt.left_attr or ir.AttrPath(("id",))
        ra = stmt.right_attr or ir.AttrPath(("id",))
        lcols = self._all_columns(stmt.left, left, depth=0)
        rcols = self._all_columns(stmt.right, right, depth=0)
        extra = [c for c in rcols if c not in lcols]
        p = S.Params()
        rx = S.value_expr(p, "f", ra.parts)
        lx = S.value_expr(p, "e", la.parts)
        obj = ", ".join(f"{p(c)}, {S.value_expr(p, 'f', _parts(c))}" for c in extra) or "'_', NULL"
        sel = (f"SELECT v.eid AS eid, json_object({obj}) AS data FROM var_rows v "
               f"JOIN entities e ON e.eid = v.eid JOIN var_rows w ON w.vid = {S.var_id(p, stmt.right)} "
               f"JOIN entities f ON f.eid = w.eid WHERE v.vid = {S.var_id(p, stmt.left)} "
               f"AND {lx} = {rx} ORDER BY v.rid, w.rid")
        info = self._new_var(out, left.type, "entities", sel, p.values, birth)
        if extra:
            self.db.execute("UPDATE variables SET columns = ? WHERE cid = ? AND name = ?",
                            (_dumps(lcols + extra), self.cid, out))
            info.columns = lcols + extra
        return info

    # -- explain ----------------------------------------------------------------------
    def explain(self, stmt, input_types):
        from ..relations import hops as find_hops

        p = S.Params()
        out = []
        if isinstance(stmt, ir.Get):
            if stmt.source in input_types:
                sql = S.select_filter_var(p, stmt.source, stmt.etype, stmt.where)
            else:
                sql = S.select_get_from_query(p, stmt.etype, stmt.where, p.named("qid", "<query id>"))
            out.append(S.Query(sql, p.values, f"{stmt.out} = GET {stmt.etype} (line {stmt.pos.line})"))
        elif isinstance(stmt, ir.Find):
            itype = input_types.get(stmt.var, "?")
            hops = None if stmt.relation == "linked" else find_hops(stmt.etype, stmt.relation, itype, stmt.by)
            start = stop = None
            if isinstance(stmt.timespan, ir.TimeRange):
                start, stop = (ir.Timestamp(stmt.timespan.start).iso(), ir.Timestamp(stmt.timespan.stop).iso())
            sql, params = self._compile_find(stmt, hops, start, stop)
            out.append(S.Query(sql, params, f"{stmt.out} = FIND (line {stmt.pos.line})"))
        elif isinstance(stmt, (ir.Assign, ir.Disp)):
            expr = stmt.expr
            etype = input_types.get(expr.var, "?")
            fake = VarInfo(name=expr.var, type=etype)
            if isinstance(stmt, ir.Assign):
                sql, params, _ = self._compile_assign(expr, fake)
                out.append(S.Query(sql, params, f"{stmt.out} = {expr.var} (line {stmt.pos.line})"))
            else:
                cols = [(a.name, a.parts) for a in (expr.attrs or ())] or [("*", ("id",))]
                sql = S.select_display(p, expr.var, etype, cols, expr.where, expr.sort,
                                       expr.transform is not None)
                out.append(S.Query(sql, p.values, f"DISP {expr.var} (line {stmt.pos.line})"))
        return out

    # -- graph traversals ---------------------------------------------------------------
    def _eid(self, stix_id: str) -> int | None:
        row = self.db.execute("SELECT eid FROM entities WHERE cid = ? AND id = ?",
                              (self.cid, stix_id)).fetchone()
        return row[0] if row else None

    def neighbors(self, stix_id, relation, direction, depth):
        start = self._eid(stix_id)
        if start is None:
            raise HuntSemanticError(f"no object {stix_id!r} in collection {self.collection!r}")
        rel_filter = "AND g.rel = :rel" if relation else ""
        steps = []
        if direction in ("out", "any"):
            steps.append(f"SELECT g.src, g.rel, g.dst, g.dst AS nxt, w.d + 1 FROM walk w "
                         f"JOIN edges g ON g.src = w.nxt {rel_filter} WHERE w.d < :depth")
        if direction in ("in", "any"):
            steps.append(f"SELECT g.src, g.rel, g.dst, g.src AS nxt, w.d + 1 FROM walk w "
                         f"JOIN edges g ON g.dst = w.nxt {rel_filter} WHERE w.d < :depth")
        sql = (f"WITH RECURSIVE walk(src, rel, dst, nxt, d) AS (SELECT NULL, NULL, NULL, :start, 0 "
               f"UNION {' UNION '.join(steps)}) SELECT DISTINCT src, rel, dst FROM walk WHERE src IS NOT NULL")
        edges = self.db.execute(sql, {"start": start, "depth": depth, "rel": relation}).fetchall()
        return self._objects_and_edges({start} | {e[0] for e in edges} | {e[2] for e in edges}, edges)

    def _objects_and_edges(self, eids, edges):
        eids = list(eids)
        objs, ids = [], {}
        for i in range(0, len(eids), 900):
            chunk = eids[i:i + 900]
            q = ",".join("?" * len(chunk))
            for eid, sid, props in self.db.execute(
                    f"SELECT eid, id, props FROM entities WHERE eid IN ({q})", chunk):
                ids[eid] = sid
                objs.append(orjson.loads(props))
        return objs, [(ids[s], r, ids[d]) for s, r, d in edges if s in ids and d in ids]

    def var_subgraph(self, var, depth=1):
        info = self._require(var)
        p = S.Params()
        eids = {r[0] for r in self._run(
            f"SELECT DISTINCT eid FROM var_rows WHERE vid = {S.var_id(p, var)} AND eid IS NOT NULL",
            p.values)}
        frontier, seen, edges = set(eids), set(eids), set()
        for _ in range(depth):
            nxt = set()
            fl = list(frontier)
            for i in range(0, len(fl), 450):
                chunk = fl[i:i + 450]
                q = ",".join("?" * len(chunk))
                for s, r, d in self.db.execute(
                        f"SELECT src, rel, dst FROM edges WHERE src IN ({q}) UNION "
                        f"SELECT src, rel, dst FROM edges WHERE dst IN ({q})", chunk + chunk):
                    edges.add((s, r, d))
                    nxt |= {s, d}
            frontier = nxt - seen
            seen |= nxt
        del info
        return self._objects_and_edges(seen, sorted(edges))


# ---------------------------------------------------------------------------
def _looks_like_sqlite(p: Path) -> bool:
    with open(p, "rb") as f:
        return f.read(16) == b"SQLite format 3\x00"


def _select_columns(select: str) -> list[str]:
    """The output column names of one of our SELECTs (they use ``AS eid``/``oid``/``data``
    or bare ``eid``/``oid``/``data``)."""
    head = select.split(" FROM ", 1)[0]
    names = []
    for part in head[len("SELECT "):].replace("DISTINCT ", "").split(","):
        names.append(part.strip().split(" AS ")[-1].split(".")[-1])
    return names


def _parts(name: str) -> tuple[str, ...]:
    out = []
    for seg in name.split("."):
        if seg.endswith("[*]"):
            out += [seg[:-3], "*"]
        else:
            out.append(seg.strip("'"))
    return tuple(out)


def _varinfo(row) -> VarInfo:
    (name, etype, kind, columns, entities, records, cached, command, line, statement, source,
     inputs) = row
    return VarInfo(name=name, type=etype, kind=kind,
                   columns=orjson.loads(columns) if columns else None,
                   entities=entities or 0, records=records or 0,
                   cached=orjson.loads(cached) if cached else {}, command=command or "",
                   line=line or 0, statement=statement or "", source=source,
                   inputs=orjson.loads(inputs) if inputs else [])


def _auto_aggregate(etype: str, col: str, json_types: set) -> tuple[str, str]:
    """Kestrel's GROUP without WITH: which aggregate each column gets, and its name:
    number_observed SUM; first_observed/start MIN; last_observed/end MAX; ports of
    network-traffic and pids of processes NUNIQUE; other numbers AVG; the rest NUNIQUE."""
    if col == "number_observed":
        return "SUM", f"sum_{col}"
    if col in ("first_observed", "start"):
        return "MIN", f"min_{col}"
    if col in ("last_observed", "end"):
        return "MAX", f"max_{col}"
    if (etype == "network-traffic" and col.endswith("_port")) or (etype == "process" and col.endswith("pid")):
        return "NUNIQUE", f"unique_{col}"
    if json_types and json_types <= {"integer", "real"}:
        return "AVG", f"mean_{col}"
    return "NUNIQUE", f"unique_{col}"


def _shape(rows, limit, offset, max_rows):
    """Drop all-NULL rows and duplicates (Kestrel), then OFFSET and LIMIT (after dedup, so
    LIMIT n shows n rows when there are n distinct ones)."""
    seen = set()
    out = []
    skip = offset or 0
    cap = limit if limit is not None else max_rows
    for row in rows:
        row = list(row)
        if all(v is None for v in row):
            continue
        key = tuple(row)
        if key in seen:
            continue
        seen.add(key)
        if skip:
            skip -= 1
            continue
        out.append(row)
        if cap is not None and len(out) >= cap:
            break
    return out
