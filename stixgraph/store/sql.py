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

import re
from dataclasses import dataclass, field

from .. import ir
from ..errors import HuntSemanticError
from ..stix.match import _numeric
from ..relations import Hop, created_hop
from .base import CREATED_COUNTS

# Columns that come from the observation of a records row (TIMESTAMPED/RECORDS/ADDOBSID).
OBS_COLUMNS = {"first_observed": "o.first_observed", "last_observed": "o.last_observed",
               "number_observed": "o.number_observed", "observation_id": "o.id"}


@dataclass
class Query:
    """One compiled query: SQL text, its named bind parameters, and what it is for.

    ``purpose`` may hold several lines; :meth:`render` prints each as an SQL comment.  A
    Query with empty ``sql`` is a comment only (``explain`` uses it for statements that
    run no SQL).  ``:cid`` (the collection) is bound by the store when it runs the query.
    """

    sql: str
    params: dict = field(default_factory=dict)
    purpose: str = ""

    def render(self, pretty: bool = False) -> str:
        """The query as text: purpose lines as ``--`` comments, the SQL ending in ``;`` (on
        one line, or laid out by :func:`pretty_sql` when ``pretty``), then the bind
        parameters in order of first appearance in the SQL."""
        lines = [f"-- {line}".rstrip() for line in self.purpose.splitlines()]
        body = self.sql.strip()
        if body:
            lines.append((pretty_sql(body) if pretty else body) + ";")
        params = ordered_params(body, self.params)
        if params and pretty:
            lines.append("-- params:")
            lines += [f"--   :{k} = {v!r}" for k, v in params]
        elif params:
            lines.append("-- params: " + ", ".join(f":{k}={v!r}" for k, v in params))
        return "\n".join(lines)


# ---------------------------------------------------------------------------
# a small SQL pretty-printer for ``explain`` (our own SQL only: no dependency)

_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<str>'(?:[^']|'')*'?)
  | (?P<ident>"(?:[^"]|"")*"?)
  | (?P<comment>--[^\n]*)
  | (?P<param>:[A-Za-z_][A-Za-z0-9_]*)
  | (?P<word>[A-Za-z0-9_.$]+)
  | (?P<op><=|>=|!=|<>|==|\|\||[-+*/%=<>])
  | (?P<other>.)
