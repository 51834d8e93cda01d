"""The storage a TAXII server serves, behind one base class (medallion's design): the HTTP layer
(:mod:`stixgraph.taxii.server`) parses and checks requests, then calls a :class:`TaxiiBackend`.

A backend serves the collections of one stixgraph store.  Each store collection is a TAXII
collection: its observations (as STIX 2.1 ``observed-data``), its SCOs, and the other STIX
objects posted to it over TAXII (indicators, reports, markings...; every version kept).
``date_added`` is when the store added the object (microseconds, unique and increasing:
:meth:`stixgraph.store.sqlite.SQLiteStore.stamp`), so pages are read by ``(date_added, key)``
and stay correct while others write: a new object always sorts after every page already read.
Versions: an object's ``modified`` (else ``created``); an SCO has none, so its version is its
``date_added`` (as medallion).  An SCO merged with new properties by a later ingest keeps its
``date_added`` (STIX SCOs are not versioned).
"""
from __future__ import annotations

import threading
import uuid
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime, timezone

from ...stix.ids import sco_id
from ...stix.normalize import NON_SCO_TYPES, _refs_in, normalize_bundle, normalize_objects

STIX_MEDIA_TYPE = "application/stix+json;version=2.1"
#: collection ids: uuid5 of the store collection's name in this namespace (stable per name)
COLLECTION_NAMESPACE = uuid.UUID("5a3b3e0c-7c2f-4a8e-9a51-2f6c1d7e9b10")


def collection_id(name: str) -> str:
    return str(uuid.uuid5(COLLECTION_NAMESPACE, name))


