"""What a hunt shows: plain data, rendered by :mod:`stixgraph.output` (terminal, JSON, CSV)
or by the Jupyter kernel.  The library returns these; it never prints."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Table:
    """A DISP (or GROUP/INFO/DESCRIBE) result."""

    statement: int  # source line of the statement that produced it
    columns: list[str]
    rows: list[list]
    title: str | None = None


@dataclass
class VarSummary:
    variable: str
    type: str
    entities: int
    records: int
    cached: dict[str, int] = field(default_factory=dict)  # '<type>*' columns, by type


@dataclass
class Summary:
    """The table printed after each hunt block: the variables (re)bound in it."""

    variables: list[VarSummary]
    cached_types: list[str]  # every SCO type held by the store, sorted: the '<type>*' columns
    seconds: float = 0.0


@dataclass
class Message:
    """A warning or note tied to a statement (e.g. 'unknown entity type "x"')."""

    statement: int
    text: str
    level: str = "warning"


@dataclass
class Visual:
    """An analytic's display (APPLY): a self-contained HTML page and/or a PNG image.  The CLI
    writes it to a file; the Jupyter kernel shows it inline."""

    statement: int
    title: str
    html: str | None = None
    png: bytes | None = None
    files: list[str] = field(default_factory=list)  # where a renderer wrote it


Display = Table | Summary | Message | Visual