""", re.X | re.S)

_WIDTH = 96            # lines longer than this get broken up where possible
_INLINE_SUBSELECT = 80  # a sub-select this short, without JOIN or nested sub-select, stays inline
_CLAUSES = ("SELECT", "FROM", "WHERE", "HAVING", "LIMIT", "OFFSET", "JOIN", "UNION", "INTERSECT",
            "EXCEPT", "GROUP", "ORDER", "LEFT", "INNER", "CROSS", "RIGHT", "FULL", "VALUES")


@dataclass
class _Tok:
    text: str
    space: bool  # whitespace before it in the source

    @property
    def up(self) -> str:
        return self.text.upper()


@dataclass
class _Group:
    """A parenthesised part: ``(`` children ``)``."""

    items: list
    space: bool

    @property
    def up(self) -> str:
        return "("

    @property
    def is_select(self) -> bool:
        return bool(self.items) and isinstance(self.items[0], _Tok) and \
            self.items[0].up in ("SELECT", "WITH")


def sql_tokens(sql: str) -> list[_Tok]:
    """Tokens of an SQL text (quotes and comments kept whole), whitespace folded into flags."""
    out, space = [], False
    for m in _TOKEN.finditer(sql):
        if m.lastgroup == "space":
            space = True
            continue
        out.append(_Tok(m.group(), space))
        space = False
    return out


def _tree(tokens: list[_Tok]) -> list:
    stack: list[list] = [[]]
    spaces: list[bool] = []
    for t in tokens:
        if t.text == "(":
            stack.append([])
            spaces.append(t.space)
        elif t.text == ")" and len(stack) > 1:
            items = stack.pop()
            stack[-1].append(_Group(items, spaces.pop()))
        else:
            stack[-1].append(t)
    while len(stack) > 1:  # unbalanced: close what is open
        items = stack.pop()
        stack[-1].append(_Group(items, spaces.pop()))
    return stack[0]


def _flat(items, first: bool = True) -> str:
    out = []
    for i, it in enumerate(items):
        sep = " " if it.space and (out or not first) else ""
        if isinstance(it, _Group):
            out.append(f"{sep}({_flat(it.items)})")
        else:
            out.append(sep + it.text)
    return "".join(out)


def _top_split(items, words: tuple[str, ...]):
    """Split ``items`` at top-level tokens in ``words``: [(word or None, part), ...]."""
    parts, cur, word = [], [], None
    for it in items:
        if isinstance(it, _Tok) and it.up in words:
            parts.append((word, cur))
            cur, word = [], it.up
        else:
            cur.append(it)
    parts.append((word, cur))
    return parts


def _has_top(items, words) -> bool:
    return any(isinstance(it, _Tok) and it.up in words for it in items)


def _nested_select(items) -> bool:
    return any(isinstance(it, _Group) and (it.is_select or _nested_select(it.items)) for it in items)


def _inline_select(g: _Group) -> bool:
    return (len(_flat(g.items)) <= _INLINE_SUBSELECT and not _has_top(g.items, ("JOIN", "UNION"))
            and not _nested_select(g.items))


def _inline(items, indent: int, col: int) -> list[str]:
    """Render items from column ``col`` of a line indented ``indent``: the first returned line
    continues the current line; later lines are complete (indented) lines."""
    lines = [""]
    for it in items:
        sep = " " if it.space and (lines[-1] or len(lines) > 1) else ""
        if isinstance(it, _Tok):
            lines[-1] += sep + it.text
            continue
        flat = f"({_flat(it.items)})"
        here = (col if len(lines) == 1 else 0) + len(lines[-1]) + len(sep)
        expand = (not _inline_select(it)) if it.is_select else (
            here + len(flat) > _WIDTH and (_has_top(it.items, ("AND", "OR"))
                                           or _has_top(it.items, (","))))
        if not expand:
            lines[-1] += sep + flat
            continue
        lines[-1] += sep + "("
        lines += _block(it.items, indent + 2)
        lines.append(" " * indent + ")")
    return lines


def _block(items, indent: int) -> list[str]:
    """Complete lines for the inside of a parenthesis (or a whole statement)."""
    pad = " " * indent
    if items and isinstance(items[0], _Tok) and items[0].up in ("SELECT", "WITH"):
        return _select(items, indent)
    if _has_top(items, ("AND", "OR")):
        return _conditions(items, indent)
    if _has_top(items, (",",)):
        parts = _top_split(items, (",",))
        out = []
        for i, (_, part) in enumerate(parts):
            sub = _inline(part, indent, indent)
            sub[0] = pad + sub[0]
            if i < len(parts) - 1:
                sub[-1] += ","
            out += sub
        return out
    sub = _inline(items, indent, indent)
    sub[0] = pad + sub[0]
    return sub


def _conditions(items, indent: int) -> list[str]:
    pad = " " * indent
    out = []
    for word, part in _top_split(items, ("AND", "OR")):
        head = f"{word} " if word else ""
        sub = _inline(part, indent, indent + len(head))
        sub[0] = pad + head + sub[0]
        out += sub
    return out


def _clauses(items):
    """Split a SELECT into clauses: [(keyword text, body items), ...]."""
    out = []
    i = 0
    cur_kw, cur = None, []
    while i < len(items):
        it = items[i]
        if isinstance(it, _Tok) and it.up in _CLAUSES:
            kw = [it]
            j = i + 1
            if it.up in ("GROUP", "ORDER"):
                if j < len(items) and getattr(items[j], "up", "") == "BY":
                    kw.append(items[j])
                    j += 1
                else:
                    cur.append(it)
                    i += 1
                    continue
            elif it.up in ("LEFT", "INNER", "CROSS", "RIGHT", "FULL"):
                while j < len(items) and getattr(items[j], "up", "") in ("OUTER", "JOIN"):
                    kw.append(items[j])
                    j += 1
                if kw[-1].up != "JOIN":
                    cur.append(it)
                    i += 1
                    continue
            elif it.up == "UNION" and j < len(items) and getattr(items[j], "up", "") == "ALL":
                kw.append(items[j])
                j += 1
            if cur_kw is not None or cur:
                out.append((cur_kw, cur))
            cur_kw, cur = " ".join(k.text for k in kw), []
            i = j
            continue
        cur.append(it)
        i += 1
    out.append((cur_kw, cur))
    return out


def _select(items, indent: int) -> list[str]:
    pad = " " * indent
    out = []
    for kw, body in _clauses(items):
        if kw is None:  # text before the first keyword (WITH ...): as is
            sub = _inline(body, indent, indent)
            out += [pad + sub[0]] + sub[1:]
            continue
        up = kw.upper()
        if up.startswith(("UNION", "INTERSECT", "EXCEPT")):
            out.append(pad + kw)
            continue
        flat = _flat(body)
        if up in ("WHERE", "HAVING") and _has_top(body, ("AND", "OR")):
            out.append(pad + kw)
            out += _conditions(body, indent + 2)
            continue
        if up in ("SELECT", "GROUP BY", "ORDER BY") and _has_top(body, (",",)) and (
                indent + len(kw) + 1 + len(flat) > _WIDTH or _nested_select(body)):
            lead = []
            if up == "SELECT" and body and getattr(body[0], "up", "") == "DISTINCT":
                lead, body = [body[0].text], body[1:]
            out.append(pad + " ".join([kw] + lead))
            out += _block(body, indent + 2)
            continue
        sub = _inline(body, indent, indent + len(kw))
        out += [pad + kw + (" " if body else "") + sub[0].lstrip()] + sub[1:]
    return out


def pretty_sql(sql: str) -> str:
    """Lay out one of our SELECTs over several lines: each clause (FROM, JOIN, WHERE, GROUP BY,
    ORDER BY, LIMIT, UNION...) on its own line, WHERE's top-level AND/OR one per line, long
    boolean or comma lists broken up, and sub-selects indented inside their parentheses
    (a short one without JOIN stays inline).  Only whitespace changes: quoted text and
    comments are kept whole."""
    lines = _block(_tree(sql_tokens(sql)), 0)
    return "\n".join(line.rstrip() for line in lines)


def ordered_params(sql: str, params: dict) -> list[tuple[str, object]]:
    """``params`` in order of first appearance of ``:name`` in ``sql``; names that do not
    appear follow in their own order."""
    seen: list[str] = []
    for t in sql_tokens(sql):
        if t.text.startswith(":") and t.text[1:] in params and t.text[1:] not in seen:
            seen.append(t.text[1:])
    seen += [k for k in params if k not in seen]
    return [(k, params[k]) for k in seen]


class Params:
    """Allocates named bind parameters."""

    def __init__(self, prefix: str = "p"):
        self.values: dict = {}
        self.prefix = prefix
        self._seen: dict = {}  # (type, value) -> name: one parameter per distinct value

    def __call__(self, value) -> str:
        if isinstance(value, ir.Timestamp):
            value = value.iso()
        elif isinstance(value, bool):
            value = int(value)
        key = (type(value), value)
        if key in self._seen:
            return ":" + self._seen[key]
        name = f"{self.prefix}{len(self.values)}"
        self.values[name] = value
        self._seen[key] = name
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
                raise HuntSemanticError(f"attribute name {p!r} holds a double quote")
            out += f'."{p}"'
    return out


def numeric(value):
    """The number a plain decimal string stands for (``'443'`` → 443), else None: the
    matcher's rule (:func:`stixgraph.stix.match._numeric`)."""
    return _numeric(value) if isinstance(value, str) else None