def format_us(us: int) -> str:
    """Microseconds since the epoch as a TAXII timestamp (``2024-12-12T16:43:24.123456Z``)."""
    return datetime.fromtimestamp(us / 1e6, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_us(text: str) -> int:
    """A STIX/TAXII timestamp (a date and time with ``Z`` or an offset) as microseconds since
    the epoch; ValueError when it is none."""
    if "T" not in text:
        raise ValueError(f"not a timestamp: {text!r}")
    dt = datetime.fromisoformat(text.strip())
    if dt.tzinfo is None:
        raise ValueError(f"timestamp without a time zone: {text!r}")
    delta = dt - datetime(1970, 1, 1, tzinfo=timezone.utc)
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds


def stored_id(sco: dict) -> str:
    """The id the graph stores a posted SCO under: its deterministic STIX 2.1 id (the store
    merges SCOs by it), which is the posted id for producers that follow the spec."""
    try:
        return sco_id(sco, scope=sco["id"])
    except ValueError:
        return sco["id"]


def object_version(obj: dict) -> str | None:
    """An object's version as TAXII names it: ``modified``, else ``created`` (None: an SCO,
    whose version is its date_added)."""
    return obj.get("modified") or obj.get("created")


@dataclass
class Collection:
    name: str  # the store collection
    title: str
    description: str = ""

    @property
    def id(self) -> str:
        return collection_id(self.name)


@dataclass(frozen=True)
class Filter:
    """The TAXII filters of a request, parsed (timestamps as microseconds)."""

    added_after: int | None = None
    ids: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    versions: tuple[str, ...] = ("last",)  # 'first' | 'last' | 'all' | timestamps
    spec_versions: tuple[str, ...] = ()

    def key(self) -> str:
        """What a ``next`` token is bound to: the same filters must come with it."""
        return repr((self.added_after, self.ids, self.types, self.versions, self.spec_versions))


@dataclass
class Record:
    """One object version in a collection."""

    id: str
    type: str
    added: int  # microseconds
    version: str
    spec_version: str
    cursor: tuple  # where it sorts (for ``next``)
    object: dict | None = None  # the STIX object, when asked for

    def manifest(self) -> dict:
        return {"id": self.id, "date_added": format_us(self.added), "version": self.version,
                "media_type": STIX_MEDIA_TYPE}


@dataclass
class Page:
    records: list[Record]
    more: bool


@dataclass
class Status:
    id: str
    request_timestamp: str
    successes: list[dict] = field(default_factory=list)
    failures: list[dict] = field(default_factory=list)
    pendings: list[dict] = field(default_factory=list)

    def resource(self) -> dict:
        n = len(self.successes) + len(self.failures) + len(self.pendings)
        return {"id": self.id, "status": "pending" if self.pendings else "complete",
                "request_timestamp": self.request_timestamp, "total_count": n,
                "success_count": len(self.successes), "successes": self.successes,
                "failure_count": len(self.failures), "failures": self.failures,
                "pending_count": len(self.pendings), "pendings": self.pendings}


class TaxiiBackend(ABC):
    """A store's collections as TAXII sees them.  Every method is called with collection
    names the server has already checked the caller may read (or write).  A backend keeps
    one open graph store per collection (:meth:`_open_store`) and one lock: the server calls
    in from many threads."""

    def __init__(self):
        self._lock = threading.RLock()
        self._stores: dict = {}

    @abstractmethod
    def _open_store(self, name: str):
        """Open the graph store of collection ``name``."""

    def _store(self, name: str):
        s = self._stores.get(name)
        if s is None:
            s = self._stores[name] = self._open_store(name)
        return s

    def close(self) -> None:
        with self._lock:
            for s in self._stores.values():
                s.close()
            self._stores.clear()

    @abstractmethod
    def collections(self) -> list[Collection]: ...

    @abstractmethod
    def page(self, collection: str, flt: Filter, limit: int, after: tuple | None,
             objects: bool = True) -> Page:
        """Up to ``limit`` records matching ``flt``, sorted by (date_added, key), after cursor
        ``after``; with their STIX objects when ``objects``."""

    def add(self, collection: str, objects: list[dict], status: Status) -> None:
        """Store a checked envelope's objects all at once (nothing when it fails); fill
        ``status`` per object.  Adding a version that is already there succeeds and changes
        nothing.  observed-data and SCOs go into the hunt graph as a GET stores them
        (normalised, merged by id; an observed-data may reference SCOs posted before), the
        other objects beside it (:meth:`_store_other`)."""
        graph = [o for o in objects if o["type"] not in NON_SCO_TYPES
                 or o["type"] == "observed-data"]
        other = [o for o in objects if o["type"] in NON_SCO_TYPES
                 and o["type"] != "observed-data"]
        stored = {o["id"]: stored_id(o) for o in graph if o["type"] != "observed-data"}
        with self._writing(collection):
            if graph:
                have = {o["id"] for o in graph}
                wanted = {r for o in graph if o["type"] == "observed-data"
                          for r in o.get("object_refs") or () if isinstance(r, str)}
                earlier = self._stored_objects(collection, sorted(wanted - have))
                observations = normalize_bundle(graph + earlier)
                loose = [o for o in graph if o["type"] != "observed-data"
                         and o["id"] not in wanted]  # SCOs no observed-data here names
                store = self._graph_store(collection)
                if observations:
                    store.ingest(observations)
                if loose:  # their refs may name SCOs posted before: resolve those too
                    refs: list = []
                    for o in loose:
                        _refs_in(o, refs)
                    before = self._stored_objects(collection, sorted(set(refs) - have))
                    items = {o["id"]: o for o in before + loose}
                    store.add_objects(list(normalize_objects(items).values()))
                self._show_again(collection, sorted(have | set(stored.values())))
            if other:
                self._store_other(collection, other)
        added = self._added_times(collection, sorted(set(stored.values())))
        for o in objects:
            detail = {"id": o["id"]}
            if o["id"] in stored:  # an SCO: its version is when it was added
                new = stored[o["id"]]
                detail["version"] = format_us(added[new]) if new in added else ""
                if new != o["id"]:
                    detail["message"] = f"stored as {new} (the SCO's deterministic id)"
            else:
                detail["version"] = object_version(o) or ""
            status.successes.append(detail)

    # the steps of add, per backend
    @abstractmethod
    def _writing(self, collection: str):
        """A context: the collection's write transaction (all of add, or nothing)."""

    @abstractmethod
    def _graph_store(self, collection: str):
        """The collection's :class:`~stixgraph.store.base.GraphStore`."""

    @abstractmethod
    def _stored_objects(self, collection: str, ids: list[str]) -> list[dict]:
        """The stored SCOs of these ids (those there are)."""

    @abstractmethod
    def _added_times(self, collection: str, ids: list[str]) -> dict[str, int]:
        """id → date_added (microseconds) of these stored SCOs."""

    @abstractmethod
    def _show_again(self, collection: str, ids: list[str]) -> None:
        """Objects of these ids that DELETE hid: visible again, as newly added."""

    @abstractmethod
    def _store_other(self, collection: str, objs: list[dict]) -> None:
        """Objects outside the graph (SDOs, SROs, markings), each version once."""

    def _matching(self, collection: str, flt: Filter):
        """Every record ``flt`` selects, page after page (without their objects)."""
        after = None
        while True:
            page = self.page(collection, flt, 1000, after, objects=False)
            yield from page.records
            if not page.more:
                return
            after = page.records[-1].cursor

    @abstractmethod
    def delete(self, collection: str, flt: Filter) -> int:
        """Remove the versions ``flt`` selects (one object id); returns how many."""

    @abstractmethod
    def save_status(self, collection: str, status: Status) -> None: ...

    @abstractmethod
    def status(self, status_id: str) -> tuple[str, Status] | None:
        """(collection name, status) of a status id."""
