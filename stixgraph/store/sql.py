"""The SQLite compiler: IR → SQL text plus named bind parameters.

Every value a user wrote (literals, attribute names, JSON paths, type names, variable
names) reaches SQL as a bind parameter; the SQL text holds only what this module writes.
The store (:mod:`stixgraph.store.sqlite`) runs what this returns; ``stixgraph explain``
prints it.

Schema recap (see ``sqlite.py``): ``entities(eid, cid, id, type, props JSON)``,
``edges(src, rel, dst)``, ``observations(oid, cid, id, first_observed, last_observed,
number_observed, props)``, ``contains(oid, eid, etype)``, ``query_obs(qid, oid)``,
``variables(vid, cid, name, ...)``, ``var_rows(vid, seq, eid, oid, data)``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .. import ir
from ..relations import Hop

# Columns that come from the observation of a records row (TIMESTAMPED/RECORDS/ADDOBSID).
OBS_COLUMNS = {"first_observed": "o.first_observed", "last_observed": "o.last_observed",
               "number_observed": "o.number_observed", "observation_id": "o.id"}


@dataclass
class Query:
    sql: str
    params: dict = field(default_factory=dict)
    purpose: str = ""

    def render(self) -> str:
        head = f"-- {self.purpose}\n" if self.purpose else ""
        body = self.sql.strip()
        if self.params:
            ps = ", ".join(f":{k}={v!r}" for k, v in self.params.items())
            return f"{head}{body};\n-- params: {ps}"
        return f"{head}{body};"


class Params:
    """Allocates named bind parameters."""

    def __init__(self, prefix: str = "p"):
        self.values: dict = {}
        self.prefix = prefix

    def __call__(self, value) -> str:
        if isinstance(value, ir.Timestamp):
            value = value.iso()
        elif isinstance(value, bool):
            value = int(value)
        name = f"{self.prefix}{len(self.values)}"
        self.values[name] = value
        return ":" + name

    def named(self, name: str, value) -> str:
        self.values[name] = value
        return ":" + name


def json_path(parts) -> str:
    """('hashes', 'SHA-256') → '$."hashes"."SHA-256"'; digit parts become array indexes."""
    out = "$"
    for p in parts:
        if p.isdigit():
            out += f"[{p}]"
        else:
            if '"' in p:
                raise ValueError(f"attribute name {p!r} holds a double quote")
            out += f'."{p}"'
    return out


def numeric(value):
    """The number a numeric-looking string stands for, else None (``'443'`` → 443)."""
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            try:
                f = float(value)
            except ValueError:
                return None
            return f if f == f and abs(f) != float("inf") else None
    return None


def var_id(p: Params, name: str) -> str:
    """A sub-select giving a variable's vid by name (so compiled SQL is self-contained)."""
    return f"(SELECT vid FROM variables WHERE cid = :cid AND name = {p.named('var_' + name, name)})"


# ---------------------------------------------------------------------------
# attribute values and conditions on one entity row (alias ``e`` by default)

def _split_ref(parts):
    """Split a path at its first reference step: (head_ref, rest) or (None, parts)."""
    for i, part in enumerate(parts[:-1]):
        if part.endswith(("_ref", "_refs")):
            return parts[: i + 1], parts[i + 1:]
    return None, parts


def value_expr(p: Params, alias: str, parts: tuple[str, ...], depth: int = 0) -> str:
    """SQL giving the value of a path on entity ``alias`` (first target for *_refs)."""
    head, rest = _split_ref(parts)
    if head is None:
        if parts == ("id",):
            return f"{alias}.id"
        if parts == ("type",):
            return f"{alias}.type"
        if "*" in parts:
            parts = tuple(x if x != "*" else "0" for x in parts)
        return f"json_extract({alias}.props, {p(json_path(parts))})"
    if len(head) > 1:  # a nested ref inside an object: read it from JSON (rare)
        return f"json_extract({alias}.props, {p(json_path(parts))})"
    t = f"t{depth}"
    g = f"g{depth}"
    inner = value_expr(p, t, rest, depth + 1)
    return (f"(SELECT {inner} FROM edges {g} JOIN entities {t} ON {t}.eid = {g}.dst "
            f"WHERE {g}.src = {alias}.eid AND {g}.rel = {p(head[0])} ORDER BY {t}.eid LIMIT 1)")


