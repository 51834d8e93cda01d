"""A hunt session: parses, checks and runs statements against one graph store.

This is the library API the CLI, the shell and the Jupyter kernel share::

    from stixgraph import Session
    s = Session("hunt.db")                      # or Session() for an in-memory store
    displays = s.run(open("hunt.hf").read())    # tables, messages, then the block's summary
    s.vars["procs"].entities

Each statement runs inside one store transaction: when it fails, variables and stored data
are exactly as they were before it.

Publishing: ``Session(..., publish=COLLECTION_URL)`` (``stixgraph hunt --publish``), or a
stix-shifter profile's ``publish`` option (:mod:`stixgraph.sources.profiles`), makes every GET
from a data source (not from a variable) publish the observations it pulled, prefetched
records included, to that TAXII 2.1 collection (:func:`stixgraph.taxii.client.publish`, as
``taxii push`` does; objects already there are not sent again).  The GET's output ends with
one line per collection, "published N objects to URL (M already there, F failed)"; a publish
that fails is a warning line and the GET, its variable and its data stay.
"""
from __future__ import annotations

import csv
import gzip
import io
import json
import os
import time
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable

from . import ir
from .display import Message, Summary, Table, VarSummary
from .errors import HuntSemanticError, StixgraphError
from .relations import RELATION_WORDS, hops as find_hops, relations_for
from .store.base import Birth, GraphStore, VarInfo

STIX_SCO_TYPES = frozenset({
    "artifact", "autonomous-system", "directory", "domain-name", "email-addr", "email-message",
    "file", "ipv4-addr", "ipv6-addr", "mac-addr", "mutex", "network-traffic", "process",
    "software", "url", "user-account", "windows-registry-key", "x509-certificate"})

# NEW "string" lists fill this property of the given type (Kestrel's rule).
PRIMARY_PROPERTY = {"file": "name", "process": "name", "mutex": "name", "software": "name",
                    "user-account": "user_id", "directory": "path", "windows-registry-key": "key"}

DEREF_TIME_MARGIN = timedelta(seconds=300)

# Prefetch (Kestrel v1's, for sources that set ``DataSource.prefetch``): after a GET or FIND,
# the source is asked for every record of the entities found, by their identity attribute,
# so that a process seen only in a network event gets its command line from its creation
# event.  The records merge into the same entities (deterministic ids); the variable keeps
# its entities and counts the new records.  Kestrel's default exclusions are kept; processes
# without x_unique_id are not prefetched (Kestrel's pid matching with time windows is not
# reproduced).
PREFETCH_ATTR = {"process": "x_unique_id", "ipv4-addr": "value", "ipv6-addr": "value",
                 "mac-addr": "value", "domain-name": "value", "url": "value",
                 "directory": "path", "mutex": "name", "software": "name",
                 "windows-registry-key": "key"}
PREFETCH_BATCH = 500  # identity values per query


def _keeping(stream, sink: list):
    """``stream``'s observations, each appended to ``sink`` as it passes; closing it closes
    ``stream``."""
    try:
        for obs in stream:
            sink.append(obs)
            yield obs
    finally:
        close = getattr(stream, "close", None)
        if close is not None:
            close()


def open_store(spec: str | Path | GraphStore | None, password=None) -> GraphStore:
    """A store from ``--store``: a path, ``:memory:``, or ``arango://USER@HOST:PORT/DB``
    (``password``: a callable prompting for it when ``$ARANGO_PASSWORD`` is unset)."""
    if isinstance(spec, GraphStore):
        return spec
    if spec is None and os.environ.get("STIXGRAPH_STORE", "").startswith("arango://"):
        spec = os.environ["STIXGRAPH_STORE"]
    if str(spec).startswith("arango://"):
        from .store.arangodb import ArangoStore
        return ArangoStore(str(spec), password)
    from .store.sqlite import SQLiteStore, default_store_path

    if spec is None:
        return SQLiteStore(default_store_path())
    spec = str(spec)
    if spec.startswith("sqlite://"):
        spec = spec[len("sqlite://"):] or ":memory:"
    if "://" in spec:
        from .errors import StoreError
        raise StoreError(f"store {spec!r}: unknown store scheme (use a file path or :memory:)")
    return SQLiteStore(spec)


