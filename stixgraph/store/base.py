"""The graph-store interface: one class per backend (SQLite here, ArangoDB later).

The session (:mod:`stixgraph.session`) checks and resolves a statement, then calls one of
these methods; the backend compiles the IR with its own compiler and runs it.  Every method
that writes runs inside :meth:`GraphStore.atomic`, so a failed statement leaves variables and
stored data exactly as they were.
"""
from __future__ import annotations

import json
from abc import ABC, abstractmethod
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Iterable

from .. import ir
from ..display import Table
from ..errors import HuntSemanticError
from ..relations import Hop
from ..stix.model import Observation


APPLY_EXPLAINED = ("no query: the analytic runs in Python on the variables' rows (read as DISP "
                   "reads them); the attributes it returns are written back by entity id")
PROCESS_COUNTS_EXPLAINED = (
    "{var} holds processes: APPLY adds to its rows x_connection_count and x_child_count, the "
    "network-traffic and the processes each one CREATED (what FIND network-traffic CREATED BY "
    "{var} and FIND process CREATED BY {var} walk)")
PROCESS_FILES_EXPLAINED = (
    "... and x_written_files, the paths of the files its events (x-oca-event process_ref) "
    "created, changed or deleted (stixgraph.analytics.activity picks those from these rows)")
#: (ProcessActivity field, the type a process CREATED that it counts)
CREATED_COUNTS = (("connections", "network-traffic"), ("children", "process"))


def has_process_activity(etype: str, kind: str) -> bool:
    """Whether APPLY adds what each entity did to a variable's frame: processes (entities or
    records), not GROUP/JOIN tables."""
    return etype == "process" and kind != "table"

# The observation columns TIMESTAMPED/RECORDS/ADDOBSID put first.
TRANSFORM_COLUMNS = {"TIMESTAMPED": ["first_observed"],
                     "RECORDS": ["number_observed", "first_observed", "last_observed",
                                 "observation_id"],
                     "ADDOBSID": ["observation_id"]}


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


@dataclass(frozen=True)
class FileEvent:
    """An event (``x-oca-event``) that names a process (``process_ref``) and a file that is
    not the process's own image (``file_ref``): Sysmon 11 "File created", a delete, an image
    load...  :mod:`stixgraph.analytics.activity` decides which ones are writes."""

    code: str | None
    action: str | None
    module: str | None
    provider: str | None
    name: str | None  # the file's name
    directory: str | None  # its parent_directory_ref's path


@dataclass
class ProcessActivity:
    """What the graph says a process did (APPLY adds it to process frames)."""

    connections: int = 0  # the network-traffic it CREATED (opened_connection_refs)
    children: int = 0  # the processes it CREATED (whose parent_ref it is)
    file_events: list[FileEvent] = field(default_factory=list)


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

    def columns(self, var: str) -> list[str]:
        """The columns DISP shows for ``var`` without ATTR (completion, the kernel)."""
        info = self.var(var)
        if info is None:
            return []
        return list(info.columns) if info.columns else self._all_columns_of(info)

    @abstractmethod
    def _all_columns_of(self, info: VarInfo) -> list[str]:
        """id, the other attributes, then ``ref.attr`` for each ``*_ref`` (from the data)."""

    @abstractmethod
    def records(self, var: str) -> list[dict]:
        """Every row of a variable as a dict of its default columns (SAVE, APPLY, export)."""

    def observations_of(self, var: str) -> list[Observation]:
        """Every observation holding an entity of ``var``, with all its objects (as stored,
        merged across observations): what TAXII publishing sends."""
        from ..errors import StoreError

        raise StoreError(f"{type(self).__name__} cannot list a variable's observations yet")

    @abstractmethod
    def set_attributes(self, updates: dict[str, dict]) -> int:
        """APPLY's write-back: for each stored entity id, set these attributes (added or
        replaced; ``id`` and ``type`` never change); ids not stored are skipped.  Returns how
        many entities changed.  Every variable holding them sees the new values."""

    @abstractmethod
    def process_activity(self, var: str) -> dict[str, ProcessActivity]:
        """For each process entity of ``var`` (by STIX id): how many network-traffic and
        processes it CREATED (as ``FIND ... CREATED BY var`` finds them) and the file events
        naming it, over everything stored (not only ``var``'s observations)."""

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