def _scalar_cond(p: Params, x: str, c: ir.Comparison) -> str:
    op, v, neg = c.op, c.value, c.negated
    if op == "IS NULL":
        return f"{x} IS NOT NULL" if neg else f"{x} IS NULL"
    if op == "=" and isinstance(v, tuple):
        op = "IN"
    if op == "!=" and isinstance(v, tuple):
        op, neg = "IN", not neg
    if op in ("=", "!="):
        n = numeric(v)
        if n is not None:
            sql = f"{x} IN ({p(n)}, {p(v)})"
        else:
            sql = f"{x} = {p(v)}"
        if op == "!=":
            neg = not neg
        return f"NOT ({sql})" if neg else sql
    if op in ("<", "<=", ">", ">="):
        n = numeric(v)
        sql = f"{x} {op} {p(n if n is not None else v)}"
        return f"NOT ({sql})" if neg else sql
    if op == "IN":
        vals = v if isinstance(v, tuple) else (v,)
        items = []
        for item in vals:
            items.append(p(item))
            n = numeric(item)
            if n is not None:
                items.append(p(n))
        sql = f"{x} IN ({', '.join(items) or 'NULL'})"
        return f"({x} IS NOT NULL AND NOT ({sql}))" if neg else sql
    if op == "LIKE":
        sql = f"{x} LIKE {p(v)}"
    elif op == "MATCHES":
        sql = f"sg_matches({p(v)}, {x})"
    elif op == "ISSUBSET":
        sql = f"sg_in_subnet({x}, {p(v)})"
    elif op == "ISSUPERSET":
        sql = f"sg_in_subnet({p(v)}, {x})"
    else:  # pragma: no cover - ir.Comparison validates op
        raise ValueError(op)
    return f"({x} IS NOT NULL AND NOT ({sql}))" if neg else sql


def entity_cond(p: Params, alias: str, c: ir.Comparison, parts=None, depth: int = 0) -> str:
    """A condition on entity ``alias``: a ref path holds for SOME target, ``[*]`` for SOME
    element, mirroring the observation-level matcher (:mod:`stixgraph.stix.match`)."""
    parts = c.path.parts if parts is None else parts
    head, rest = _split_ref(parts)
    if head is not None and len(head) == 1:
        t, g = f"r{depth}", f"h{depth}"
        if c.op == "IS NULL" and not c.negated:  # no target has the attribute
            inner = entity_cond(p, t, ir.Comparison(c.path, "IS NULL", None, True), rest, depth + 1)
            return (f"NOT EXISTS (SELECT 1 FROM edges {g} JOIN entities {t} ON {t}.eid = {g}.dst "
                    f"WHERE {g}.src = {alias}.eid AND {g}.rel = {p(head[0])} AND {inner})")
        inner = entity_cond(p, t, c, rest, depth + 1)
        return (f"EXISTS (SELECT 1 FROM edges {g} JOIN entities {t} ON {t}.eid = {g}.dst "
                f"WHERE {g}.src = {alias}.eid AND {g}.rel = {p(head[0])} AND {inner})")
    if "*" in parts:
        i = parts.index("*")
        j = f"j{depth}"
        rest = parts[i + 1:]
        x = f"{j}.value" if not rest else f"json_extract({j}.value, {p(json_path(rest))})"
        return (f"EXISTS (SELECT 1 FROM json_each({alias}.props, {p(json_path(parts[:i]))}) {j} "
                f"WHERE {_scalar_cond(p, x, c)})")
    return _scalar_cond(p, value_expr(p, alias, parts), c)