class VariableView:
    """``session.vars``: read-only mapping of variable name to :class:`VarInfo`."""

    def __init__(self, store: GraphStore):
        self._store = store

    def __getitem__(self, name: str) -> VarInfo:
        info = self._store.var(name)
        if info is None:
            raise KeyError(name)
        return info

    def __contains__(self, name) -> bool:
        return self._store.var(name) is not None

    def __iter__(self):
        return (v.name for v in self._store.variables())

    def __len__(self):
        return len(self._store.variables())


class Session:
    def __init__(self, store: str | Path | GraphStore | None = ":memory:", *,
                 now: datetime | None = None, sources: dict[str, str] | None = None,
                 source_config: dict | None = None,
                 progress: Callable[[str, int], None] | None = None, prefetch: bool = True,
                 publish: str | None = None):
        if publish:
            from .taxii.client import collection_url

            collection_url(publish)  # a malformed URL fails here, once, not at each GET
        self.store = open_store(store)
        self.prefetch = prefetch  # False: never prefetch, whatever the source says
        # a TAXII 2.1 collection URL (or taxii:// URI) every GET from a data source publishes
        # what it pulled to (besides the URL of a profile's ``publish`` option); see _do_get
        self.publish = publish or None
        self._received: list | None = None  # a publishing GET's observations, as pulled
        self.now = now
        self.sources = dict(sources or {})  # alias: profile name or URI -> real URI
        self.source_config = source_config or {}
        self.progress = progress
        self.last_source: str | None = None
        self.filename = "<hunt>"
        self.underscore: str | None = None  # what ``_`` names (Kestrel: the last variable made)
        self.vars = VariableView(self.store)

    # -- running -------------------------------------------------------------
    def run(self, text: str, filename: str = "<hunt>") -> list:
        """Run a hunt block; returns its displays followed by the block's summary.  Stops at
        the first failing statement (raising its error; earlier statements stay done)."""
        return list(self.iter_run(text, filename))

    def iter_run(self, text: str, filename: str = "<hunt>"):
        """Like :meth:`run`, yielding each display as soon as its statement has run."""
        from .lang import parse

        self.filename = filename
        hunt = parse(text, filename)
        t0 = time.perf_counter()
        assigned: list[str] = []
        for stmt in hunt.statements:
            yield from self.execute(stmt)
            if stmt.output and stmt.output != "_":
                if stmt.output in assigned:
                    assigned.remove(stmt.output)
                assigned.append(stmt.output)
        if assigned:
            yield self.summary(assigned, time.perf_counter() - t0)

    def summary(self, names: list[str], seconds: float = 0.0) -> Summary:
        rows = []
        for name in names:
            v = self.store.var(name)
            if v is not None:
                rows.append(VarSummary(v.name, v.type, v.entities, v.records, dict(v.cached)))
        return Summary(variables=rows, cached_types=self.store.entity_types(), seconds=seconds)

    def execute(self, stmt: ir.Statement) -> list:
        """Run one statement atomically; returns its displays."""
        stmt = self._read_underscore(stmt)
        try:
            with self.store.atomic():
                out = self._dispatch(stmt)
        except HuntSemanticError as e:
            if e.line is None:
                raise type(e)(e.message, statement=stmt.kind if stmt.kind != "ASSIGN" else "assignment",
                              line=stmt.pos.line, filename=self.filename) from e
            raise
        except StixgraphError as e:
            msg = str(e)
            raise HuntSemanticError(msg, statement=stmt.kind, line=stmt.pos.line,
                                    filename=self.filename) from e
        if stmt.output:
            self.underscore = stmt.output
        return out

    def _read_underscore(self, stmt: ir.Statement) -> ir.Statement:
        """Kestrel's ``_``: the variable the last statement created (or ``_`` itself)."""
        target = self.underscore
        if target in (None, "_") or "_" not in stmt.inputs + ((getattr(stmt, "source", None),)
                                                              if isinstance(stmt, ir.Get) else ()):
            return stmt
        swap = (lambda v: target if v == "_" else v)
        if isinstance(stmt, ir.Get):
            return replace(stmt, source=swap(stmt.source))
        if isinstance(stmt, (ir.Assign, ir.Disp)):
            return replace(stmt, expr=replace(stmt.expr, var=target))
        if isinstance(stmt, (ir.Merge, ir.Apply)):
            return replace(stmt, vars=tuple(swap(v) for v in stmt.vars))
        if isinstance(stmt, ir.Join):
            return replace(stmt, left=swap(stmt.left), right=swap(stmt.right))
        return replace(stmt, var=swap(stmt.var))

    def _dispatch(self, stmt):
        handler = getattr(self, "_do_" + type(stmt).__name__.lower())
        return handler(stmt) or []

    def _birth(self, stmt, command=None, source=None, inputs=(), cached=False) -> Birth:
        if source is None:
            for name in inputs:
                v = self.store.var(name)
                if v is not None and v.source:
                    source = v.source
                    break
        return Birth(command=command or stmt.kind, line=stmt.pos.line, statement=stmt.pos.text,
                     source=source, inputs=list(inputs), count_cached=cached)

    # -- checks and resolution ---------------------------------------------------
    def _var(self, name: str) -> VarInfo:
        info = self.store.var(name)
        if info is None:
            known = ", ".join(v.name for v in self.store.variables()) or "none yet"
            raise HuntSemanticError(f"unknown variable {name!r} (known: {known})")
        return info

    @staticmethod
    def check_type(etype: str) -> None:
        if etype not in STIX_SCO_TYPES and not etype.startswith("x-"):
            raise HuntSemanticError(f"unknown entity type {etype!r} (a STIX 2.1 cyber-observable "
                                    f"type such as process or network-traffic, or a custom x- type)")

    def _clock(self) -> datetime:
        return self.now or datetime.now(timezone.utc)

    def _timespan(self, span: ir.Timespan | None) -> tuple[datetime, datetime] | None:
        if span is None:
            return None
        if isinstance(span, ir.TimeRange):
            return span.start, span.stop
        now = self._clock()
        return now - timedelta(**{span.unit: span.amount}), now

    def _resolve(self, expr: ir.Expr | None, refs: list | None = None) -> ir.Expr | None:
        """Replace every ``var.attr`` value by the variable's distinct values (Kestrel's rule:
        one value makes IN/NOT IN into =/!=, several make =/!= into IN/NOT IN)."""
        if expr is None:
            return None
        if isinstance(expr, (ir.And, ir.Or)):
            return type(expr)(tuple(self._resolve(i, refs) for i in expr.items))
        value = expr.value
        if not isinstance(value, (ir.VarAttr, tuple)) or (
                isinstance(value, tuple) and not any(isinstance(v, ir.VarAttr) for v in value)):
            return expr
        items = value if isinstance(value, tuple) else (value,)
        resolved: list = []
        for item in items:
            if isinstance(item, ir.VarAttr):
                self._var(item.var)
                vals = self.store.values(item.var, item.attr)
                if not vals:
                    raise HuntSemanticError(f"{item} has no values to compare with")
                resolved.extend(vals)
                if refs is not None:
                    refs.append(item.var)
            else:
                resolved.append(item)
        op, neg = expr.op, expr.negated
        if len(resolved) == 1 and not isinstance(value, tuple):
            if op == "IN":
                op = "!=" if neg else "="
                neg = False
            return ir.Comparison(expr.path, op, resolved[0], neg)
        if op in ("=", "!="):
            neg = (op == "!=") != neg
            op = "IN"
        elif op != "IN":
            raise HuntSemanticError(f"{expr.path} {op} {value}: a reference with several values "
                                    f"works only with =, !=, IN and NOT IN")
        return ir.Comparison(expr.path, op, tuple(resolved), neg)

    def _source_uri(self, source: str | None) -> str:
        if source is None:
            if self.last_source is None:
                raise HuntSemanticError("no data source: add FROM (no earlier GET to reuse)")
            return self.last_source
        uri = source if "://" in source else f"stixshifter://{source}"
        for key in (uri, source, uri.split("://", 1)[1]):
            if key in self.sources:
                return self.sources[key]
        return uri

    # -- statements ---------------------------------------------------------------
    def _do_get(self, stmt: ir.Get):
        self.check_type(stmt.etype)
        refs: list[str] = []
        where = self._resolve(stmt.where, refs)
        if stmt.source and "://" not in stmt.source and self.store.var(stmt.source) is not None:
            src = self._var(stmt.source)
            if src.type != stmt.etype:
                raise HuntSemanticError(f"variable {stmt.source} holds {src.type}, not {stmt.etype}")
            expr = ir.VarExpr(var=stmt.source, where=where, limit=stmt.limit)
            self.store.assign(stmt.out, expr, self._birth(stmt, "GET", inputs=[stmt.source]))
            return []
        uri = self._source_uri(stmt.source)
        span = self._timespan(stmt.timespan)
        if span is None and refs:  # Kestrel: the referenced variables' time range, ±5 min
            ranges = [r for r in (self.store.time_range(v) for v in refs) if r]
            if ranges:
                lo = _parse_ts(min(r[0] for r in ranges)) - DEREF_TIME_MARGIN
                hi = _parse_ts(max(r[1] for r in ranges)) + DEREF_TIME_MARGIN
                span = (lo, hi)
        from .sources import open_source

        ds = open_source(uri, self.source_config.get(uri))
        # publishing: the session's collection, and the one the source's profile names
        targets = [t for t in dict.fromkeys((self.publish, getattr(ds, "publish", None))) if t]
        self._received = [] if targets else None
        try:
            try:
                qid = self._pull(ds, uri, stmt.etype, where, span, stmt.limit)
            finally:
                ds.close()
            birth = self._birth(stmt, "GET", source=uri, cached=True)
            info = self.store.get_from_query(stmt.out, stmt.etype, qid, where, birth)
            self.last_source = uri
            out = [Message(stmt.pos.line, note) for note in getattr(ds, "notes", ())]
            if info.entities == 0:
                out.append(Message(stmt.pos.line, f"no {stmt.etype} in {uri} matches this GET"))
            elif not _is_direct(where, stmt.etype):
                extra = _extended_part(where, stmt.etype)
                if self._prefetch(stmt, stmt.out, stmt.etype, uri, extra, span, out):
                    self.store.get_from_query(stmt.out, stmt.etype, qid, where, birth)  # recount
            received = self._received
        finally:
            self._received = None
        if received:
            out.extend(self._publish(stmt, t, received) for t in targets)
        return out

    def _publish(self, stmt, url: str, observations: list) -> Message:
        """Publish ``observations`` (what a GET pulled from its data source, prefetched
        records included, as normalised) to the TAXII collection ``url``, as ``taxii push``
        does: observed-data and SCOs, STIX 2.1.  One line says what happened; a failure is a
        warning and leaves the GET, its variable and the stored data as they are."""
        from .taxii.client import observations_to_stix, publish, redact

        where = redact(url)
        try:
            report = publish(observations_to_stix(observations), url)
        except Exception as e:  # noqa: BLE001 - publishing never fails the GET
            if isinstance(e, StixgraphError):  # one line, URL redacted, never a credential
                why = str(e).removeprefix(f"{where}: ")
            else:  # not ours: its text might hold anything (a URL with a password)
                why = f"internal error ({type(e).__name__})"
            why = " ".join(why.split())
            return Message(stmt.pos.line, f"publishing to {where} failed, {stmt.out} and its "
                                          f"data are kept: {why}")
        text = (f"published {report.succeeded} objects to {report.collection} "
                f"({report.present} already there, {report.failed} failed"
                + (f", {report.pending} pending" if report.pending else "") + ")")
        if report.failures:
            i, m = report.failures[0]
            text += f"; first failure {i}: {' '.join(str(m).split())}"
        return Message(stmt.pos.line, text, "info" if report.ok else "warning")

    def _prefetch(self, stmt, var: str, etype: str, uri: str | None, extra: ir.Expr | None,
                  span, out: list) -> bool:
        """Kestrel's prefetch for ``var`` (just made by ``stmt``) from ``uri``: True when
        records were pulled.  A failed prefetch leaves the store as it was and says so."""
        attr = PREFETCH_ATTR.get(etype)
        if not self.prefetch or attr is None or not uri:
            return False
        from .sources import open_source

        ds = open_source(uri, self.source_config.get(uri))
        try:
            if not ds.prefetch:
                return False
            values = sorted({v for v in self.store.values(var, ir.AttrPath((attr,)))
                             if isinstance(v, str) and v})
            if not values:
                return False
            if span is None:  # the records' own time range, with Kestrel's 5 minutes
                tr = self.store.time_range(var)
                if tr:
                    span = (_parse_ts(tr[0]) - DEREF_TIME_MARGIN,
                            _parse_ts(tr[1]) + DEREF_TIME_MARGIN)
            mark = len(self._received) if self._received is not None else 0
            try:
                with self.store.atomic():
                    for i in range(0, len(values), PREFETCH_BATCH):
                        cond = ir.Comparison(ir.AttrPath((attr,)), "IN",
                                             tuple(values[i:i + PREFETCH_BATCH]))
                        where = cond if extra is None else ir.And((cond, extra))
                        self._pull(ds, uri, etype, where, span, None)
            except StixgraphError as e:
                if self._received is not None:  # not stored, so not published
                    del self._received[mark:]
                out.append(Message(stmt.pos.line, f"prefetch of {var} from {uri} failed, "
                                                  f"{var} holds what was stored before: {e}"))
                return False
            out.extend(Message(stmt.pos.line, f"prefetch: {n}") for n in ds.notes
                       if n not in {m.text for m in out})
            return True
        finally:
            ds.close()

    def _pull(self, ds, uri: str, etype: str, where, span, limit) -> int:
        """Query ``ds`` and store what it returns; the query's id."""
        from .sources.base import SourceQuery
        from .sources.parallel import SplitFailed

        pattern = _stix_pattern(where, etype, span)
        q = SourceQuery(uri=uri, etype=etype, where=where, stix_pattern=pattern,
                        start=span[0] if span else None, stop=span[1] if span else None,
                        limit=limit)
        stream = None
        try:
            qid = self.store.begin_query(uri, pattern)
            cb = (lambda n: self.progress(uri, n)) if self.progress else None
            # a store that prepares its writes (prepare_chunk) lets a source that can read in
            # child processes (query_prepared) do that work there, overlapping the writes
            prepare = getattr(self.store, "prepare_chunk", None)
            fast = getattr(ds, "query_prepared", None)
            if self._received is not None:  # a publishing GET keeps the observations
                fast = None
            if prepare is not None and fast is not None:
                stream = fast(q, prepare, cb)
            if stream is None:
                stream = ds.query(q, cb)
                if self._received is not None:
                    stream = _keeping(stream, self._received)
            try:
                self.store.ingest(stream, qid)
            except SplitFailed:  # nothing stored (ingest is atomic): read in one part
                stream.close()
                stream = fast(q, prepare, cb, split=False) or ds.query(q, cb)
                self.store.ingest(stream, qid)
        finally:
            close = getattr(stream, "close", None)
            if close is not None:  # stops reader processes when the ingest failed
                close()
        return qid

    def _do_find(self, stmt: ir.Find):
        self.check_type(stmt.etype)
        src = self._var(stmt.var)
        if src.kind == "table":
            raise HuntSemanticError(f"variable {stmt.var} holds a table, not entities")
        hops = None
        if stmt.relation not in RELATION_WORDS:
            raise HuntSemanticError(f"unknown relation {stmt.relation.upper()!r} (use one of: "
                                    + ", ".join(sorted(w.upper() for w in RELATION_WORDS)) + ")")
        if stmt.relation != "linked":
            hops = find_hops(stmt.etype, stmt.relation, src.type, stmt.by)
            if hops is None:
                valid = ", ".join(w.upper() for w in relations_for(stmt.etype, src.type))
                by = " BY" if stmt.by else ""
                raise HuntSemanticError(
                    f"relation {stmt.relation.upper()}{by} is not defined from {src.type} "
                    f"({stmt.var}) to {stmt.etype}; valid here: {valid}")
        where = self._resolve(stmt.where)
        span = self._timespan(stmt.timespan)
        start, stop = (_iso(span[0]), _iso(span[1])) if span else (None, None)
        if where is not stmt.where:
            stmt = replace(stmt, where=where)
        birth = self._birth(stmt, "FIND", inputs=[stmt.var], cached=True)
        info = self.store.find(stmt.out, stmt, src.type, hops, start, stop, birth)
        out: list = []
        if info.entities and self._prefetch(stmt, stmt.out, stmt.etype, src.source, where, span,
                                            out):
            self.store.find(stmt.out, stmt, src.type, hops, start, stop, birth)  # recount
        return out

    def _check_expr(self, expr: ir.VarExpr) -> ir.VarExpr:
        self._var(expr.var)
        where = self._resolve(expr.where)
        return expr if where is expr.where else replace(expr, where=where)

    def _do_assign(self, stmt: ir.Assign):
        expr = self._check_expr(stmt.expr)
        self.store.assign(stmt.out, expr, self._birth(stmt, "ASSIGN", inputs=[expr.var]))

    def _do_sort(self, stmt: ir.Sort):
        self._var(stmt.var)
        self.store.assign(stmt.out, ir.VarExpr(var=stmt.var, sort=stmt.sort),
                          self._birth(stmt, inputs=[stmt.var]))

    def _do_merge(self, stmt: ir.Merge):
        types = {self._var(v).type for v in stmt.vars}
        if len(types) > 1:
            raise HuntSemanticError(f"cannot merge variables of different types: {', '.join(sorted(types))}")
        self.store.merge(stmt.out, stmt.vars, self._birth(stmt, inputs=list(stmt.vars)))

    def _do_group(self, stmt: ir.Group):
        self._var(stmt.var)
        self.store.group(stmt.out, stmt, self._birth(stmt, inputs=[stmt.var]))

    def _do_join(self, stmt: ir.Join):
        self._var(stmt.left)
        self._var(stmt.right)
        self.store.join(stmt.out, stmt, self._birth(stmt, inputs=[stmt.left, stmt.right]))

    def _do_disp(self, stmt: ir.Disp):
        expr = self._check_expr(stmt.expr)
        return [self.store.display(expr, stmt.pos.line)]

    def _do_new(self, stmt: ir.New):
        objs = []
        for i, item in enumerate(stmt.data):
            if isinstance(item, dict):
                etype = item.get("type") or stmt.etype
                if not etype:
                    raise HuntSemanticError(f"NEW item {i + 1} has no type (give NEW a type or a "
                                            f"\"type\" key)")
                objs.append({**item, "type": etype})
            else:
                if not stmt.etype:
                    raise HuntSemanticError("NEW with plain values needs an entity type: NEW type [...]")
                prop = PRIMARY_PROPERTY.get(stmt.etype, "value")
                objs.append({"type": stmt.etype, prop: item})
        self._new_entities(stmt, objs, stmt.etype)

    def _new_entities(self, stmt, objs: list[dict], etype: str | None):
        types = {o["type"] for o in objs}
        if len(types) > 1:
            raise HuntSemanticError(f"items of different types: {', '.join(sorted(types))}")
        if not objs:
            raise HuntSemanticError("no items")
        etype = types.pop()
        self.check_type(etype)
        from .stix.normalize import normalize_objects

        normal = normalize_objects(objs)
        ids = self.store.add_objects(list(normal.values()))
        self.store.get_from_ids(stmt.out, etype, ids, self._birth(stmt))

    def _do_load(self, stmt: ir.Load):
        rows = _read_rows(Path(stmt.path))
        objs = []
        for i, row in enumerate(rows):
            row = {k: v for k, v in row.items() if v not in (None, "")}
            etype = stmt.etype or row.get("type")
            if not etype:
                raise HuntSemanticError(f"{stmt.path}: row {i + 1} has no type (use LOAD ... AS type)")
            objs.append({**row, "type": etype})
        self._new_entities(stmt, objs, stmt.etype)

    def _do_save(self, stmt: ir.Save):
        self._var(stmt.var)
        _write_rows(Path(stmt.path), self.store.records(stmt.var))
        return [Message(stmt.pos.line, f"saved {stmt.var} to {stmt.path}", "info")]

    def _do_info(self, stmt: ir.Info):
        v = self._var(stmt.var)
        cols = v.columns or (self.store.records(stmt.var)[0].keys()
                             if v.entities or v.records else [])
        cols = list(cols)
        rows = [["Entity Type", v.type], ["Number of Entities", v.entities],
                ["Number of Records", v.records],
                ["Entity Attributes", ", ".join(c for c in cols if "." not in c and not c.startswith("x_"))],
                ["Indirect Attributes", ", ".join(c for c in cols if "." in c)],
                ["Customized Attributes", ", ".join(c for c in cols if c.startswith("x_"))],
                ["Birth Command", v.statement.strip()], ["Associated Datasource", v.source or ""],
                ["Dependent Variables", ", ".join(v.inputs)]]
        return [Table(stmt.pos.line, ["INFO", stmt.var], rows)]

    def _do_describe(self, stmt: ir.Describe):
        self._var(stmt.var)
        name = stmt.attr.name
        table = self.store.display(ir.VarExpr(var=stmt.var, attrs=(stmt.attr,)), stmt.pos.line)
        vals = [r[0] for r in table.rows if r and r[0] is not None]
        nums = [v for v in vals if isinstance(v, (int, float)) and not isinstance(v, bool)]
        if vals and len(nums) == len(vals):
            rows = [["count", len(nums)], ["mean", sum(nums) / len(nums)], ["min", min(nums)],
                    ["max", max(nums)]]
        else:
            counts: dict = {}
            for v in vals:
                counts[str(v)] = counts.get(str(v), 0) + 1
            top = max(counts.items(), key=lambda kv: kv[1]) if counts else (None, 0)
            rows = [["count", len(vals)], ["unique", len(counts)], ["top", top[0]], ["freq", top[1]]]
        return [Table(stmt.pos.line, [f"{stmt.var}.{name}", "value"], rows)]

    def _do_apply(self, stmt: ir.Apply):
        """APPLY (stixgraph.analytics.runner): the analytic's attributes are written back in
        this statement's transaction; its display comes back as a Visual."""
        from .analytics.runner import param_text, run_apply

        for v in stmt.vars:
            self._var(v)
        params = {}
        for key, value in stmt.params:
            if isinstance(value, ir.VarAttr):
                value = tuple(self.store.values(value.var, value.attr))
            params[key] = param_text(value)
        said = self.__dict__.setdefault("_apply_notices", set())
        notes: list[str] = []

        def notice(text: str) -> None:  # once per session
            if text not in said:
                said.add(text)
                notes.append(text)

        out = run_apply(self.store, stmt, params, notice)
        return [Message(stmt.pos.line, n, "note") for n in notes] + out

    # -- explain ---------------------------------------------------------------------
    def explain(self, text: str, filename: str = "<hunt>", backend: str | None = None) -> list:
        """The backend queries each statement of a hunt compiles to (nothing runs):
        ``[(statement, [Query, ...]), ...]``.  Variables come from the store and from the
        hunt's earlier statements; each is passed to the store as an :class:`ExplainType` (its
        entity type, with how it is held and its default columns when known).  ``backend``
        ``"arango"`` shows the AQL and bind variables instead of the store's own queries (no
        server needed)."""
        from .lang import parse

        compile_ = self.store.explain
        if backend == "arango":
            from .store import aql

            coll = getattr(self.store, "collection", "default") or "default"
            compile_ = lambda stmt, types: aql.explain(stmt, types, coll)  # noqa: E731
        elif backend not in (None, "sqlite"):
            raise HuntSemanticError(f"unknown backend {backend!r} (sqlite or arango)")

        types: dict[str, ExplainType] = {
            v.name: ExplainType(v.type, v.kind, v.columns) for v in self.store.variables()}
        out = []
        for stmt in parse(text, filename).statements:
            out.append((stmt, compile_(stmt, types)))
            if stmt.output:
                made = ExplainType.of_output(stmt, types)
                if made is not None:  # else the statement fails at run time: nothing rebinds
                    types[stmt.output] = made
        return out


