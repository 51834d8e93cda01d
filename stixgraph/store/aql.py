"""The ArangoDB compiler: IR → AQL text plus bind variables (:class:`AqlQuery`).

The AQL counterpart of :mod:`stixgraph.store.sql`, with the same structure (one function per
IR operation) and the same semantics (README "The hunt language and its semantics").  Every
value a user wrote — literals, attribute names, type and variable names, relation properties —
reaches AQL as a bind parameter (``@v0``, ``@v1`` ...; attributes as ``v[@v3]``), collections
as ``@@vertex``, ``@@edge``, ``@@var_rows``.  The AQL text holds no string literal at all:
only keywords, this module's variable names, bind parameters and a few numbers it writes.

Layout (``arango/README.md``), for a store collection ``X``:

* ``X_vertex_collection``: SCOs and observations (STIX ``observed-data``), ``_key`` = STIX id;
* ``X_edge_collection``: one edge per ``*_ref`` value and ``*_refs`` element, with
  ``relationship_type`` (``src_ref`` → ``src``) and ``_ref_name`` (the exact property); an
  observation reaches its objects by ``object_refs`` edges;
* ``X_var_rows``: a variable's rows ``{var, v (vertex _id), obs (observation _id or null), rid}``.

Edges are matched on both ``relationship_type`` (the vertex-centric indexes
``[_from|_to, relationship_type]`` serve it) and ``_ref_name`` (exact: ``belongs_to_ref`` and
``belongs_to_refs`` share the relationship_type ``belongs-to``).

Queries yielding entity sets return ``{v, obs}`` objects (the rows to store, in order);
display and GROUP queries return one array per row.  Nothing here talks to a server.
"""
from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass, field, replace
from datetime import datetime

from .. import ir
from ..errors import HuntSemanticError, StoreError
from ..relations import RELATION_WORDS, Hop, created_hop, hops as find_hops, relations_for
from ..lang.parser import path_parts
from .arango_layout import OBJECT_REFS, collection_names, relationship_type
from .base import (APPLY_EXPLAINED, CREATED_COUNTS, PROCESS_COUNTS_EXPLAINED,
                   PROCESS_FILES_EXPLAINED, TRANSFORM_COLUMNS, auto_aggregate,
                   has_process_activity)
from .sql import _flat, _Group, _top_split, _tree, numeric, sql_tokens

OBS_TYPE = "observed-data"
# the columns a records row (TIMESTAMPED/RECORDS/ADDOBSID) takes from its observation ``o``
OBS_COLUMNS = {"first_observed": "first_observed", "last_observed": "last_observed",
               "number_observed": "number_observed", "observation_id": "id"}
NUMERIC_RE = r"^-?[0-9]+(\.[0-9]+)?$"  # the matcher's numeric strings (stixgraph.stix.match)
MASK_RE = r"^([0-9]|[12][0-9]|3[0-2])$"
UNIT_MS = {"days": 86400000, "hours": 3600000, "minutes": 60000, "seconds": 1000}
NO_LIMIT = 2 ** 53 - 1  # AQL's LIMIT needs a count when only OFFSET is given


# ---------------------------------------------------------------------------
# queries, bind parameters and rendering

@dataclass
class AqlQuery:
    """One compiled query: AQL text, its bind variables (python-arango's ``bind_vars``: a
    collection parameter ``@@edge`` is the key ``"@edge"``), and what it is for.  An empty
    ``text`` is a comment only (a statement that runs no AQL)."""

    text: str
    bind_vars: dict = field(default_factory=dict)
    purpose: str = ""

    def render(self, pretty: bool = False) -> str:
        """Purpose lines as ``//`` comments, the AQL (laid out by :func:`pretty_aql` when
        ``pretty``), then the bind variables (JSON) in order of first appearance."""
        lines = [f"// {line}".rstrip() for line in self.purpose.splitlines()]
        if self.text.strip():
            lines.append(pretty_aql(self.text) if pretty else self.text.strip())
        names = re.findall(r"@(@?\w+)", self.text)
        order = list(dict.fromkeys(n for n in names if n in self.bind_vars))
        order += [k for k in self.bind_vars if k not in order]
        if order:
            lines.append("// bind vars:")
            lines += [f"//   @{k} = {json.dumps(self.bind_vars[k], ensure_ascii=False)}"
                      for k in order]
        return "\n".join(lines)


class Params:
    """Allocates bind parameters (one per distinct value), collection parameters and fresh
    AQL variable names for one query."""

    def __init__(self, collection: str = "default", prefix: str = "v"):
        try:
            self.names = collection_names(collection)
        except ValueError as e:
            raise StoreError(str(e)) from None
        self.collection = collection
        self.values: dict = {}
        self.prefix = prefix
        self._seen: dict = {}
        self._n = 0

    def __call__(self, value) -> str:
        if isinstance(value, datetime):
            value = ir.Timestamp(value)
        if isinstance(value, ir.Timestamp):
            value = value.iso()
        key = (type(value), value)
        if key in self._seen:
            return "@" + self._seen[key]
        name = f"{self.prefix}{len(self._seen)}"
        self.values[name] = list(value) if isinstance(value, tuple) else value
        self._seen[key] = name
        return "@" + name

    def named(self, name: str, value) -> str:
        self.values[name] = value
        return "@" + name

    def coll(self, kind: str) -> str:
        """``@@kind``, bound to the layout's collection of that kind."""
        self.values["@" + kind] = self.names[kind]
        return "@@" + kind

    def fresh(self, prefix: str) -> str:
        self._n += 1
        return f"{prefix}{self._n}"

    def query(self, text: str, purpose: str = "") -> AqlQuery:
        return AqlQuery(text, dict(self.values), purpose)


# ---------------------------------------------------------------------------
# a small AQL pretty-printer on the SQL one's tokens and parenthesis tree (our AQL holds no
# quote, no ``--`` and no ``:name``, so SQL tokens split it where AQL's would)

_CLAUSES = ("FOR", "LET", "FILTER", "SORT", "LIMIT", "COLLECT", "AGGREGATE", "RETURN")
_WIDTH = 100
aql_tokens = sql_tokens


