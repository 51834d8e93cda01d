"""The data-source interface.  A GET from a data source becomes one :class:`SourceQuery`;
the source answers with normalised :class:`~stixgraph.stix.model.Observation` objects, which
the store ingests in one transaction.  Bundle files and URLs (this package), stix-shifter and
TAXII collections all implement this interface and nothing else.

A source returns the observations that match ``where`` (evaluated per observation, Kestrel's
meaning: each comparison holds for some object of its type in that observation) and overlap
the time range.  Sources that cannot filter (a plain bundle) filter with
:mod:`stixgraph.stix.match`; remote ones translate ``stix_pattern``.  The engine then picks
the centre-type entities with its own backend, so a source may return extra observations
but must never miss one.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from typing import Callable, ClassVar, Iterator

from ..ir import Expr
from ..stix.model import Observation


@dataclass(frozen=True)
class SourceQuery:
    uri: str
    etype: str  # the centre type of the GET
    where: Expr | None  # var.attr references already resolved to literals
    stix_pattern: str  # the same condition as one STIX pattern, with START/STOP qualifier
    start: datetime | None = None  # observation overlaps [start, stop)
    stop: datetime | None = None
    limit: int | None = None  # in observations, as Kestrel counts


class DataSource(ABC):
    """One configured data source.  Instances are made by :func:`open_source`."""

    #: URI schemes this class serves, e.g. ("file", "http", "https").
    schemes: ClassVar[tuple[str, ...]] = ()
    #: A search service that returns only the events matching a query (Splunk, an EDR):
    #: GET and FIND then ask it again for every record of the entities they found
    #: (Kestrel's prefetch; see :mod:`stixgraph.session`).  A bundle file is read whole.
    prefetch: bool = False
    #: A TAXII 2.1 collection URL each GET from this source publishes its observations to
    #: (a profile's ``publish`` option), or None.
    publish: str | None = None

    def __init__(self, uri: str, config: dict | None = None):
        self.uri = uri
        self.config = config or {}

    @abstractmethod
    def query(self, q: SourceQuery, progress: Callable[[int], None] | None = None
              ) -> Iterator[Observation]:
        """Yield the matching observations.  Raise DataSourceError with a one-line message
        (what and where: file, byte offset or URL) on bad input; the engine rolls back."""

    def fingerprint(self) -> str | None:
        """A value that changes when the source's content changes (file size + mtime, ETag),
        or None when unknown.  Lets the engine tell a reload from new data."""
        return None

    def close(self) -> None:
        pass
