"""The SPL subset stix-shifter 8.1.3's ``splunk`` module emits: a parser and an evaluator.

Accepted pipeline (anything else raises :class:`SPLError` with the column, so the emulator
answers 400 and never returns unfiltered events for SPL it did not understand)::

    search <search-expr> [| where <eval-expr>] [| head N] [| fields a, b c ...]

(``where``, ``head`` and ``fields`` may appear in any order and number after the ``search``.)

**search command** (Splunk search semantics):

* terms: ``f=v``, ``f!=v``, ``f<v``, ``f<=v``, ``f>v``, ``f>=v`` (spaces around the operator
  allowed), ``f IN (v1, v2)``, ``earliest=T``, ``latest=T``; ``v`` is ``"quoted"`` or a bare word
  (``_raw=*x*``).  Bare keywords (raw full-text terms such as ``error``) are rejected.
* precedence is Splunk's: ``NOT`` > ``OR`` > ``AND`` (explicit or implicit), so
  ``index="a" OR index="b" (cond)`` is ``(a OR b) AND cond``.  AND/OR/NOT are upper case.
* ``=`` compares case-insensitively, ``*`` is a wildcard, also inside quotes (Splunk has no
  escape for ``*`` in the search command: a value holding ``*`` over-matches; send such
  comparisons through ``| where`` when that matters).  ``=`` is a string match (``f=1`` does not
  match ``01``).  ``<``/``>``... against a number compare numerically (non-numeric values do not
  match); against a string, as lower-cased strings.
* a missing field never matches a comparison, so ``f!=v`` drops events without ``f`` while
  ``NOT f=v`` keeps them.  A multi-value field matches ``=``/``<``... if any value does, and
  ``f!=v`` if it is present and no value equals ``v``.
* ``index`` is the row's ``index`` field, ``main`` for rows without one.
* ``earliest``/``latest`` are time terms evaluated *in place* in the boolean tree (``_time >=
  earliest``, ``_time < latest``), so several pairs inside OR groups constrain their own branch.
  Note what stix-shifter emits for ``[a] START s1 STOP e1 OR [b] START s2 STOP e2``::

      (a) earliest=s1 latest=e1 OR (b) earliest=s2 latest=e2

  which, with OR binding tighter than AND, is ``a AND _time>=s1 AND (_time<e1 OR b) AND
  _time>=s2 AND _time<e2``: the ``[b]`` events are lost (with equal windows it returns just
  ``a``).  We evaluate that literally, as Splunk parses it.  Times: ``MM/DD/YYYY:HH:MM:SS``
  (or ``MM/DD/YYYY``) in the search user's time zone, epoch seconds, ``now``, and relative
  ``[+-]N<unit>[@<unit>]`` with units s/m/h/d/w (``-5minutes``, ``-24h@h``, ``@d``).

**where command** (eval semantics): ``=``/``==``, ``!=``, ``<``... are case-sensitive with no
wildcards; numbers (unquoted literals, numeric-looking field values) compare numerically;
``NOT`` > ``AND`` > ``OR``; ``f IN ("a", 1)``; functions ``like(x, "a%b_")`` (SQL LIKE,
case-sensitive), ``match(x, "re")`` (unanchored ``re.search``), ``cidrmatch("10.0.0.0/8", x)``,
``isnull(x)``, ``isnotnull(x)``.  ``"..."`` is a string, ``'...'`` or a bare name a field.
Missing fields are null; logic is three-valued (null compares to null, ``NOT null`` is null,
``where`` keeps only true), so ``NOT like(f, ...)`` does not keep events lacking ``f``.  Multi-value
fields compare true if any value does.

**Strings**: double-quoted; ``\\"`` is a quote and ``\\\\`` a backslash; any other backslash is
kept literally (so ``"C:\\Windows"`` and the regex ``"a\\.exe"`` mean what they say).  ``|``,
``[``, ``]`` and newlines inside quotes are literal.  A ``[`` outside quotes (subsearch, also in
stix-shifter's FOLLOWEDBY output) is rejected.

**Known stix-shifter outputs that are not valid SPL** (rejected, as Splunk would): LIKE /
MATCHES / ISSUBSET patterns with the ``index`` option and no START/STOP (the index terms land
inside ``| where`` as ``index="a" OR index="b" (...)``), and multi-observation patterns where
one observation needs ``| where`` and carries its own START/STOP.
"""
from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import Any, Callable
from zoneinfo import ZoneInfo

