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
* Kept by ingest for the counts of a new variable (:meth:`SQLiteStore._count`):
  ``obs_q(oid, qsid, n)`` (each observation's number_observed and the set of queries that
  brought it in), ``ent_q(eid, nrec, qsid)`` (each entity's records, the number_observed sum
  over its observations, and the union of their query sets), ``qsets(qsid, qids)`` (query
  sets, "1,4,7"), ``query_counts(qid, etype, n)`` ((object, observation) pairs by type over a
  query's observations) and ``qset_counts`` (the same over a union of queries, until the next
  ingest).  A store of an older version gets them rebuilt from the base tables when opened.

Everything is grouped by collection (``cid``); one collection, ``default``, unless told.
"""
from __future__ import annotations

import gc
import ipaddress
import re
import sqlite3
import time
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timezone
from functools import lru_cache
from collections import Counter
import operator
from itertools import chain, compress, repeat
from pathlib import Path
from typing import Iterable, NamedTuple

import orjson

from .. import ir
from ..display import Table
from ..errors import HuntSemanticError, StoreError
from ..stix.model import Observation
from . import sql as S
from ..lang.parser import path_parts
from .base import (APPLY_EXPLAINED, PROCESS_COUNTS_EXPLAINED, PROCESS_FILES_EXPLAINED,
                   ProcessActivity, TRANSFORM_COLUMNS, Birth, GraphStore, VarInfo,
                   auto_aggregate, has_process_activity, process_activity_of, shape_rows,
                   table_display)

SCHEMA_VERSION = "4"  # 3: + obs_q, ent_q, qsets, query_counts, qset_counts; - entities_type;
# 4: + entities.added, observations.added, taxii_objects, taxii_status, taxii_hidden

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS collections(cid INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL);
CREATE TABLE IF NOT EXISTS entities(
    eid INTEGER PRIMARY KEY, cid INTEGER NOT NULL, id TEXT NOT NULL, type TEXT NOT NULL,
    props TEXT NOT NULL, added INTEGER, UNIQUE(cid, id));
CREATE TABLE IF NOT EXISTS entity_types(cid INTEGER NOT NULL, type TEXT NOT NULL,
    PRIMARY KEY(cid, type)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS edges(src INTEGER NOT NULL, rel TEXT NOT NULL, dst INTEGER NOT NULL,
    PRIMARY KEY(src, rel, dst)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS edges_dst ON edges(dst, rel, src);
CREATE TABLE IF NOT EXISTS observations(
    oid INTEGER PRIMARY KEY, cid INTEGER NOT NULL, id TEXT NOT NULL,
    first_observed TEXT NOT NULL, last_observed TEXT NOT NULL, number_observed INTEGER NOT NULL,
    props TEXT NOT NULL, added INTEGER, UNIQUE(cid, id));
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
CREATE TABLE IF NOT EXISTS obs_q(oid INTEGER PRIMARY KEY, qsid INTEGER NOT NULL, n INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS obs_q_qsid ON obs_q(qsid);
CREATE TABLE IF NOT EXISTS ent_q(eid INTEGER PRIMARY KEY, nrec INTEGER NOT NULL, qsid INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS qsets(qsid INTEGER PRIMARY KEY, qids TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS query_counts(qid INTEGER NOT NULL, etype TEXT NOT NULL,
    n INTEGER NOT NULL, PRIMARY KEY(qid, etype)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS qset_counts(qids TEXT NOT NULL, etype TEXT NOT NULL,
    n INTEGER NOT NULL, PRIMARY KEY(qids, etype)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS taxii_objects(seq INTEGER PRIMARY KEY, cid INTEGER NOT NULL,
    id TEXT NOT NULL, type TEXT NOT NULL, spec_version TEXT NOT NULL, version TEXT NOT NULL,
    vus INTEGER NOT NULL, added INTEGER NOT NULL, json TEXT NOT NULL, UNIQUE(cid, id, vus));
CREATE INDEX IF NOT EXISTS taxii_objects_added ON taxii_objects(cid, added);
CREATE TABLE IF NOT EXISTS taxii_status(id TEXT PRIMARY KEY, cid INTEGER NOT NULL,
    created INTEGER NOT NULL, json TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS taxii_hidden(cid INTEGER NOT NULL, id TEXT NOT NULL,
    PRIMARY KEY(cid, id)) WITHOUT ROWID;
"""
# created by _migrate (an older store's tables get the column first)
ADDED_INDEXES = """
CREATE INDEX IF NOT EXISTS entities_added ON entities(cid, added);
CREATE INDEX IF NOT EXISTS observations_added ON observations(cid, added);
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


def _merge(old: dict, new: dict) -> dict:
    merged = dict(old)
    for k, v in new.items():
        if v is not None:
            merged[k] = v
    return merged


def _clean(obj: dict) -> dict:
    return {k: v for k, v in obj.items() if v is not None}


class PreparedChunk(NamedTuple):
    """Observations ready to store (:func:`prepare_chunk`; plain lists of str and int, cheap
    to pickle from a reader process).

    * ``obs[i]``: (id, first_observed, last_observed, number_observed, props JSON) of the
      i-th observation, which holds ``nobj[i]`` objects;
    * ``keys``/``types``/``texts``: the distinct objects (STIX id, type, JSON without top-level
      nulls, its sightings in this chunk merged: later non-null top-level values win);
    * ``sight``: per object sighting, observation by observation, the index of its key;
    * ``diff``: key index → [(sighting index, JSON)] for the keys whose sightings differ
      (what cutting the chunk needs);
    * ``edges``: (observation index, key index of the source, ref property, target id), one
      per ref value, from the first sighting of each distinct JSON."""

    obs: list
    nobj: list
    keys: list
    types: list
    texts: list
    sight: list
    diff: dict
    edges: list

    def slice(self, a: int, b: int) -> "PreparedChunk":
        """Observations [a, b) as a chunk of their own."""
        if a == 0 and b >= len(self.obs):
            return self
        sa = sum(self.nobj[:a])
        sb = sa + sum(self.nobj[a:b])
        own = {}  # sighting index -> its own JSON, for keys whose sightings differ
        for pairs in self.diff.values():
            own.update(pairs)
        keys, types, sight, index, texts_of = [], [], [], {}, []
        for j in range(sa, sb):
            k = self.sight[j]
            n = index.get(k)
            if n is None:
                n = index[k] = len(keys)
                keys.append(self.keys[k])
                types.append(self.types[k])
                texts_of.append([])
            sight.append(n)
            if k in self.diff:
                texts_of[n].append((j - sa, own[j]))
        texts, diff = [], {}
        for k, n in index.items():
            pairs = texts_of[n]
            if not pairs:
                texts.append(self.texts[k])
            else:
                ts = [t for _, t in pairs]
                texts.append(ts[0] if all(t == ts[0] for t in ts) else _merge_texts(ts))
                if len(set(ts)) > 1:
                    diff[n] = pairs
        edges = [(i - a, index[k], rel, dst) for i, k, rel, dst in self.edges
                 if a <= i < b and k in index]
        return PreparedChunk(self.obs[a:b], self.nobj[a:b], keys, types, texts, sight, diff,
                             edges)


class _Batch:
    """The merge unit being written: its observation count and the objects it touched
    (STIX id → [eid, the batch's merged JSON so far, stored first in this batch])."""

    def __init__(self):
        self.n = 0
        self.ents: dict[str, list] = {}


CHUNK_OBS = 1000  # observations prepared at a time when ingest gets Observation objects


_EDGE_KIND: dict[str, int] = {}


def _edge_kind(k: str) -> int:
    r = _EDGE_KIND.get(k)
    if r is None:
        r = 1 if k.endswith("_ref") else 2 if k.endswith("_refs") else 0
        if len(_EDGE_KIND) < 100_000:
            _EDGE_KIND[k] = r
    return r


_REF_KEYS: dict[tuple, tuple] = {}


def _ref_keys(shape: tuple) -> tuple:
    """The (key, kind) pairs of the ``*_ref``/``*_refs`` keys among ``shape`` (memoised)."""
    r = _REF_KEYS.get(shape)
    if r is None:
        r = tuple((k, _edge_kind(k)) for k in shape if _edge_kind(k))
        if len(_REF_KEYS) < 10_000:
            _REF_KEYS[shape] = r
    return r


def _add_edges(edges: list, i: int, k: int, obj: dict) -> None:
    shape = tuple(obj)
    refs = _REF_KEYS.get(shape)
    if refs is None:
        refs = _ref_keys(shape)
    for key, kind in refs:
        val = obj[key]
        if kind == 1:
            if isinstance(val, str):
                edges.append((i, k, key, val))
        elif isinstance(val, list):
            for v in val:
                if isinstance(v, str):
                    edges.append((i, k, key, v))


def prepare_chunk(observations: Iterable[Observation]) -> PreparedChunk:
    """What the store writes for these observations (see :class:`PreparedChunk`)."""
    obs, nobj, keys, types, texts, sight, edges, first = [], [], [], [], [], [], [], []
    diff: dict[int, list] = {}
    index: dict[str, int] = {}
    dumps = orjson.dumps
    j = 0
    for i, ob in enumerate(observations):
        obs.append((ob.id, ob.first_observed, ob.last_observed, int(ob.number_observed or 1),
                    _dumps(ob.props or {})))
        objs = ob.objects
        nobj.append(len(objs))
        for sid, obj in objs.items():
            text = dumps(obj if None not in obj.values() else _clean(obj)).decode()
            k = index.get(sid)
            if k is None:
                k = index[sid] = len(keys)
                keys.append(sid)
                t = obj.get("type")
                types.append(sid.split("--")[0] if t is None else t)
                texts.append(text)
                first.append(j)
                _add_edges(edges, i, k, obj)
            elif k in diff:
                diff[k].append((j, text))
                _add_edges(edges, i, k, obj)
            elif text != texts[k]:
                diff[k] = [(first[k], texts[k]), (j, text)]
                _add_edges(edges, i, k, obj)
            sight.append(k)
            j += 1
    for k, pairs in diff.items():
        texts[k] = _merge_texts([t for _, t in pairs])
    return PreparedChunk(obs, nobj, keys, types, texts, sight, diff, edges)


@contextmanager
def _no_gc():
    """No cyclic garbage collection inside: bulk work makes many containers and no cycles,
    and full collections over a big heap cost more than the work itself."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


_MULTI: dict[tuple[str, int, int], str] = {}


def _insert_rows(db, head: str, rows: list, width: int, k: int = 100) -> None:
    """``executemany`` of ``head`` + VALUES rows, k rows per statement (fewer steps)."""
    _insert_flat(db, head, list(chain.from_iterable(rows)), width, k)


def _insert_cols(db, head: str, cols: list[list], k: int = 100) -> None:
    """:func:`_insert_rows` for rows given as equally long columns."""
    width = len(cols)
    flat = [None] * (len(cols[0]) * width)
    for i, c in enumerate(cols):
        flat[i::width] = c
    _insert_flat(db, head, flat, width, k)


def _insert_flat(db, head: str, flat: list, width: int, k: int) -> None:
    n = len(flat) // width
    full = n - n % k
    step = k * width
    if full:
        sql = _MULTI.get((head, width, k))
        if sql is None:
            one = "(" + ",".join("?" * width) + ")"
            sql = _MULTI[(head, width, k)] = head + ",".join([one] * k)
        db.executemany(sql, [flat[i:i + step] for i in range(0, full * width, step)])
    if n > full:
        rest = flat[full * width:]
        db.executemany(head + "(" + ",".join("?" * width) + ")",
                       [rest[i:i + width] for i in range(0, len(rest), width)])


def _merge_texts(texts: list[str]) -> str:
    """The JSON of several sightings of one object, merged (later top-level values win)."""
    merged = orjson.loads(texts[0])
    for x in texts[1:]:
        merged.update(orjson.loads(x))
    return _dumps(merged)


class SQLiteStore(GraphStore):
    def __init__(self, path: str | Path = ":memory:", collection: str = "default"):
        self.path = str(path)
        if self.path != ":memory:":
            p = Path(self.path)
            p.parent.mkdir(parents=True, exist_ok=True)
            if p.is_dir():
                raise StoreError(f"{p}: is a directory, not a store file")
            if p.exists() and p.stat().st_size and not _looks_like_sqlite(p):
                raise StoreError(f"{p}: not a stixgraph store (not an SQLite file)")
        try:
            self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self.db.executescript(SCHEMA)
        except sqlite3.DatabaseError as e:
            raise StoreError(f"{self.path}: cannot open store: {e}") from None
        # A rollback journal, not WAL: a GET is one big transaction, and SQLite's WAL made
        # those twice as slow here (200k-observation bench: nt GET 2.4 s vs 5.3 s, no matter
        # the checkpoint setting).  Other connections read between statements and wait (busy
        # timeout) while one is written.
        self.db.execute("PRAGMA busy_timeout=30000")
        try:
            self.db.execute("PRAGMA journal_mode=DELETE" if self.path != ":memory:"
                            else "PRAGMA journal_mode=MEMORY")
        except sqlite3.OperationalError:
            pass  # a WAL store another connection has open stays WAL until it is closed
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("PRAGMA case_sensitive_like=ON")  # LIKE is case-sensitive, as in STIX
        self.db.execute("PRAGMA temp_store=MEMORY")
        self.db.execute("PRAGMA cache_size=-65536")
        self.db.create_function("sg_matches", 2, _matches, deterministic=True)
        self.db.create_function("sg_in_subnet", 2, _in_subnet, deterministic=True)
        self.db.create_function("sg_bin_time", 2, _bin_time, deterministic=True)
        self.db.create_function("sg_num", 1, S.numeric, deterministic=True)
        self.collection = collection
        self.db.execute("INSERT OR IGNORE INTO collections(name) VALUES (?)", (collection,))
        self.cid = self.db.execute("SELECT cid FROM collections WHERE name = ?",
                                   (collection,)).fetchone()[0]
        self._sp = 0
        self._journal: list[tuple[int, str]] = []  # (0 eid / 1 oid, key) added in savepoints
        self._marks: list[int] = []
        self._eids: dict[str, int] = {}  # STIX id -> eid (this collection)
        self._oids: dict[str, int] = {}  # observed-data id -> oid
        self._complete = self.db.execute(  # the maps know every row: a miss is a new row
            "SELECT NOT EXISTS (SELECT 1 FROM entities WHERE cid = ?) AND NOT EXISTS "
            "(SELECT 1 FROM observations WHERE cid = ?)", (self.cid, self.cid)).fetchone()[0] == 1
        self._tick = self.db.execute("SELECT COALESCE(MAX(updated), 0) FROM variables").fetchone()[0]
        self._last_added: int | None = None
        self._migrate()

    # -- plumbing ------------------------------------------------------------
    def stamp(self, n: int = 1) -> int:
        """The first of ``n`` consecutive "added" times (microseconds since the epoch) for new
        rows: after every time stamped before in this store, and not before now, so that
        rows sort by when they were added (TAXII's date_added) and no two share a time."""
        last = self._last_added
        if last is None:
            last = max(self.db.execute(f"SELECT COALESCE(MAX(added), 0) FROM {t}").fetchone()[0]
                       for t in ("entities", "observations", "taxii_objects"))
        first = max(time.time_ns() // 1000, last + 1)
        self._last_added = first + n - 1
        return first

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def atomic(self):
        self._sp += 1
        name = f"sp{self._sp}"
        self.db.execute(f"SAVEPOINT {name}")
        self._marks.append(len(self._journal))
        try:
            yield
        except BaseException:
            self.db.execute(f"ROLLBACK TO {name}")
            self.db.execute(f"RELEASE {name}")
            mark = self._marks[-1]
            caches = (self._eids, self._oids)
            for which, key in reversed(self._journal[mark:]):  # forget rows rolled back
                caches[which].pop(key, None)
            del self._journal[mark:]
            raise
        else:
            self.db.execute(f"RELEASE {name}")
        finally:
            self._marks.pop()
            self._sp -= 1
            if not self._sp:
                self._journal.clear()
            if len(self._eids) > 2_000_000 or len(self._oids) > 1_000_000:
                self._eids.clear()  # bound the memory: look keys up from now on
                self._oids.clear()
                self._complete = False

    def _migrate(self) -> None:
        """Stamp a new store; bring an older one to this version: drop what is gone and
        (re)build the derived tables (``obs_q``, ``ent_q``) from the stored data."""
        row = self.db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
        if row is not None and row[0] == SCHEMA_VERSION:
            return
        db = self.db
        with self.atomic():
            # 4: when each row was added (microseconds since the epoch; TAXII's date_added),
            # older rows in their insertion order ending now
            base = time.time_ns() // 1000 - 2_000_000_000
            for table, key in (("entities", "eid"), ("observations", "oid")):
                if "added" not in {r[1] for r in db.execute(f"PRAGMA table_info({table})")}:
                    db.execute(f"ALTER TABLE {table} ADD COLUMN added INTEGER")
                db.execute(f"UPDATE {table} SET added = ? + {key} * 2 + ? WHERE added IS NULL",
                           (base, table == "observations"))
            for statement in filter(str.strip, ADDED_INDEXES.split(";")):
                db.execute(statement)
            # entities(cid, type) served no query and cost a fifth of an entity insert
            db.execute("DROP INDEX IF EXISTS entities_type")
            db.execute("DELETE FROM qset_counts")
            db.execute("DELETE FROM query_counts")
            db.execute("DELETE FROM ent_q")
            db.execute("DELETE FROM obs_q")
            db.execute("INSERT INTO obs_q(oid, qsid, n) SELECT oid, 0, number_observed "
                       "FROM observations")
            by_set: dict[str, list[int]] = {}
            for oid, qids in db.execute(
                    "SELECT oid, group_concat(qid) FROM (SELECT oid, qid FROM query_obs "
                    "ORDER BY oid, qid) GROUP BY oid"):
                by_set.setdefault(qids, []).append(oid)
            for qids, oids in by_set.items():
                qsid = self._qsid(int(q) for q in qids.split(","))
                db.executemany("UPDATE obs_q SET qsid = ? WHERE oid = ?", [(qsid, o) for o in oids])
            self._recount_entities(None)
            db.execute("INSERT OR REPLACE INTO meta VALUES ('schema', ?)", (SCHEMA_VERSION,))

    def _recount_entities(self, eids) -> None:
        """``ent_q`` rows of these entities (all when None) from ``contains`` and ``obs_q``."""
        db = self.db
        if eids is None:
            rows = db.execute(
                "SELECT c.eid, SUM(o.n), group_concat(DISTINCT o.qsid) FROM contains c "
                "JOIN obs_q o ON o.oid = c.oid GROUP BY c.eid").fetchall()
        else:
            eids = sorted(eids)
            rows = []
            for i in range(0, len(eids), 500):
                part = eids[i:i + 500]
                rows += db.execute(
                    f"SELECT c.eid, SUM(o.n), group_concat(DISTINCT o.qsid) FROM contains c "
                    f"JOIN obs_q o ON o.oid = c.oid WHERE c.eid IN ({','.join('?' * len(part))})"
                    f" GROUP BY c.eid", part).fetchall()
        union: dict[str, int] = {}
        out = []
        for eid, nrec, qsids in rows:
            qsid = union.get(qsids)
            if qsid is None:
                qs: set[int] = set()
                for q in str(qsids).split(","):
                    qs |= self._qset(int(q))
                qsid = union[qsids] = self._qsid(qs)
            out.append((eid, nrec, qsid))
        db.executemany("INSERT OR REPLACE INTO ent_q(eid, nrec, qsid) VALUES (?, ?, ?)", out)

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
    # Observations go in as *prepared chunks* (:func:`prepare_chunk`: flat lists of ids, JSON
    # texts and refs, one entry per object sighting), so that a reader process can do that
    # work while this one writes.  Batches of ``batch_size`` consecutive observations are
    # written at a time, whatever the chunking: within a batch an entity's sightings are merged
    # in Python (newer non-null top-level values win), across batches with ``json_patch``.
    # Keys are resolved in Python: ``_eids``/``_oids`` map STIX ids to row ids (complete when
    # ``_complete``; a miss is then a new row, given the next free row id; a conflict with a
    # row some other connection wrote makes the batch start again with look-ups).
    #: what ingest accepts besides Observation objects (a picklable function, so that a data
    #: source may run it in a reader process: Session._do_get)
    prepare_chunk = staticmethod(prepare_chunk)

    def begin_query(self, uri: str, pattern: str) -> int:
        cur = self.db.execute(
            "INSERT INTO queries(cid, uri, pattern, created) VALUES (?, ?, ?, ?)",
            (self.cid, uri, pattern, datetime.now(timezone.utc).isoformat()))
        return cur.lastrowid

    def ingest(self, observations: Iterable[Observation], qid: int | None = None,
               batch_size: int = 4000) -> dict:
        """Store observations (or :class:`PreparedChunk` objects, in stream order) in one
        transaction; ``qid`` records them as what query ``qid`` brought in.

        Objects merge by batches of ``batch_size`` consecutive observations: within a batch
        an object's sightings merge in Python (later non-null top-level values win), the
        batch's result merges into the stored object with ``json_patch``.  Each chunk is
        written as it comes (a new object's row at once, updated if a later chunk of its
        batch changes it; an object stored before the batch gets its patch when the batch
        ends), so that the writes keep pace with a reader process."""
        stats = {"observations": 0, "objects": 0}
        batch_size = max(1, int(batch_size))
        with _no_gc(), self.atomic():
            state = self._ingest_start(qid)
            batch = _Batch()
            raw: list[Observation] = []

            def feed(chunk: PreparedChunk):
                nonlocal batch
                a, k = 0, len(chunk.obs)
                while a < k:
                    b = min(k, a + batch_size - batch.n)
                    self._apply_chunk(chunk.slice(a, b), qid, stats, state, batch)
                    a = b
                    if batch.n >= batch_size:
                        self._end_batch(batch)
                        self._flush_ent_q(state)
                        batch = _Batch()

            for item in observations:
                if isinstance(item, PreparedChunk):
                    if raw:
                        feed(prepare_chunk(raw))
                        raw = []
                    feed(item)
                else:
                    raw.append(item)
                    if len(raw) >= min(batch_size, CHUNK_OBS):
                        feed(prepare_chunk(raw))
                        raw = []
            if raw:
                feed(prepare_chunk(raw))
            self._end_batch(batch)
            self._ingest_end(qid, state)
        return stats

    def _ingest_start(self, qid) -> dict:
        self.db.execute("DELETE FROM qset_counts")
        fresh = qid is not None and self.db.execute(
            "SELECT 1 FROM query_obs WHERE qid = ? LIMIT 1", (qid,)).fetchone() is None
        return {"counts": {} if fresh else None, "stale": False, "old": set(), "qid": qid,
                "oid0": self.db.execute("SELECT COALESCE(MAX(oid), 0) + 1 FROM observations"
                                        ).fetchone()[0],
                "eid0": self.db.execute("SELECT COALESCE(MAX(eid), 0) + 1 FROM entities"
                                        ).fetchone()[0],
                "qsid": self._qsid((qid,)) if qid is not None else 0,
                "nrec": {}, "in_q": set()}

    def _ingest_end(self, qid, state) -> None:
        db = self.db
        self._flush_ent_q(state)
        if state["old"]:  # observations stored before: their objects' sums and query sets
            old = sorted(state["old"])
            eids: set[int] = set()
            for i in range(0, len(old), 500):
                part = old[i:i + 500]
                eids.update(r[0] for r in db.execute(
                    f"SELECT eid FROM contains WHERE oid IN ({','.join('?' * len(part))})", part))
            self._recount_entities(eids)
        if state["stale"]:  # old observations gained objects: every query count may change
            db.execute("DELETE FROM query_counts")
        if qid is None:
            return
        db.execute("DELETE FROM query_counts WHERE qid = ?", (qid,))
        counts = state["counts"]
        old = sorted(state["old"])
        if counts is not None and old:  # observations stored before: count them in SQL
            for i in range(0, len(old), 500):
                part = old[i:i + 500]
                for t, n in db.execute(f"SELECT etype, COUNT(*) FROM contains WHERE oid IN "
                                       f"({','.join('?' * len(part))}) GROUP BY etype", part):
                    counts[t] = counts.get(t, 0) + n
        if counts is not None:
            db.executemany("INSERT INTO query_counts VALUES (?, ?, ?)",
                           [(qid, t, n) for t, n in counts.items()] + [(qid, "", 0)])

    def _apply_chunk(self, b: PreparedChunk, qid, stats, state, batch: "_Batch") -> None:
        """Write one chunk (part of one batch), starting again with key look-ups when a row
        another connection wrote gets in the way."""
        for attempt in (0, 1):
            try:
                with self.atomic():
                    touched = self._write_chunk(b, qid, stats, state, batch)
                batch.ents.update(touched)
                batch.n += len(b.obs)
                return
            except sqlite3.IntegrityError:
                if attempt or not self._complete:
                    raise
                self._complete = False  # another connection wrote rows: look keys up
                self._eids.clear()
                self._oids.clear()

    def _flush_ent_q(self, state) -> None:
        """Add the record sums counted since the last flush to ``ent_q`` (an entity first
        met in this ingest also gets the query in its query set)."""
        acc = state["nrec"]
        if not acc:
            return
        db = self.db
        done, eid0, qsid1, qid = state["in_q"], state["eid0"], state["qsid"], state["qid"]
        ins, add, pre = [], [], {}
        for eid, n in acc.items():
            if eid in done:
                add.append((n, eid))
            elif eid >= eid0:  # stored by this ingest: no row yet
                ins.append((eid, n, qsid1))
                done.add(eid)
            else:
                pre[eid] = n
        if pre:
            keys = sorted(pre)
            have: dict[int, int] = {}
            for i in range(0, len(keys), 500):
                part = keys[i:i + 500]
                have.update(db.execute(f"SELECT eid, qsid FROM ent_q WHERE eid IN "
                                       f"({','.join('?' * len(part))})", part).fetchall())
            upgrade: dict[int, int] = {}
            moved = []
            for eid in keys:
                old = have.get(eid)
                if old is None:
                    ins.append((eid, pre[eid], qsid1))
                else:
                    new = upgrade.get(old)
                    if new is None:
                        new = upgrade[old] = (self._qsid(self._qset(old) | {qid})
                                              if qid is not None else old)
                    if new == old:
                        add.append((pre[eid], eid))
                    else:
                        moved.append((pre[eid], new, eid))
                done.add(eid)
            if moved:
                db.executemany("UPDATE ent_q SET nrec = nrec + ?, qsid = ? WHERE eid = ?", moved)
        if ins:
            _insert_rows(db, "INSERT INTO ent_q(eid, nrec, qsid) VALUES ", ins, 3)
        if add:
            db.executemany("UPDATE ent_q SET nrec = nrec + ? WHERE eid = ?", add)
        acc.clear()

    def _end_batch(self, batch: "_Batch") -> None:
        """Merge the batch's objects that were stored before it into their rows."""
        upd = [(e[1], e[0]) for e in batch.ents.values() if not e[2]]
        if upd:
            self.db.executemany("UPDATE entities SET props = json_patch(props, ?) WHERE eid = ?",
                                upd)
        batch.ents.clear()
        batch.n = 0

    def _write_chunk(self, b: PreparedChunk, qid, stats, state, batch: "_Batch") -> dict:
        """Write chunk ``b``; returns the entries of ``batch.ents`` it adds or changes
        (sid → [eid, the batch's merged JSON so far, new in this batch])."""
        db, cid = self.db, self.cid
        journal = self._journal if self._sp else None
        # observations
        oids = self._oids
        if not self._complete:
            self._lookup(oids, "SELECT id, oid FROM observations WHERE cid = ? AND id IN ",
                         [r[0] for r in b.obs])
        next_oid = None
        new_obs, obs_oid, is_new = [], [], []
        for r in b.obs:
            oid = oids.get(r[0])
            if oid is None:
                if next_oid is None:
                    next_oid = db.execute("SELECT COALESCE(MAX(oid), 0) + 1 FROM observations"
                                          ).fetchone()[0]
                oid, next_oid = next_oid, next_oid + 1
                oids[r[0]] = oid
                if journal is not None:
                    journal.append((1, r[0]))
                new_obs.append((oid, cid, *r))
                is_new.append(True)
            else:
                is_new.append(False)
            obs_oid.append(oid)
        if new_obs:
            t0 = self.stamp(len(new_obs))
            db.executemany("INSERT INTO observations(oid, cid, id, first_observed, last_observed,"
                           " number_observed, props, added) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                           [(*r, t0 + i) for i, r in enumerate(new_obs)])
        # entities: new ones stored now, changes within the batch overwrite them, the batch's
        # merge into objects stored before waits for the batch's end
        eids = self._eids
        seen = batch.ents
        if not self._complete:
            self._lookup(eids, "SELECT id, eid FROM entities WHERE cid = ? AND id IN ",
                         [s for s in b.keys if s not in seen])
        touched: dict[str, list] = {}
        next_eid = None
        new_ents, upd, etypes = [], [], set()
        keid = []
        for s, t, x in zip(b.keys, b.types, b.texts):
            e = seen.get(s)
            if e is None:
                eid = eids.get(s)
                if eid is None:
                    if next_eid is None:
                        next_eid = db.execute("SELECT COALESCE(MAX(eid), 0) + 1 FROM entities"
                                              ).fetchone()[0]
                    eid, next_eid = next_eid, next_eid + 1
                    eids[s] = eid
                    if journal is not None:
                        journal.append((0, s))
                    new_ents.append((eid, cid, s, t, x))
                    etypes.add(t)
                    touched[s] = [eid, x, True]
                else:
                    touched[s] = [eid, x, False]
            else:
                eid = e[0]
                if x != e[1]:
                    m = _merge_texts([e[1], x])
                    if m != e[1]:
                        touched[s] = [eid, m, e[2]]
                        if e[2]:
                            upd.append((m, eid))
            keid.append(eid)
        if new_ents:
            t0 = self.stamp(len(new_ents))
            db.executemany("INSERT INTO entities(eid, cid, id, type, props, added) "
                           "VALUES (?, ?, ?, ?, ?, ?)",
                           [(*r, t0 + i) for i, r in enumerate(new_ents)])
            db.executemany("INSERT OR IGNORE INTO entity_types VALUES (?, ?)",
                           [(cid, t) for t in etypes])
        if upd:
            db.executemany("UPDATE entities SET props = ? WHERE eid = ?", upd)
        # edges (from every sighting); a ref to no stored object makes no edge
        es = set()
        far = set()
        for _, k, rel, d in b.edges:
            dst = eids.get(d)
            if dst is None:
                far.add(d)
            else:
                es.add((keid[k], rel, dst))
        if far and not self._complete:  # refs to objects stored before (markings...)
            self._lookup(eids, "SELECT id, eid FROM entities WHERE cid = ? AND id IN ", list(far))
            for _, k, rel, d in b.edges:
                if d in far and d in eids:
                    es.add((keid[k], rel, eids[d]))
        if es:
            _insert_rows(db, "INSERT OR IGNORE INTO edges(src, rel, dst) VALUES ", sorted(es), 3)
        # contains, query_obs, obs_q
        counts = state["counts"]
        sight, types = b.sight, b.types
        acc = state["nrec"]  # number_observed sums of the new pairs, by entity
        cols = [list(chain.from_iterable(map(repeat, obs_oid, b.nobj))),
                list(map(keid.__getitem__, sight)), list(map(types.__getitem__, sight))]
        every = all(is_new)
        if every:  # the usual case
            new_sight = sight
            nobs = [r[3] for r in b.obs]
        else:  # observations stored before: their pairs apart (C loops all the same)
            mask = list(chain.from_iterable(map(repeat, is_new, b.nobj)))
            old_rows = list(compress(zip(*cols), map(operator.not_, mask)))
            cols = [list(compress(c, mask)) for c in cols]
            new_sight = list(compress(sight, mask))
            nobs = [r[3] for r, new in zip(b.obs, is_new) if new]
            for oid, new in zip(obs_oid, is_new):
                if not new:
                    if oid >= state["oid0"]:  # twice in this ingest: count it all in SQL
                        state["counts"] = counts = None
                    state["old"].add(oid)
        _insert_cols(db, "INSERT OR IGNORE INTO contains(oid, eid, etype) VALUES ", cols)
        if not every and old_rows:
            before = db.total_changes
            db.executemany("INSERT OR IGNORE INTO contains(oid, eid, etype) VALUES (?, ?, ?)",
                           old_rows)
            if db.total_changes != before:
                state["stale"] = True
        if counts is not None:
            for t, n in Counter(cols[2]).items():
                counts[t] = counts.get(t, 0) + n
        if all(n == 1 for n in nobs):
            per_key = Counter(new_sight)
        else:
            per_key = Counter()
            nobj_new = b.nobj if every else [n for n, new in zip(b.nobj, is_new) if new]
            for k, n in zip(new_sight, chain.from_iterable(map(repeat, nobs, nobj_new))):
                per_key[k] += n
        for k, n in per_key.items():
            e = keid[k]
            acc[e] = acc.get(e, 0) + n
        if new_obs:
            qsid = state["qsid"]
            db.executemany("INSERT INTO obs_q(oid, qsid, n) VALUES (?, ?, ?)",
                           [(r[0], qsid, r[5]) for r in new_obs])
        if qid is not None:
            _insert_rows(db, "INSERT OR IGNORE INTO query_obs(qid, oid) VALUES ",
                         [(qid, o) for o in obs_oid], 2)
            old = sorted({o for o, new in zip(obs_oid, is_new) if not new})
            if old:
                self._add_query_to_obs(old, qid)
        stats["observations"] += len(obs_oid)
        stats["objects"] += len(sight)
        return touched

    def _lookup(self, cache: dict, sql: str, keys) -> None:
        """Fill ``cache`` with the row ids of ``keys`` that exist (cache misses only)."""
        keys = [k for k in dict.fromkeys(keys) if k not in cache]
        journal = self._journal if self._sp else None
        for i in range(0, len(keys), 500):
            part = keys[i:i + 500]
            for key, rid in self.db.execute(sql + f"({','.join('?' * len(part))})",
                                            [self.cid, *part]):
                cache[key] = rid
                if journal is not None:
                    journal.append((0 if cache is self._eids else 1, key))

    def _qsid(self, qids) -> int:
        """The id of a set of query ids (0: the empty set)."""
        qids = sorted(set(qids))
        if not qids:
            return 0
        key = ",".join(map(str, qids))
        row = self.db.execute("SELECT qsid FROM qsets WHERE qids = ?", (key,)).fetchone()
        if row:
            return row[0]
        return self.db.execute("INSERT INTO qsets(qids) VALUES (?)", (key,)).lastrowid

    def _qset(self, qsid: int) -> set[int]:
        if not qsid:
            return set()
        row = self.db.execute("SELECT qids FROM qsets WHERE qsid = ?", (qsid,)).fetchone()
        return {int(q) for q in row[0].split(",")} if row else set()

    def _add_query_to_obs(self, oids: list[int], qid: int) -> None:
        """Observations stored before that query ``qid`` brought in again."""
        by_set: dict[int, list[int]] = {}
        for i in range(0, len(oids), 500):
            part = oids[i:i + 500]
            for oid, qsid in self.db.execute(
                    f"SELECT oid, qsid FROM obs_q WHERE oid IN ({','.join('?' * len(part))})", part):
                by_set.setdefault(qsid, []).append(oid)
        for qsid, group in by_set.items():
            new = self._qsid(self._qset(qsid) | {qid})
            if new != qsid:
                self.db.executemany("UPDATE obs_q SET qsid = ? WHERE oid = ?",
                                    [(new, o) for o in group])

    def add_objects(self, objects: list[dict]) -> list[str]:
        """Store loose objects (NEW, LOAD), merged by id with each other and with stored ones."""
        ents: dict[str, dict] = {}
        for obj in objects:
            sid = obj["id"]
            ents[sid] = _merge(ents[sid], obj) if sid in ents else _clean(obj)
        edges: list = []
        for k, obj in enumerate(ents.values()):
            _add_edges(edges, 0, k, obj)
        chunk = PreparedChunk([], [], list(ents),
                              [obj.get("type", sid.split("--")[0]) for sid, obj in ents.items()],
                              [_dumps(obj) for obj in ents.values()], [], {}, edges)
        with self.atomic():
            state = self._ingest_start(None)
            batch = _Batch()
            self._apply_chunk(chunk, None, {"observations": 0, "objects": 0}, state, batch)
            self._end_batch(batch)
            self._ingest_end(None, state)
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
        row = self._run(self._compile_time_range(p, var), p.values).fetchone()
        return None if row is None or row[0] is None else (row[0], row[1])

    @staticmethod
    def _compile_time_range(p: S.Params, var: str) -> str:
        return (f"SELECT MIN(o.first_observed), MAX(o.last_observed) FROM var_rows v "
                f"JOIN contains c ON c.eid = v.eid JOIN observations o ON o.oid = c.oid "
                f"WHERE v.vid = {S.var_id(p, var)}")

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
        """Entities, records and (``cached``) the ``<type>*`` counts of variable ``vid``.

        records: the number_observed sum over the (entity, observation) pairs of its distinct
        entities (records variables: over its rows' observations); when nothing is observed,
        its row count.  cached: over every observation of the queries that brought any of
        its entities in, the (object, observation) pairs by type, less the variable's own
        entities for its own type.  Both come from ``ent_q`` (per entity: its records and
        the set of queries that brought it in, kept by ingest); the query set's counts from
        :meth:`_union_counts`."""
        db = self.db
        if info.kind == "table":
            info.entities = 0
            info.records = db.execute("SELECT COUNT(*) FROM var_rows WHERE vid = ?", (vid,)).fetchone()[0]
            return
        # one pass: distinct entities (streamed off the (vid, eid) index), their records and
        # the query sets they come from
        info.entities, nrec, qsids = db.execute(
            "SELECT COUNT(v.eid), COALESCE(SUM(q.nrec), 0), group_concat(DISTINCT q.qsid) "
            "FROM (SELECT DISTINCT eid FROM var_rows WHERE vid = ?) v "
            "LEFT JOIN ent_q q ON q.eid = v.eid", (vid,)).fetchone()
        if info.kind == "records":
            info.records = db.execute(
                "SELECT COALESCE(SUM(o.n), 0) FROM var_rows v JOIN obs_q o ON o.oid = v.oid "
                "WHERE v.vid = ?", (vid,)).fetchone()[0]
        else:
            info.records = nrec
        if info.records == 0:  # no observations (NEW, LOAD): count rows, as Kestrel
            info.records = db.execute("SELECT COUNT(*) FROM var_rows WHERE vid = ?", (vid,)).fetchone()[0]
        if cached and info.entities:
            qids: set[int] = set()
            for qsid in str(qsids or "").split(","):
                if qsid:
                    qids |= self._qset(int(qsid))
            counts = self._union_counts(qids) if qids else {}
            info.cached = {t: n - (info.entities if t == info.type else 0)
                           for t, n in sorted(counts.items())}

    def _query_counts(self, qid: int) -> dict[str, int]:
        """(object, observation) pairs by type over query ``qid``'s observations (kept in
        ``query_counts``; ingest writes them, or they are counted here)."""
        rows = self.db.execute("SELECT etype, n FROM query_counts WHERE qid = ?", (qid,)).fetchall()
        if not rows:
            rows = self.db.execute(
                "SELECT c.etype, COUNT(*) FROM query_obs q JOIN contains c ON c.oid = q.oid "
                "WHERE q.qid = ? GROUP BY c.etype", (qid,)).fetchall()
            self.db.executemany("INSERT INTO query_counts VALUES (?, ?, ?)",
                                [(qid, t, n) for t, n in rows] + [(qid, "", 0)])
        return {t: n for t, n in rows if t}

    def _union_counts(self, qids: set[int]) -> dict[str, int]:
        """The pairs by type over the union of the queries' observations: the sum of the
        queries' counts, less (m - 1) times the pairs of each observation that m >= 2 of the
        queries brought in (found by its query set, ``obs_q.qsid``).  Memoised in
        ``qset_counts`` until the next ingest."""
        if len(qids) == 1:
            return self._query_counts(next(iter(qids)))
        key = ",".join(map(str, sorted(qids)))
        rows = self.db.execute("SELECT etype, n FROM qset_counts WHERE qids = ?", (key,)).fetchall()
        if rows:
            return {t: n for t, n in rows if t}
        counts: dict[str, int] = {}
        for q in sorted(qids):
            for t, n in self._query_counts(q).items():
                counts[t] = counts.get(t, 0) + n
        extra = {}
        for qsid, qs in self.db.execute("SELECT qsid, qids FROM qsets WHERE qids LIKE '%,%'"):
            m = len({int(q) for q in qs.split(",")} & qids)
            if m >= 2:
                extra[qsid] = m - 1
        if extra:
            for t, qsid, n in self.db.execute(
                    f"SELECT c.etype, o.qsid, COUNT(*) FROM obs_q o JOIN contains c ON c.oid = o.oid "
                    f"WHERE o.qsid IN ({','.join('?' * len(extra))}) GROUP BY c.etype, o.qsid",
                    list(extra)):
                counts[t] -= extra[qsid] * n
        counts = {t: n for t, n in counts.items() if n > 0}
        self.db.executemany("INSERT INTO qset_counts VALUES (?, ?, ?)",
                            [(key, t, n) for t, n in counts.items()] + [(key, "", 0)])
        return counts

    # -- statements ------------------------------------------------------------------
    def get_from_query(self, out, etype, qid, where, birth):
        p = S.Params()
        sel = S.select_get_from_query(p, etype, where, p.named("qid", qid))
        return self._new_var(out, etype, "entities", sel, p.values, birth)

    def get_from_ids(self, out, etype, ids, birth):
        self.db.execute("CREATE TEMP TABLE IF NOT EXISTS stage_ids(pos INTEGER PRIMARY KEY, id TEXT)")
        self.db.execute("DELETE FROM stage_ids")
        self.db.executemany("INSERT INTO stage_ids(id) VALUES (?)", [(i,) for i in ids])
        return self._new_var(out, etype, "entities", self._compile_from_ids(), {}, birth)

    @staticmethod
    def _compile_from_ids() -> str:
        """NEW/LOAD: the new variable's rows, the staged ids' entities in order."""
        return ("SELECT e.eid AS eid FROM stage_ids s JOIN entities e ON e.cid = :cid AND e.id = s.id "
                "GROUP BY e.eid ORDER BY MIN(s.pos)")

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
        if expr.transform and src.kind != "records":
            base = S.select_records(p, expr.var, src.type, expr.where)
            sel = f"SELECT eid, oid FROM ({base})"
            if expr.sort is not None:
                sel = (f"SELECT b.eid AS eid, b.oid AS oid FROM ({base}) b JOIN entities e ON "
                       f"e.eid = b.eid JOIN observations o ON o.oid = b.oid ORDER BY "
                       + S.order_by(p, expr.sort, True).replace("v.rid", "b.eid, b.oid"))
        else:  # a records variable keeps its (entity, observation) rows
            sel = S.select_filter_var(p, expr.var, src.type, expr.where, records=records,
                                      sort=expr.sort)
        if expr.limit is not None or expr.offset is not None:
            sel += f" LIMIT {p(-1 if expr.limit is None else int(expr.limit))}"
            sel += f" OFFSET {p(int(expr.offset or 0))}"
        return sel, p.values, ("records" if records else "entities")

    def assign(self, out, expr, birth):
        src = self._require(expr.var)
        sel, params, kind = self._compile_assign(expr, src)
        columns = [a.name for a in expr.attrs] if expr.attrs else src.columns
        if expr.transform and not expr.attrs:
            base = columns or self._all_columns(expr.var, src)
            columns = TRANSFORM_COLUMNS[expr.transform] + [
                c for c in base if c not in TRANSFORM_COLUMNS[expr.transform]]
        return self._new_var(out, src.type, kind, sel, params, birth, columns=columns)

    def merge(self, out, names, birth):
        infos = [self._require(n) for n in names]
        sel, params = self._compile_merge(names)
        return self._new_var(out, infos[0].type, "entities", sel, params, birth)

    @staticmethod
    def _compile_merge(names):
        p = S.Params()
        parts = " UNION ALL ".join(
            f"SELECT eid, {i} AS k, rid FROM var_rows WHERE vid = {S.var_id(p, n)}"
            for i, n in enumerate(names))
        sel = (f"SELECT eid FROM ({parts}) GROUP BY eid ORDER BY MIN(k * 1000000000000 + rid)")
        return sel, p.values

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
        rows = self._run(self._compile_column_keys(p, var), p.values).fetchall()
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
                sub = self._run(self._compile_ref_keys(q, var, ref), q.values).fetchall()
                sk = sorted(k for (k,) in sub if k != "type" and not k.endswith(("_ref", "_refs")))
                keys += [f"{ref}.{k}" for k in sk]
        return keys

    @staticmethod
    def _compile_column_keys(p: S.Params, var: str) -> str:
        """The top-level property names of a variable's entities (default DISP columns)."""
        return (f"SELECT DISTINCT j.key FROM var_rows v JOIN entities e ON e.eid = v.eid, "
                f"json_each(e.props) j WHERE v.vid = {S.var_id(p, var)}")

    @staticmethod
    def _compile_ref_keys(p: S.Params, var: str, ref: str) -> str:
        """The property names of the objects a variable's entities reach by ``ref``."""
        return (f"SELECT DISTINCT j.key FROM var_rows v JOIN edges g ON g.src = v.eid AND g.rel = "
                f"{p(ref)} JOIN entities t ON t.eid = g.dst, json_each(t.props) j "
                f"WHERE v.vid = {S.var_id(p, var)}")

    def display(self, expr: ir.VarExpr, line: int, max_rows: int | None = None) -> Table:
        info = self._require(expr.var)
        if info.kind == "table":
            return self._display_table(expr, info, line)
        if expr.attrs:
            names = [a.name for a in expr.attrs]
            for a in expr.attrs:
                if a.etype and a.etype != info.type:
                    raise HuntSemanticError(f"attribute {a} does not belong to {info.type}")
        elif info.columns:
            names = list(info.columns)
        else:
            names = self._all_columns(expr.var, info)
        names, sql, params = self._compile_display(expr, info, names)
        rows = self._run(sql, params)
        return Table(statement=line, columns=names, rows=shape_rows(rows, expr.limit, expr.offset, max_rows))

    def _compile_display(self, expr: ir.VarExpr, info: VarInfo, names: list[str]):
        paths = {a.name: a.parts for a in expr.attrs or ()}
        """DISP's query for an entities/records variable showing ``names`` (the transform's
        observation columns go first): (columns, sql, params)."""
        records = expr.transform is not None or info.kind == "records"
        prefix = TRANSFORM_COLUMNS.get(expr.transform or "", [])
        names = prefix + [n for n in names if n not in prefix]
        cols = [(n, paths.get(n) or path_parts(n)) for n in names]
        p = S.Params()
        if expr.transform and info.kind != "records":
            sql = self._compile_records_rows(p, expr, info, cols)
        else:
            data = frozenset(self._data_columns(expr.var)) if info.command == "JOIN" else frozenset()
            sql = S.select_display(p, expr.var, info.type, cols, expr.where, expr.sort, records, data)
        return names, sql, p.values

    def _data_columns(self, var: str) -> list[str]:
        """Columns a JOIN stored with the rows (``var_rows.data``)."""
        return [r[0] for r in self.db.execute(
            "SELECT DISTINCT j.key FROM var_rows v, json_each(v.data) j WHERE v.vid = (SELECT vid "
            "FROM variables WHERE cid = ? AND name = ?) AND v.data IS NOT NULL", (self.cid, var))]

    @staticmethod
    def _compile_records_rows(p: S.Params, expr: ir.VarExpr, info: VarInfo, cols) -> str:
        """DISP TIMESTAMPED(v)/RECORDS(v)/ADDOBSID(v): one row per (entity, observation)."""
        colsql = ", ".join(S.column_expr(p, n, parts, True) for n, parts in cols)
        order = S.order_by(p, expr.sort, True) if expr.sort else "o.first_observed, v.rid, c.oid"
        return (f"SELECT {colsql} FROM var_rows v JOIN entities e ON e.eid = v.eid "
                f"JOIN contains c ON c.eid = v.eid JOIN observations o ON o.oid = c.oid "
                f"WHERE v.vid = {S.var_id(p, expr.var)} "
                f"AND {S.where_cond(p, expr.where, info.type, records=True)} ORDER BY {order}")

    def _display_table(self, expr: ir.VarExpr, info: VarInfo, line: int) -> Table:
        p = S.Params()
        sql = self._compile_table_rows(p, expr.var)
        rows = [orjson.loads(d) for (d,) in self.db.execute(sql, {**p.values, "cid": self.cid})]
        return table_display(expr, info, rows, line)

    @staticmethod
    def _compile_table_rows(p: S.Params, var: str) -> str:
        """DISP of a GROUP table: its rows' JSON, in order."""
        return f"SELECT data FROM var_rows WHERE vid = {S.var_id(p, var)} ORDER BY rid"

    def _all_columns_of(self, info: VarInfo) -> list[str]:
        return self._all_columns(info.name, info)

    def records(self, var: str) -> list[dict]:
        t = self.display(ir.VarExpr(var=var), 0)
        return [dict(zip(t.columns, r)) for r in t.rows]

    def set_attributes(self, updates: dict[str, dict]) -> int:
        rows = [(_dumps({k: v for k, v in attrs.items() if k not in ("id", "type")}), self.cid, sid)
                for sid, attrs in updates.items()]
        with self.atomic():
            before = self.db.total_changes
            self.db.executemany("UPDATE entities SET props = json_patch(props, ?) "
                                "WHERE cid = ? AND id = ?", rows)
            return self.db.total_changes - before

    def process_activity(self, var: str) -> dict[str, ProcessActivity]:
        self._require(var)
        p, q = S.Params(), S.Params()
        return process_activity_of(self._run(S.select_process_counts(p, var), p.values),
                                   self._run(S.select_process_file_events(q, var), q.values))

    def observations_of(self, var: str) -> list[Observation]:
        self._require(var)
        p = S.Params()
        oids = (f"SELECT DISTINCT c.oid FROM var_rows v JOIN contains c ON c.eid = v.eid "
                f"WHERE v.vid = {S.var_id(p, var)}")
        obs: dict[int, Observation] = {}
        for oid, sid, first, last, n, props in self._run(
                f"SELECT oid, id, first_observed, last_observed, number_observed, props "
                f"FROM observations WHERE oid IN ({oids}) ORDER BY oid", p.values):
            obs[oid] = Observation(sid, first, last, n, {}, orjson.loads(props))
        for oid, eid_id, props in self._run(
                f"SELECT c.oid, e.id, e.props FROM contains c JOIN entities e ON e.eid = c.eid "
                f"WHERE c.oid IN ({oids})", p.values):
            obs[oid].objects[eid_id] = orjson.loads(props)
        return list(obs.values())

    # -- GROUP / JOIN -------------------------------------------------------------
    def group(self, out, stmt, birth):
        info = self._require(stmt.var)
        sql, params, columns = self._compile_group(stmt, info)
        rows = self._run(sql, params).fetchall()
        data = [_dumps(dict(zip(columns, r))) for r in rows]
        return self._table_var(out, info.type, columns, data, birth)

    def _compile_group(self, stmt: ir.Group, info: VarInfo, auto_aggregates=None):
        """GROUP's query: (sql, params, output columns).  Without WITH the aggregates come from
        ``auto_aggregates(p, stmt, info, keys, records)``, by default :meth:`_auto_aggregates`
        (which reads the data)."""
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
            aggs = (auto_aggregates or self._auto_aggregates)(p, stmt, info, keys, records)
        sql = S.select_group(p, stmt.var, keys, aggs, records)
        columns = [k for k, _ in keys] + [a for a, _, _ in aggs]
        return sql, p.values, columns

    def _auto_aggregates(self, p: S.Params, stmt: ir.Group, info: VarInfo, keys, records):
        """GROUP without WITH: one aggregate per attribute of the variable's entities (group
        columns and references included, id and type excluded), in first-seen order."""
        aggs = []
        q = S.Params()
        jtypes: dict[str, set] = {}
        for key, jt in self._run(self._compile_column_types(q, stmt.var), q.values):
            jtypes.setdefault(key, set()).add(jt)
        for col, types in jtypes.items():
            if col in ("id", "type"):
                continue
            func, name = auto_aggregate(info.type, col, bool(types) and types <= {"integer", "real"})
            aggs.append((name, func, S.column_expr(p, col, (col,), records)))
        return aggs

    @staticmethod
    def _compile_column_types(p: S.Params, var: str) -> str:
        """The (property name, JSON type) pairs of a variable's entities, first seen first."""
        return (f"SELECT j.key, j.type FROM var_rows v JOIN entities e ON e.eid = v.eid, "
                f"json_each(e.props) j WHERE v.vid = {S.var_id(p, var)} "
                f"GROUP BY j.key, j.type ORDER BY MIN(v.rid * 1048576 + j.id)")

    def _table_var(self, out, etype, columns, data: list[str], birth):
        self.db.execute("CREATE TEMP TABLE IF NOT EXISTS stage_rows(pos INTEGER PRIMARY KEY, data TEXT)")
        self.db.execute("DELETE FROM stage_rows")
        self.db.executemany("INSERT INTO stage_rows(data) VALUES (?)", [(d,) for d in data])
        return self._new_var(out, etype, "table", "SELECT data FROM stage_rows ORDER BY pos", {},
                             birth, columns=columns)

    def join(self, out, stmt, birth):
        left, right = self._require(stmt.left), self._require(stmt.right)
        lcols = self._all_columns(stmt.left, left, depth=0)
        rcols = self._all_columns(stmt.right, right, depth=0)
        extra = [c for c in rcols if c not in lcols]
        sel, params = self._compile_join(stmt, extra)
        info = self._new_var(out, left.type, "entities", sel, params, birth)
        if extra:
            self.db.execute("UPDATE variables SET columns = ? WHERE cid = ? AND name = ?",
                            (_dumps(lcols + extra), self.cid, out))
            info.columns = lcols + extra
        return info

    @staticmethod
    def _compile_join(stmt: ir.Join, extra: list[str]):
        """JOIN's query; ``extra`` are the right variable's columns copied into ``data``."""
        la = stmt.left_attr or ir.AttrPath(("id",))
        ra = stmt.right_attr or ir.AttrPath(("id",))
        p = S.Params()
        rx = S.value_expr(p, "f", ra.parts)
        lx = S.value_expr(p, "e", la.parts)
        obj = ", ".join(f"{p(c)}, {S.value_expr(p, 'f', path_parts(c))}" for c in extra) or "'_', NULL"
        sel = (f"SELECT v.eid AS eid, json_object({obj}) AS data FROM var_rows v "
               f"JOIN entities e ON e.eid = v.eid JOIN var_rows w ON w.vid = {S.var_id(p, stmt.right)} "
               f"JOIN entities f ON f.eid = w.eid WHERE v.vid = {S.var_id(p, stmt.left)} "
               f"AND {lx} = {rx} ORDER BY v.rid, w.rid")
        return sel, p.values

    # -- explain ----------------------------------------------------------------------
    def explain(self, stmt, input_types):
        """The queries ``stmt`` compiles to, without running anything: a list of
        :class:`~stixgraph.store.sql.Query` (a Query with empty ``sql`` is a comment saying what
        runs instead).  ``input_types`` maps each variable defined so far to its entity type;
        a value may also carry ``kind`` (entities/records/table) and ``columns`` (its default
        DISP columns, None when decided at run time), as :meth:`Session.explain` passes them,
        or be a :class:`VarInfo`.  A statement that would fail at run time explains as a
        comment giving the reason."""
        title = f"{self._explain_title(stmt)} (line {stmt.pos.line})"
        handler = getattr(self, "_explain_" + type(stmt).__name__.lower(), None)
        try:
            if handler is None:
                raise HuntSemanticError(f"no explain for {stmt.kind}")
            queries = handler(stmt, input_types, title)
        except (HuntSemanticError, StoreError, ValueError) as e:
            msg = e.message if isinstance(e, HuntSemanticError) else str(e)
            queries = [S.Query("", {}, f"{title}\nfails at run time: {msg}")]
        for q in queries:
            if ":cid" in q.sql:
                q.params = {**q.params, "cid": self.cid}
        return queries

    @staticmethod
    def _explain_var(input_types, name: str, table_ok: bool = True) -> VarInfo:
        t = input_types.get(name)
        if t is None:
            raise HuntSemanticError(f"unknown variable {name!r}")
        if not isinstance(t, VarInfo):
            t = VarInfo(name=name, type=str(t), kind=getattr(t, "kind", "entities") or "entities",
                        columns=getattr(t, "columns", None))
        if not table_ok and t.kind == "table":
            raise HuntSemanticError(f"variable {name} holds a GROUP/JOIN table, not entities")
        return t

    def _explain_refs(self, expr, input_types):
        """``var.attr`` values in WHERE: the queries reading their values (run before the
        statement) and the WHERE with each replaced by a placeholder list."""
        pre: list[S.Query] = []

        def walk(e):
            if e is None:
                return None
            if isinstance(e, (ir.And, ir.Or)):
                return type(e)(tuple(walk(i) for i in e.items))
            items = e.value if isinstance(e.value, tuple) else (e.value,)
            if not any(isinstance(i, ir.VarAttr) for i in items):
                return e
            vals = []
            for item in items:
                if isinstance(item, ir.VarAttr):
                    self._explain_var(input_types, item.var)
                    p = S.Params()
                    pre.append(S.Query(S.select_values(p, item.var, item.attr.parts), p.values,
                                       f"values of {item}, read before the statement runs (one "
                                       f"value compares with =, several with IN)"))
                    vals.append(f"<values of {item}>")
                else:
                    vals.append(item)
            op, neg = e.op, e.negated
            if op in ("=", "!="):
                op, neg = "IN", (op == "!=") != neg
            if op == "IN":
                return ir.Comparison(e.path, op, tuple(vals), neg)
            return ir.Comparison(e.path, op, vals[0] if len(vals) == 1 else tuple(vals), neg)

        return walk(expr), pre

    def _explain_time_ranges(self, expr):
        """GET from a data source with ``var.attr`` values and no time range: the queries
        giving the referenced variables' observation time range."""
        out, seen = [], []
        for c in ir.comparisons(expr):
            for item in (c.value if isinstance(c.value, tuple) else (c.value,)):
                if isinstance(item, ir.VarAttr) and item.var not in seen:
                    seen.append(item.var)
                    p = S.Params()
                    out.append(S.Query(self._compile_time_range(p, item.var), p.values,
                                       f"time range of {item.var}'s observations (for GET's time "
                                       f"range)"))
        return out

    def _explain_get(self, stmt: ir.Get, input_types, title):
        where, pre = self._explain_refs(stmt.where, input_types)
        if stmt.source and "://" not in stmt.source and stmt.source in input_types:
            src = self._explain_var(input_types, stmt.source, table_ok=False)
            if src.type != stmt.etype:
                raise HuntSemanticError(f"variable {stmt.source} holds {src.type}, not {stmt.etype}")
            notes = [title, f"GET from variable {stmt.source}: a filter of its rows, nothing is fetched"]
            if stmt.timespan is not None:
                notes.append("the time range is ignored when GET reads a variable")
            expr = ir.VarExpr(var=stmt.source, where=where, limit=stmt.limit)
            sql, params, _ = self._compile_assign(expr, src)
            return pre + [S.Query(sql, params, "\n".join(notes))]
        span = None
        if isinstance(stmt.timespan, ir.TimeRange):
            span = (stmt.timespan.start, stmt.timespan.stop)
            when = f"START {ir.Timestamp(span[0]).iso()} STOP {ir.Timestamp(span[1]).iso()}"
        elif isinstance(stmt.timespan, ir.LastSpan):
            when = (f"LAST {stmt.timespan.amount} {stmt.timespan.unit} before the clock at run "
                    f"time (the pattern then ends with that START/STOP)")
        elif pre:
            pre += self._explain_time_ranges(stmt.where)
            when = ("the referenced variables' observation time range, widened by 5 minutes each "
                    "side (the pattern then ends with that START/STOP)")
        else:
            when = "none"
        who = f"data source {stmt.source}" if stmt.source else "the data source of the previous GET"
        notes = [title, f"{who} receives the STIX pattern:",
                 f"  {self._explain_pattern(where, stmt.etype, span)}", f"time range: {when}"]
        if stmt.limit is not None:
            notes.append(f"LIMIT {stmt.limit}: passed to the data source, not applied below")
        notes.append("its observations are stored (entities, edges, contains, query_obs); then "
                     "the variable is:")
        p = S.Params()
        sql = S.select_get_from_query(p, stmt.etype, where, p.named("qid", "<query id>"))
        return pre + [S.Query(sql, p.values, "\n".join(notes))]

    def _explain_find(self, stmt: ir.Find, input_types, title):
        from ..relations import RELATION_WORDS, hops as find_hops, relations_for

        src = self._explain_var(input_types, stmt.var, table_ok=False)
        if stmt.relation not in RELATION_WORDS:
            raise HuntSemanticError(f"unknown relation {stmt.relation.upper()!r}")
        notes = [title]
        hops = None
        if stmt.relation == "linked":
            notes.append(f"LINKED: {stmt.etype} objects in the same observations as {stmt.var}'s")
        else:
            hops = find_hops(stmt.etype, stmt.relation, src.type, stmt.by)
            if hops is None:
                valid = ", ".join(w.upper() for w in relations_for(stmt.etype, src.type))
                raise HuntSemanticError(
                    f"relation {stmt.relation.upper()}{' BY' if stmt.by else ''} is not defined from "
                    f"{src.type} ({stmt.var}) to {stmt.etype}; valid here: {valid}")
            for hop in hops:
                rels = "|".join(hop.props)
                notes.append(f"edge: {stmt.var} --{rels}--> result" if hop.from_input
                             else f"edge: result --{rels}--> {stmt.var}")
        where, pre = self._explain_refs(stmt.where, input_types)
        start = stop = None
        if isinstance(stmt.timespan, ir.TimeRange):
            start, stop = ir.Timestamp(stmt.timespan.start).iso(), ir.Timestamp(stmt.timespan.stop).iso()
        elif isinstance(stmt.timespan, ir.LastSpan):
            start = f"<now - {stmt.timespan.amount} {stmt.timespan.unit}>"
            stop = "<now>"
            notes.append("LAST: start and stop come from the clock at run time")
        if where is not stmt.where:
            stmt = replace(stmt, where=where)
        sql, params = self._compile_find(stmt, hops, start, stop)
        return pre + [S.Query(sql, params, "\n".join(notes))]

    def _explain_varexpr(self, expr: ir.VarExpr, input_types, title, out: str):
        src = self._explain_var(input_types, expr.var, table_ok=False)
        where, pre = self._explain_refs(expr.where, input_types)
        if where is not expr.where:
            expr = replace(expr, where=where)
        sql, params, kind = self._compile_assign(expr, src)
        notes = [title, f"{out} holds {kind}" + (" (one row per entity and observation)"
                                                 if kind == "records" else "")]
        if expr.attrs:
            notes.append(f"ATTR {', '.join(a.name for a in expr.attrs)}: {out}'s default DISP "
                         f"columns (no SQL)")
        if expr.transform and expr.sort is not None:
            notes.append("SORT BY is not applied when a transform is given")
        return pre + [S.Query(sql, params, "\n".join(notes))]

    def _explain_assign(self, stmt: ir.Assign, input_types, title):
        return self._explain_varexpr(stmt.expr, input_types, title, stmt.out)

    def _explain_sort(self, stmt: ir.Sort, input_types, title):
        return self._explain_varexpr(ir.VarExpr(var=stmt.var, sort=stmt.sort), input_types, title,
                                     stmt.out)

    def _explain_merge(self, stmt: ir.Merge, input_types, title):
        types = {self._explain_var(input_types, v).type for v in stmt.vars}
        if len(types) > 1:
            raise HuntSemanticError(f"cannot merge variables of different types: {', '.join(sorted(types))}")
        sql, params = self._compile_merge(stmt.vars)
        return [S.Query(sql, params, f"{title}\neach entity once, in order of first appearance")]

    def _explain_group(self, stmt: ir.Group, input_types, title):
        info = self._explain_var(input_types, stmt.var)
        notes = [title]
        if info.kind == "table":
            notes.append(f"{stmt.var} is a GROUP table: it holds no entities, so the result is empty")
        pre = []
        if stmt.aggregates:
            auto = None
        else:
            records = info.kind == "records"

            def auto(p, _stmt, _info, _keys, _records):
                return [("<aggregate>_<column>", "NUNIQUE",
                         S.column_expr(p, "<column>", ("<column>",), records))]

            q = S.Params()
            pre.append(S.Query(self._compile_column_types(q, stmt.var), q.values,
                               f"GROUP without WITH: the attributes of {stmt.var} and their JSON types"))
            q = S.Params()
            pre.append(S.Query(self._compile_column_keys(q, stmt.var), q.values,
                               f"the attribute names of {stmt.var} (the aggregated columns)"))
            notes.append("without WITH the column list is decided at run time: one aggregate per "
                         "attribute found above except id, type and the keys (SUM number_observed, "
                         "MIN first_observed/start, MAX last_observed/end, NUNIQUE ports and pids, "
                         "AVG other numbers, NUNIQUE the rest); shown with one placeholder column")
        sql, params, columns = self._compile_group(stmt, info, auto)
        if stmt.aggregates:
            notes.append(f"columns: {', '.join(columns)}")
        notes.append("the rows are stored as a table (JSON per row)")
        return pre + [S.Query(sql, params, "\n".join(notes))]

    def _explain_join(self, stmt: ir.Join, input_types, title):
        left = self._explain_var(input_types, stmt.left)
        right = self._explain_var(input_types, stmt.right)
        pre = []
        for v in (stmt.left, stmt.right):
            q = S.Params()
            pre.append(S.Query(self._compile_column_keys(q, v), q.values, f"the attribute names of {v}"))
        sql, params = self._compile_join(stmt, ["<column>"])
        notes = [title, f"the columns copied from {stmt.right} into data are decided at run time: "
                        f"its attributes that {stmt.left} lacks (shown as one placeholder <column>)",
                 f"the result holds {left.type} entities of {stmt.left}"]
        notes += [f"{v.name} is a GROUP table: it holds no entities, so the result is empty"
                  for v in (left, right) if v.kind == "table"]
        return pre + [S.Query(sql, params, "\n".join(notes))]

    def _explain_display(self, expr: ir.VarExpr, input_types, title, notes=()):
        """The query of DISP ``expr`` (also what DESCRIBE, SAVE and INFO read)."""
        info = self._explain_var(input_types, expr.var)
        notes = [title, *notes]
        pre = []
        if info.kind == "table":
            if expr.where is not None:
                raise HuntSemanticError("WHERE on a GROUP result is not supported; filter before GROUP")
            p = S.Params()
            sql = self._compile_table_rows(p, expr.var)
            cols = [a.name for a in expr.attrs] if expr.attrs else info.columns
            notes.append(f"{expr.var} is a table: columns "
                         + (", ".join(cols) if cols else "decided when it was made")
                         + (" (each must be one of its columns)" if expr.attrs else ""))
            if expr.sort is not None or expr.limit is not None or expr.offset is not None:
                notes.append("SORT BY, LIMIT and OFFSET are applied in Python to the rows")
            return [S.Query(sql, p.values, "\n".join(notes))]
        where, pre = self._explain_refs(expr.where, input_types)
        if where is not expr.where:
            expr = replace(expr, where=where)
        if expr.attrs:
            for a in expr.attrs:
                if a.etype and a.etype != info.type:
                    raise HuntSemanticError(f"attribute {a} does not belong to {info.type}")
            names = [a.name for a in expr.attrs]
        elif info.columns:
            names = list(info.columns)
            notes.append(f"no ATTR: {expr.var}'s default columns (from the ATTR that made it)")
        else:
            names = ["id", "<column>", "<name>_ref.<column>"]
            q = S.Params()
            pre.append(S.Query(self._compile_column_keys(q, expr.var), q.values,
                               f"the attribute names of {expr.var}'s entities"))
            q = S.Params()
            pre.append(S.Query(self._compile_ref_keys(q, expr.var, "<name>_ref"), q.values,
                               "for each *_ref attribute found: the attribute names of the "
                               "objects it points to"))
            notes.append("without ATTR the columns are decided at run time from the data: id, "
                         "every other attribute (sorted), then <ref>.<attribute> for each *_ref; "
                         "shown with placeholders")
        names, sql, params = self._compile_display(expr, info, names)
        notes.append("columns: " + ", ".join(names))
        shaped = "rows that are all NULL and repeated rows are dropped in Python"
        if expr.limit is not None or expr.offset is not None:
            shaped += ", then OFFSET and LIMIT are applied"
        notes.append(shaped)
        return pre + [S.Query(sql, params, "\n".join(notes))]

    def _explain_disp(self, stmt: ir.Disp, input_types, title):
        return self._explain_display(stmt.expr, input_types, title)

    def _explain_describe(self, stmt: ir.Describe, input_types, title):
        return self._explain_display(
            ir.VarExpr(var=stmt.var, attrs=(stmt.attr,)), input_types, title,
            ["the statistics (count, mean, min, max for numbers; count, unique, top, freq "
             "otherwise) are computed in Python over the values below"])

    def _explain_save(self, stmt: ir.Save, input_types, title):
        return self._explain_display(
            ir.VarExpr(var=stmt.var), input_types, title,
            [f"writes the rows of DISP {stmt.var} to {stmt.path} (CSV or JSON by suffix)"])

    def _explain_info(self, stmt: ir.Info, input_types, title):
        info = self._explain_var(input_types, stmt.var)
        note = (f"{title}\nno SQL: reads {stmt.var}'s row of the variables table (type, counts, "
                f"birth statement, data source, inputs)")
        if info.columns:
            return [S.Query("", {}, f"{note}; attributes: {', '.join(info.columns)}")]
        return self._explain_display(
            ir.VarExpr(var=stmt.var), input_types, note,
            [f"the attribute names are the columns of DISP {stmt.var}, which INFO runs in full "
             f"when {stmt.var} is not empty"])

    def _explain_new(self, stmt: ir.New, input_types, title):
        etypes = {(d.get("type") if isinstance(d, dict) else None) or stmt.etype for d in stmt.data}
        if None in etypes:
            raise HuntSemanticError("an item has no type (give NEW a type or a \"type\" key)")
        if len(etypes) > 1:
            raise HuntSemanticError(f"items of different types: {', '.join(sorted(etypes))}")
        etype = etypes.pop()
        return [S.Query(self._compile_from_ids(), {}, (
            f"{title}\nno query compiled for the data: {len(stmt.data)} item(s) become "
            f"{etype or '<type>'} objects with deterministic STIX ids, stored into entities and "
            f"edges (merged with existing ones); then {stmt.out} is those entities, in order:"))]

    def _explain_load(self, stmt: ir.Load, input_types, title):
        what = stmt.etype or "the type named by each row"
        return [S.Query(self._compile_from_ids(), {}, (
            f"{title}\nno query compiled for the data: reads {stmt.path} (CSV, JSON or JSON lines "
            f"by suffix; .gz too), each row an object of {what}, stored as NEW stores them; "
            f"then {stmt.out} is those entities, in order:"))]

    def _explain_apply(self, stmt: ir.Apply, input_types, title):
        out = [S.Query("", {}, f"{title}\n{APPLY_EXPLAINED}")]
        for v in stmt.vars:
            info = self._explain_var(input_types, v)
            if not has_process_activity(info.type, info.kind):
                continue
            for select, what in ((S.select_process_counts, PROCESS_COUNTS_EXPLAINED),
                                 (S.select_process_file_events, PROCESS_FILES_EXPLAINED)):
                p = S.Params()
                out.append(S.Query(select(p, v), p.values, what.format(var=v)))
        return out

    @staticmethod
    def _explain_title(stmt) -> str:
        """One line naming what ``stmt`` does (the head of its ``explain`` comment)."""
        def rest(e: ir.VarExpr) -> str:
            return f"{e.transform}({e.var})" if e.transform else e.var

        out = f"{stmt.out} = " if getattr(stmt, "out", None) else ""
        if isinstance(stmt, ir.Get):
            return f"{out}GET {stmt.etype} FROM {stmt.source or '(previous source)'}"
        if isinstance(stmt, ir.Find):
            return f"{out}FIND {stmt.etype} {stmt.relation.upper()}{' BY' if stmt.by else ''} {stmt.var}"
        if isinstance(stmt, ir.Assign):
            return f"{out}{rest(stmt.expr)}"
        if isinstance(stmt, ir.Disp):
            return f"DISP {rest(stmt.expr)}"
        if isinstance(stmt, ir.Sort):
            return f"{out}SORT {stmt.var} BY {stmt.sort.attr} {'DESC' if stmt.sort.descending else 'ASC'}"
        if isinstance(stmt, ir.Merge):
            return f"{out}{' + '.join(stmt.vars)}"
        if isinstance(stmt, ir.Group):
            return f"{out}GROUP {stmt.var}"
        if isinstance(stmt, ir.Join):
            return f"{out}JOIN {stmt.left}, {stmt.right}"
        if isinstance(stmt, ir.New):
            return f"{out}NEW {stmt.etype or ''}".rstrip()
        if isinstance(stmt, ir.Load):
            return f"{out}LOAD {stmt.path}"
        if isinstance(stmt, ir.Save):
            return f"SAVE {stmt.var} TO {stmt.path}"
        if isinstance(stmt, (ir.Info, ir.Describe)):
            return f"{stmt.kind} {stmt.var}" + (f".{stmt.attr}" if isinstance(stmt, ir.Describe) else "")
        if isinstance(stmt, ir.Apply):
            return f"APPLY {stmt.uri} ON {', '.join(stmt.vars)}"
        return f"{out}{stmt.kind}"

    @staticmethod
    def _explain_pattern(where, etype: str, span) -> str:
        """The STIX pattern a data source receives for GET (``stixgraph.stix.pattern``)."""
        try:
            from ..stix.pattern import to_stix_pattern
        except ImportError:
            return "(not shown: stixgraph.stix.pattern is not available yet)"
        try:
            return to_stix_pattern(where, etype, *(span or (None, None))) or "(empty)"
        except Exception as e:  # noqa: BLE001 - explain reports it, the GET itself would fail
            return f"(cannot be built: {type(e).__name__}: {e})"

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


def _varinfo(row) -> VarInfo:
    (name, etype, kind, columns, entities, records, cached, command, line, statement, source,
     inputs) = row
    return VarInfo(name=name, type=etype, kind=kind,
                   columns=orjson.loads(columns) if columns else None,
                   entities=entities or 0, records=records or 0,
                   cached=orjson.loads(cached) if cached else {}, command=command or "",
                   line=line or 0, statement=statement or "", source=source,
                   inputs=orjson.loads(inputs) if inputs else [])
