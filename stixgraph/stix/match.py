"""Observation-level matching of a WHERE expression (Kestrel's stixbundle meaning).

Semantics
---------
* ``T:path op v`` (``T`` defaults to the centre type) holds for an observation when **some
  object of type T** in it satisfies it.  ``AND`` / ``OR`` combine these observation-level
  truths (so ``a AND b`` may be satisfied by two different objects).
* Paths follow refs inside the observation (``dst_ref.value``,
  ``parent_ref.binary_ref.name``, ``opened_connection_refs[*].dst_port``); a ref that names no
  object of the observation leads nowhere.  ``[*]`` means any element of a list, and so does a
  plain list-valued attribute (``protocols = 'tcp'`` is ``protocols[*] = 'tcp'``) — a superset
  of Kestrel, which never matches a list without ``[*]``; a source may return extra
  observations, never miss one.  ``x[2]`` indexes a list.  A path yields several values when
  it crosses lists; the comparison holds when one of them satisfies it.
* **Missing attributes** (absent, ``null``, or a path that leads nowhere) never satisfy a
  comparison — not ``!=``, not ``NOT IN``/``NOT LIKE``... — except ``IS NULL``, which holds when
  some T object lacks the attribute.  ``IS NOT NULL`` holds when some T object has it.  An
  observation without any T object satisfies nothing, not even ``IS NULL``.
* :func:`compare` holds the scalar rules (``actual`` is one non-list value, None = missing):
  - ``=`` ``!=``: strings compare as strings, numbers as numbers (bool only with bool); a number
    and a numeric string (``-?digits[.digits]``) compare numerically (``dst_port = '443'``).
    ``!=`` is ``not =`` for a present value.
  - ``<`` ``<=`` ``>`` ``>=``: numbers (with the same coercion) or two strings
    (lexicographic); anything else is false.
  - a :class:`~stixgraph.ir.Timestamp` literal compares with ISO text as instants (both sides
    as ``YYYY-MM-DDTHH:MM:SS.ffffffZ``); unparsable text is false.
  - ``IN``: ``=`` against any element.  ``LIKE``: SQL LIKE, ``%`` any run, ``_`` one char,
    case-sensitive, whole string, no escape character; numbers are matched as their text.
    ``MATCHES``: Python ``re.search``.  ``ISSUBSET``: the attribute (IP or CIDR) lies inside the
    literal CIDR; ``ISSUPERSET``: the attribute CIDR contains the literal IP/CIDR (IPv4 and IPv6;
    mixed versions or non-addresses are false).
  - ``negated`` (``NOT LIKE``, ``NOT IN``...) is ``not`` of the positive test, for a present
    value only.
* :func:`in_time_range`: ``[first_observed, last_observed]`` overlaps ``[start, stop)``
  (compared at millisecond precision, rounding so that nothing overlapping is lost).

:func:`text_filter` derives from the same expression a *sound* pre-filter on an observation's
raw JSON text (see its docstring), used by :mod:`stixgraph.stix.bundle` to skip parsing.
"""
from __future__ import annotations

import ipaddress
import json
import re
from datetime import datetime, timezone
from decimal import Decimal
from functools import lru_cache
from typing import Callable, NamedTuple

from .. import ir
from ..errors import HuntSemanticError
from .ids import _parse_ts
from .model import Observation

_NUMERIC = re.compile(r"-?\d+(?:\.\d+)?\Z")


def _numeric(s: str):
    """A plain decimal string as int/float, else None."""
    if _NUMERIC.match(s):
        return float(s) if "." in s else int(s)
    return None


def _is_num(x) -> bool:
    return (type(x) is int or type(x) is float)


def _ts_us(x) -> str | None:
    """ISO text (or datetime / Timestamp) as ``YYYY-MM-DDTHH:MM:SS.ffffffZ``, else None."""
    if isinstance(x, ir.Timestamp):
        x = x.value
    if isinstance(x, str):
        n = len(x)
        if n == 24 and x[-1] == "Z" and x[19] == "." and x[10] == "T":
            return x[:23] + "000Z"
        x = _parse_ts(x)
        if x is None:
            return None
    elif not isinstance(x, datetime):
        return None
    if x.tzinfo is None:
        x = x.replace(tzinfo=timezone.utc)
    x = x.astimezone(timezone.utc)
    return x.strftime("%Y-%m-%dT%H:%M:%S.") + f"{x.microsecond:06d}Z"