__all__ = ["SPLError", "parse", "Search", "SearchCmd", "WhereCmd", "HeadCmd", "FieldsCmd",
           "And", "Or", "Not", "Term", "InTerm", "TimeTerm", "TimeSpec", "Cmp", "In", "Call",
           "FieldRef", "Literal", "compile_search", "compile_where", "time_bounds", "time_kinds",
           "parse_event_time"]


class SPLError(ValueError):
    """SPL outside the supported subset; the message names the problem and the column."""

    def __init__(self, message: str, column: int | None = None):
        self.column = column
        super().__init__(f"{message} (column {column})" if column else message)


# ---------------------------------------------------------------------------- tokens

@dataclass(frozen=True)
class Tok:
    kind: str     # WORD STR FIELDSTR OP LP RP COMMA PIPE EOF
    text: str     # decoded value for strings
    col: int      # 1-based column of the first character


_WORD_END = set(" \t\r\n()|,=<>!\"'[]")
_OPS = ("==", "!=", "<=", ">=", "=", "<", ">")


def _tokenize(spl: str) -> list[Tok]:
    toks, i, n = [], 0, len(spl)
    while i < n:
        c = spl[i]
        if c.isspace():
            i += 1
        elif c in "\"'":
            j, buf = i + 1, []
            while j < n and spl[j] != c:
                if spl[j] == "\\" and j + 1 < n and spl[j + 1] in (c, "\\"):
                    j += 1
                buf.append(spl[j])
                j += 1
            if j >= n:
                raise SPLError(f"unbalanced quote {c}", i + 1)
            toks.append(Tok("STR" if c == '"' else "FIELDSTR", "".join(buf), i + 1))
            i = j + 1
        elif c in "[]":
            raise SPLError("subsearches ([...]) are not supported", i + 1)
        elif c in "()|,":
            toks.append(Tok({"(": "LP", ")": "RP", "|": "PIPE", ",": "COMMA"}[c], c, i + 1))
            i += 1
        elif c in "=<>!":
            op = next((o for o in _OPS if spl.startswith(o, i)), None)
            if op is None:
                raise SPLError(f"unexpected {c!r}", i + 1)
            toks.append(Tok("OP", op, i + 1))
            i += len(op)
        else:
            j = i
            while j < n and spl[j] not in _WORD_END:
                j += 1
            toks.append(Tok("WORD", spl[i:j], i + 1))
            i = j
    toks.append(Tok("EOF", "", n + 1))
    return toks


# ---------------------------------------------------------------------------- AST

@dataclass
class And:
    items: list


@dataclass
class Or:
    items: list


@dataclass
class Not:
    item: Any


@dataclass
class Term:
    """search-command comparison ``field op value``."""
    field: str
    op: str
    value: str
    col: int = 0


@dataclass
class InTerm:
    field: str
    values: list[str]
    col: int = 0


@dataclass
class TimeSpec:
    """An earliest/latest value: absolute (naive, in the user's zone), epoch, or relative."""
    text: str
    absolute: datetime | None = None
    epoch: float | None = None
    offset: timedelta = timedelta(0)
    snap: str | None = None

    def resolve(self, now: datetime, tz: ZoneInfo) -> float:
        if self.epoch is not None:
            return self.epoch
        if self.absolute is not None:
            return self.absolute.replace(tzinfo=tz).timestamp()
        t = (now + self.offset).astimezone(tz)
        if self.snap:
            unit = self.snap
            t = t.replace(microsecond=0)
            if unit in "mhdw":
                t = t.replace(second=0)
            if unit in "hdw":
                t = t.replace(minute=0)
            if unit in "dw":
                t = t.replace(hour=0)
            if unit == "w":
                t -= timedelta(days=(t.weekday() + 1) % 7)  # Splunk's @w is @w0: Sunday
            t = t.replace(tzinfo=None).replace(tzinfo=tz)    # re-resolve the offset (DST)
        return t.timestamp()