class ExplainType(str):
    """A variable's entity type as :meth:`Session.explain` passes it to a store's ``explain``:
    a plain ``str`` (so a store may use it as the type), plus ``kind`` ('entities',
    'records' or 'table') and ``columns`` (its default DISP columns; None when they are
    decided at run time from the data)."""

    kind: str
    columns: list[str] | None

    def __new__(cls, etype: str, kind: str = "entities", columns=None):
        obj = super().__new__(cls, etype)
        obj.kind = kind or "entities"
        obj.columns = list(columns) if columns else None
        return obj

    @classmethod
    def of_output(cls, stmt: ir.Statement, types: dict) -> "ExplainType | None":
        """What ``stmt`` binds its output to, as running it would; None when it would fail
        for want of an input variable (or bind nothing)."""
        def src(name):
            t = types.get(name)
            return t if isinstance(t, ExplainType) else (cls(t) if t is not None else None)

        def derived(s, transform=None, attrs=None):
            if s is None or s.kind == "table":
                return None
            kind = "records" if transform or s.kind == "records" else "entities"
            return cls(s, kind, [a.name for a in attrs] if attrs else s.columns)

        if isinstance(stmt, ir.Get):
            if stmt.source and "://" not in stmt.source and stmt.source in types:
                s = src(stmt.source)
                return derived(s) if str(s) == stmt.etype else None
            return cls(stmt.etype)
        if isinstance(stmt, ir.Find):
            s = src(stmt.var)
            return None if s is None or s.kind == "table" else cls(stmt.etype)
        if isinstance(stmt, ir.Assign):
            return derived(src(stmt.expr.var), stmt.expr.transform, stmt.expr.attrs)
        if isinstance(stmt, ir.Sort):
            return derived(src(stmt.var))
        if isinstance(stmt, ir.Merge):
            ins = [src(v) for v in stmt.vars]
            if any(i is None for i in ins) or len({str(i) for i in ins}) > 1:
                return None
            return cls(ins[0])
        if isinstance(stmt, ir.Group):
            s = src(stmt.var)
            if s is None:
                return None
            cols = None
            if stmt.aggregates:
                cols = [k.column if isinstance(k, ir.Bin) else k.name for k in stmt.by]
                cols += [a.column for a in stmt.aggregates]
            return cls(s, "table", cols)
        if isinstance(stmt, ir.Join):
            left, right = src(stmt.left), src(stmt.right)
            if left is None or right is None:
                return None
            return cls(left)  # its columns (left's plus right-only ones) depend on the data
        if isinstance(stmt, ir.New):
            etypes = {(d.get("type") if isinstance(d, dict) else None) or stmt.etype
                      for d in stmt.data}
            return cls(etypes.pop()) if len(etypes) == 1 and None not in etypes else None
        if isinstance(stmt, ir.Load):
            return cls(stmt.etype or "?")
        return None