def _is_number(v) -> bool:
    return type(v) in (int, float)


def _typed_cmp(p: Params, x: str, op: str, v) -> str:
    """``x op v`` with the matcher's typing: numbers compare with numbers and with plain
    numeric strings, strings with strings; anything else is false (NULL)."""
    if isinstance(v, ir.Timestamp):
        v = v.iso()
    if _is_number(v):
        return (f"(CASE WHEN typeof({x}) IN ('integer', 'real') THEN {x} {op} {p(v)} "
                f"WHEN typeof({x}) = 'text' THEN sg_num({x}) {op} {p(v)} END)")
    n = numeric(v)
    if n is not None:
        return (f"(CASE WHEN typeof({x}) IN ('integer', 'real') THEN {x} {op} {p(n)} "
                f"WHEN typeof({x}) = 'text' THEN {x} {op} {p(v)} END)")
    if isinstance(v, str):
        return f"(typeof({x}) = 'text' AND {x} {op} {p(v)})"
    return f"({x} {op} {p(v)})"


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
        sql = _typed_cmp(p, x, "=", v)
        if op == "!=":
            neg = not neg
        return f"({x} IS NOT NULL AND NOT {sql})" if neg else sql
    if op in ("<", "<=", ">", ">="):
        sql = _typed_cmp(p, x, op, v)
        return f"({x} IS NOT NULL AND NOT {sql})" if neg else sql
    if op == "IN":
        vals = v if isinstance(v, tuple) else (v,)
        sql = "(" + " OR ".join(_typed_cmp(p, x, "=", item) for item in vals) + ")" if vals else "0"
        return f"({x} IS NOT NULL AND NOT {sql})" if neg else sql
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
    x = value_expr(p, alias, parts)
    if c.op == "IS NULL" or parts in (("id",), ("type",)):
        return _scalar_cond(p, x, c)
    # a list attribute compared without [*] matches when any element does (as the matcher)
    path = p(json_path(parts))
    j = f"l{depth}"
    return (f"CASE json_type({alias}.props, {path}) WHEN 'array' THEN EXISTS (SELECT 1 FROM "
            f"json_each({alias}.props, {path}) {j} WHERE {_scalar_cond(p, f'{j}.value', c)}) "
            f"ELSE {_scalar_cond(p, x, c)} END")