@dataclass
class TimeTerm:
    kind: str          # "earliest" | "latest"
    spec: TimeSpec
    col: int = 0


@dataclass
class Literal:
    value: str | float
    col: int = 0


@dataclass
class FieldRef:
    name: str
    col: int = 0


@dataclass
class Cmp:
    """eval comparison"""
    op: str
    left: Any
    right: Any


@dataclass
class In:
    expr: Any
    values: list


@dataclass
class Call:
    name: str
    args: list
    col: int = 0


@dataclass
class SearchCmd:
    expr: Any          # None: every event


@dataclass
class WhereCmd:
    expr: Any


@dataclass
class HeadCmd:
    n: int


@dataclass
class FieldsCmd:
    names: list[str]


@dataclass
class Search:
    commands: list = field(default_factory=list)

    @property
    def search(self) -> SearchCmd:
        return self.commands[0]


# ---------------------------------------------------------------------------- parser

_TIME_UNITS = {"s": 1, "sec": 1, "secs": 1, "second": 1, "seconds": 1,
               "m": 60, "min": 60, "mins": 60, "minute": 60, "minutes": 60,
               "h": 3600, "hr": 3600, "hrs": 3600, "hour": 3600, "hours": 3600,
               "d": 86400, "day": 86400, "days": 86400,
               "w": 604800, "week": 604800, "weeks": 604800}
_SNAP = {"s": "s", "sec": "s", "second": "s", "m": "m", "min": "m", "minute": "m",
         "h": "h", "hr": "h", "hour": "h", "d": "d", "day": "d", "w": "w", "w0": "w",
         "week": "w"}
_REL = re.compile(r"([+-])(\d*)([a-z]+)$")


def _time_spec(text: str, col: int) -> TimeSpec:
    t = text.strip()
    if t == "now" or t == "now()":
        return TimeSpec(text)
    if re.fullmatch(r"\d+(\.\d+)?", t):
        return TimeSpec(text, epoch=float(t))
    for fmt in ("%m/%d/%Y:%H:%M:%S", "%m/%d/%Y"):
        try:
            return TimeSpec(text, absolute=datetime.strptime(t, fmt))
        except ValueError:
            pass
    rel, _, snap = t.partition("@")
    spec = TimeSpec(text)
    if rel:
        m = _REL.match(rel)
        if not m or m.group(3) not in _TIME_UNITS:
            raise SPLError(f"invalid time modifier {text!r}", col)
        secs = int(m.group(2) or 1) * _TIME_UNITS[m.group(3)]
        spec.offset = timedelta(seconds=-secs if m.group(1) == "-" else secs)
    if "@" in t:
        if snap not in _SNAP:
            raise SPLError(f"unsupported time snap @{snap} in {text!r}", col)
        spec.snap = _SNAP[snap]
    return spec


