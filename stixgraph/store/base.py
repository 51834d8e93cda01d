"""The graph-store interface: one class per backend (SQLite here, ArangoDB later).

The session (:mod:`stixgraph.session`) checks and resolves a statement, then calls one of
these methods; the backend compiles the IR with its own compiler and runs it.  Every method
that writes runs inside :meth:`GraphStore.atomic`, so a failed statement leaves variables and
stored data exactly as they were.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Iterable

from .. import ir
from ..display import Table
from ..relations import Hop
from ..stix.model import Observation


@dataclass
class VarInfo:
    """A variable as the store keeps it."""

    name: str
    type: str
    kind: str = "entities"  # 'entities' | 'records' (rows carry an observation) | 'table'
    columns: list[str] | None = None  # default DISP columns (ATTR on assign, GROUP output)
    entities: int = 0
    records: int = 0
    cached: dict[str, int] = field(default_factory=dict)
    command: str = ""  # the birth command: GET, FIND, ASSIGN, GROUP...
    line: int = 0
    statement: str = ""  # the birth statement's text
    source: str | None = None  # the data source it came from (inherited by derived variables)
    inputs: list[str] = field(default_factory=list)


@dataclass
class Birth:
    """Where a new variable comes from: filled by the session, stored with the variable."""

    command: str
    line: int
    statement: str
    source: str | None = None
    inputs: list[str] = field(default_factory=list)
    count_cached: bool = False  # '<type>*' columns are counted for GET-from-source and FIND


class GraphStore(ABC):
    """Entities (SCOs), edges (one per *_ref/*_refs), observations, variables, by collection."""

    collection: str

    # -- transactions ------------------------------------------------------
    @abstractmethod
    def atomic(self) -> AbstractContextManager:
        """All-or-nothing scope; nests."""

    @abstractmethod
    def close(self) -> None: ...

    # -- ingest ------------------------------------------------------------
    @abstractmethod
    def begin_query(self, uri: str, pattern: str) -> int:
        """Record a data-source query; returns its id for :meth:`ingest`."""

    @abstractmethod
    def ingest(self, observations: Iterable[Observation], qid: int | None = None) -> dict:
        """Store observations, their SCOs (merged by id) and edges; returns counts."""

    @abstractmethod
    def add_objects(self, objects: list[dict]) -> list[str]:
        """Store loose SCOs (NEW, LOAD); returns their ids in order."""

    # -- variables ---------------------------------------------------------
    @abstractmethod
    def var(self, name: str) -> VarInfo | None: ...

    @abstractmethod
    def variables(self) -> list[VarInfo]: ...

    @abstractmethod
    def entity_types(self) -> list[str]:
        """Every SCO type held, sorted (the summary's '<type>*' columns)."""

    @abstractmethod
    def values(self, var: str, path: ir.AttrPath) -> list:
        """Distinct non-null values of ``path`` over ``var`` (``var.attr`` dereference)."""

    @abstractmethod
    def time_range(self, var: str) -> tuple[str, str] | None:
        """min(first_observed), max(last_observed) over the observations of var's entities."""

    # -- statements (each creates or replaces variable ``out``) ---------------
    @abstractmethod
    def get_from_query(self, out: str, etype: str, qid: int, where: ir.Expr | None,
                       birth: Birth) -> VarInfo: ...

    @abstractmethod
    def get_from_ids(self, out: str, etype: str, ids: list[str], birth: Birth) -> VarInfo: ...

    @abstractmethod
    def find(self, out: str, stmt: ir.Find, input_type: str, hops: list[Hop] | None,
             start: str | None, stop: str | None, birth: Birth) -> VarInfo: ...

    @abstractmethod
    def assign(self, out: str, expr: ir.VarExpr, birth: Birth) -> VarInfo: ...

    @abstractmethod
    def merge(self, out: str, names: tuple[str, ...], birth: Birth) -> VarInfo: ...

    @abstractmethod
    def group(self, out: str, stmt: ir.Group, birth: Birth) -> VarInfo: ...

    @abstractmethod
    def join(self, out: str, stmt: ir.Join, birth: Birth) -> VarInfo: ...

    # -- reading -----------------------------------------------------------
    @abstractmethod
    def display(self, expr: ir.VarExpr, line: int, max_rows: int | None = None) -> Table: ...

    @abstractmethod
    def records(self, var: str) -> list[dict]:
        """Every row of a variable as a dict of its default columns (SAVE, APPLY, export)."""

    def observations_of(self, var: str) -> list[Observation]:
        """Every observation holding an entity of ``var``, with all its objects (as stored,
        merged across observations): what TAXII publishing sends."""
        from ..errors import StoreError

        raise StoreError(f"{type(self).__name__} cannot list a variable's observations yet")

    @abstractmethod
    def explain(self, stmt: ir.Statement, input_types: dict[str, str]) -> list:
        """The queries a statement compiles to, without running them."""

    # -- graph traversals (CLI ``graph``) -----------------------------------
    @abstractmethod
    def neighbors(self, stix_id: str, relation: str | None, direction: str, depth: int
                  ) -> tuple[list[dict], list[tuple[str, str, str]]]:
        """Objects within ``depth`` edges and the edges (src id, rel, dst id) walked."""

    @abstractmethod
    def var_subgraph(self, var: str, depth: int = 1
                     ) -> tuple[list[dict], list[tuple[str, str, str]]]: ...