def where_cond(p: Params, expr: ir.Expr | None, centre: str, alias: str = "e",
               scope: str | None = None) -> str:
    """WHERE on entities of type ``centre``.  A comparison on another type holds when an
    observation holding the entity (within ``scope``, an SQL set of oids, if given) also
    holds an object of that type satisfying it."""
    if expr is None:
        return "1"
    if isinstance(expr, ir.And):
        return "(" + " AND ".join(where_cond(p, i, centre, alias, scope) for i in expr.items) + ")"
    if isinstance(expr, ir.Or):
        return "(" + " OR ".join(where_cond(p, i, centre, alias, scope) for i in expr.items) + ")"
    etype = expr.path.etype
    if etype is None or etype == centre:
        return entity_cond(p, alias, expr)
    in_scope = f" AND xc.oid IN ({scope})" if scope else ""
    return (f"EXISTS (SELECT 1 FROM contains xc JOIN contains xo ON xo.oid = xc.oid "
            f"JOIN entities x ON x.eid = xo.eid WHERE xc.eid = {alias}.eid{in_scope} "
            f"AND xo.etype = {p(etype)} AND {entity_cond(p, 'x', expr)})")


def time_scope(p: Params, start, stop) -> str:
    """SQL set of oids whose [first_observed, last_observed] overlaps [start, stop)."""
    return (f"SELECT oid FROM observations WHERE cid = :cid AND first_observed < {p(stop)} "
            f"AND last_observed >= {p(start)}")


# ---------------------------------------------------------------------------
# statements producing entity sets: each returns a SELECT of (eid) rows in order

def select_get_from_query(p: Params, etype: str, where, qid_param: str) -> str:
    scope = f"SELECT oid FROM query_obs WHERE qid = {qid_param}"
    return (f"SELECT DISTINCT e.eid AS eid FROM query_obs q JOIN contains c ON c.oid = q.oid "
            f"JOIN entities e ON e.eid = c.eid WHERE q.qid = {qid_param} AND c.etype = {p(etype)} "
            f"AND {where_cond(p, where, etype, scope=scope)} ORDER BY e.eid")


def select_filter_var(p: Params, var: str, etype: str, where, scope: str | None = None) -> str:
    return (f"SELECT v.eid AS eid, v.oid AS oid, v.data AS data FROM var_rows v "
            f"JOIN entities e ON e.eid = v.eid WHERE v.vid = {var_id(p, var)} "
            f"AND {where_cond(p, where, etype, scope=scope)} ORDER BY v.rid")


def select_find(p: Params, rtype: str, relation: str, var: str, hops: list[Hop] | None,
                where, start=None, stop=None, limit=None) -> str:
    vid = var_id(p, var)
    scope = time_scope(p, start, stop) if start is not None else None
    if relation == "linked":
        in_scope = f" AND c1.oid IN ({scope})" if scope else ""
        src = (f"SELECT c2.eid AS eid FROM var_rows v JOIN contains c1 ON c1.eid = v.eid "
               f"JOIN contains c2 ON c2.oid = c1.oid WHERE v.vid = {vid} "
               f"AND c2.etype = {p(rtype)}{in_scope}")
    else:
        parts = []
        for hop in hops or ():
            rels = ", ".join(p(r) for r in hop.props)
            a, b = ("src", "dst") if hop.from_input else ("dst", "src")
            parts.append(f"SELECT g.{b} AS eid FROM var_rows v JOIN edges g ON g.{a} = v.eid "
                         f"WHERE v.vid = {vid} AND g.rel IN ({rels})")
        src = " UNION ".join(parts)
    conds = [f"e.type = {p(rtype)}", where_cond(p, where, rtype, scope=scope)]
    if scope and relation != "linked":
        conds.append(f"EXISTS (SELECT 1 FROM contains tc WHERE tc.eid = e.eid "
                     f"AND tc.oid IN ({scope}))")
    sql = (f"SELECT e.eid AS eid FROM entities e WHERE e.eid IN ({src}) AND "
           + " AND ".join(conds) + " ORDER BY e.eid")
    if limit is not None:
        sql += f" LIMIT {p(int(limit))}"
    return sql