class _Parser:
    def __init__(self, toks: list[Tok]):
        self.toks, self.i = toks, 0

    @property
    def tok(self) -> Tok:
        return self.toks[self.i]

    def next(self) -> Tok:
        t = self.toks[self.i]
        self.i += 1
        return t

    def at_end(self) -> bool:
        return self.tok.kind in ("PIPE", "EOF")

    def kw(self, word: str) -> bool:
        return self.tok.kind == "WORD" and self.tok.text == word

    def expect(self, kind: str, what: str) -> Tok:
        if self.tok.kind != kind:
            raise SPLError(f"expected {what}, found {self.tok.text or 'end of search'!r}",
                           self.tok.col)
        return self.next()

    def fail(self, what: str):
        raise SPLError(f"{what}, found {self.tok.text or 'end of search'!r}", self.tok.col)

    # --- search command: NOT > OR > AND (explicit or implicit)
    def s_and(self, stop: str):
        items = [self.s_or()]
        while not self.at_end() and self.tok.kind != stop:
            if self.tok.kind == "RP":
                self.fail("unbalanced ')'")
            if self.kw("AND"):
                self.next()
            items.append(self.s_or())
        return items[0] if len(items) == 1 else And(items)

    def _chain(self, word: str, operand, node):
        """``operand (word operand)*``: one operand as it is, several under ``node``."""
        items = [operand()]
        while self.kw(word):
            self.next()
            items.append(operand())
        return items[0] if len(items) == 1 else node(items)

    def s_or(self):
        return self._chain("OR", self.s_not, Or)

    def s_not(self):
        if self.kw("NOT"):
            self.next()
            return Not(self.s_not())
        if self.tok.kind == "LP":
            self.next()
            if self.tok.kind == "RP":
                self.fail("empty parentheses")
            e = self.s_and("RP")
            self.expect("RP", "')'")
            return e
        return self.s_term()

    def s_value(self) -> Tok:
        if self.tok.kind in ("STR", "WORD") and not (self.tok.kind == "WORD" and
                                                      self.tok.text in ("AND", "OR", "NOT")):
            return self.next()
        self.fail("expected a value")

    def s_term(self):
        t = self.tok
        if t.kind != "WORD" or t.text in ("AND", "OR", "NOT") or not _FIELD.fullmatch(t.text):
            self.fail("expected a search term")
        self.next()
        if self.tok.kind == "LP":
            raise SPLError(f"function {t.text}() is not allowed in the search command "
                           "(only in | where)", t.col)
        if self.kw("IN"):
            self.next()
            self.expect("LP", "'(' after IN")
            vals = [self.s_value().text]
            while self.tok.kind == "COMMA":
                self.next()
                vals.append(self.s_value().text)
            self.expect("RP", "')' closing IN")
            return InTerm(t.text, vals, t.col)
        if self.tok.kind == "OP" and self.tok.text == "==":
            self.fail("'==' is not a search-command operator (use '=')")
        if self.tok.kind != "OP":
            raise SPLError(f"bare search term {t.text!r} (only field comparisons are supported)",
                           t.col)
        op = self.next().text
        v = self.s_value()
        if t.text in ("earliest", "latest"):
            if op != "=":
                raise SPLError(f"{t.text} supports only '='", t.col)
            return TimeTerm(t.text, _time_spec(v.text, v.col), t.col)
        return Term(t.text, op, v.text, t.col)

    # --- eval expressions: NOT > AND > OR
    def e_or(self):
        return self._chain("OR", self.e_and, Or)

    def e_and(self):
        return self._chain("AND", self.e_not, And)

    def e_not(self):
        if self.kw("NOT"):
            self.next()
            return Not(self.e_not())
        left = self.e_atom()
        if self.tok.kind == "OP":
            op = self.next().text
            return Cmp("=" if op == "==" else op, left, self.e_atom())
        if self.kw("IN"):
            self.next()
            self.expect("LP", "'(' after IN")
            vals = [self.e_atom()]
            while self.tok.kind == "COMMA":
                self.next()
                vals.append(self.e_atom())
            self.expect("RP", "')' closing IN")
            return In(left, vals)
        return left

    def e_atom(self):
        t = self.tok
        if t.kind == "LP":
            self.next()
            e = self.e_or()
            self.expect("RP", "')'")
            return e
        if t.kind == "STR":
            self.next()
            return Literal(t.text, t.col)
        if t.kind == "FIELDSTR":
            self.next()
            return FieldRef(t.text, t.col)
        if t.kind == "WORD" and t.text not in ("AND", "OR", "NOT", "IN"):
            self.next()
            if _NUM.fullmatch(t.text):
                return Literal(float(t.text), t.col)
            if not _FIELD.fullmatch(t.text):
                raise SPLError(f"invalid eval expression {t.text!r}", t.col)
            if self.tok.kind == "LP":
                return self.e_call(t)
            return FieldRef(t.text, t.col)
        self.fail("expected an eval expression")

    def e_call(self, name: Tok):
        fn = name.text.lower()
        if fn not in _FUNCS:
            raise SPLError(f"unknown function {name.text}()", name.col)
        self.next()
        args = [] if self.tok.kind == "RP" else [self.e_or()]
        while self.tok.kind == "COMMA":
            self.next()
            args.append(self.e_or())
        self.expect("RP", f"')' closing {name.text}(")
        if len(args) != _FUNCS[fn]:
            raise SPLError(f"{name.text}() takes {_FUNCS[fn]} argument(s), got {len(args)}",
                           name.col)
        if fn == "match" and isinstance(args[1], Literal):
            try:
                args[1] = Literal(re.compile(str(args[1].value)), args[1].col)
            except re.error as e:
                raise SPLError(f"invalid regex in match(): {e}", args[1].col) from None
        if fn == "cidrmatch" and isinstance(args[0], Literal):
            try:
                args[0] = Literal(ipaddress.ip_network(str(args[0].value), strict=False),
                                  args[0].col)
            except ValueError as e:
                raise SPLError(f"invalid CIDR in cidrmatch(): {e}", args[0].col) from None
        return Call(fn, args, name.col)