def _inline(items, indent: int, col: int) -> list[str]:
    """Render from column ``col``: the first line continues the current one, later lines are
    complete (indented); a parenthesis that would pass the width is laid out over lines."""
    lines = [""]
    for it in items:
        sep = " " if it.space and (lines[-1] or len(lines) > 1) else ""
        grouped = isinstance(it, _Group)
        text = f"({_flat(it.items)})" if grouped else it.text
        room = _WIDTH - (col if len(lines) == 1 else 0) - len(lines[-1]) - len(sep)
        if grouped and len(text) > room:
            lines[-1] += sep + "("
            lines.extend(_lines(it.items, indent + 2) + [" " * indent + ")"])
        else:
            lines[-1] += sep + text
    return lines


def _lines(items, indent: int) -> list[str]:
    """Complete lines for the inside of a parenthesis (or a whole query): one clause a line
    (nested FORs indented), else one item of a long comma, AND or OR list a line."""
    pad = " " * indent
    if items and getattr(items[0], "up", "") in _CLAUSES:
        out, depth = [], 0
        for word, part in _top_split(items, _CLAUSES)[1:]:
            here = indent + 2 * depth
            long = here + len(word) + 1 + len(_flat(part)) > _WIDTH
            ends = "".join(getattr(x, "text", "") for x in part[:1] + part[-1:])
            if long and ends == "[]":  # RETURN [a, b, ...]: one element a line
                out += [" " * here + f"{word} ["] + _lines(part[1:-1], here + 4) + \
                    [" " * (here + 2) + "]"]
            elif long and len(_top_split(part, (",",))) > 1:
                out += [" " * here + word] + _lines(part, here + 2)
            else:
                sub = _inline(part, here + 2, here + len(word) + 1)
                out += [" " * here + f"{word} {sub[0]}".rstrip()] + sub[1:]
            depth += word == "FOR"
        return out
    for words in ((",",), ("AND", "OR")):
        parts = _top_split(items, words)
        if len(parts) > 1:
            out = []
            for i, (word, part) in enumerate(parts):
                head = f"{word} " if word and word != "," else ""
                sub = _inline(part, indent, indent + len(head))
                sub[0] = pad + head + sub[0]
                out += sub
                if words == (",",) and i < len(parts) - 1:
                    out[-1] += ","
            return out
    sub = _inline(items, indent, indent)
    return [pad + sub[0]] + sub[1:]


def pretty_aql(text: str) -> str:
    """Lay out one of our queries: one clause (FOR, LET, FILTER, SORT, LIMIT, COLLECT,
    RETURN) a line, nested FORs indented, a subquery or list too long for its line broken
    over lines inside its parentheses.  Only whitespace changes."""
    return "\n".join(line.rstrip() for line in _lines(_tree(sql_tokens(text)), 0))


# ---------------------------------------------------------------------------
# attribute values and conditions on one vertex variable (``v`` by default)

def attr(p: Params, base: str, parts) -> str:
    """``base[@a][@b]``: every step a bind parameter (a digit step an array index)."""
    return base + "".join(f"[{p(int(x) if x.isdigit() else x)}]" for x in parts)


def edge_filter(p: Params, e: str, props) -> str:
    """Edge ``e`` is one of the ref properties ``props``."""
    props = tuple(dict.fromkeys(props))
    rts = tuple(dict.fromkeys(relationship_type(x) for x in props))
    rt = f"== {p(rts[0])}" if len(rts) == 1 else f"IN {p(rts)}"
    name = f"== {p(props[0])}" if len(props) == 1 else f"IN {p(props)}"
    return f"{e}.relationship_type {rt} AND {e}._ref_name {name}"


def out_edges(p: Params, start: str, t: str, g: str, props, direction: str = "OUTBOUND") -> str:
    """``FOR t, g IN 1..1 <direction> start @@edge`` along the ref properties ``props``."""
    return (f"FOR {t}, {g} IN 1..1 {direction} {start} {p.coll('edge')} "
            f"FILTER {edge_filter(p, g, props)}")


def holding_obs(p: Params, start: str, o: str, scope=None) -> str:
    """``FOR o ...``: the observations holding vertex ``start`` (within ``scope``, a function
    giving a condition on the observation variable, if given)."""
    out = (f"{out_edges(p, start, o, p.fresh('og'), (OBJECT_REFS,), 'INBOUND')} "
           f"FILTER {o}.type == {p(OBS_TYPE)}")
    return out + (f" FILTER {scope(o)}" if scope else "")


def _exists(body: str) -> str:
    return f"LENGTH({body} LIMIT 1 RETURN 1) > 0"


def _none(body: str) -> str:
    return f"LENGTH({body} LIMIT 1 RETURN 1) == 0"


def _elements(x: str) -> str:
    """A list's elements; a present scalar is a list of itself; null none."""
    return f"(IS_ARRAY({x}) ? {x} : ({x} == null ? [] : [{x}]))"


