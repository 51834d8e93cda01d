"""The hunt IR: small, backend-neutral dataclass instructions.

The parser (:mod:`stixgraph.lang`) lowers a hunt into a list of these instructions.  A
backend (:mod:`stixgraph.store`) compiles and runs them; the SQLite compiler and the AQL
compiler read the same IR.  Nothing here knows about SQL, AQL or STIX JSON.

Conventions
-----------
* An attribute path is a tuple of parts: ``dst_ref.value`` is ``("dst_ref", "value")``,
  ``protocols[*]`` is ``("protocols", "*")``, ``hashes.'SHA-256'`` is ``("hashes", "SHA-256")``.
  An optional ``type:`` prefix lives in :attr:`AttrPath.etype`.
* Values are plain Python literals (str, int, float, bool, None), tuples of them for lists,
  :class:`VarAttr` for ``var.attr`` dereferences (resolved by the session before a backend
  compiles the statement) or :class:`Timestamp`.
* Every statement carries where it came from (:class:`Pos`) so that errors can name it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Union

# ---------------------------------------------------------------------------
# Source positions


@dataclass(frozen=True)
class Pos:
    line: int
    column: int
    end_line: int
    text: str  # the statement's source text, verbatim

    def __str__(self) -> str:
        return f"line {self.line}"


# ---------------------------------------------------------------------------
# Attribute paths, values and WHERE expressions


@dataclass(frozen=True)
class AttrPath:
    parts: tuple[str, ...]
    etype: str | None = None  # the ``type:`` prefix, if written

    @property
    def name(self) -> str:
        """The path as the user writes it without prefix: ``dst_ref.value``, ``protocols[*]``."""
        out = ""
        for p in self.parts:
            if p == "*":
                out += "[*]"
            elif p.isdigit():
                out += f"[{p}]"
            else:
                out += ("." if out else "") + p
        return out

    def __str__(self) -> str:
        return f"{self.etype}:{self.name}" if self.etype else self.name

    @property
    def is_ref_path(self) -> bool:
        """True when the path walks through a reference (``dst_ref.value``)."""
        return any(p.endswith(("_ref", "_refs")) for p in self.parts[:-1])


@dataclass(frozen=True)
class VarAttr:
    """``var.attr`` used as a value: the distinct non-null values of attr in var."""

    var: str
    attr: AttrPath

    def __str__(self) -> str:
        return f"{self.var}.{self.attr.name}"


@dataclass(frozen=True)
class Timestamp:
    value: datetime  # timezone-aware, UTC

    def iso(self) -> str:
        return self.value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{self.value.microsecond // 1000:03d}Z"


Scalar = Union[str, int, float, bool, None, Timestamp]
Value = Union[Scalar, tuple, VarAttr]

# Comparison operators.  Negation of IN/LIKE/MATCHES/ISSUBSET/ISSUPERSET/IS NULL is a flag.
OPS = ("=", "!=", "<", "<=", ">", ">=", "IN", "LIKE", "MATCHES", "ISSUBSET", "ISSUPERSET", "IS NULL")


@dataclass(frozen=True)
class Comparison:
    path: AttrPath
    op: str  # one of OPS; ``==`` is normalised to ``=``
    value: Value = None
    negated: bool = False  # NOT LIKE, NOT IN, IS NOT NULL ...

    def __post_init__(self):
        if self.op not in OPS:
            raise ValueError(f"unknown comparison operator {self.op!r}")


@dataclass(frozen=True)
class And:
    items: tuple["Expr", ...]


@dataclass(frozen=True)
class Or:
    items: tuple["Expr", ...]


Expr = Union[Comparison, And, Or]


def comparisons(expr: Expr | None):
    """Yield every comparison of an expression, left to right."""
    if expr is None:
        return
    if isinstance(expr, Comparison):
        yield expr
    else:
        for item in expr.items:
            yield from comparisons(item)


# ---------------------------------------------------------------------------
# Time spans


@dataclass(frozen=True)
class TimeRange:
    """Absolute ``START ... STOP ...``; both ends are UTC-aware datetimes."""

    start: datetime
    stop: datetime


@dataclass(frozen=True)
class LastSpan:
    """``LAST n unit``: resolved against the session's clock (``--now``) at execution time."""

    amount: int
    unit: str  # 'days' | 'hours' | 'minutes' | 'seconds'


Timespan = Union[TimeRange, LastSpan]


# ---------------------------------------------------------------------------
# Pieces of statements


@dataclass(frozen=True)
class SortSpec:
    attr: AttrPath
    descending: bool = True  # Kestrel's default is DESC