_BOOL = (And, Or, Not, Cmp, In, Call)


def _check_bool(node, col: int, want_bool: bool = True):
    """Static typing of a where expression: conditions where booleans belong, values elsewhere."""
    is_bool = isinstance(node, _BOOL)
    if want_bool and not is_bool:
        raise SPLError("where needs a condition here, not a bare value", getattr(node, "col", 0) or col)
    if not want_bool and is_bool:
        raise SPLError("a condition cannot be used as a value", col)
    if isinstance(node, (And, Or)):
        for x in node.items:
            _check_bool(x, col)
    elif isinstance(node, Not):
        _check_bool(node.item, col)
    elif isinstance(node, Cmp):
        _check_bool(node.left, col, False), _check_bool(node.right, col, False)
    elif isinstance(node, In):
        for x in [node.expr, *node.values]:
            _check_bool(x, col, False)
    elif isinstance(node, Call):
        for x in node.args:
            _check_bool(x, node.col, False)
    return node


_FIELD = re.compile(r"[A-Za-z_][\w.:-]*")
_NUM = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_FUNCS = {"like": 2, "match": 2, "cidrmatch": 2, "isnull": 1, "isnotnull": 1}


def parse(spl: str) -> Search:
    """Parse ``spl`` (which must start with ``search``) into a :class:`Search`."""
    p = _Parser(_tokenize(spl))
    if not p.kw("search"):
        p.fail("the SPL must start with the 'search' command")
    p.next()
    out = Search([SearchCmd(None if p.at_end() else p.s_and("EOF"))])
    while p.tok.kind == "PIPE":
        p.next()
        cmd = p.tok
        if cmd.kind != "WORD":
            p.fail("expected a command after '|'")
        p.next()
        if cmd.text == "where":
            if p.at_end():
                p.fail("where needs an expression")
            out.commands.append(WhereCmd(_check_bool(p.e_or(), cmd.col)))
        elif cmd.text == "head":
            n = 10
            if not p.at_end():
                t = p.expect("WORD", "a row count")
                if not t.text.isdigit():
                    raise SPLError(f"head needs a non-negative integer, got {t.text!r}", t.col)
                n = int(t.text)
            out.commands.append(HeadCmd(n))
        elif cmd.text == "fields":
            names = []
            while not p.at_end():
                if p.tok.kind == "COMMA":
                    p.next()
                    continue
                t = p.expect("WORD", "a field name")
                if t.text in ("+", "-") or not _FIELD.fullmatch(t.text):
                    raise SPLError(f"unsupported fields argument {t.text!r}", t.col)
                names.append(t.text)
            if not names:
                p.fail("fields needs field names")
            out.commands.append(FieldsCmd(names))
        else:
            raise SPLError(f"unsupported command {cmd.text!r}", cmd.col)
        if not p.at_end():
            p.fail(f"unexpected text in '{cmd.text}' command")
    if p.tok.kind != "EOF":
        p.fail("unexpected text")
    return out


# ---------------------------------------------------------------------------- evaluation

def _num(v) -> float | None:
    if isinstance(v, float):
        return v
    if isinstance(v, str) and _NUM.fullmatch(v.strip()):
        return float(v)
    return None


def wildcard(pattern: str) -> Callable[[str], bool]:
    """Case-insensitive Splunk search-value matcher (``*`` = any run of characters)."""
    p = pattern.lower()
    if "*" not in p:
        return lambda s: s.lower() == p
    rx = re.compile(".*".join(map(re.escape, p.split("*"))), re.S)
    return lambda s: rx.fullmatch(s.lower()) is not None


