"""The ArangoDB backend: the STIX graph of ``arango/README.md`` on an ArangoDB server.

``--store arango://USER@HOST:8529/DB?collection=X&tls=1`` (:func:`parse_arango_url`).  The
password comes only from ``$ARANGO_PASSWORD`` (or a callable the CLI passes, which prompts);
it is never read from the URL and never appears in a message, ``repr`` or log line.

What runs where:

* documents and batches: :mod:`.arango_layout` (``Batcher``; vertices written with
  ``VERTEX_UPSERT_AQL``, edges with :data:`EDGE_INSERT_AQL`);
* hunt statements: the AQL of :mod:`.aql` (``{v, obs}`` rows materialised into
  ``X_var_rows``; the variable's document, ``_key`` = its name, in ``X_variables``);
* queries aql.py has no function for (counts, traversals for the CLI ``graph``) are here,
  with bind parameters only.

**What "atomic" means here.**  The outermost :meth:`ArangoStore.atomic` begins one *stream
transaction* (``db.begin_transaction(write=[the four collections])``) and every query of the
statement runs in it; it commits when the block ends, aborts on an exception.  Every batch of
an ingest runs inside that transaction, so a failed statement leaves data and variables as
they were — within the server's stream-transaction limits: a transaction idle for longer than
``--transaction.streaming-idle-timeout`` (60 s by default: a slow data source between two
batches) or larger than ``--transaction.streaming-max-transaction-size`` is aborted by the
server, and the statement fails (nothing written).  A nested ``atomic()`` is a no-op counter:
ArangoDB has no savepoints, so an inner block that fails and is caught (the session's failed
prefetch) does **not** undo its own writes; they commit with the statement.  In a cluster,
stream transactions are atomic per shard only (ArangoDB's documented limit).

Edges are written with AQL ``INSERT ... OPTIONS {overwriteMode: "ignore"}`` rather than
``import_bulk(on_duplicate="ignore")``: ``/_api/import`` is not among the operations a stream
transaction covers (documents, AQL, count, truncate), so an import would commit on its own.
The effect is the same (an existing edge, whose content is a function of its key, is kept).

Query bookkeeping (what sqlite.py keeps in ``queries``/``query_obs``): :meth:`begin_query`
returns a random 53-bit id; ingest adds it to the ``_stixgraph_queries`` list of each
observation vertex it writes (a ``_``-prefixed attribute: outside ``_record_md5_hash`` and
the STIX properties).  The cached ``<type>*`` counts use it (see :meth:`ArangoStore._count`).
The query's URI and pattern are not stored.

GROUP tables and JOIN's copied columns live in the ``data`` attribute of ``X_var_rows``
rows.  Not run here: no server in this
workplace; the offline tests cover the URL, the credentials, the unreachable-host error and
the batches.
"""
from __future__ import annotations

import os
import random
import re
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Iterable
from urllib.parse import parse_qsl, urlsplit

from .. import ir
from ..display import Table
from ..errors import HuntSemanticError, StoreError
from ..stix.model import Observation
from . import aql as A
from .arango_layout import (VERTEX_UPSERT_AQL, Batch, Batcher, analyzer_definitions,
                            collection_names, graph_definition, index_definitions,
                            observation_from_vertices, saved_queries, sco_vertex,
                            _documents, md5_hash, record_time, vertex_key)
from ..lang.parser import path_parts
from .base import (TRANSFORM_COLUMNS, Birth, GraphStore, ProcessActivity, VarInfo,
                   process_activity_of, shape_rows, table_display)

DEFAULT_PORT = 8529
PASSWORD_ENV = "ARANGO_PASSWORD"
QUERIES_ATTR = "_stixgraph_queries"
#: edges: insert, keep an existing one (``import_bulk(on_duplicate="ignore")`` in AQL, so that
#: it runs inside the statement's stream transaction).  Bind vars: ``docs``, ``@collection``.
EDGE_INSERT_AQL = 'FOR d IN @docs INSERT d INTO @@collection OPTIONS {overwriteMode: "ignore"}'
#: the query ids of a batch's observations.  Bind vars: ``keys``, ``qid``, ``@collection``.
OBS_QUERY_AQL = ("FOR k IN @keys LET d = DOCUMENT(@@collection, k) "
                 f"UPDATE d WITH {{{QUERIES_ATTR}: UNION_DISTINCT(d.{QUERIES_ATTR} || [], [@qid])}}"
                 " IN @@collection")
_DB_RE = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}")
_USER_RE = re.compile(r"[^\s:@/]{1,254}")
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