# ---------------------------------------------------------------------------
def _iso(t: datetime) -> str:
    return ir.Timestamp(t.astimezone(timezone.utc)).iso()


def _parse_ts(s: str) -> datetime:
    return datetime.fromisoformat(s.replace("Z", "+00:00"))


def _stix_pattern(where, etype, span) -> str:
    try:
        from .stix.pattern import to_stix_pattern
    except ImportError:  # pragma: no cover
        return ""
    return to_stix_pattern(where, etype, *(span or (None, None)))


def _open_text(path: Path):
    if not path.exists():
        raise HuntSemanticError(f"{path}: no such file")
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path), encoding="utf-8")
    return open(path, encoding="utf-8", newline="")


def _base_suffix(path: Path) -> str:
    return Path(path.stem).suffix.lower() if path.suffix == ".gz" else path.suffix.lower()


def _read_rows(path: Path) -> list[dict]:
    suffix = _base_suffix(path)
    try:
        with _open_text(path) as f:
            if suffix == ".csv":
                return [_typed(row) for row in csv.DictReader(f)]
            if suffix in (".json", ".jsonl", ".ndjson"):
                text = f.read()
                if suffix == ".json":
                    data = json.loads(text)
                    return data if isinstance(data, list) else data.get("objects", [data])
                return [json.loads(line) for line in text.splitlines() if line.strip()]
    except (json.JSONDecodeError, csv.Error, UnicodeDecodeError) as e:
        raise HuntSemanticError(f"{path}: cannot read: {e}") from None
    raise HuntSemanticError(f"{path}: unknown format {suffix!r} (use .csv, .json or .jsonl, "
                            f"optionally .gz)")


