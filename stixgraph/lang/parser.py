"""Kestrel v1 hunt text -> :mod:`stixgraph.ir` instructions.

:func:`parse` reads a whole hunt block with the LALR grammar in ``grammar.lark`` and lowers
the tree into IR statements.  Every problem the user can cause comes out as
:class:`~stixgraph.errors.HuntSyntaxError` (with line, column and a readable "expected ...")
or, for well-formed but impossible timespans, :class:`~stixgraph.errors.HuntSemanticError`.
No Lark exception escapes.

Lowering rules worth knowing:

* ``GET ... FROM src``: :attr:`ir.Get.source` is the source text with any quotes removed and
  nothing added.  ``stixshifter://splunk`` stays a URI; a bare word without ``://``
  (``splunk``, ``procs``) is kept as written and the session decides whether it names a
  variable (GET-from-variable) or a stix-shifter profile (``stixshifter://splunk``).
  No FROM gives ``source=None``.
* ``APPLY name`` without a scheme becomes ``python://name``.
* String literals follow Python: ``'..'``, ``".."`` and raw ``r'..'``.  In non-raw strings
  ``\\\\ \\' \\" \\/ \\n \\r \\t \\xhh \\uhhhh \\Uhhhhhhhh`` are decoded; every other backslash
  pair is kept as written, so regexes stay usable (``'.+\\.(exe|dll)$'`` is the regex
  ``.+\\.(exe|dll)$``, ``'\\bcmd\\b'`` keeps its word boundaries).  Quoted paths and URIs
  (FROM, LOAD, SAVE, APPLY) only decode ``\\\\``, ``\\'`` and ``\\"`` so that Windows paths
  survive.
* ``==`` becomes ``=``; ``NOT IN`` is op ``IN`` negated; ``IS NOT NULL`` is op ``IS NULL``
  negated; ``= NULL`` / ``!= NULL`` are read as ``IS NULL`` / ``IS NOT NULL``.
* ``t'2024-12-01T00:00:00Z'`` (or a bare ISO timestamp) as a WHERE value is an
  :class:`ir.Timestamp`; a plainly quoted timestamp stays a string.
* A dotted bareword value whose first part is a variable-like name (``procs.pid``) is a
  :class:`ir.VarAttr`; other barewords are strings.  Lists are tuples.
* Statements without ``x =`` that produce a variable bind ``_``.
* Keywords (GET, WHERE, START, LIMIT, ...) cannot name a variable or an entity type, but may
  name an attribute (``start``, ``end``); aggregate names and time units are not reserved.
* NEW data is a tuple of strings or of dicts; lists nested inside an object stay lists.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken, VisitError
from lark.lexer import PatternStr

from .. import ir
from ..errors import HuntSemanticError, HuntSyntaxError, StixgraphError

__all__ = ["parse", "parse_timestamp"]


class _BadWord(Exception):
    """Raised from the lexer when a keyword sits where an entity type or a path must be."""

    def __init__(self, token: Token, expected: str):
        super().__init__(token.value)
        self.token, self.expected = token, expected


def _not_keyword(expected: str):
    def check(tok: Token) -> Token:
        if tok.value.upper() in _RESERVED:
            raise _BadWord(tok, expected)
        return tok
    return check


_PARSER = Lark(
    (Path(__file__).with_name("grammar.lark")).read_text(encoding="utf-8"),
    parser="lalr",
    lexer="contextual",
    propagate_positions=True,
    maybe_placeholders=True,
    lexer_callbacks={"ETYPE": _not_keyword("an entity type"),
                     "LOCATOR": _not_keyword("a data source or path")},
)

# Words that can never be a variable name or an entity type: the grammar's keywords.
# Aggregate names and time units are left out, so a variable may be called `count` or `d`.
_RESERVED = frozenset(
    t.pattern.value.upper() for t in _PARSER.terminals
    if isinstance(t.pattern, PatternStr) and t.pattern.value.isalpha()
)

# ---------------------------------------------------------------------------- literals

_ESCAPE = re.compile(r"\\(?:([\\'\"/nrt])|x([0-9A-Fa-f]{2})|u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8}))")
_SIMPLE_ESCAPES = {"\\": "\\", "'": "'", '"': '"', "/": "/", "n": "\n", "r": "\r", "t": "\t"}


def _decode_escape(m: re.Match) -> str:
    if m[1]:
        return _SIMPLE_ESCAPES[m[1]]
    code = int(m[2] or m[3] or m[4], 16)
    return chr(code) if code <= 0x10FFFF else m[0]


def _string_value(literal: str) -> str:
    """The value of a quoted string literal (see the module docstring)."""
    if literal[0] in "rR":
        return literal[2:-1]
    return _ESCAPE.sub(_decode_escape, literal[1:-1])


def _locator_value(tok: Token) -> str:
    text = tok.value
    if tok.type != "STRING":
        return text
    if text[0] in "rR":
        return text[2:-1]
    return re.sub(r"\\([\\'\"])", r"\1", text[1:-1])


_PATH_PREFIX = re.compile(r"([a-z][a-z0-9-]*):")
_PATH_STEP = re.compile(r"\.?(?:([A-Za-z0-9_-]+)|'([^']*)'|\"([^\"]*)\")|\[(\*|\d+)\]")
_STEP_END = re.compile(r"$|[.\[]")
_VAR_DOT = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\.")


def path_parts(text: str) -> tuple[str, ...]:
    """An attribute path's steps: ``binary_ref.name``, ``x_list[1]``, ``refs[*].value``,
    ``extensions.'windows-process-ext'.aslr_enabled``.  Text that is no such path (a column
    name read from data, with a space, say) is split at its dots."""
    parts, pos = [], 0
    while pos < len(text):
        m = _PATH_STEP.match(text, pos)
        if m is None or m.end() == pos or not _STEP_END.match(text, m.end()):
            return tuple(text.split("."))
        parts.append(next(g for g in m.groups() if g is not None))
        pos = m.end()
    return tuple(parts)


def _path(tok: Token) -> ir.AttrPath:
    m = _PATH_PREFIX.match(tok.value)
    if m:
        return ir.AttrPath(path_parts(tok.value[m.end():]), m[1])
    return ir.AttrPath(path_parts(tok.value))


_TIMESTAMP = re.compile(
    r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[Tt ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?"
    r"\s*([Zz]|[+-]\d{2}:?\d{2})?")


def parse_timestamp(value) -> datetime:
    """A UTC-aware datetime from ``2024-12-01T00:00:00Z`` and friends.

    Accepts fractional seconds, ``+hh:mm`` offsets (converted to UTC), no zone (taken as
    UTC), a date alone (midnight), surrounding quotes and Kestrel's ``t'...'`` form; a
    datetime is normalised to UTC.  Anything else raises ``ValueError("bad timestamp ...")``.
    """
    if isinstance(value, datetime):
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)
    text = str(value).strip()
    if text[:1] in "tT" and text[1:2] in ("'", '"'):
        text = text[1:]
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        text = text[1:-1]
    m = _TIMESTAMP.fullmatch(text)
    try:
        if not m:
            raise ValueError
        year, month, day, hour, minute, second = (int(g or 0) for g in m.groups()[:6])
        micro = int((m[7] or "0").ljust(6, "0")[:6])
        tz = timezone.utc
        if m[8] and m[8] not in "Zz":
            sign = -1 if m[8][0] == "-" else 1
            digits = m[8][1:].replace(":", "")
            tz = timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
        return datetime(year, month, day, hour, minute, second, micro, tzinfo=tz).astimezone(timezone.utc)
    except ValueError:
        raise ValueError(f"bad timestamp {text!r}") from None


def _iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S") + (f".{t.microsecond:06d}" if t.microsecond else "") + "Z"


_UNITS = {"d": "days", "h": "hours", "m": "minutes", "s": "seconds"}


def _unit(tok: Token | None) -> str | None:
    return None if tok is None else _UNITS[tok.value[0].lower()]


# ---------------------------------------------------------------------------- lowering


@dataclass
class _Cmd:
    """A command before it knows its position and output variable."""

    cls: type
    kwargs: dict


@dataclass
class _AbsSpan:
    start: Token
    stop: Token


class _Null:
    """The NULL literal, kept apart from None until its comparison is known."""

    def __init__(self, tok: Token):
        self.tok = tok


class _Lower(Transformer):
    def __init__(self, text: str, filename: str):
        super().__init__()
        self.text, self.filename = text, filename

    # -- helpers
    def _error(self, message: str, line: int, column: int) -> HuntSyntaxError:
        return _syntax_error(self.text, self.filename, message, line, column)

    def _var(self, tok: Token) -> str:
        if tok.value.upper() in _RESERVED:
            raise self._error(f"unexpected keyword {tok.value!r}, expected a variable name",
                              tok.line, tok.column)
        return tok.value

    def _finish(self, meta, cmd: _Cmd, **extra) -> ir.Statement:
        pos = ir.Pos(meta.line, meta.column, meta.end_line, self.text[meta.start_pos:meta.end_pos])
        kwargs = {**cmd.kwargs, **extra, "pos": pos}
        span = kwargs.get("timespan")
        kind = cmd.cls.__name__.upper()
        if isinstance(span, _AbsSpan):
            try:
                start, stop = parse_timestamp(span.start.value), parse_timestamp(span.stop.value)
            except ValueError as err:
                raise HuntSemanticError(str(err), statement=kind, line=pos.line,
                                        filename=self.filename) from None
            if stop <= start:
                raise HuntSemanticError(f"STOP {_iso(stop)} is not after START {_iso(start)}",
                                        statement=kind, line=pos.line, filename=self.filename)
            kwargs["timespan"] = ir.TimeRange(start, stop)
        elif isinstance(span, ir.LastSpan) and span.amount <= 0:
            raise HuntSemanticError("LAST needs a positive amount of time", statement=kind,
                                    line=pos.line, filename=self.filename)
        return cmd.cls(**kwargs)

    # -- statements
    def start(self, children):
        return children

    @v_args(meta=True)
    def bound(self, meta, children):
        var, cmd = children
        return self._finish(meta, cmd, out=self._var(var))

    @v_args(meta=True)
    def unbound(self, meta, children):
        return self._finish(meta, children[0], out="_")

    @v_args(meta=True)
    def plain(self, meta, children):
        return self._finish(meta, children[0])

    @v_args(meta=True)
    def assign(self, meta, children):
        var, expr = children
        return self._finish(meta, _Cmd(ir.Assign, {"expr": expr}), out=self._var(var))

    @v_args(meta=True)
    def merge(self, meta, children):
        out, *names = (self._var(t) for t in children)
        return self._finish(meta, _Cmd(ir.Merge, {"vars": tuple(names)}), out=out)

    # -- commands
    def get(self, children):
        etype, source, (where, pattern), timespan, limit = children
        return _Cmd(ir.Get, dict(etype=etype.value, source=source, where=where, timespan=timespan,
                                 limit=limit, pattern=pattern))

    def find(self, children):
        etype, relation, by, var, where, timespan, limit = children
        return _Cmd(ir.Find, dict(etype=etype.value, relation=relation.value.lower(), by=by is not None,
                                  var=self._var(var), where=where and where[0], timespan=timespan,
                                  limit=limit))

    def group(self, children):
        var, *keys, aggregates = children
        return _Cmd(ir.Group, dict(var=self._var(var), by=tuple(keys), aggregates=aggregates or ()))

    def join(self, children):
        left, right, left_attr, right_attr = children
        return _Cmd(ir.Join, dict(left=self._var(left), right=self._var(right),
                                  left_attr=left_attr and _path(left_attr),
                                  right_attr=right_attr and _path(right_attr)))

    def load(self, children):
        path, etype = children
        return _Cmd(ir.Load, dict(path=path, etype=etype and etype.value))

    @v_args(meta=True)
    def new(self, meta, children):
        etype, *data = children
        if not (all(isinstance(d, str) for d in data) or all(isinstance(d, dict) for d in data)):
            raise self._error("NEW takes a list of strings or a list of JSON objects",
                              meta.line, meta.column)
        return _Cmd(ir.New, dict(etype=etype and etype.value, data=tuple(data)))

    def sort(self, children):
        var, attr, descending = children
        return _Cmd(ir.Sort, dict(var=self._var(var), sort=ir.SortSpec(_path(attr), descending is not False)))

    def disp(self, children):
        return _Cmd(ir.Disp, {"expr": children[0]})

    def apply(self, children):
        uri = children[0]
        if "://" not in uri:
            uri = "python://" + uri
        names = tuple(self._var(c) for c in children[1:] if isinstance(c, Token))
        params = tuple(c for c in children[1:] if isinstance(c, tuple))
        return _Cmd(ir.Apply, dict(uri=uri, vars=names, params=params))

    def info(self, children):
        return _Cmd(ir.Info, {"var": self._var(children[0])})

    def save(self, children):
        return _Cmd(ir.Save, {"var": self._var(children[0]), "path": children[1]})

    def describe(self, children):
        return _Cmd(ir.Describe, {"var": self._var(children[0]), "attr": _path(children[1])})

    # -- pieces
    def expression(self, children):
        (transform, var), where, attrs, sort, limit, offset = children
        return ir.VarExpr(var, transform, where and where[0], attrs, sort, limit, offset)

    def vtrans(self, children):
        transform, var = children if len(children) == 2 else (None, children[0])
        return transform, self._var(var)

    def tfunc(self, children):  # not `transform`: that is Transformer.transform
        return children[0].value.upper()

    def attrs(self, children):
        return tuple(_path(t) for t in children)

    def sort_clause(self, children):
        _, attr, descending = children
        return ir.SortSpec(_path(attr), descending is not False)

    def direction(self, children):
        return children[0].type == "DESC"

    def limit(self, children):
        return int(children[0])

    offset = limit

    def group_key(self, children):
        return _path(children[0])

    def bin(self, children):
        attr, size, unit = children
        return ir.Bin(_path(attr), int(size), _unit(unit))

    def aggregates(self, children):
        return tuple(children)

    def agg(self, children):
        func, attr, alias = children
        return ir.Aggregate(func.value.upper(), _path(attr), alias and alias.value)

    def param(self, children):
        name, value = children
        if isinstance(value, _Null):
            value = None
        return name.value, value

    def locator(self, children):
        return _locator_value(children[0])

    def abs_span(self, children):
        return _AbsSpan(*children)

    def last_span(self, children):
        amount, unit = children
        return ir.LastSpan(int(amount), _unit(unit))

    # -- WHERE
    def where(self, children):
        return children[0], False

    def where_pattern(self, children):
        return children[0], True

    def or_(self, children):
        return ir.Or(tuple(i for c in children for i in (c.items if isinstance(c, ir.Or) else (c,))))

    def and_(self, children):
        return ir.And(tuple(i for c in children for i in (c.items if isinstance(c, ir.And) else (c,))))

    def comparison(self, children):
        path, (op, negated), value = children
        nulls = [v for v in (value if isinstance(value, tuple) else (value,)) if isinstance(v, _Null)]
        if nulls:
            if op not in ("=", "!=") or isinstance(value, tuple):
                tok = nulls[0].tok
                raise self._error("NULL can only be compared with =, != or IS [NOT]", tok.line, tok.column)
            return ir.Comparison(_path(path), "IS NULL", None, op == "!=")
        return ir.Comparison(_path(path), op, value, negated)

    def null_cmp(self, children):
        path, negated, _ = children
        return ir.Comparison(_path(path), "IS NULL", None, negated is not None)

    def op(self, children):
        if len(children) == 1:
            sign = children[0].value
            return ("=" if sign == "==" else sign), False
        negated, word = children
        return word, negated is not None

    def opword(self, children):
        return children[0].value.upper()

    def value(self, children):
        return children[0]

    def list(self, children):
        return tuple(children)

    def literal(self, children):
        tok = children[0]
        kind = tok.type
        if kind == "STRING":
            return _string_value(tok.value)
        if kind == "NUMBER":
            return _number(tok.value)
        if kind in ("TRUE", "FALSE"):
            return kind == "TRUE"
        if kind == "NULL":
            return _Null(tok)
        if kind == "TVALUE":
            try:
                return ir.Timestamp(parse_timestamp(tok.value))
            except ValueError as err:
                raise HuntSemanticError(str(err), line=tok.line, filename=self.filename) from None
        m = _VAR_DOT.match(tok.value)  # WORD
        if m:
            return ir.VarAttr(m[1], ir.AttrPath(path_parts(tok.value[m.end():])))
        return tok.value

    # -- JSON (NEW)
    def json_value(self, children):
        tok = children[0]
        return {"STRING": lambda v: _string_value(v), "NUMBER": _number, "TRUE": lambda v: True,
                "FALSE": lambda v: False, "NULL": lambda v: None}[tok.type](tok.value)

    def json_object(self, children):
        return dict(children)

    def json_list(self, children):
        return list(children)

    def json_pair(self, children):
        return _string_value(children[0].value), children[1]


def _number(text: str) -> int | float:
    try:
        return int(text)
    except ValueError:
        return float(text)


# ---------------------------------------------------------------------------- errors

_WORDS = {
    "ETYPE": "an entity type", "VAR": "a variable name", "NAME": "a name", "PATH": "an attribute",
    "INT": "an integer", "TS": "a timestamp", "TIMEUNIT": "a time unit (DAYS, HOURS, MINUTES, SECONDS)",
    "AGG": "an aggregation (MIN, MAX, SUM, AVG, COUNT, NUNIQUE)", "LOCATOR": "a data source or path",
    "STRING": "a string", "NUMBER": "a number", "$END": "end of input", "SORT_BY": "'SORT BY'",
    "OP": "a comparison operator", "LPAR": "'('", "RPAR": "')'", "LSQB": "'['", "RSQB": "']'",
    "LBRACE": "'{'", "RBRACE": "'}'", "COMMA": "','", "EQUAL": "'='", "PLUS": "'+'", "DOT": "'.'",
    "COLON": "':'",
}
_COMMANDS = frozenset({"GET", "FIND", "GROUP", "JOIN", "LOAD", "NEW", "SORT", "DISP", "APPLY", "INFO",
                       "SAVE", "DESCRIBE"})
_GROUPS = [  # (trigger, members, words): when trigger is expected, members read as words
    ({"WORD"}, {"WORD", "NUMBER", "STRING", "TRUE", "FALSE", "NULL", "TVALUE", "LPAR", "LSQB"}, "a value"),
    ({"LBRACE"}, {"NUMBER", "STRING", "TRUE", "FALSE", "NULL", "LBRACE", "LSQB"}, "a JSON value"),
    ({"OP"}, {"OP", "NOT", "IN", "LIKE", "MATCHES", "ISSUBSET", "ISSUPERSET", "IS"}, "a comparison operator"),
    ({"GET", "FIND", "GROUP"}, _COMMANDS, "a command"),
    ({"TIMESTAMPED"}, {"TIMESTAMPED", "RECORDS", "ADDOBSID"}, "TIMESTAMPED/RECORDS/ADDOBSID"),
]
_MAX_EXPECTED = 8


def _describe(names) -> tuple[str, ...]:
    names = set(names) - {"WS", "COMMENT"}
    words = set()
    for trigger, members, word in _GROUPS:
        if trigger <= names:
            words.add(word)
            names -= members
    for name in names:
        words.add(_WORDS.get(name) or (f"'{name}'" if name.isalpha() else "a token"))
    out = sorted(words)
    return tuple(out[:_MAX_EXPECTED] + ["..."] if len(out) > _MAX_EXPECTED else out)


def _offset(text: str, line: int, column: int) -> int:
    pos = 0
    for _ in range(line - 1):
        pos = text.index("\n", pos) + 1
    return pos + column - 1


def _line_col(text: str, offset: int) -> tuple[int, int]:
    return text.count("\n", 0, offset) + 1, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _source_line(text: str, line: int) -> str:
    lines = text.split("\n")
    return lines[line - 1].rstrip("\r") if 0 < line <= len(lines) else ""


def _syntax_error(text, filename, message, line, column, expected=()) -> HuntSyntaxError:
    return HuntSyntaxError(message, filename=filename, line=line, column=column,
                           source_line=_source_line(text, line), expected=tuple(expected))


_FOUND = re.compile(r"""[rRtT]?'[^'\n]*'|[rRtT]?"[^"\n]*"|[A-Za-z0-9_][\w:.\-*\[\]/]*|==|!=|<=|>=|\S""")
_STRING = re.compile(r"""[rR]?'(?:[^'\\\n]|\\.)*'|[rR]?"(?:[^"\\\n]|\\.)*\"""")
_WORD_BEFORE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*$")
_JUNCTION_AFTER_PATTERN = re.compile(r"\]\s*\b(and|or)\b\s*(?:\[|[A-Za-z_][\w-]*)?$", re.IGNORECASE)


