"""The STIX pattern a remote data source receives for a GET (Kestrel's ``to_stix``).

* ``[`` body ``]``; each comparison is ``type:path OP value`` (the centre type fills in a
  missing ``type:``); AND/OR are binary and parenthesised left to right: ``(a AND b)``,
  ``((a AND b) AND c)``; a single comparison is bare.
* Paths: ``dst_ref.value``, ``protocols[*]``, ``x[2]``; a component that is not an identifier
  (``SHA-256``, ``windows-process-ext``) is quoted: ``hashes.'SHA-256'``.
* Values: strings in single quotes with ``\\`` and ``'`` backslash-escaped; integers bare;
  floats in plain decimal (the pattern grammar has no exponent); booleans ``true``/``false``;
  lists ``('a', 'b')``; timestamps ``t'2024-01-01T00:00:00.000Z'``.
* Negated operators: ``NOT LIKE``, ``NOT IN``, ``NOT MATCHES``, ``NOT ISSUBSET``...
* ``IS NOT NULL`` becomes ``EXISTS type:path`` and ``IS NULL`` ``NOT EXISTS type:path``
  (STIX 2.1 patterning).  Kestrel sent ``= 'NULL'``, which asks for the text NULL.
* Qualifier `` START t'…' STOP t'…'`` (``%Y-%m-%dT%H:%M:%S.mmmZ``) when both ends are given.
"""
from __future__ import annotations

import re
from datetime import datetime, timezone
from decimal import Decimal

from .. import ir

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def quote(s: str) -> str:
    return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'"


def stix_time(d: datetime) -> str:
    d = d.astimezone(timezone.utc) if d.tzinfo else d.replace(tzinfo=timezone.utc)
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + f"{d.microsecond // 1000:03d}Z"


def object_path(path: ir.AttrPath, centre: str) -> str:
    out = ""
    for i, p in enumerate(path.parts):
        if p == "*":
            out += "[*]"
        elif p.lstrip("-").isdigit() and i:
            out += f"[{p}]"
        else:
            out += ("." if i else "") + (p if _IDENT.match(p) else quote(p))
    return f"{path.etype or centre}:{out}"


def literal(v) -> str:
    if isinstance(v, ir.VarAttr):
        raise ValueError(f"unresolved reference {v} cannot go into a STIX pattern")
    if isinstance(v, ir.Timestamp):
        return f"t'{stix_time(v.value)}'"
    if isinstance(v, datetime):
        return f"t'{stix_time(v)}'"
    if v is True or v is False:
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        s = repr(v)
        return format(Decimal(s), "f") if "e" in s or "E" in s else s
    if isinstance(v, (tuple, list, set, frozenset)):
        return "(" + ", ".join(literal(x) for x in v) + ")"
    if v is None:
        return "'NULL'"
    return quote(str(v))


def _cmp(c: ir.Comparison, centre: str) -> str:
    path = object_path(c.path, centre)
    if c.op == "IS NULL":
        return f"EXISTS {path}" if c.negated else f"NOT EXISTS {path}"
    if c.value is None and c.op in ("=", "!="):  # '= NULL' written as a value
        return f"NOT EXISTS {path}" if (c.op == "=") != c.negated else f"EXISTS {path}"
    op = ("NOT " if c.negated else "") + c.op
    value = c.value
    if c.op == "IN" and not isinstance(value, (tuple, list, set, frozenset)):
        value = (value,)
    return f"{path} {op} {literal(value)}"


def _body(e: ir.Expr, centre: str) -> str:
    if isinstance(e, ir.Comparison):
        return _cmp(e, centre)
    word = " AND " if isinstance(e, ir.And) else " OR "
    items = [_body(x, centre) for x in e.items]
    out = items[0]
    for x in items[1:]:
        out = f"({out}{word}{x})"
    return out


def to_stix_pattern(where: ir.Expr | None, centre: str, start: datetime | None = None,
                    stop: datetime | None = None) -> str:
    """The STIX pattern for ``GET centre WHERE where [START start STOP stop]``.  Without a
    WHERE the pattern asks for any object of the centre type (``EXISTS centre:id``)."""
    body = _body(where, centre) if where is not None else f"EXISTS {centre}:id"
    out = f"[{body}]"
    if start is not None and stop is not None:
        out += f" START t'{stix_time(start)}' STOP t'{stix_time(stop)}'"
    return out