def _typed(row: dict) -> dict:
    out = {}
    for k, v in row.items():
        if isinstance(v, str) and v.lstrip("-").isdigit():
            out[k] = int(v)
        else:
            out[k] = v
    return out


def _write_rows(path: Path, rows: list[dict]) -> None:
    suffix = _base_suffix(path)
    opener = (lambda: io.TextIOWrapper(gzip.open(path, "wb"), encoding="utf-8")) \
        if path.suffix == ".gz" else (lambda: open(path, "w", encoding="utf-8", newline=""))
    if suffix == ".csv":
        cols: list[str] = []
        for r in rows:
            cols += [k for k in r if k not in cols]
        with opener() as f:
            w = csv.DictWriter(f, fieldnames=cols)
            w.writeheader()
            w.writerows(rows)
    elif suffix in (".json", ".jsonl", ".ndjson"):
        with opener() as f:
            if suffix == ".json":
                json.dump(rows, f, indent=1)
            else:
                for r in rows:
                    f.write(json.dumps(r) + "\n")
    else:
        raise HuntSemanticError(f"{path}: unknown format {suffix!r} (use .csv, .json or .jsonl)")


def _is_direct(where: ir.Expr | None, etype: str) -> bool:
    """Kestrel: a GET on the identity attribute alone already has every record."""
    attr = PREFETCH_ATTR.get(etype)
    return (isinstance(where, ir.Comparison) and not where.negated
            and where.op in ("=", "IN") and where.path.parts == (attr,)
            and where.path.etype in (None, etype))


def _extended_part(where: ir.Expr | None, etype: str) -> ir.Expr | None:
    """The conjuncts of a GET's WHERE about other types (``x-oca-asset:hostname = ...``),
    which Kestrel keeps in the prefetch query."""
    if where is None:
        return None
    items = where.items if isinstance(where, ir.And) else (where,)
    keep = tuple(i for i in items if _other_types_only(i, etype))
    if not keep:
        return None
    return keep[0] if len(keep) == 1 else ir.And(keep)


def _other_types_only(e: ir.Expr, etype: str) -> bool:
    if isinstance(e, (ir.And, ir.Or)):
        return all(_other_types_only(i, etype) for i in e.items)
    return isinstance(e, ir.Comparison) and e.path.etype not in (None, etype)