def like_regex(pattern: str) -> re.Pattern:
    """SQL LIKE (``%``, ``_``; case-sensitive; whole string) as a compiled regex."""
    out = []
    for ch in pattern:
        out.append(".*" if ch == "%" else "." if ch == "_" else re.escape(ch))
    return re.compile("".join(out), re.S)


def _net(v, what: str):
    try:
        return ipaddress.ip_network(str(v).strip(), strict=False)
    except ValueError:
        raise HuntSemanticError(f"{what} needs an IP address or CIDR, not {v!r}") from None


def _as_net(a):
    if not isinstance(a, str):
        return None
    try:
        return ipaddress.ip_network(a.strip(), strict=False)
    except ValueError:
        return None


# ---------------------------------------------------------------------------
# scalar tests


def make_test(op: str, value, negated: bool = False) -> Callable[[object], bool]:
    """The test ``actual -> bool`` for one present (non-None, non-list) value."""
    if isinstance(value, ir.VarAttr):
        raise HuntSemanticError(f"unresolved reference {value} in a source query")
    if op == "IS NULL":
        raise ValueError("IS NULL is decided on presence, not by a value test")
    if value is None and op in ("=", "!="):  # '= NULL' is IS NULL: never true for a value
        return (lambda a: True) if (op == "!=") != negated else (lambda a: False)
    if op == "!=":
        op, negated = "=", not negated
    pos = _positive(op, value)
    if negated:
        return lambda a: not pos(a)
    return pos


def _eq_test(v):
    if isinstance(v, ir.Timestamp):
        t = _ts_us(v)
        return lambda a: isinstance(a, str) and _ts_us(a) == t
    if type(v) is bool:
        return lambda a: a is v
    if _is_num(v):
        def eq(a):
            ta = type(a)
            if ta is int or ta is float:
                return a == v
            if ta is str:
                n = _numeric(a)
                return n is not None and n == v
            return False
        return eq
    if isinstance(v, str):
        n = _numeric(v)
        if n is None:
            return lambda a: a == v
        return lambda a: a == v or ((type(a) is int or type(a) is float) and a == n)
    return lambda a: a == v


def _order_test(op: str, v):
    import operator
    f = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}[op]
    if isinstance(v, ir.Timestamp):
        t = _ts_us(v)

        def ts(a):
            x = _ts_us(a) if isinstance(a, str) else None
            return x is not None and f(x, t)
        return ts
    num = v if _is_num(v) else _numeric(v) if isinstance(v, str) else None
    sv = v if isinstance(v, str) else None

    def order(a):
        ta = type(a)
        if num is not None:
            if ta is int or ta is float:
                return f(a, num)
            if ta is str:
                n = _numeric(a)
                if n is not None:
                    return f(n, num)
        if sv is not None and ta is str:
            return f(a, sv)
        return False
    return order


def _positive(op: str, v):
    if op == "=":
        return _eq_test(v)
    if op in ("<", "<=", ">", ">="):
        return _order_test(op, v)
    if op == "IN":
        items = v if isinstance(v, (tuple, list, set, frozenset)) else (v,)
        strs = frozenset(x for x in items if isinstance(x, str))
        nums = set(x for x in items if _is_num(x))
        nums.update(n for n in (_numeric(x) for x in strs) if n is not None)
        others = [_eq_test(x) for x in items if not isinstance(x, str) and not _is_num(x)]

        def isin(a):
            ta = type(a)
            if ta is str:
                if a in strs:
                    return True
                if nums:
                    n = _numeric(a)
                    if n is not None and n in nums:
                        return True
            elif (ta is int or ta is float) and a in nums:
                return True
            return any(t(a) for t in others) if others else False
        return isin
    if op == "LIKE":
        rx = like_regex(str(v)).fullmatch
        return lambda a: (rx(a) is not None if type(a) is str
                          else _is_num(a) and rx(str(a)) is not None)
    if op == "MATCHES":
        try:
            rx = re.compile(str(v)).search
        except re.error as e:
            raise HuntSemanticError(f"invalid regular expression {v!r}: {e}") from None
        return lambda a: (rx(a) is not None if type(a) is str
                          else _is_num(a) and rx(str(a)) is not None)
    if op == "ISSUBSET":
        net = _net(v, "ISSUBSET")

        def sub(a):
            x = _as_net(a)
            return x is not None and x.version == net.version and x.subnet_of(net)
        return sub
    if op == "ISSUPERSET":
        net = _net(v, "ISSUPERSET")

        def sup(a):
            x = _as_net(a)
            return x is not None and x.version == net.version and x.supernet_of(net)
        return sup
    raise ValueError(f"unknown operator {op!r}")