def _values(row: dict, name: str) -> list:
    v = row.get(name)
    if v is None:
        return ["main"] if name == "index" else []
    return v if isinstance(v, list) else [v]


_ORDER = {"<": lambda a, b: a < b, "<=": lambda a, b: a <= b,
          ">": lambda a, b: a > b, ">=": lambda a, b: a >= b}


def _search_term(t: Term) -> Callable[[dict], bool]:
    name = t.field
    if t.op in ("=", "!="):
        m = wildcard(t.value)
        if t.op == "=":
            return lambda row: any(m(str(v)) for v in _values(row, name))
        return lambda row: (vs := _values(row, name)) != [] and not any(m(str(v)) for v in vs)
    rel, lit, litn = _ORDER[t.op], t.value.lower(), _num(t.value)

    def cmp(v) -> bool:
        if litn is None:
            return rel(str(v).lower(), lit)
        n = _num(v)
        return n is not None and rel(n, litn)
    return lambda row: any(cmp(v) for v in _values(row, name))


def compile_search(node, now: datetime, tz: ZoneInfo) -> Callable[[dict, float], bool]:
    """A predicate ``f(row, epoch_time)`` for a search-command expression (None: all)."""
    if node is None:
        return lambda row, t: True
    if isinstance(node, (And, Or)):
        fs = [compile_search(x, now, tz) for x in node.items]
        if isinstance(node, And):
            return lambda row, t: all(f(row, t) for f in fs)
        return lambda row, t: any(f(row, t) for f in fs)
    if isinstance(node, Not):
        f = compile_search(node.item, now, tz)
        return lambda row, t: not f(row, t)
    if isinstance(node, TimeTerm):
        b = node.spec.resolve(now, tz)
        return (lambda row, t: t >= b) if node.kind == "earliest" else (lambda row, t: t < b)
    if isinstance(node, InTerm):
        ms = [wildcard(v) for v in node.values]
        name = node.field
        return lambda row, t: any(m(str(v)) for v in _values(row, name) for m in ms)
    f = _search_term(node)
    return lambda row, t: f(row)


def time_bounds(node, now: datetime, tz: ZoneInfo) -> tuple[float, float]:
    """A hull [lo, hi) of the times ``node`` can match (for bisecting a time-sorted store)."""
    inf = float("inf")
    if isinstance(node, TimeTerm):
        b = node.spec.resolve(now, tz)
        return (b, inf) if node.kind == "earliest" else (-inf, b)
    if isinstance(node, And):
        bs = [time_bounds(x, now, tz) for x in node.items]
        return max(b[0] for b in bs), min(b[1] for b in bs)
    if isinstance(node, Or):
        bs = [time_bounds(x, now, tz) for x in node.items]
        return min(b[0] for b in bs), max(b[1] for b in bs)
    return -inf, inf


def time_kinds(node) -> set[str]:
    """Which time terms (``earliest``/``latest``) occur in a search expression."""
    if isinstance(node, TimeTerm):
        return {node.kind}
    if isinstance(node, (And, Or)):
        return set().union(*map(time_kinds, node.items))
    return time_kinds(node.item) if isinstance(node, Not) else set()


# eval: values are None (null), str, float, list (multi-value) or compiled helpers;
# predicates return True / False / None (null).

def _any3(fn, a, b):
    """Apply a 3-valued ``fn`` to every pair of values of multi-value operands: true if any is."""
    if a is None or b is None:
        return None
    av, bv = (a if isinstance(a, list) else [a]), (b if isinstance(b, list) else [b])
    return any(fn(x, y) for x in av for y in bv)


def _eq(x, y) -> bool:
    """eval ``=``: numeric when a number literal is involved, else exact (case-sensitive)."""
    if isinstance(x, float) or isinstance(y, float):
        nx, ny = _num(x), _num(y)
        return nx is not None and ny is not None and nx == ny
    return str(x) == str(y)


def _rel(op):
    f = _ORDER[op]

    def cmp(x, y) -> bool:
        nx, ny = _num(x), _num(y)
        if nx is not None and ny is not None:
            return f(nx, ny)
        return f(str(x), str(y))
    return cmp