@dataclass(frozen=True)
class Bin:
    """``BIN(attr, size[unit])`` in GROUP BY; unit None for numeric bins."""

    attr: AttrPath
    size: int
    unit: str | None = None  # 'days' | 'hours' | 'minutes' | 'seconds'

    @property
    def column(self) -> str:
        return f"{self.attr.name}_bin"


@dataclass(frozen=True)
class Aggregate:
    func: str  # MIN MAX SUM AVG COUNT NUNIQUE
    attr: AttrPath
    alias: str | None = None

    @property
    def column(self) -> str:
        return self.alias or f"{self.func.lower()}_{self.attr.name}"


GroupKey = Union[AttrPath, Bin]


@dataclass(frozen=True)
class VarExpr:
    """A variable, optionally transformed and shaped: the right side of assign and DISP."""

    var: str
    transform: str | None = None  # 'TIMESTAMPED' | 'RECORDS' | 'ADDOBSID'
    where: Expr | None = None
    attrs: tuple[AttrPath, ...] | None = None
    sort: SortSpec | None = None
    limit: int | None = None
    offset: int | None = None


# ---------------------------------------------------------------------------
# Statements (instructions)


@dataclass(frozen=True, kw_only=True)
class Statement:
    pos: Pos

    @property
    def kind(self) -> str:
        return type(self).__name__.upper()

    @property
    def inputs(self) -> tuple[str, ...]:
        """Variables this statement reads."""
        return ()

    @property
    def output(self) -> str | None:
        """The variable this statement (re)binds, if any."""
        return getattr(self, "out", None)


@dataclass(frozen=True, kw_only=True)
class Get(Statement):
    out: str
    etype: str
    source: str | None  # a data-source URI, a variable name, or None (last source used)
    where: Expr | None
    timespan: Timespan | None = None
    limit: int | None = None
    pattern: bool = False  # WHERE was written as one bracketed STIX pattern

    @property
    def inputs(self):
        return ()


@dataclass(frozen=True, kw_only=True)
class Find(Statement):
    out: str
    etype: str  # the return type R
    relation: str  # lower-cased: linked, created, accepted, loaded, owned, contained
    by: bool  # ``FIND R rel BY V``: V is the subject (X) of the relation
    var: str
    where: Expr | None = None
    timespan: Timespan | None = None
    limit: int | None = None

    @property
    def inputs(self):
        return (self.var,)


@dataclass(frozen=True, kw_only=True)
class Assign(Statement):
    out: str
    expr: VarExpr

    @property
    def inputs(self):
        return (self.expr.var,)


@dataclass(frozen=True, kw_only=True)
class Merge(Statement):
    out: str
    vars: tuple[str, ...]

    @property
    def inputs(self):
        return self.vars


@dataclass(frozen=True, kw_only=True)
class Sort(Statement):
    out: str
    var: str
    sort: SortSpec

    @property
    def inputs(self):
        return (self.var,)


@dataclass(frozen=True, kw_only=True)
class Group(Statement):
    out: str
    var: str
    by: tuple[GroupKey, ...]
    aggregates: tuple[Aggregate, ...] = ()

    @property
    def inputs(self):
        return (self.var,)


@dataclass(frozen=True, kw_only=True)
class Join(Statement):
    out: str
    left: str
    right: str
    left_attr: AttrPath | None = None
    right_attr: AttrPath | None = None

    @property
    def inputs(self):
        return (self.left, self.right)


@dataclass(frozen=True, kw_only=True)
class New(Statement):
    out: str
    etype: str | None
    data: tuple  # strings (need etype) or dicts (STIX-like objects)


@dataclass(frozen=True, kw_only=True)
class Load(Statement):
    out: str
    path: str
    etype: str | None = None


@dataclass(frozen=True, kw_only=True)
class Save(Statement):
    var: str
    path: str

    @property
    def inputs(self):
        return (self.var,)


@dataclass(frozen=True, kw_only=True)
class Disp(Statement):
    expr: VarExpr

    @property
    def inputs(self):
        return (self.expr.var,)


@dataclass(frozen=True, kw_only=True)
class Info(Statement):
    var: str

    @property
    def inputs(self):
        return (self.var,)


@dataclass(frozen=True, kw_only=True)
class Describe(Statement):
    var: str
    attr: AttrPath

    @property
    def inputs(self):
        return (self.var,)


@dataclass(frozen=True, kw_only=True)
class Apply(Statement):
    uri: str  # scheme://name; the default scheme is python
    vars: tuple[str, ...]
    params: tuple[tuple[str, Value], ...] = field(default=())

    @property
    def inputs(self):
        return self.vars


@dataclass(frozen=True)
class Hunt:
    """A parsed hunt block: its statements in order, and the source text."""

    statements: tuple[Statement, ...]
    source: str = ""
    filename: str = "<hunt>"