@lru_cache(maxsize=256)
def _cached_test(op, value, negated):
    return make_test(op, value, negated)


def compare(actual, op: str, value, negated: bool = False) -> bool:
    """Scalar semantics of ``actual op value`` (``actual`` None = missing attribute)."""
    if op == "IS NULL":
        return (actual is None) != negated
    if actual is None:
        return False
    try:
        t = _cached_test(op, value, negated)
    except TypeError:  # unhashable literal
        t = make_test(op, value, negated)
    return t(actual)


# ---------------------------------------------------------------------------
# paths


def _path_getter(parts: tuple[str, ...]):
    """``(obj, objects) -> list of leaf values`` (lists flattened, refs followed)."""
    last = len(parts) - 1

    def get(o, objects):
        cur = [o]
        for i, p in enumerate(parts):
            nxt = []
            more = i < last
            deref = more and (p.endswith("_ref") or p.endswith("_refs"))
            for v in cur:
                if p == "*":
                    if isinstance(v, list):
                        nxt.extend(v)
                    continue
                if p.isdigit() and isinstance(v, list):  # x[2]: that element
                    items = (v[int(p)],) if int(p) < len(v) else ()
                    p_get = None
                else:
                    items = v if isinstance(v, list) else (v,)
                    p_get = p
                for item in items:
                    if p_get is None:
                        x = item
                    elif isinstance(item, dict):
                        x = item.get(p_get)
                    else:
                        x = None
                    if x is None:
                        continue
                    if deref:
                        if isinstance(x, list):
                            nxt.append([objects[r] for r in x
                                        if isinstance(r, str) and r in objects])
                        elif isinstance(x, str) and x in objects:
                            nxt.append(objects[x])
                    else:
                        nxt.append(x)
            cur = nxt
            if not cur:
                return cur
        out = []
        for v in cur:
            if isinstance(v, list):
                out.extend(x for x in v if x is not None)
            else:
                out.append(v)
        return out
    return get


def _compile_cmp(c: ir.Comparison, centre: str):
    etype = c.path.etype or centre
    parts = tuple(c.path.parts)
    if c.op == "IS NULL":
        neg = c.negated
        if len(parts) == 1:
            name = parts[0]

            def isnull(obs):
                for o in obs.objects.values():
                    if o.get("type") == etype:
                        v = o.get(name)
                        present = v is not None and v != []
                        if present == neg:
                            return True
                return False
            return isnull
        get = _path_getter(parts)

        def isnull_path(obs):
            objs = obs.objects
            for o in objs.values():
                if o.get("type") == etype and bool(get(o, objs)) == neg:
                    return True
            return False
        return isnull_path
    test = make_test(c.op, c.value, c.negated)
    if len(parts) == 1:
        name = parts[0]

        def simple(obs):
            for o in obs.objects.values():
                if o.get("type") == etype:
                    v = o.get(name)
                    if v is None:
                        continue
                    if type(v) is list:
                        for x in v:
                            if x is not None and test(x):
                                return True
                    elif test(v):
                        return True
            return False
        return simple
    get = _path_getter(parts)

    def pathcmp(obs):
        objs = obs.objects
        for o in objs.values():
            if o.get("type") == etype:
                for v in get(o, objs):
                    if test(v):
                        return True
        return False
    return pathcmp