def where_cond(p: Params, expr: ir.Expr | None, centre: str, alias: str = "e",
               scope: str | None = None, records: bool = False) -> str:
    """WHERE on entities of type ``centre``.  A comparison on another type holds when an
    observation holding the entity (within ``scope``, an SQL set of oids, if given) also
    holds an object of that type satisfying it.  With ``records``, the rows carry an
    observation ``o`` and ``first_observed`` etc. are its columns."""
    if expr is None:
        return "1"
    if isinstance(expr, (ir.And, ir.Or)):
        word = " AND " if isinstance(expr, ir.And) else " OR "
        return "(" + word.join(where_cond(p, i, centre, alias, scope, records)
                               for i in expr.items) + ")"
    etype = expr.path.etype
    if records and etype in (None, centre) and expr.path.name in OBS_COLUMNS:
        return _scalar_cond(p, OBS_COLUMNS[expr.path.name], expr)
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


def select_filter_var(p: Params, var: str, etype: str, where, scope: str | None = None,
                      records: bool = False, sort: ir.SortSpec | None = None) -> str:
    obs = " LEFT JOIN observations o ON o.oid = v.oid" if records else ""
    return (f"SELECT v.eid AS eid, v.oid AS oid, v.data AS data FROM var_rows v "
            f"JOIN entities e ON e.eid = v.eid{obs} WHERE v.vid = {var_id(p, var)} "
            f"AND {where_cond(p, where, etype, scope=scope, records=records)} "
            f"ORDER BY {order_by(p, sort, records)}")


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
            f"WHERE v.vid = {var_id(p, var)} "
            f"AND {where_cond(p, where, etype, scope=scope, records=True)} "
            f"ORDER BY o.first_observed, v.rid, c.oid")