# ---------------------------------------------------------------------------
# URL and credentials


@dataclass(frozen=True)
class ArangoTarget:
    """Where a store lives: ``host`` (``http(s)://HOST:PORT``), ``user``, ``db``,
    ``collection``.  Holds no password."""

    host: str
    user: str
    db: str
    collection: str = "default"

    def url(self) -> str:
        """The ``arango://`` URL of this target (no password: there is none to show)."""
        tls = "&tls=1" if self.host.startswith("https://") else ""
        return (f"arango://{self.user}@{self.host.split('://', 1)[1]}/{self.db}"
                f"?collection={self.collection}{tls}")

    __str__ = url


def _bad(what: str) -> StoreError:
    return StoreError(f"bad arango:// store URL: {what} (want arango://USER@HOST:{DEFAULT_PORT}/"
                      f"DB[?collection=X&tls=1])")


def parse_arango_url(url: str) -> ArangoTarget:
    """``arango://USER@HOST[:PORT]/DB[?collection=X&tls=1]`` → :class:`ArangoTarget`.

    USER defaults to ``root``, PORT to 8529, ``collection`` to ``default``; ``tls=1`` makes the
    host URL https.  A password in the URL is refused (use ``$ARANGO_PASSWORD``); errors are
    one line, name what is wrong and never echo the URL's credentials part."""
    if not isinstance(url, str) or not url.startswith("arango://"):
        raise _bad("the scheme must be arango://")
    try:
        parts = urlsplit(url)
    except ValueError as e:  # a bad IPv6 literal
        raise _bad(f"cannot parse the host ({e})") from None
    if parts.password is not None or ":" in parts.netloc.rpartition("@")[0]:
        raise StoreError(f"an arango:// store URL must not hold a password: set "
                         f"{PASSWORD_ENV} instead")
    user = parts.username if "@" in parts.netloc else "root"
    if not user or not _USER_RE.fullmatch(user):
        raise _bad("empty or invalid user name before @")
    host = parts.hostname
    if not host:
        raise _bad("no host")
    try:
        port = parts.port or DEFAULT_PORT
    except ValueError:
        raise _bad(f"the port {parts.netloc.rpartition(':')[2]!r} is not a number from 1 "
                   f"to 65535") from None
    db = parts.path[1:] if parts.path.startswith("/") else parts.path
    if not db:
        raise _bad("no database name after the host")
    if not _DB_RE.fullmatch(db):
        raise _bad(f"database name {db[:70]!r} must be letters, digits, _ and -, starting "
                   f"with a letter, at most 64 characters")
    if parts.fragment:
        raise _bad("a #fragment is not allowed")
    opts = {"collection": "default", "tls": "0"}
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key not in opts:
            raise _bad(f"unknown option {key[:40]!r} (collection, tls)")
        opts[key] = value
    try:
        collection_names(opts["collection"])
    except ValueError as e:
        raise _bad(str(e)) from None
    tls = opts["tls"].lower()
    if tls not in _TRUE + _FALSE:
        raise _bad(f"tls={opts['tls'][:20]!r}: want 1 or 0")
    hostport = f"[{host}]" if ":" in host else host
    scheme = "https" if tls in _TRUE else "http"
    return ArangoTarget(f"{scheme}://{hostport}:{port}", user, db, opts["collection"])


def resolve_password(prompt: Callable[[], str] | None = None) -> str:
    """``$ARANGO_PASSWORD`` (an empty value is an empty password), else ``prompt()``."""
    pw = os.environ.get(PASSWORD_ENV)
    if pw is not None:
        return pw
    if prompt is not None:
        return prompt()
    raise StoreError(f"no ArangoDB password: set {PASSWORD_ENV} (it is never read from the "
                     f"URL)")


def _one_line(e: Exception, secret: str = "") -> str:
    """An exception as one line, the password (if any) masked."""
    text = " ".join(str(getattr(e, "error_message", None) or e).split()) or type(e).__name__
    if secret:
        text = text.replace(secret, "***")
    return text[:300]


# ---------------------------------------------------------------------------
# batches (pure: what ingest sends, testable without a server)