def compile_matcher(where: ir.Expr | None, centre: str) -> Callable[[Observation], bool]:
    """Compile ``where`` once into ``observation -> bool`` (no WHERE: always true)."""
    if where is None:
        return lambda obs: True
    if isinstance(where, ir.Comparison):
        return _compile_cmp(where, centre)
    subs = tuple(compile_matcher(x, centre) for x in where.items)
    if isinstance(where, ir.And):
        return lambda obs: all(f(obs) for f in subs)
    return lambda obs: any(f(obs) for f in subs)


# ---------------------------------------------------------------------------
# time range


def _ms_floor(d: datetime) -> str:
    d = d.astimezone(timezone.utc) if d.tzinfo else d.replace(tzinfo=timezone.utc)
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + f"{d.microsecond // 1000:03d}Z"


def _ms_ceil(d: datetime) -> str:
    from datetime import timedelta
    if d.microsecond % 1000:
        d = d + timedelta(microseconds=1000 - d.microsecond % 1000)
    return _ms_floor(d)


def time_bounds(start: datetime | None, stop: datetime | None) -> tuple[str | None, str | None]:
    """``(start, stop)`` as millisecond text for :func:`in_time_range` (floor / ceiling)."""
    return (_ms_floor(start) if start else None, _ms_ceil(stop) if stop else None)


def in_time_range(obs: Observation, start, stop) -> bool:
    """``[first_observed, last_observed]`` overlaps ``[start, stop)``.  start/stop: datetimes,
    or the text from :func:`time_bounds`, or None (unbounded)."""
    if start is not None:
        s = start if isinstance(start, str) else _ms_floor(start)
        if obs.last_observed < s:
            return False
    if stop is not None:
        e = stop if isinstance(stop, str) else _ms_ceil(stop)
        if obs.first_observed >= e:
            return False
    return True


# ---------------------------------------------------------------------------
# sound text pre-filter

#: escapes that could spell any text: an object holding one is never skipped
_HATCH = (b"\\u", b"\\/")
_BS_RUN = re.compile(rb"\\+[u/]")


def has_hatch(s: bytes) -> bool:
    """``s`` holds a real ``\\u`` or ``\\/`` escape (an odd backslash run before u or /)."""
    if b"\\u" not in s and b"\\/" not in s:
        return False
    return any((m.end() - m.start()) % 2 == 0 for m in _BS_RUN.finditer(s))


def _jtext(s: str) -> bytes:
    """How a JSON writer escaping minimally writes the characters of ``s``."""
    return json.dumps(s, ensure_ascii=False)[1:-1].encode("utf-8", "surrogatepass")


def number_texts(v) -> list[bytes] | None:
    """Texts one of which every JSON number token equal to ``v`` contains: its significant
    digits, undotted or with the decimal point between two of them (``443``, ``4.43``,
    ``44.3`` cover ``443``, ``443.0``, ``4.43e2``, ``0.443e3``, ``4430e-1``...)."""
    if type(v) is bool or not isinstance(v, (int, float)):
        return None
    try:
        d = Decimal(repr(v) if isinstance(v, float) else v)
    except ArithmeticError:
        return None
    if not d.is_finite():
        return None
    digits = "".join(map(str, d.as_tuple().digits)).strip("0")
    if not digits:
        return [b"0"]
    return [digits.encode()] + [(digits[:i] + "." + digits[i:]).encode()
                                for i in range(1, len(digits))]


def _value_conds(op: str, v):
    """Alternatives for the value: a list of (kind, texts), the value's text containing one of
    the texts of one alternative; None when the value gives no text condition."""
    if op == "=":
        items = (v,)
    elif op == "IN":
        items = tuple(v) if isinstance(v, (tuple, list, set, frozenset)) else (v,)
        if not items:
            return None
    elif op == "LIKE":
        s = str(v)
        frags = [f for f in re.split(r"[%_]", s) if f]
        if not frags:
            return None
        best = max(frags, key=len)
        if not best.strip("0123456789.-+eE"):
            return None  # could be (part of) a number's text
        n = _jtext(best)
        if s.startswith(best):
            n = b'"' + n
        if s.endswith(best):
            n = n + b'"'
        return [("val", [n])]
    else:
        return None
    out = []
    for x in items:
        if isinstance(x, str):
            n = _numeric(x)
            if n is None:
                out.append(("val", [b'"' + _jtext(x) + b'"']))
                continue
            x = n
        texts = number_texts(x)
        if texts is None:
            return None
        out.append(("num", texts))
    return out