def process_activity_of(counts, file_events) -> dict[str, ProcessActivity]:
    """:meth:`GraphStore.process_activity` from its two queries' rows: (process id, a count
    per :data:`CREATED_COUNTS`) and (process id, code, action, module, provider, file name,
    directory)."""
    out: dict[str, ProcessActivity] = {}
    for sid, *ns in counts:
        out[sid] = ProcessActivity(**{k: int(n or 0) for (k, _), n in zip(CREATED_COUNTS, ns)})
    for sid, *event in file_events:
        out.setdefault(sid, ProcessActivity()).file_events.append(
            FileEvent(*(None if x is None else str(x) for x in event)))
    return out


# -- semantics both backends share (Kestrel's), applied to rows a backend has read ----------

def json_cell(v):
    """A list or object value as DISP shows it on every backend: compact JSON text, as SQLite's
    ``json_extract`` gives it (keys in stored order, non-ASCII kept); other values as they are."""
    if isinstance(v, (list, dict)):
        return json.dumps(v, separators=(",", ":"), ensure_ascii=False)
    return v


def shape_rows(rows, limit, offset, max_rows):
    """DISP's rows: lists and objects as JSON text (:func:`json_cell`), drop all-NULL rows and
    duplicates (Kestrel), then OFFSET and LIMIT (after dedup, so LIMIT n shows n rows when
    there are n distinct ones)."""
    seen = set()
    out = []
    skip = offset or 0
    cap = limit if limit is not None else max_rows
    for row in rows:
        row = [json_cell(v) for v in row]
        if all(v is None for v in row):
            continue
        key = tuple(row)
        if key in seen:
            continue
        seen.add(key)
        if skip:
            skip -= 1
            continue
        out.append(row)
        if cap is not None and len(out) >= cap:
            break
    return out


def auto_aggregate(etype: str, col: str, numeric: bool) -> tuple[str, str]:
    """Kestrel's GROUP without WITH: which aggregate a column gets, and its name:
    number_observed SUM; first_observed/start MIN; last_observed/end MAX; ports of
    network-traffic and pids of processes NUNIQUE; other numbers (``numeric``: every value
    seen is a number) AVG; the rest NUNIQUE."""
    if col == "number_observed":
        return "SUM", f"sum_{col}"
    if col in ("first_observed", "start"):
        return "MIN", f"min_{col}"
    if col in ("last_observed", "end"):
        return "MAX", f"max_{col}"
    if (etype == "network-traffic" and col.endswith("_port")) or (etype == "process" and col.endswith("pid")):
        return "NUNIQUE", f"unique_{col}"
    if numeric:
        return "AVG", f"mean_{col}"
    return "NUNIQUE", f"unique_{col}"


def table_display(expr: ir.VarExpr, info: VarInfo, rows: list[dict], line: int) -> Table:
    """DISP of a GROUP table whose rows (dicts, in order) a backend has read."""
    cols = list(info.columns or [])
    if expr.attrs:
        want = [a.name for a in expr.attrs]
        missing = [w for w in want if w not in cols]
        if missing:
            raise HuntSemanticError(f"{expr.var} has no column {missing[0]!r}; it has: "
                                    + ", ".join(cols))
    else:
        want = cols
    if expr.where is not None:
        raise HuntSemanticError("WHERE on a GROUP result is not supported; filter before GROUP")
    if expr.sort is not None:
        key = expr.sort.attr.name
        rows = sorted(rows, key=lambda r: (r.get(key) is None, r.get(key)),
                      reverse=expr.sort.descending)
    out = ([r.get(c) for c in want] for r in rows)
    return Table(statement=line, columns=want, rows=shape_rows(out, expr.limit, expr.offset, None))