_AQL_OP = {"=": "==", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


def _typed_cmp(p: Params, x: str, op: str, v) -> str:
    """``x op v`` with the matcher's typing: numbers with numbers and with plain numeric
    strings, strings with strings, booleans with booleans; anything else is false."""
    op = _AQL_OP[op]
    if isinstance(v, ir.Timestamp):
        v = v.iso()
    if type(v) in (int, float):
        return (f"((IS_NUMBER({x}) AND {x} {op} {p(v)}) OR (IS_STRING({x}) AND "
                f"REGEX_TEST({x}, {p(NUMERIC_RE)}) AND TO_NUMBER({x}) {op} {p(v)}))")
    n = numeric(v)
    if n is not None:
        return f"((IS_NUMBER({x}) AND {x} {op} {p(n)}) OR (IS_STRING({x}) AND {x} {op} {p(v)}))"
    if isinstance(v, str):
        return f"(IS_STRING({x}) AND {x} {op} {p(v)})"
    if isinstance(v, bool):
        return f"(IS_BOOL({x}) AND {x} {op} {p(v)})"
    return "false"  # null: nothing compares with it (IS NULL is its own operator)


def _cidr_cond(p: Params, x: str, op: str, v) -> str:
    """ISSUBSET (x inside the literal network) / ISSUPERSET (x contains it), x an IPv4 address
    or CIDR.  AQL has IPv4 functions only (IS_IPV4, IPV4_TO_NUMBER: ArangoDB 3.7.2+)."""
    try:
        net = ipaddress.ip_network(str(v).strip(), strict=False)
    except ValueError:
        raise HuntSemanticError(f"{op} needs an IP address or CIDR, not {v!r}") from None
    if net.version != 4:
        raise StoreError(f"{op} with an IPv6 network is not supported on ArangoDB "
                         f"(AQL has IPv4 address functions only)")
    s, m, b, a = (p.fresh(c) for c in "smba")
    lo, hi, bits = p(int(net.network_address)), p(int(net.broadcast_address)), p(net.prefixlen)
    test = (f"{m} >= {bits} AND {a} >= {lo} AND {a} + {b} - 1 <= {hi}" if op == "ISSUBSET"
            else f"{m} <= {bits} AND {a} <= {lo} AND {a} + {b} - 1 >= {hi}")
    return _exists(
        f"FOR {s} IN [SPLIT({x}, {p('/')})] FILTER IS_STRING({x}) AND IS_IPV4({s}[0]) AND "
        f"(LENGTH({s}) == 1 OR (LENGTH({s}) == 2 AND REGEX_TEST({s}[1], {p(MASK_RE)}))) "
        f"LET {m} = (LENGTH({s}) == 2 ? TO_NUMBER({s}[1]) : 32) LET {b} = POW(2, 32 - {m}) "
        f"LET {a} = IPV4_TO_NUMBER({s}[0]) - IPV4_TO_NUMBER({s}[0]) % {b} FILTER {test}")


def _scalar_cond(p: Params, x: str, c: ir.Comparison) -> str:
    op, v, neg = c.op, c.value, c.negated
    for item in v if isinstance(v, tuple) else (v,):
        if isinstance(item, ir.VarAttr):
            raise StoreError(f"{item} must be resolved to its values before compiling")
    if op == "IS NULL":
        return f"{x} != null" if neg else f"{x} == null"
    if op in ("=", "!=") and isinstance(v, tuple):
        op, neg = "IN", neg != (op == "!=")
    if op in ("=", "!="):
        cond, neg = _typed_cmp(p, x, "=", v), neg != (op == "!=")
    elif op in _AQL_OP:
        cond = _typed_cmp(p, x, op, v)
    elif op == "IN":
        vals = v if isinstance(v, tuple) else (v,)
        cond = "(" + " OR ".join(_typed_cmp(p, x, "=", i) for i in vals) + ")" if vals else "false"
    elif op == "LIKE":  # case-sensitive, whole string; AQL's escape character made literal
        pattern = p(str(v).replace("\\", "\\\\"))
        cond = f"((IS_STRING({x}) OR IS_NUMBER({x})) AND TO_STRING({x}) LIKE {pattern})"
    elif op == "MATCHES":
        try:
            re.compile(str(v))
        except re.error as e:
            raise HuntSemanticError(f"invalid regular expression {v!r}: {e}") from None
        cond = f"((IS_STRING({x}) OR IS_NUMBER({x})) AND REGEX_TEST(TO_STRING({x}), {p(str(v))}))"
    else:
        cond = _cidr_cond(p, x, op, v)
    return f"({x} != null AND NOT ({cond}))" if neg else cond


def _split_ref(parts):
    """Split a path at its first reference step: (head_ref, rest) or (None, parts)."""
    for i, part in enumerate(parts[:-1]):
        if part.endswith(("_ref", "_refs")):
            rest = parts[i + 1:]
            return parts[: i + 1], rest[1:] if rest[:1] == ("*",) else rest
    return None, parts


def value_expr(p: Params, alias: str, parts) -> str:
    """AQL giving the value of a path on vertex ``alias`` (first target of a ref, by key)."""
    head, rest = _split_ref(tuple(parts))
    if head is None or len(head) > 1:  # a ref nested in an object is read as it is (rare)
        return attr(p, alias, ["0" if x == "*" else x for x in parts])
    t = p.fresh("t")
    return (f"FIRST({out_edges(p, alias, t, p.fresh('g'), head)} SORT {t}._key LIMIT 1 "
            f"RETURN {value_expr(p, t, rest)})")


def entity_cond(p: Params, alias: str, c: ir.Comparison, parts=None) -> str:
    """A condition on vertex ``alias``: a ref path holds for SOME target, ``[*]`` and a list
    compared without it for SOME element (the matcher's meaning)."""
    parts = c.path.parts if parts is None else parts
    head, rest = _split_ref(parts)
    if head is not None and len(head) == 1:
        t = p.fresh("t")
        walk = out_edges(p, alias, t, p.fresh("g"), head)
        if c.op == "IS NULL" and not c.negated:  # no target has the attribute
            return _none(f"{walk} FILTER {entity_cond(p, t, replace(c, negated=True), rest)}")
        return _exists(f"{walk} FILTER {entity_cond(p, t, c, rest)}")
    if "*" in parts:
        i = parts.index("*")
        if "*" in parts[i + 1:]:
            raise StoreError(f"the path {c.path} has two [*] steps: not supported on ArangoDB")
        el = p.fresh("l")
        return _exists(f"FOR {el} IN {_elements(attr(p, alias, parts[:i]))} "
                       f"FILTER {_scalar_cond(p, attr(p, el, parts[i + 1:]), c)}")
    x = attr(p, alias, parts)
    if c.op == "IS NULL" or parts in (("id",), ("type",)):
        return _scalar_cond(p, x, c)
    el = p.fresh("l")
    return _exists(f"FOR {el} IN {_elements(x)} FILTER {_scalar_cond(p, el, c)}")


def where_cond(p: Params, expr: ir.Expr | None, centre: str, alias: str = "v", scope=None,
               records: bool = False) -> str:
    """WHERE on vertices of type ``centre``.  A comparison on another type holds when an
    observation holding the vertex (within ``scope``) also holds an object of that type
    satisfying it.  With ``records``, ``o`` is the row's observation and ``first_observed``
    etc. are its attributes."""
    if expr is None:
        return "true"
    if not isinstance(expr, ir.Comparison):
        conds = [where_cond(p, i, centre, alias, scope, records) for i in expr.items]
        return "(" + (" AND " if isinstance(expr, ir.And) else " OR ").join(conds) + ")"
    etype, name = expr.path.etype, expr.path.name
    if etype in (None, centre) and records and name in OBS_COLUMNS:
        return _scalar_cond(p, f"o.{OBS_COLUMNS[name]}", expr)
    if etype is None or etype == centre:
        return entity_cond(p, alias, expr)
    o, x = p.fresh("o"), p.fresh("x")
    return _exists(f"{holding_obs(p, alias, o, scope)} "
                   f"{out_edges(p, o, x, p.fresh('xg'), (OBJECT_REFS,))} "
                   f"FILTER {x}.type == {p(etype)} FILTER {entity_cond(p, x, expr)}")


def time_scope(p: Params, start, stop):
    """Observations whose [first_observed, last_observed] overlaps [start, stop)."""
    return lambda o: f"({o}.first_observed < {p(stop)} AND {o}.last_observed >= {p(start)})"


def _filters(*conds: str) -> str:
    return "".join(f" FILTER {c}" for c in conds if c not in ("", "true"))


def where_filters(p: Params, expr, centre: str, **kw) -> str:
    """`` FILTER ...`` clauses for WHERE: one per item of a top-level AND."""
    items = expr.items if isinstance(expr, ir.And) else (expr,)
    return _filters(*(where_cond(p, i, centre, **kw) for i in items))


# ---------------------------------------------------------------------------
# statements producing entity sets: each returns {v, obs} rows in order

def var_rows(p: Params, var: str, records: bool = False) -> str:
    """A variable's rows ``r`` with their vertex ``v`` (and observation ``o``, or null)."""
    out = (f"FOR r IN {p.coll('var_rows')} FILTER r.var == {p(var)} LET v = DOCUMENT(r.v)")
    return out + (" LET o = (r.obs == null ? null : DOCUMENT(r.obs))" if records else "")


def record_rows(p: Params, var: str) -> str:
    """One row per (entity of ``var``, observation ``o`` holding it)."""
    return f"{var_rows(p, var)} {holding_obs(p, 'r.v', 'o')}"


def limit_clause(p: Params, limit, offset=None) -> str:
    if limit is None and offset is None:
        return ""
    count = p(NO_LIMIT if limit is None else int(limit))
    return f" LIMIT {p(int(offset or 0))}, {count}" if offset else f" LIMIT {count}"


def _found(p: Params, sources: list[str], rtype: str, where, scope, extra: str = "",
           limit=None) -> str:
    """The vertices whose ``_id``s the subqueries ``sources`` return, filtered, by key."""
    if not sources:
        raise HuntSemanticError("no edge answers this relation")
    found = (f"({sources[0]})" if len(sources) == 1
             else "UNION_DISTINCT(" + ", ".join(f"({s})" for s in sources) + ")")
    return (f"FOR id IN {found} LET v = DOCUMENT(id)"
            f"{where_filters(p, where, rtype, scope=scope)}{_filters(extra)} SORT v._key"
            f"{limit_clause(p, limit)} RETURN {{v: v._id, obs: null}}")


def select_find(p: Params, rtype: str, relation: str, var: str, hops: list[Hop] | None,
                where, start=None, stop=None, limit=None) -> str:
    """FIND: one query over all of ``var``'s rows.  Each hop is a 1-step traversal (OUTBOUND
    when the edge leaves the input entity); LINKED goes through the observations holding it."""
    scope = time_scope(p, start, stop) if start is not None else None
    sources = []
    if relation == "linked":
        r, o, v = p.fresh("r"), p.fresh("o"), p.fresh("n")
        sources.append(
            f"FOR {r} IN {p.coll('var_rows')} FILTER {r}.var == {p(var)} "
            f"{holding_obs(p, f'{r}.v', o, scope)} "
            f"{out_edges(p, o, v, p.fresh('g'), (OBJECT_REFS,))} "
            f"FILTER {v}.type == {p(rtype)} RETURN DISTINCT {v}._id")
    for hop in (hops or ()) if relation != "linked" else ():
        r, v = p.fresh("r"), p.fresh("n")
        way = "OUTBOUND" if hop.from_input else "INBOUND"
        sources.append(
            f"FOR {r} IN {p.coll('var_rows')} FILTER {r}.var == {p(var)} "
            f"{out_edges(p, f'{r}.v', v, p.fresh('g'), hop.props, way)} "
            f"FILTER {v}.type == {p(rtype)} RETURN DISTINCT {v}._id")
    extra = _exists(holding_obs(p, "v", p.fresh("o"), scope)) if scope and relation != "linked" \
        else "true"
    return _found(p, sources, rtype, where, scope, extra, limit)


def select_get_from_observations(p: Params, etype: str, where, obs_param: str) -> str:
    """GET from a data source: the ``etype`` objects of the observations it brought in
    (``obs_param``: a bind parameter holding their ``_id``s); another type's comparison looks
    among those observations only."""
    n = p.fresh("n")
    src = (f"FOR oid IN {obs_param} {out_edges(p, 'oid', n, p.fresh('g'), (OBJECT_REFS,))} "
           f"FILTER {n}.type == {p(etype)} RETURN DISTINCT {n}._id")
    return _found(p, [src], etype, where, lambda o: f"{o}._id IN {obs_param}")


def sort_clause(p: Params, sort: ir.SortSpec | None, records: bool, tail: str = "r.rid") -> str:
    """SORT by an attribute (missing values last either way, as pandas), then ``tail``."""
    if sort is None:
        return f" SORT {tail}"
    col = sort.attr.name
    x = f"o.{OBS_COLUMNS[col]}" if records and col in OBS_COLUMNS else \
        value_expr(p, "v", sort.attr.parts)
    return (f" LET sk = {x} SORT sk == null, sk {'DESC' if sort.descending else 'ASC'}, {tail}")


def select_filter_var(p: Params, var: str, etype: str, where, scope=None, records: bool = False,
                      sort: ir.SortSpec | None = None) -> str:
    """A variable's rows that satisfy ``where``, in order (GET from a variable, assign)."""
    return (f"{var_rows(p, var, records)}"
            f"{where_filters(p, where, etype, scope=scope, records=records)}"
            f"{sort_clause(p, sort, records)} RETURN {{v: r.v, obs: r.obs, data: r.data}}")


def select_records(p: Params, var: str, etype: str, where=None, sort=None) -> str:
    """TIMESTAMPED/RECORDS/ADDOBSID of an entities variable: one row per (entity,
    observation holding it), by first_observed unless sorted."""
    tail = "o.first_observed, r.rid, o._id" if sort is None else "r.rid, o._id"
    return (f"{record_rows(p, var)}{where_filters(p, where, etype, records=True)}"
            f"{sort_clause(p, sort, True, tail)} RETURN {{v: r.v, obs: o._id}}")


def select_assign(p: Params, expr: ir.VarExpr, etype: str, kind: str) -> tuple[str, str]:
    """``out = [TRANSFORM(]var[)] WHERE ... SORT ... LIMIT ... OFFSET ...``: (AQL, kind)."""
    if kind == "table":
        raise HuntSemanticError(f"variable {expr.var} holds a GROUP/JOIN table, not entities")
    records = expr.transform is not None or kind == "records"
    if expr.transform and kind != "records":
        text = select_records(p, expr.var, etype, expr.where, expr.sort)
    else:
        text = select_filter_var(p, expr.var, etype, expr.where, records=records, sort=expr.sort)
    head, ret = text.rsplit(" RETURN ", 1)
    return f"{head}{limit_clause(p, expr.limit, expr.offset)} RETURN {ret}", \
        ("records" if records else "entities")


def select_merge(p: Params, names) -> str:
    """``a + b + ...``: each entity once, in order of first appearance."""
    vars_ = p(tuple(names))
    return (f"FOR r IN {p.coll('var_rows')} FILTER r.var IN {vars_} "
            f"LET k = POSITION({vars_}, r.var, true) * 1000000000000 + r.rid "
            f"COLLECT id = r.v AGGREGATE first = MIN(k) SORT first RETURN {{v: id, obs: null}}")


# ---------------------------------------------------------------------------
# rows of values: display, GROUP, var.attr values, time range

def column_expr(p: Params, col: str, parts, records: bool, data=frozenset()) -> str:
    """A display column: an observation attribute of a records row, a column a JOIN stored
    with the row (``data``), or a path of ``v``."""
    if records and col in OBS_COLUMNS:
        return f"o.{OBS_COLUMNS[col]}"
    if col in data:
        return f"r.data[{p(col)}]"
    return value_expr(p, "v", parts)


def select_display(p: Params, var: str, etype: str, columns, where, sort, records: bool,
                   per_observation: bool = False, data=frozenset()) -> str:
    """DISP: one array per row (``columns``: (name, path parts)).  With ``per_observation``
    (a transform of an entities variable) one row per (entity, observation).  Repeated rows,
    OFFSET and LIMIT are left to the caller, as on SQLite.  ``data``: the columns a JOIN
    stored with the rows."""
    if per_observation:
        tail = "o.first_observed, r.rid, o._id" if sort is None else "r.rid, o._id"
        head = f"{record_rows(p, var)}{where_filters(p, where, etype, records=True)}"
        order = sort_clause(p, sort, True, tail)
    else:
        head = f"{var_rows(p, var, records)}{where_filters(p, where, etype, records=records)}"
        order = sort_clause(p, sort, records)
    cols = ", ".join(column_expr(p, n, parts, records or per_observation, data)
                    for n, parts in columns)
    return f"{head}{order} RETURN [{cols}]"


def bin_expr(p: Params, x: str, size: int, unit: str | None) -> str:
    """BIN: numbers truncated to a multiple of ``size`` (as SQLite's CAST); timestamps floored
    to ``size`` units, as ``YYYY-MM-DDTHH:MM:SSZ``."""
    if unit is None:
        n, s = f"TO_NUMBER({x})", p(size)
        return f"({x} == null ? null : ({n} < 0 ? CEIL({n} / {s}) : FLOOR({n} / {s})) * {s})"
    ms, t = p(size * UNIT_MS[unit]), f"DATE_TIMESTAMP({x})"
    return (f"((IS_STRING({x}) AND {t} != null) ? "
            f"DATE_FORMAT(FLOOR({t} / {ms}) * {ms}, {p('%yyyy-%mm-%ddT%hh:%ii:%ssZ')}) : null)")


AGGREGATES = {  # FUNC: (row value from x, AGGREGATE call on it, result from the aggregate)
    "MIN": ("{}", "MIN({})", "{}"), "MAX": ("{}", "MAX({})", "{}"),
    "SUM": ("{}", "SUM({})", "{}"), "AVG": ("{}", "AVERAGE({})", "{}"),
    "COUNT": ("({} == null ? 0 : 1)", "SUM({})", "{}"),  # SQL's COUNT(x): non-null values
    "NUNIQUE": ("{}", "UNIQUE({})", "LENGTH(REMOVE_VALUE({}, null))"),  # COUNT(DISTINCT x)
}


def select_group(p: Params, var: str, keys, aggs, records: bool) -> str:
    """GROUP: keys (column, AQL over ``v``/``o``), aggs (column, FUNC, AQL): one array per
    group, keys first, in key order."""
    lets = [f"LET kx{i} = {e}" for i, (_, e) in enumerate(keys)]
    lets += [f"LET ax{i} = " + AGGREGATES[f][0].format(e) for i, (_, f, e) in enumerate(aggs)]
    collect = "COLLECT " + ", ".join(f"k{i} = kx{i}" for i in range(len(keys)))
    if aggs:
        collect += " AGGREGATE " + ", ".join(f"a{i} = " + AGGREGATES[f][1].format(f"ax{i}")
                                             for i, (_, f, _) in enumerate(aggs))
    out = [f"k{i}" for i in range(len(keys))]
    out += [AGGREGATES[f][2].format(f"a{i}") for i, (_, f, _) in enumerate(aggs)]
    return (f"{var_rows(p, var, records)} {' '.join(lets)} {collect} "
            f"SORT {', '.join(f'k{i}' for i in range(len(keys)))} RETURN [{', '.join(out)}]")


def group_columns(p: Params, stmt: ir.Group, records: bool):
    """GROUP's keys [(column, AQL)] and WITH aggregates [(column, FUNC, AQL)]."""
    keys = []
    for k in stmt.by:
        a = k.attr if isinstance(k, ir.Bin) else k
        x = column_expr(p, a.name, a.parts, records)
        keys.append((k.column, bin_expr(p, x, k.size, k.unit)) if isinstance(k, ir.Bin)
                    else (k.name, x))
    aggs = [(a.column, a.func, column_expr(p, a.attr.name, a.attr.parts, records))
            for a in stmt.aggregates]
    return keys, aggs


def auto_aggregates(p: Params, etype: str, column_types, records: bool):
    """GROUP without WITH: one aggregate per attribute (``column_types``: the rows of
    :func:`select_column_types`), id and type left out, as on SQLite."""
    numeric: dict[str, bool] = {}
    for col, t in column_types:
        if col not in ("id", "type") and not col.startswith("_"):
            numeric[col] = numeric.get(col, True) and t == "number"
    aggs = []
    for col, num in numeric.items():
        func, name = auto_aggregate(etype, col, num)
        aggs.append((name, func, column_expr(p, col, (col,), records)))
    return aggs


def select_column_types(p: Params, var: str) -> str:
    """(attribute name, AQL TYPENAME) pairs over a variable's entities, first seen first."""
    return (f"{var_rows(p, var)} LET ks = ATTRIBUTES(v, true, false) FOR k IN ks "
            f"COLLECT key = k, t = TYPENAME(v[k]) "
            f"AGGREGATE first = MIN(r.rid * 1048576 + POSITION(ks, k, true)) "
            f"SORT first RETURN [key, t]")


def select_table_rows(p: Params, var: str) -> str:
    """A GROUP table's rows (objects), in order."""
    return f"FOR r IN {p.coll('var_rows')} FILTER r.var == {p(var)} SORT r.rid RETURN r.data"


def select_data_columns(p: Params, var: str) -> str:
    """The columns a JOIN stored with a variable's rows."""
    return (f"FOR r IN {p.coll('var_rows')} FILTER r.var == {p(var)} AND r.data != null "
            f"FOR k IN ATTRIBUTES(r.data) RETURN DISTINCT k")


def select_join(p: Params, stmt: ir.Join, extra: list[str]) -> str:
    """JOIN: each left row whose attribute equals (same type and value, not null) a right
    row's, once per matching right row, in (left, right) order; the right row's ``extra``
    columns are stored in the row's ``data``.  The right side is read once into an object
    keyed by the JSON of each value, so the join is linear, not left x right."""
    la = stmt.left_attr or ir.AttrPath(("id",))
    ra = stmt.right_attr or ir.AttrPath(("id",))
    right = (f"FOR w IN {p.coll('var_rows')} FILTER w.var == {p(stmt.right)} "
             f"LET f = DOCUMENT(w.v) LET rx = {value_expr(p, 'f', ra.parts)} FILTER rx != null "
             f"COLLECT rk = JSON_STRINGIFY(rx) INTO g = {{rid: w.rid, d: {{"
             + ", ".join(f"[{p(c)}]: {value_expr(p, 'f', path_parts(c))}" for c in extra)
             + "}} RETURN {[rk]: g}")
    return (f"LET rights = MERGE(APPEND([{{}}], ({right}))) "
            f"FOR r IN {p.coll('var_rows')} FILTER r.var == {p(stmt.left)} "
            f"LET v = DOCUMENT(r.v) LET lx = {value_expr(p, 'v', la.parts)} FILTER lx != null "
            f"FOR m IN (rights[JSON_STRINGIFY(lx)] || []) SORT r.rid, m.rid "
            f"RETURN {{v: r.v, obs: null, data: m.d}}")


def select_observations_of(p: Params, var: str) -> str:
    """Every observation holding an entity of ``var``, with its objects: [observation,
    [object, ...]] rows, by observation key."""
    return (f"FOR o IN (FOR e IN (FOR r IN {p.coll('var_rows')} FILTER r.var == {p(var)} "
            f"RETURN DISTINCT r.v) {holding_obs(p, 'e', 'h')} RETURN DISTINCT h) SORT o._key "
            f"RETURN [o, ({out_edges(p, 'o', 'x', 'g', (OBJECT_REFS,))} RETURN x)]")


def select_values(p: Params, var: str, parts) -> str:
    """Distinct non-null values of an attribute over a variable (``var.attr``)."""
    return (f"{var_rows(p, var)} LET x = {value_expr(p, 'v', parts)} FILTER x != null "
            f"RETURN DISTINCT x")


def select_time_range(p: Params, var: str) -> str:
    """[earliest first_observed, latest last_observed] of the observations holding ``var``."""
    return (f"{record_rows(p, var)} COLLECT AGGREGATE lo = MIN(o.first_observed), "
            f"hi = MAX(o.last_observed) RETURN [lo, hi]")


def select_column_keys(p: Params, var: str) -> str:
    """The attribute names of a variable's entities (system attributes left out), sorted."""
    return f"{var_rows(p, var)} FOR k IN ATTRIBUTES(v, true, true) RETURN DISTINCT k"


def _var_entities(p: Params, var: str) -> str:
    """The distinct vertex ``_id``s of ``var``'s rows."""
    return f"(FOR r IN {p.coll('var_rows')} FILTER r.var == {p(var)} RETURN DISTINCT r.v)"


def select_process_counts(p: Params, var: str) -> str:
    """[process id, then for each type of :data:`~stixgraph.store.base.CREATED_COUNTS` how
    many of it the process CREATED] for every process of ``var``: what ``FIND network-traffic
    CREATED BY var`` and ``FIND process CREATED BY var`` walk, counted per process."""
    lets, names = [], []
    for i, (_, rtype) in enumerate(CREATED_COUNTS):
        hop = created_hop(rtype)
        way = "OUTBOUND" if hop.from_input else "INBOUND"
        t, g = p.fresh("t"), p.fresh("g")
        names.append(f"n{i}")
        lets.append(f"LET n{i} = LENGTH({out_edges(p, 'e', t, g, hop.props, way)} "
                    f"FILTER {t}.type == {p(rtype)} RETURN DISTINCT {t}._id)")
    return (f"FOR e IN {_var_entities(p, var)} LET v = DOCUMENT(e) "
            f"FILTER v.type == {p('process')} {' '.join(lets)} "
            f"SORT v.id RETURN [v.id, {', '.join(names)}]")


def select_process_file_events(p: Params, var: str) -> str:
    """[process id, event code, action, module, provider, file name, directory path] for each
    event (x-oca-event) whose process_ref is a process of ``var`` and whose file_ref is a file
    other than that process's image (binary_ref), in event time order."""
    return (f"FOR e IN {_var_entities(p, var)} LET v = DOCUMENT(e) "
            f"FILTER v.type == {p('process')} "
            f"LET bins = ({out_edges(p, 'e', 'b', 'gb', ('binary_ref',))} RETURN b._id) "
            f"{out_edges(p, 'e', 'ev', 'gp', ('process_ref',), 'INBOUND')} "
            f"FILTER ev.type == {p('x-oca-event')} "
            f"{out_edges(p, 'ev', 'f', 'gf', ('file_ref',))} "
            f"FILTER f.type == {p('file')} AND f._id NOT IN bins "
            f"LET dir = FIRST({out_edges(p, 'f', 'd', 'gd', ('parent_directory_ref',))} "
            f"SORT d._key LIMIT 1 RETURN d.path) "
            f"SORT v.id, ev.created, ev.id, f.id "
            f"RETURN [v.id, ev.code, ev.action, ev.module, ev.provider, f.name, dir]")


# ---------------------------------------------------------------------------
# explain: the queries a statement compiles to (what ``stixgraph explain`` prints)

def _var(input_types, name: str, table_ok: bool = True):
    t = input_types.get(name)
    if t is None:
        raise HuntSemanticError(f"unknown variable {name!r}")
    kind = getattr(t, "kind", "entities") or "entities"
    if not table_ok and kind == "table":
        raise HuntSemanticError(f"variable {name} holds a GROUP/JOIN table, not entities")
    return str(t), kind, getattr(t, "columns", None)


def _resolve_refs(expr, input_types, collection: str):
    """``var.attr`` values in WHERE: the queries reading their values (run first) and the
    WHERE with each comparison holding one given placeholder values."""
    pre: list[AqlQuery] = []
    resolved = {}
    for c in ir.comparisons(expr):
        items = c.value if isinstance(c.value, tuple) else (c.value,)
        refs = [i for i in items if isinstance(i, ir.VarAttr)]
        for ref in refs:
            _var(input_types, ref.var)
            p = Params(collection)
            pre.append(p.query(select_values(p, ref.var, ref.attr.parts),
                               f"values of {ref}, read before the statement runs"))
        if refs:
            vals = tuple(f"<values of {i}>" if isinstance(i, ir.VarAttr) else i for i in items)
            op, neg = c.op, c.negated
            if op in ("=", "!="):  # one value compares with =, several with IN
                op, neg = "IN", neg != (op == "!=")
            one = op != "IN" and len(vals) == 1
            resolved[id(c)] = replace(c, op=op, value=vals[0] if one else vals, negated=neg)
    return _substitute(expr, resolved), pre


def _substitute(expr, resolved: dict):
    if isinstance(expr, (ir.And, ir.Or)):
        return type(expr)(tuple(_substitute(i, resolved) for i in expr.items))
    return resolved.get(id(expr), expr)


def _span(timespan):
    if isinstance(timespan, ir.TimeRange):
        return ir.Timestamp(timespan.start).iso(), ir.Timestamp(timespan.stop).iso()
    if isinstance(timespan, ir.LastSpan):
        return f"<now - {timespan.amount} {timespan.unit}>", "<now>"
    return None, None


def _explain_find(stmt: ir.Find, types, title, coll):
    etype, _, _ = _var(types, stmt.var, table_ok=False)
    if stmt.relation not in RELATION_WORDS:
        raise HuntSemanticError(f"unknown relation {stmt.relation.upper()!r}")
    notes, hops = [title], None
    if stmt.relation == "linked":
        notes.append(f"LINKED: {stmt.etype} objects in the same observations as {stmt.var}'s")
    else:
        hops = find_hops(stmt.etype, stmt.relation, etype, stmt.by)
        if hops is None:
            valid = ", ".join(w.upper() for w in relations_for(stmt.etype, etype))
            raise HuntSemanticError(
                f"relation {stmt.relation.upper()}{' BY' if stmt.by else ''} is not defined from "
                f"{etype} ({stmt.var}) to {stmt.etype}; valid here: {valid}")
        notes += [f"edge: {stmt.var} --{'|'.join(h.props)}--> result" if h.from_input
                  else f"edge: result --{'|'.join(h.props)}--> {stmt.var}" for h in hops]
    where, pre = _resolve_refs(stmt.where, types, coll)
    start, stop = _span(stmt.timespan)
    if isinstance(stmt.timespan, ir.LastSpan):
        notes.append("LAST: start and stop come from the clock at run time")
    p = Params(coll)
    text = select_find(p, stmt.etype, stmt.relation, stmt.var, hops, where, start, stop, stmt.limit)
    return pre + [p.query(text, "\n".join(notes))]


def _explain_get(stmt: ir.Get, types, title, coll):
    where, pre = _resolve_refs(stmt.where, types, coll)
    p = Params(coll)
    if stmt.source and "://" not in stmt.source and stmt.source in types:
        etype, kind, _ = _var(types, stmt.source, table_ok=False)
        if etype != stmt.etype:
            raise HuntSemanticError(f"variable {stmt.source} holds {etype}, not {stmt.etype}")
        text, _ = select_assign(p, ir.VarExpr(var=stmt.source, where=where, limit=stmt.limit),
                                etype, kind)
        return pre + [p.query(text, f"{title}\nGET from variable {stmt.source}: a filter of "
                                    f"its rows, nothing is fetched")]
    if pre and stmt.timespan is None:  # the pattern's START/STOP: the referenced variables'
        for var in dict.fromkeys(i.var for c in ir.comparisons(stmt.where)  # time ±5 minutes
                                 for i in (c.value if isinstance(c.value, tuple) else (c.value,))
                                 if isinstance(i, ir.VarAttr)):
            q = Params(coll)
            pre.append(q.query(select_time_range(q, var), f"time range of {var}'s observations "
                                                          f"(for GET's time range)"))
    obs = p.named("obs_ids", "<the _ids of the observations the data source returned>")
    text = select_get_from_observations(p, stmt.etype, where, obs)
    return pre + [p.query(text, f"{title}\nthe data source receives the STIX pattern (as on "
                                f"SQLite); its observations are stored; then the variable is:")]


def _explain_varexpr(expr: ir.VarExpr, types, title, coll, out):
    etype, kind, _ = _var(types, expr.var, table_ok=False)
    where, pre = _resolve_refs(expr.where, types, coll)
    p = Params(coll)
    text, kind = select_assign(p, replace(expr, where=where), etype, kind)
    return pre + [p.query(text, f"{title}\n{out} holds {kind}")]


def _explain_group(stmt: ir.Group, types, title, coll):
    _, kind, _ = _var(types, stmt.var, table_ok=False)
    records, p, pre = kind == "records", Params(coll), []
    keys, aggs = group_columns(p, stmt, records)
    notes = [title]
    if not aggs:
        q = Params(coll)
        pre.append(q.query(select_column_types(q, stmt.var),
                           f"GROUP without WITH: the attribute names of {stmt.var}"))
        aggs = [("<aggregate>_<column>", "NUNIQUE", column_expr(p, "<column>", ("<column>",),
                                                                records))]
        notes.append("one aggregate per attribute found above, chosen as on SQLite; shown with "
                     "one placeholder column")
    notes.append("columns: " + ", ".join([k for k, _ in keys] + [a for a, _, _ in aggs]))
    notes.append(f"the rows are stored as {stmt.out}'s table rows (X_var_rows data)")
    return pre + [p.query(select_group(p, stmt.var, keys, aggs, records), "\n".join(notes))]


def _explain_display(expr: ir.VarExpr, types, title, coll, notes=()):
    etype, kind, columns = _var(types, expr.var)
    notes = [title, *notes]
    if kind == "table":
        if expr.where is not None:
            raise HuntSemanticError("WHERE on a GROUP result is not supported; filter before GROUP")
        p = Params(coll)
        cols = [a.name for a in expr.attrs] if expr.attrs else columns
        notes.append(f"{expr.var} is a table: columns "
                     + (", ".join(cols) if cols else "decided when it was made")
                     + (" (each must be one of its columns)" if expr.attrs else ""))
        if expr.sort is not None or expr.limit is not None or expr.offset is not None:
            notes.append("SORT BY, LIMIT and OFFSET are applied to the rows by the caller")
        return [p.query(select_table_rows(p, expr.var), "\n".join(notes))]
    where, pre = _resolve_refs(expr.where, types, coll)
    if expr.attrs:
        bad = [a for a in expr.attrs if a.etype and a.etype != etype]
        if bad:
            raise HuntSemanticError(f"attribute {bad[0]} does not belong to {etype}")
        names = [a.name for a in expr.attrs]
    elif columns:
        names = list(columns)
    else:
        q = Params(coll)
        pre.append(q.query(select_column_keys(q, expr.var),
                           f"the attribute names of {expr.var}'s entities"))
        names = ["id", "<column>"]
        notes.append("without ATTR the columns come from the data (shown with a placeholder)")
    paths = {a.name: a.parts for a in expr.attrs or ()}
    prefix = TRANSFORM_COLUMNS.get(expr.transform or "", [])
    names = prefix + [n for n in names if n not in prefix]
    cols = [(n, paths.get(n) or path_parts(n)) for n in names]
    p = Params(coll)
    text = select_display(p, expr.var, etype, cols, where, expr.sort,
                          expr.transform is not None or kind == "records",
                          per_observation=bool(expr.transform) and kind != "records")
    notes += ["columns: " + ", ".join(names),
              "repeated rows are dropped by the caller, then OFFSET and LIMIT"]
    return pre + [p.query(text, "\n".join(notes))]


def _comment(text):
    return [AqlQuery("", {}, text)]


def explain(stmt: ir.Statement, input_types: dict, collection: str = "default") -> list[AqlQuery]:
    """The AQL ``stmt`` compiles to, without running anything.  ``input_types`` maps each
    variable defined so far to its entity type (a ``str``, optionally with ``kind`` and
    ``columns``, as :class:`stixgraph.session.ExplainType`).  A statement that would fail
    explains as a comment giving the reason; one this compiler does not handle yet says so."""
    title = f"{stmt.kind} (line {stmt.pos.line})"
    c = collection
    handlers = {
        ir.Find: lambda s: _explain_find(s, input_types, title, c),
        ir.Get: lambda s: _explain_get(s, input_types, title, c),
        ir.Assign: lambda s: _explain_varexpr(s.expr, input_types, title, c, s.out),
        ir.Sort: lambda s: _explain_varexpr(ir.VarExpr(var=s.var, sort=s.sort), input_types,
                                            title, c, s.out),
        ir.Merge: lambda s: _explain_merge(s, input_types, title, c),
        ir.Group: lambda s: _explain_group(s, input_types, title, c),
        ir.Disp: lambda s: _explain_display(s.expr, input_types, title, c),
        ir.Describe: lambda s: _explain_display(ir.VarExpr(var=s.var, attrs=(s.attr,)),
                                                input_types, title, c,
                                                ["statistics are computed over these values"]),
        ir.Save: lambda s: _explain_display(ir.VarExpr(var=s.var), input_types, title, c,
                                            [f"the rows written to {s.path}"]),
        ir.Info: lambda s: _explain_display(ir.VarExpr(var=s.var), input_types, title, c,
                                            ["INFO reads the variable's document in "
                                             f"{collection_names(c)['variables']}; its attributes come from:"]),
        ir.New: lambda s: _comment(f"{title}\nno query: the items become vertices (and edges) "
                                   f"with deterministic ids; {s.out}'s rows are their _ids"),
        ir.Load: lambda s: _comment(f"{title}\nno query: {s.path} is read and stored as NEW "
                                    f"stores items; {s.out}'s rows are their _ids"),
        ir.Join: lambda s: _explain_join(s, input_types, title, c),
        ir.Apply: lambda s: _explain_apply(s, input_types, title, c),
    }
    try:
        return handlers[type(stmt)](stmt)
    except StoreError as e:
        return _comment(f"{title}\nnot compiled for ArangoDB: {e}")
    except (HuntSemanticError, ValueError) as e:
        return _comment(f"{title}\nfails at run time: {getattr(e, 'message', e)}")


def _explain_merge(stmt: ir.Merge, types, title, coll):
    etypes = {_var(types, v)[0] for v in stmt.vars}
    if len(etypes) > 1:
        raise HuntSemanticError(f"cannot merge variables of different types: "
                                f"{', '.join(sorted(etypes))}")
    p = Params(coll)
    return [p.query(select_merge(p, stmt.vars), f"{title}\neach entity once, in order of first "
                                                f"appearance")]


def _explain_join(stmt: ir.Join, types, title, coll):
    left, lkind, _ = _var(types, stmt.left)
    rkinds = _var(types, stmt.right)[1]
    pre = []
    for v in (stmt.left, stmt.right):
        q = Params(coll)
        pre.append(q.query(select_column_keys(q, v), f"the attribute names of {v}"))
    p = Params(coll)
    notes = [title, f"the columns copied from {stmt.right} into data are decided at run time: "
                    f"its attributes that {stmt.left} lacks (shown as one placeholder <column>)",
             f"the result holds {left} entities of {stmt.left}"]
    notes += [f"{v} is a GROUP table: it holds no entities, so the result is empty"
              for v, k in ((stmt.left, lkind), (stmt.right, rkinds)) if k == "table"]
    return pre + [p.query(select_join(p, stmt, ["<column>"]), "\n".join(notes))]


def _explain_apply(stmt: ir.Apply, types, title, coll):
    out = _comment(f"{title}\n{APPLY_EXPLAINED}")
    for v in stmt.vars:
        etype, kind, _ = _var(types, v)
        if not has_process_activity(etype, kind):
            continue
        for select, what in ((select_process_counts, PROCESS_COUNTS_EXPLAINED),
                             (select_process_file_events, PROCESS_FILES_EXPLAINED)):
            p = Params(coll)
            out.append(p.query(select(p, v), what.format(var=v)))
    return out