def text_filter(where: ir.Expr | None, centre: str):
    """A sound pre-filter on an observed-data's raw JSON text (UTF-8 bytes).

    Returns ``(needles, check)`` or None (nothing to gain).  Guarantee: if an observed-data
    (with embedded ``objects``) can satisfy ``where``, its text contains one of ``needles`` AND
    ``check(text)`` is true.  Why it is sound: a STIX value equal to a string literal is a JSON
    string token whose minimal escaping is the literal's (any other spelling needs ``\\u`` or
    ``\\/``, and a text holding those always passes); an attribute needs its key and its type
    name as string tokens; a number equal to an integer literal is written with those digits
    unless it has an exponent (a text with a number token with an exponent always passes);
    numeric strings that coerce contain the digits too.  ``"object_refs"`` (STIX 2.1
    observed-data, matched against other objects) always passes.
    """
    if where is None:
        return None
    tree = _text_tree(where, centre)

    def options(t):  # -> alternative needle lists, each sound alone, most selective first
        kind = t[0]
        if kind in ("has", "val", "num"):
            return [(t[2], list(t[1]))]
        subs = [options(x) for x in t[1]]
        if kind == "all":
            out = [o for sub in subs for o in sub]
        else:
            if any(not sub for sub in subs):
                return []
            out = [(0, [])]
            for sub in subs:
                out = [(max(a[0], b[0]), a[1] + b[1]) for a in out for b in sub[:3]][:9]
        return sorted(out, key=lambda x: (x[0], len(x[1])))

    found = options(tree)
    if not found:
        return None
    extra = [b'"object_refs"', *_HATCH]
    alts = tuple(tuple(dict.fromkeys(o[1] + extra)) for o in found)
    core = _text_check(tree)
    return TextFilter(alts[0], lambda s: b'"object_refs"' in s or core(s) or has_hatch(s), core,
                      alts)


class TextFilter(NamedTuple):
    """``needles``: every candidate text holds one; ``check``: the full sound test of one
    object's text; ``core``: ``check`` without its two escape hatches (``"object_refs"`` and
    :func:`has_hatch`), for callers that apply those themselves; ``alternatives``: other
    sound needle sets (the first is ``needles``), for a caller that measures which is rarest."""

    needles: tuple[bytes, ...]
    check: Callable[[bytes], bool]
    core: Callable[[bytes], bool]
    alternatives: tuple[tuple[bytes, ...], ...] = ()


def _text_tree(e, centre):
    """("all"|"any", subtrees) / (kind, texts, score): the object text holds one of texts."""
    if isinstance(e, ir.Comparison):
        t = e.path.etype or centre
        conds = [("has", [b'"' + _jtext(t) + b'"'], 2)]
        if not (e.op == "IS NULL" and not e.negated):
            conds.append(("has", [b'"' + _jtext(e.path.parts[0]) + b'"'], 1))
            if not e.negated and e.op != "!=" and e.value is not None:
                vc = _value_conds(e.op, e.value)
                if vc:
                    alts = [(k, texts, 0 if k == "val" else
                             (0.5 if min(map(len, texts)) >= 4 else 1.5)) for k, texts in vc]
                    conds.append(alts[0] if len(alts) == 1 else ("any", alts))
        return ("all", conds)
    kind = "all" if isinstance(e, ir.And) else "any"
    return (kind, [_text_tree(x, centre) for x in e.items])


def _text_check(t):
    """Compile the tree into one lambda (generated source: ``c[i] in s`` tests only)."""
    consts: list[bytes] = []

    def src(t):
        kind = t[0]
        if kind in ("has", "val", "num"):
            parts = []
            for n in t[1]:
                consts.append(n)
                parts.append(f"c[{len(consts) - 1}] in s")
            return parts[0] if len(parts) == 1 else "(" + " or ".join(parts) + ")"
        word = " and " if kind == "all" else " or "
        return "(" + word.join(src(x) for x in t[1]) + ")"

    code = src(t)
    return eval(f"lambda s, c=c: {code}", {"c": tuple(consts)})  # noqa: S307 - no user text