def _like_rx(pat: str):
    return re.compile("".join(".*" if c == "%" else "." if c == "_" else re.escape(c)
                              for c in pat), re.S)


def compile_where(node) -> Callable[[dict], Any]:
    """A 3-valued function ``f(row)`` for an eval expression."""
    if isinstance(node, Literal):
        v = node.value
        return lambda row: v
    if isinstance(node, FieldRef):
        name = node.name
        return lambda row: row.get(name)
    if isinstance(node, And):
        fs = [compile_where(x) for x in node.items]

        def f_and(row):
            out = True
            for f in fs:
                r = f(row)
                if r is False:
                    return False
                if r is None:
                    out = None
            return out
        return f_and
    if isinstance(node, Or):
        fs = [compile_where(x) for x in node.items]

        def f_or(row):
            out = False
            for f in fs:
                r = f(row)
                if r is True:
                    return True
                if r is None:
                    out = None
            return out
        return f_or
    if isinstance(node, Not):
        f = compile_where(node.item)
        return lambda row: None if (r := f(row)) is None else not _truthy(r)
    if isinstance(node, Cmp):
        lf, rf = compile_where(node.left), compile_where(node.right)
        fn = _eq if node.op in ("=", "!=") else _rel(node.op)
        if node.op == "!=":
            return lambda row: _any3(lambda x, y: not _eq(x, y), lf(row), rf(row))
        return lambda row: _any3(fn, lf(row), rf(row))
    if isinstance(node, In):
        ef, vfs = compile_where(node.expr), [compile_where(v) for v in node.values]
        return lambda row: (None if (e := ef(row)) is None else
                            any(_any3(_eq, e, vf(row)) for vf in vfs))
    if isinstance(node, Call):
        return _compile_call(node)
    raise SPLError(f"not an eval expression: {node!r}")


def _truthy(r) -> bool:
    if isinstance(r, bool):
        return r
    raise SPLError("a where condition must be boolean (a comparison or a function)")


def _compile_call(node: Call):
    args = [compile_where(a) for a in node.args]
    if node.name == "isnull":
        return lambda row: args[0](row) is None
    if node.name == "isnotnull":
        return lambda row: args[0](row) is not None
    if node.name == "like":
        cache: dict[str, re.Pattern] = {}

        def like(row):
            v, p = args[0](row), args[1](row)
            if v is None or p is None:
                return None
            rx = cache.get(p)
            if rx is None:
                rx = cache[p] = _like_rx(str(p))
            if isinstance(v, str):
                return rx.fullmatch(v) is not None
            return any(rx.fullmatch(str(x)) is not None for x in _mv(v))
        return like
    if node.name == "match":
        def match(row):
            v, p = args[0](row), args[1](row)
            if v is None or p is None:
                return None
            rx = p if isinstance(p, re.Pattern) else re.compile(str(p))
            if isinstance(v, str):
                return rx.search(v) is not None
            return any(rx.search(str(x)) is not None for x in _mv(v))
        return match
    if node.name == "cidrmatch":
        def cidrmatch(row):
            net, v = args[0](row), args[1](row)
            if net is None or v is None:
                return None
            if not isinstance(net, (ipaddress.IPv4Network, ipaddress.IPv6Network)):
                try:
                    net = ipaddress.ip_network(str(net), strict=False)
                except ValueError:
                    return False
            if isinstance(v, str):
                return _in_net(v, net)
            return any(_in_net(x, net) for x in _mv(v))
        return cidrmatch
    raise SPLError(f"unknown function {node.name}()", node.col)


def _mv(v) -> list:
    return v if isinstance(v, list) else [v]


@lru_cache(maxsize=1 << 16)
def _ip(value: str):
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        return None


def _in_net(value, net) -> bool:
    ip = _ip(str(value))
    return ip is not None and ip.version == net.version and ip in net


def parse_event_time(value) -> float:
    """A row's ``_time`` (ISO 8601 with offset, or epoch seconds) as epoch seconds."""
    if isinstance(value, (int, float)):
        return float(value)
    s = str(value).strip()
    if _NUM.fullmatch(s):
        return float(s)
    dt = datetime.fromisoformat(s.replace("Z", "+00:00"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.timestamp()