def column_expr(p: Params, col: str, parts: tuple[str, ...], records: bool,
                data: frozenset = frozenset()) -> str:
    """A display column: an observation column of a records row, a column a JOIN stored in
    the row's ``data``, or an attribute path of the entity."""
    if records and col in OBS_COLUMNS:
        return OBS_COLUMNS[col]
    if col in data:
        return f"json_extract(v.data, {p(json_path((col,)))})"
    return value_expr(p, "e", parts)


def select_display(p: Params, var: str, etype: str, columns: list[tuple[str, tuple]],
                   where, sort, records: bool, data: frozenset = frozenset()) -> str:
    cols = ", ".join(column_expr(p, name, parts, records, data) for name, parts in columns)
    obs = " LEFT JOIN observations o ON o.oid = v.oid" if records else ""
    return (f"SELECT {cols} FROM var_rows v JOIN entities e ON e.eid = v.eid{obs} "
            f"WHERE v.vid = {var_id(p, var)} AND {where_cond(p, where, etype, records=records)} "
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


# ---------------------------------------------------------------------------
# what processes did (APPLY adds it to process frames: stixgraph.analytics.activity)

def select_process_counts(p: Params, var: str) -> str:
    """(process id, then for each type of :data:`~stixgraph.store.base.CREATED_COUNTS` how
    many of it the process CREATED) for every process of ``var``: what ``FIND network-traffic
    CREATED BY var`` and ``FIND process CREATED BY var`` walk, counted per process."""
    counts = []
    for _, rtype in CREATED_COUNTS:
        hop = created_hop(rtype)
        a, b = ("src", "dst") if hop.from_input else ("dst", "src")
        counts.append(f"(SELECT COUNT(DISTINCT t.eid) FROM edges g JOIN entities t "
                      f"ON t.eid = g.{b} AND t.type = {p(rtype)} WHERE g.{a} = e.eid "
                      f"AND g.rel IN ({', '.join(p(r) for r in hop.props)}))")
    return (f"SELECT e.id, {', '.join(counts)} "
            f"FROM (SELECT DISTINCT eid FROM var_rows WHERE vid = {var_id(p, var)}) v "
            f"JOIN entities e ON e.eid = v.eid AND e.type = {p('process')} ORDER BY e.id")


def select_process_file_events(p: Params, var: str) -> str:
    """(process id, event code, action, module, provider, file name, directory path) for each
    event (x-oca-event) whose process_ref is a process of ``var`` and whose file_ref is a file
    other than that process's image (binary_ref), in event time order (then by ids: the
    same order on ArangoDB)."""
    def prop(alias, name):
        return f"json_extract({alias}.props, {p(json_path((name,)))})"

    directory = (f"(SELECT {prop('d', 'path')} FROM edges gd JOIN entities d ON d.eid = gd.dst "
                 f"WHERE gd.src = f.eid AND gd.rel = {p('parent_directory_ref')} "
                 f"ORDER BY d.eid LIMIT 1)")
    return (f"SELECT e.id, {prop('ev', 'code')}, {prop('ev', 'action')}, "
            f"{prop('ev', 'module')}, {prop('ev', 'provider')}, {prop('f', 'name')}, {directory} "
            f"FROM (SELECT DISTINCT eid FROM var_rows WHERE vid = {var_id(p, var)}) v "
            f"JOIN entities e ON e.eid = v.eid AND e.type = {p('process')} "
            f"JOIN edges gp ON gp.dst = e.eid AND gp.rel = {p('process_ref')} "
            f"JOIN entities ev ON ev.eid = gp.src AND ev.type = {p('x-oca-event')} "
            f"JOIN edges gf ON gf.src = ev.eid AND gf.rel = {p('file_ref')} "
            f"JOIN entities f ON f.eid = gf.dst AND f.type = {p('file')} "
            f"WHERE NOT EXISTS (SELECT 1 FROM edges gb WHERE gb.src = e.eid "
            f"AND gb.rel = {p('binary_ref')} AND gb.dst = f.eid) "
            f"ORDER BY e.id, {prop('ev', 'created')}, ev.id, f.id")