def order_by(p: Params, sort: ir.SortSpec | None, records: bool) -> str:
    if sort is None:
        return "v.rid"
    col = sort.attr.name
    x = OBS_COLUMNS[col] if records and col in OBS_COLUMNS else value_expr(p, "e", sort.attr.parts)
    # SQLite sorts NULL first ascending; Kestrel/pandas put missing values last either way.
    return f"{x} IS NULL, {x} {'DESC' if sort.descending else 'ASC'}, v.rid"


def select_records(p: Params, var: str, etype: str, where=None, scope: str | None = None) -> str:
    """TIMESTAMPED/RECORDS/ADDOBSID: one row per (entity, observation holding it)."""
    return (f"SELECT v.eid AS eid, c.oid AS oid FROM var_rows v JOIN entities e ON e.eid = v.eid "
            f"JOIN contains c ON c.eid = v.eid JOIN observations o ON o.oid = c.oid "
            f"WHERE v.vid = {var_id(p, var)} AND {where_cond(p, where, etype, scope=scope)} "
            f"ORDER BY o.first_observed, v.rid, c.oid")


def column_expr(p: Params, col: str, parts: tuple[str, ...], records: bool) -> str:
    if records and col in OBS_COLUMNS:
        return OBS_COLUMNS[col]
    return value_expr(p, "e", parts)


def select_display(p: Params, var: str, etype: str, columns: list[tuple[str, tuple]],
                   where, sort, records: bool) -> str:
    cols = ", ".join(column_expr(p, name, parts, records) for name, parts in columns)
    obs = " LEFT JOIN observations o ON o.oid = v.oid" if records else ""
    return (f"SELECT {cols} FROM var_rows v JOIN entities e ON e.eid = v.eid{obs} "
            f"WHERE v.vid = {var_id(p, var)} AND {where_cond(p, where, etype)} "
            f"ORDER BY {order_by(p, sort, records)}")


AGG_SQL = {"MIN": "MIN({})", "MAX": "MAX({})", "SUM": "SUM({})", "AVG": "AVG({})",
           "COUNT": "COUNT({})", "NUNIQUE": "COUNT(DISTINCT {})"}
UNIT_SECONDS = {"days": 86400, "hours": 3600, "minutes": 60, "seconds": 1}


def select_group(p: Params, var: str, keys: list[tuple[str, str]], aggs: list[tuple[str, str, str]],
                 records: bool) -> str:
    """keys: (column, SQL over the inner row); aggs: (column, FUNC, SQL over the inner row)."""
    obs = " LEFT JOIN observations o ON o.oid = v.oid" if records else ""
    inner_cols = [f"{expr} AS k{i}" for i, (_, expr) in enumerate(keys)]
    inner_cols += [f"{expr} AS a{i}" for i, (_, _, expr) in enumerate(aggs)]
    inner = (f"SELECT {', '.join(inner_cols)} FROM var_rows v JOIN entities e ON e.eid = v.eid{obs} "
             f"WHERE v.vid = {var_id(p, var)}")
    outer = [f"k{i}" for i in range(len(keys))]
    outer += [AGG_SQL[f].format(f"a{i}") for i, (_, f, _) in enumerate(aggs)]
    grp = ", ".join(f"k{i}" for i in range(len(keys)))
    return f"SELECT {', '.join(outer)} FROM ({inner}) GROUP BY {grp} ORDER BY {grp}"


def bin_expr(p: Params, x: str, size: int, unit: str | None) -> str:
    if unit is None:
        return f"(CAST({x} / {p(size)} AS INTEGER) * {p(size)})"
    return f"sg_bin_time({x}, {p(size * UNIT_SECONDS[unit])})"


def select_values(p: Params, var: str, parts: tuple[str, ...]) -> str:
    """Distinct non-null values of an attribute over a variable (``var.attr`` dereference)."""
    x = value_expr(p, "e", parts)
    return (f"SELECT DISTINCT {x} FROM var_rows v JOIN entities e ON e.eid = v.eid "
            f"WHERE v.vid = {var_id(p, var)} AND {x} IS NOT NULL")