def batch_requests(batch: Batch, x: str, qid: int | None = None) -> list[tuple[str, dict]]:
    """The AQL requests (text, bind vars) that write one :class:`Batch` into store collection
    ``x``, in order: its vertices (:data:`VERTEX_UPSERT_AQL`), the query id on its
    observations, then its edges (:data:`EDGE_INSERT_AQL`)."""
    names = collection_names(x)
    out = []
    if batch.vertices:
        out.append((VERTEX_UPSERT_AQL, {"docs": batch.vertices, "@collection": names["vertex"]}))
        obs = [d["_key"] for d in batch.vertices if d.get("type") == A.OBS_TYPE]
        if qid is not None and obs:
            out.append((OBS_QUERY_AQL, {"keys": obs, "qid": qid, "@collection": names["vertex"]}))
    if batch.edges:
        out.append((EDGE_INSERT_AQL, {"docs": batch.edges, "@collection": names["edge"]}))
    return out


def ingest_requests(batcher: Batcher, observations: Iterable[Observation],
                    qid: int | None = None):
    """Every request an ingest of ``observations`` through ``batcher`` sends, in order (a
    generator; ``batcher.stats`` holds the counts once it is exhausted)."""
    for batch in batcher.add_observations(observations):
        yield from batch_requests(batch, batcher.x, qid)


def object_requests(objects: list[dict], x: str, now: str | None = None):
    """The requests storing loose objects (NEW, LOAD): each a vertex, merged by id, refs
    between them as edges (as an observation's, without the observation)."""
    now = now or record_time()
    v = collection_names(x)["vertex"]
    batcher = Batcher(x, now)
    objs: dict[str, dict] = {}
    for o in objects:
        objs[o["id"]] = {**objs.get(o["id"], {}), **{k: x_ for k, x_ in o.items()
                                                      if x_ is not None}}
    fake = Observation(id="observed-data--00000000-0000-4000-8000-000000000000",
                       first_observed=now, last_observed=now, number_observed=1, objects=objs)
    _, edges = _documents(fake, v, now, None, hashed=False)
    edges = [e for e in edges if e["_ref_name"] != A.OBJECT_REFS]
    vertices = [sco_vertex(sid, o, now, hashed=False) for sid, o in objs.items()]
    for batch in [*batcher.add(vertices, edges), *batcher.flush()]:
        yield from batch_requests(batch, x)


# ---------------------------------------------------------------------------
# the store