def _found(text: str, offset: int) -> str:
    m = _FOUND.match(text, offset)
    shown = m[0] if m else text[offset:offset + 1]
    return repr(shown if len(shown) <= 40 else shown[:37] + "...")


def _convert(err: UnexpectedInput, text: str, filename: str) -> HuntSyntaxError:
    def fail(message, line, column, expected=()):
        return _syntax_error(text, filename, message, line, column, expected)

    if isinstance(err, UnexpectedCharacters):
        line, column = err.line, err.column
        offset = err.pos_in_stream
        char = text[offset]
        expected = _describe(err.allowed or ())
        if char in "'\"" and not _STRING.match(text, offset):
            return fail(f"unterminated string: no closing {char} on this line", line, column, expected)
        return fail(f"unexpected character {char!r}, expected {_alternatives(expected)}", line, column, expected)

    assert isinstance(err, UnexpectedToken)
    tok = err.token
    expected = _describe(err.accepts or err.expected)
    if tok.type == "$END":
        line = getattr(tok, "end_line", None) or tok.line or 1
        column = getattr(tok, "end_column", None) or tok.column or 1
        offset, shown = len(text), "end of input"
    else:
        line, column = tok.line, tok.column
        offset = _offset(text, line, column)
        shown = _found(text, offset)
    before = text[:offset].rstrip()
    # `[a] AND [b]`: after the pattern's `]` the AND/OR was read as a variable starting a new
    # statement, so the parser now wants its `=`
    junction = _JUNCTION_AFTER_PATTERN.search(text[:offset + len(tok.value)])
    if junction and "'='" in expected:
        return fail(f"unexpected {junction[1]!r} after a bracketed STIX pattern: only one [...] pattern "
                    "is allowed, put all comparisons inside it", *_line_col(text, junction.start(1)), expected)
    if tok.type == "$END":
        return fail(f"unexpected end of input, expected {_alternatives(expected)}", line, column, expected)
    if tok.type == "LOCATOR":  # only the fallback lexer makes one here: a character nothing takes
        return fail(f"unexpected character {tok.value[0]!r}, expected {_alternatives(expected)}",
                    line, column, expected)
    if tok.value == "=":
        # `get = ...` / `start = ...`: a keyword where a statement's variable was meant
        word = _WORD_BEFORE.search(before)
        if word and word[1].upper() in _RESERVED and (
                word[1].upper() in _COMMANDS or not text[:word.start(1)].split("\n")[-1].strip()):
            return fail(f"unexpected keyword {word[1]!r}, expected a variable name",
                        *_line_col(text, word.start(1)), ("a variable name",))
    message = f"unexpected {shown}, expected {_alternatives(expected)}"
    if set(expected) <= {"'FROM'", "'WHERE'"} and "'WHERE'" in expected:
        message += " (GET needs a WHERE clause)"
    return fail(message, line, column, expected)


def _alternatives(expected: tuple[str, ...]) -> str:
    if not expected:
        return "nothing more"
    return expected[0] if len(expected) == 1 else "one of: " + ", ".join(expected)


# ---------------------------------------------------------------------------- entry point


def parse(text: str, filename: str = "<hunt>") -> ir.Hunt:
    """Parse a hunt block into :class:`ir.Hunt`.

    Raises :class:`HuntSyntaxError` for text that is not Kestrel, and
    :class:`HuntSemanticError` for a bad timestamp, STOP not after START, or LAST 0.
    """
    if not isinstance(text, str):
        raise TypeError(f"hunt text must be str, not {type(text).__name__}")
    try:
        tree = _PARSER.parse(text)
    except _BadWord as err:
        tok = err.token
        raise _syntax_error(text, filename, f"unexpected keyword {tok.value!r}, expected {err.expected}",
                            tok.line, tok.column, (err.expected,)) from None
    except UnexpectedInput as err:
        raise _convert(err, text, filename) from None
    try:
        statements = _Lower(text, filename).transform(tree)
    except VisitError as err:
        if isinstance(err.orig_exc, StixgraphError):
            raise err.orig_exc from None
        raise
    return ir.Hunt(tuple(statements), source=text, filename=filename)