class ArangoStore(GraphStore):
    """A :class:`GraphStore` on an ArangoDB database (see the module docstring)."""

    def __init__(self, target: ArangoTarget | str, password: str | Callable[[], str] | None = None,
                 *, init: bool = True, timeout: float = 60, retries: int = 3,
                 verify_tls: bool = True):
        from arango import ArangoClient  # python-arango: imported only when a store opens
        from arango.http import DefaultHTTPClient

        self.target = parse_arango_url(target) if isinstance(target, str) else target
        self.collection = self.target.collection
        self.names = collection_names(self.collection)
        secret = password if isinstance(password, str) else resolve_password(password)
        self._client = ArangoClient(
            hosts=self.target.host, request_timeout=timeout, verify_override=verify_tls,
            http_client=DefaultHTTPClient(request_timeout=timeout, retry_attempts=retries,
                                          backoff_factor=0.2))
        where = f"ArangoDB at {self.target.host} (database {self.target.db!r}, user " \
                f"{self.target.user!r})"
        self._where = where
        try:
            sys_db = self._client.db("_system", username=self.target.user, password=secret,
                                     verify=True)
        except Exception as e:  # noqa: BLE001 - any failure to connect is one line
            raise StoreError(f"cannot reach {where}: {_one_line(e, secret)}") from None
        if init:
            try:
                if not sys_db.has_database(self.target.db):
                    sys_db.create_database(self.target.db)
            except Exception:  # noqa: BLE001 - no right to list/create: try the db itself
                pass
        try:
            self._base = self._client.db(self.target.db, username=self.target.user,
                                         password=secret, verify=True)
        except Exception as e:  # noqa: BLE001
            raise StoreError(f"cannot open {where}: {_one_line(e, secret)}") from None
        del secret
        self._sys = sys_db
        self._txn = None
        self._depth = 0
        self._tick = 0
        self._query_obs: dict[int, list[str]] = {}  # this session's queries
        if init:
            self.init()

    def __repr__(self) -> str:
        return f"ArangoStore({self.target.url()!r})"

    # -- database objects -----------------------------------------------------
    def init(self) -> dict:
        """Create the collections, analyzer, indexes and named graph (idempotent); returns
        what was created."""
        db, made = self._base, {"collections": [], "indexes": [], "analyzers": [], "graph": False}
        try:
            for kind in ("vertex", "edge", "variables", "var_rows"):
                name = self.names[kind]
                if not db.has_collection(name):
                    db.create_collection(name, edge=kind == "edge")
                    made["collections"].append(name)
            have = {a["name"].split("::")[-1] for a in db.analyzers()}
            for a in analyzer_definitions():
                if a["name"] not in have:
                    db.create_analyzer(**a)
                    made["analyzers"].append(a["name"])
            for coll, indexes in index_definitions(self.collection).items():
                c = db.collection(coll)
                present = {i.get("name") for i in c.indexes()}
                for idx in indexes:
                    if idx["name"] not in present:
                        c.add_index(dict(idx))
                        made["indexes"].append(f"{coll}.{idx['name']}")
            g = graph_definition(self.collection)
            if not db.has_graph(g["name"]):
                db.create_graph(**g)
                made["graph"] = True
        except Exception as e:  # noqa: BLE001
            raise StoreError(f"cannot set up store collection {self.collection!r} in "
                             f"{self._where}: {_one_line(e)}") from None
        return made

    def status(self) -> dict:
        """Counts per collection, the indexes present, whether the named graph exists."""
        db, out = self._base, {"collections": {}, "indexes": {}, "graph": False}
        for kind in ("vertex", "edge", "variables", "var_rows"):
            name = self.names[kind]
            if db.has_collection(name):
                c = db.collection(name)
                out["collections"][name] = c.count()
                out["indexes"][name] = sorted(i.get("name") or i["type"] for i in c.indexes())
            else:
                out["collections"][name] = None
        out["graph"] = db.has_graph(self.names["graph"])
        return out

    def drop(self) -> None:
        """Drop this store collection's named graph and four collections (not the database)."""
        db = self._base
        if db.has_graph(self.names["graph"]):
            db.delete_graph(self.names["graph"])
        for kind in ("vertex", "edge", "variables", "var_rows"):
            if db.has_collection(self.names[kind]):
                db.delete_collection(self.names[kind])

    def install_queries(self) -> list[str]:
        """Save ``arango/queries/*.aql`` as the connecting user's saved queries in the web UI
        (its "Saved Queries" list: ``extra.queries`` of the user), bound to this store
        collection.  A saved query of the same name is replaced; the user's others are kept.
        Returns the names installed."""
        mine = saved_queries(self.collection)
        user = self.target.user
        try:
            # users are server-wide: their API is the _system database's
            extra = dict(self._sys.user(user).get("extra") or {})
            now = int(time.time() * 1000)
            keep = [q for q in extra.get("queries") or []
                    if q.get("name") not in {m["name"] for m in mine}]
            extra["queries"] = keep + [{**q, "created_at": now, "modified_at": now} for q in mine]
            self._sys.update_user(user, extra=extra)
        except Exception as e:  # noqa: BLE001
            raise StoreError(f"cannot save queries for user {user!r} in {self._where}: "
                             f"{_one_line(e)}") from None
        return [q["name"] for q in mine]

    def close(self) -> None:
        if self._txn is not None:
            try:
                self._txn.abort_transaction()
            finally:
                self._txn = None
        self._client.close()

    # -- transactions -----------------------------------------------------------
    @property
    def _db(self):
        return self._txn if self._txn is not None else self._base

    @contextmanager
    def atomic(self):
        """The outermost block is one stream transaction; nested blocks only count (see the
        module docstring for what that means)."""
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        try:
            self._txn = self._base.begin_transaction(
                write=[self.names[k] for k in ("vertex", "edge", "variables", "var_rows")])
        except Exception as e:  # noqa: BLE001
            raise StoreError(f"cannot begin a transaction in {self._where}: {_one_line(e)}") \
                from None
        self._depth = 1
        try:
            yield
        except BaseException:
            txn, self._txn = self._txn, None
            try:
                txn.abort_transaction()
            except Exception:  # noqa: BLE001 - the server may have aborted it already
                pass
            raise
        else:
            txn, self._txn = self._txn, None
            try:
                txn.commit_transaction()
            except Exception as e:  # noqa: BLE001
                raise StoreError(f"commit failed in {self._where} (nothing of this statement "
                                 f"was stored): {_one_line(e)}") from None
        finally:
            self._depth = 0
            self._txn = None

    def _aql(self, text: str, bind_vars: dict | None = None) -> list:
        try:
            return list(self._db.aql.execute(text, bind_vars=bind_vars or {}, count=False))
        except Exception as e:  # noqa: BLE001
            raise HuntSemanticError(f"AQL query failed: {_one_line(e)}") from e

    def _run(self, p: A.Params, text: str) -> list:
        return self._aql(text, p.values)

    def _params(self) -> A.Params:
        return A.Params(self.collection)

    # -- ingest -----------------------------------------------------------------
    def begin_query(self, uri: str, pattern: str) -> int:
        return random.getrandbits(52) + 1

    def ingest(self, observations: Iterable[Observation], qid: int | None = None,
               batch_size: int = 5000) -> dict:
        stats = {"observations": 0, "objects": 0}
        with self.atomic():
            batcher = Batcher(self.collection, max_vertices=batch_size, max_edges=batch_size)
            obs_ids = self._query_obs.setdefault(qid, []) if qid is not None else []
            for text, bind in ingest_requests(batcher, observations, qid):
                if text == OBS_QUERY_AQL:
                    obs_ids += [f"{self.names['vertex']}/{k}" for k in bind["keys"]]
                self._aql(text, bind)
            stats["observations"] = batcher.stats["observations"]
            stats["objects"] = batcher.stats["vertices"] - batcher.stats["observations"]
            stats["arango"] = dict(batcher.stats)
        return stats

    def add_objects(self, objects: list[dict]) -> list[str]:
        with self.atomic():
            for text, bind in object_requests(objects, self.collection):
                self._aql(text, bind)
        return [o["id"] for o in objects]

    # -- variables ----------------------------------------------------------------
    def var(self, name: str) -> VarInfo | None:
        doc = self._db.collection(self.names["variables"]).get(name)
        return _varinfo(doc) if doc else None

    def variables(self) -> list[VarInfo]:
        docs = self._aql("FOR d IN @@c SORT d.updated RETURN d", {"@c": self.names["variables"]})
        return [_varinfo(d) for d in docs]

    def entity_types(self) -> list[str]:
        return self._aql("FOR d IN @@c FILTER d.type != @o COLLECT t = d.type RETURN t",
                         {"@c": self.names["vertex"], "o": A.OBS_TYPE})

    def values(self, var: str, path: ir.AttrPath) -> list:
        p = self._params()
        return self._run(p, A.select_values(p, var, path.parts))

    def time_range(self, var: str):
        p = self._params()
        rows = self._run(p, A.select_time_range(p, var))
        return None if not rows or rows[0][0] is None else (rows[0][0], rows[0][1])

    def _require(self, name: str) -> VarInfo:
        info = self.var(name)
        if info is None:
            raise HuntSemanticError(f"unknown variable {name!r}")
        return info

    def _new_var(self, out: str, etype: str, kind: str, p: A.Params, text: str, birth: Birth,
                 columns: list[str] | None = None) -> VarInfo:
        """Run ``text`` (``{v, obs, data}`` rows; ``data``: a GROUP table's row, or the columns
        a JOIN copied, else absent) and store its rows as variable ``out``, replacing it: the
        rows are computed first (under a temporary name), then swapped in."""
        rows = self._run(p, text)
        vr, vs = self.names["var_rows"], self.names["variables"]
        tmp = "~" + out
        self._aql("FOR r IN @@c FILTER r.var == @n REMOVE r IN @@c", {"@c": vr, "n": tmp})
        if rows:
            self._aql("FOR i IN 0..LENGTH(@rows) - 1 LET r = @rows[i] "
                      "INSERT {var: @n, v: r.v, obs: r.obs, data: r.data, rid: i + 1} INTO @@c",
                      {"@c": vr, "n": tmp, "rows": rows})
        self._aql("FOR r IN @@c FILTER r.var == @n REMOVE r IN @@c", {"@c": vr, "n": out})
        self._aql("FOR r IN @@c FILTER r.var == @t UPDATE r WITH {var: @n} IN @@c",
                  {"@c": vr, "n": out, "t": tmp})
        info = VarInfo(name=out, type=etype, kind=kind, columns=columns, command=birth.command,
                       line=birth.line, statement=birth.statement, source=birth.source,
                       inputs=list(birth.inputs))
        self._count(info, birth.count_cached)
        self._tick = max(self._tick, self._max_tick()) + 1
        doc = {"_key": out, "name": out, "type": etype, "kind": kind, "columns": columns,
               "entities": info.entities, "records": info.records, "cached": info.cached,
               "command": info.command, "line": info.line, "statement": info.statement,
               "source": info.source, "inputs": info.inputs, "updated": self._tick}
        self._aql("UPSERT {_key: @k} INSERT @d REPLACE @d IN @@c", {"@c": vs, "k": out, "d": doc})
        return info

    def _max_tick(self) -> int:
        r = self._aql("FOR d IN @@c COLLECT AGGREGATE m = MAX(d.updated) RETURN m",
                      {"@c": self.names["variables"]})
        return (r[0] if r else 0) or 0

    def _count(self, info: VarInfo, cached: bool) -> None:
        """#entities (distinct vertices), #records and (``cached``) ``<type>*``, as
        sqlite.py's ``_count``: records = the number_observed sum over the (entity,
        observation) pairs of its distinct entities (records variables: over its rows'
        observations), its row count when nothing is observed; ``<type>*`` = over every
        observation of the queries that brought in any observation holding one of its
        entities, the (object, observation) pairs by type, less its own entities for its own
        type.  Query membership is ``_stixgraph_queries`` of the observation vertices; the
        count scans the observations (no index on that list)."""
        p = self._params()
        var = p(info.name)
        if info.kind == "table":
            info.entities = 0
            info.records = self._run(p, f"RETURN LENGTH(FOR r IN {p.coll('var_rows')} "
                                        f"FILTER r.var == {var} RETURN 1)")[0]
            return
        ents = f"(FOR r IN {p.coll('var_rows')} FILTER r.var == {var} RETURN DISTINCT r.v)"
        pairs = f"FOR e IN ents {A.holding_obs(p, 'e', 'o')}"
        if info.kind == "records":
            rec = (f"SUM(FOR r IN {p.coll('var_rows')} FILTER r.var == {var} AND r.obs != null "
                   f"RETURN DOCUMENT(r.obs).number_observed)")
        else:
            rec = f"SUM({pairs} RETURN o.number_observed)"
        nrows = f"LENGTH(FOR r IN {p.coll('var_rows')} FILTER r.var == {var} RETURN 1)"
        qids = (f"UNIQUE(FLATTEN({pairs} RETURN o.{QUERIES_ATTR} || []))" if cached
                else "[]")
        row = self._run(p, f"LET ents = {ents} RETURN [LENGTH(ents), {rec}, {nrows}, {qids}]")[0]
        info.entities, info.records = row[0], row[1] or row[2]
        if cached and info.entities and row[3]:
            q = self._params()
            o, x = "o", "x"
            text = (f"FOR {o} IN {q.coll('vertex')} FILTER {o}.type == {q(A.OBS_TYPE)} "
                    f"FILTER LENGTH(INTERSECTION({o}.{QUERIES_ATTR} || [], {q.named('qids', row[3])}"
                    f")) > 0 {A.out_edges(q, o, x, 'g', (A.OBJECT_REFS,))} "
                    f"COLLECT t = {x}.type WITH COUNT INTO n SORT t RETURN [t, n]")
            info.cached = {t: n - (info.entities if t == info.type else 0)
                           for t, n in self._run(q, text)}

    # -- statements ------------------------------------------------------------------
    def get_from_query(self, out, etype, qid, where, birth):
        p = self._params()
        ids = self._query_obs.get(qid)
        if ids is None:  # a query of another session: scan the observations
            ids = self._aql(f"FOR o IN @@c FILTER o.type == @t AND "
                            f"POSITION(o.{QUERIES_ATTR} || [], @q) RETURN o._id",
                            {"@c": self.names["vertex"], "t": A.OBS_TYPE, "q": qid})
        text = A.select_get_from_observations(p, etype, where, p.named("obs_ids", ids))
        return self._new_var(out, etype, "entities", p, text, birth)

    def get_from_ids(self, out, etype, ids, birth):
        p = self._params()
        text = (f"FOR i IN 0..LENGTH({p.named('ids', list(ids))}) - 1 "
                f"LET v = DOCUMENT({p.coll('vertex')}, @ids[i]) FILTER v != null "
                f"COLLECT id = v._id AGGREGATE first = MIN(i) SORT first "
                f"RETURN {{v: id, obs: null}}") if ids else "FOR x IN [] RETURN x"
        return self._new_var(out, etype, "entities", p, text, birth)

    def find(self, out, stmt, input_type, hops, start, stop, birth):
        p = self._params()
        text = A.select_find(p, stmt.etype, stmt.relation, stmt.var, hops, stmt.where, start,
                             stop, stmt.limit)
        return self._new_var(out, stmt.etype, "entities", p, text, birth)

    def assign(self, out, expr, birth):
        src = self._require(expr.var)
        p = self._params()
        text, kind = A.select_assign(p, expr, src.type, src.kind)
        columns = [a.name for a in expr.attrs] if expr.attrs else src.columns
        if expr.transform and not expr.attrs:
            base = columns or self._all_columns(expr.var)
            columns = TRANSFORM_COLUMNS[expr.transform] + [
                c for c in base if c not in TRANSFORM_COLUMNS[expr.transform]]
        return self._new_var(out, src.type, kind, p, text, birth, columns=columns)

    def merge(self, out, names, birth):
        infos = [self._require(n) for n in names]
        p = self._params()
        return self._new_var(out, infos[0].type, "entities", p, A.select_merge(p, names), birth)

    def group(self, out, stmt, birth):
        info = self._require(stmt.var)
        records = info.kind == "records"
        p = self._params()
        keys, aggs = A.group_columns(p, stmt, records)
        if not aggs:
            q = self._params()
            aggs = A.auto_aggregates(p, info.type, self._run(q, A.select_column_types(q, stmt.var)),
                                     records)
        columns = [k for k, _ in keys] + [a for a, _, _ in aggs]
        rows = self._run(p, A.select_group(p, stmt.var, keys, aggs, records))
        q = self._params()
        text = f"FOR d IN {q.named('rows', [dict(zip(columns, r)) for r in rows])} " \
               f"RETURN {{v: null, obs: null, data: d}}"
        return self._new_var(out, info.type, "table", q, text, birth, columns=columns)

    def join(self, out, stmt, birth):
        left, _ = self._require(stmt.left), self._require(stmt.right)
        lcols = self._all_columns(stmt.left, depth=0)
        extra = [c for c in self._all_columns(stmt.right, depth=0) if c not in lcols]
        p = self._params()
        return self._new_var(out, left.type, "entities", p, A.select_join(p, stmt, extra), birth,
                             columns=lcols + extra if extra else None)

    def _data_columns(self, var: str) -> frozenset:
        p = self._params()
        return frozenset(self._run(p, A.select_data_columns(p, var)))

    # -- reading -----------------------------------------------------------------
    def _all_columns(self, var: str, depth: int = 2) -> list[str]:
        """As sqlite.py: id, the other attributes sorted (refs, type and ``_`` ones left
        out), then ``ref.attr`` for each ``*_ref``."""
        p = self._params()
        keys = self._run(p, A.select_column_keys(p, var))
        plain = sorted(k for k in keys if k != "type" and not k.startswith("_")
                       and not k.endswith(("_ref", "_refs")) and k not in ("id", "spec_version"))
        out = ["id"] + plain
        for ref in sorted(k for k in keys if k.endswith("_ref")) if depth else ():
            q = self._params()
            sub = self._run(q, f"{A.var_rows(q, var)} {A.out_edges(q, 'v', 't', 'g', (ref,))} "
                               f"FOR k IN ATTRIBUTES(t, true, true) RETURN DISTINCT k")
            out += [f"{ref}.{k}" for k in sorted(sub) if k != "type" and k != "spec_version"
                    and not k.endswith(("_ref", "_refs"))]
        return out

    def display(self, expr: ir.VarExpr, line: int, max_rows: int | None = None) -> Table:
        info = self._require(expr.var)
        if info.kind == "table":
            p = self._params()
            return table_display(expr, info, self._run(p, A.select_table_rows(p, expr.var)), line)
        if expr.attrs:
            for a in expr.attrs:
                if a.etype and a.etype != info.type:
                    raise HuntSemanticError(f"attribute {a} does not belong to {info.type}")
            names = [a.name for a in expr.attrs]
        else:
            names = list(info.columns) if info.columns else self._all_columns(expr.var)
        paths = {a.name: a.parts for a in expr.attrs or ()}
        prefix = TRANSFORM_COLUMNS.get(expr.transform or "", [])
        names = prefix + [n for n in names if n not in prefix]
        cols = [(n, paths.get(n) or path_parts(n)) for n in names]
        p = self._params()
        text = A.select_display(p, expr.var, info.type, cols, expr.where, expr.sort,
                                expr.transform is not None or info.kind == "records",
                                per_observation=bool(expr.transform) and info.kind != "records",
                                data=self._data_columns(expr.var) if info.command == "JOIN"
                                else frozenset())
        rows = self._run(p, text)
        return Table(statement=line, columns=names,
                     rows=shape_rows(rows, expr.limit, expr.offset, max_rows))

    def _all_columns_of(self, info: VarInfo) -> list[str]:
        return self._all_columns(info.name)

    def records(self, var: str) -> list[dict]:
        t = self.display(ir.VarExpr(var=var), 0)
        return [dict(zip(t.columns, r)) for r in t.rows]

    def set_attributes(self, updates: dict[str, dict]) -> int:
        """Attributes merged into the vertices (``_record_modified`` now; the md5 hash is
        recomputed from the merged document)."""
        rows = [{"k": vertex_key(sid),
                 "a": {k: v for k, v in attrs.items() if k not in ("id", "type")}}
                for sid, attrs in updates.items()]
        with self.atomic():
            docs = self._aql("FOR r IN @rows LET d = DOCUMENT(@@v, r.k) FILTER d != null "
                             "RETURN MERGE(d, r.a)", {"@v": self.names["vertex"], "rows": rows})
            now = record_time()
            for d in docs:
                d["_record_modified"] = now
                d["_record_md5_hash"] = md5_hash(d)
            if docs:
                self._aql("FOR d IN @docs REPLACE d IN @@v", {"@v": self.names["vertex"],
                                                              "docs": docs})
        return len(docs)

    def process_activity(self, var: str) -> dict[str, ProcessActivity]:
        self._require(var)
        p, q = self._params(), self._params()
        return process_activity_of(self._run(p, A.select_process_counts(p, var)),
                                   self._run(q, A.select_process_file_events(q, var)))

    def observations_of(self, var: str) -> list[Observation]:
        self._require(var)
        p = self._params()
        return [observation_from_vertices(o, objs)
                for o, objs in self._run(p, A.select_observations_of(p, var))]

    def explain(self, stmt, input_types):
        return A.explain(stmt, input_types, self.collection)

    # -- graph traversals -------------------------------------------------------------
    def neighbors(self, stix_id, relation, direction, depth):
        way = {"out": "OUTBOUND", "in": "INBOUND", "any": "ANY"}.get(direction)
        if way is None:
            raise HuntSemanticError(f"direction must be out, in or any, not {direction!r}")
        start = self._aql("RETURN DOCUMENT(@@c, @k)", {"@c": self.names["vertex"], "k": stix_id})
        if not start or start[0] is None:
            raise HuntSemanticError(f"no object {stix_id!r} in collection {self.collection!r}")
        bind = {"@c": self.names["edge"], "s": start[0]["_id"], "d": int(depth),
                "obj": A.OBJECT_REFS}
        # as sqlite.py's edges: refs between objects only (no observation's object_refs);
        # with a relation, every edge of the walk is of it
        keep = "e._ref_name != @obj" + (" AND e._ref_name == @rel" if relation else "")
        if relation:
            bind["rel"] = relation
        rows = self._aql(f"FOR v, e IN 1..@d {way} @s @@c PRUNE e != null AND NOT ({keep}) "
                         f"FILTER {keep} RETURN DISTINCT "
                         f"[e.source_ref, e._ref_name, e.target_ref]", bind)
        return self._objects(stix_id, rows)

    def _objects(self, start: str | None, edges: list) -> tuple[list[dict], list]:
        keys = sorted({start} - {None} | {e[0] for e in edges} | {e[2] for e in edges})
        docs = self._aql("FOR k IN @k LET d = DOCUMENT(@@c, k) FILTER d != null RETURN d",
                         {"@c": self.names["vertex"], "k": keys})
        return ([{k: v for k, v in d.items() if not k.startswith("_")} for d in docs],
                [tuple(e) for e in edges])

    def var_subgraph(self, var, depth=1):
        self._require(var)
        p = self._params()
        rows = self._run(p, f"FOR s IN (FOR r IN {p.coll('var_rows')} FILTER r.var == {p(var)} "
                            f"RETURN DISTINCT r.v) FOR v, e IN 1..{p(int(depth))} ANY s "
                            f"{p.coll('edge')} PRUNE e != null AND e._ref_name == "
                            f"{p(A.OBJECT_REFS)} FILTER e._ref_name != {p(A.OBJECT_REFS)} "
                            f"RETURN DISTINCT "
                            f"[e.source_ref, e._ref_name, e.target_ref]")
        return self._objects(None, sorted(map(tuple, rows)))


def _varinfo(d: dict) -> VarInfo:
    return VarInfo(name=d["name"], type=d["type"], kind=d.get("kind") or "entities",
                   columns=d.get("columns"), entities=d.get("entities") or 0,
                   records=d.get("records") or 0, cached=d.get("cached") or {},
                   command=d.get("command") or "", line=d.get("line") or 0,
                   statement=d.get("statement") or "", source=d.get("source"),
                   inputs=d.get("inputs") or [])
