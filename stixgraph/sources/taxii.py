"""``taxii://HOST[:PORT]/API_ROOT/COLLECTION/``: a GET answered by a TAXII 2.1 collection.

URI forms (:func:`stixgraph.taxii.client.collection_url`): ``taxii://`` and
``taxii+https://`` use HTTPS; ``taxii+http://`` uses plain HTTP (meant for a server on
loopback, like the tests' medallion).  ``API_ROOT`` may have several path segments; the last
segment is the collection id (``.../API_ROOT/collections/ID/`` works too).  An
``?added_after=TIMESTAMP`` query is sent to the server.

One GET:

1. asks the collection for ``match[type]=observed-data,ETYPE`` (the GET's type), paging with
   ``next``/``more`` (``page_size`` in the config sets ``limit``), with ``added_after`` when
   the URI or the config (``added_after``) gives one;
2. keeps the observed-data whose ``object_refs`` name an ETYPE object, then fetches the SCO
   types those observations refer to and the refs of those (up to ``ref_rounds`` rounds,
   default 3), without ``added_after``, since an SCO published earlier is not sent again;
3. normalises them (:func:`stixgraph.stix.normalize.normalize_bundle`) and keeps the
   observations that overlap the time range and match the WHERE, with the file source's own
   matcher (:meth:`BundleSource._filters`).

Step 2 assumes that an observation's ``object_refs`` list its centre-type objects (STIX 2.1
producers, and :func:`~stixgraph.taxii.client.observations_to_stix`, do); ``narrow = False``
in the config fetches every object of the collection instead.

Config keys: ``verify`` (TLS, default True), ``timeout`` (seconds per request, default 60),
``page_size``, ``added_after``, ``narrow``, ``ref_rounds``, and ``user``/``password``/
``token`` (used only when the STIXGRAPH_TAXII_* variables are unset).
"""
from __future__ import annotations

from typing import Callable, Iterator
from urllib.parse import parse_qs, urlsplit

from ..stix.model import Observation
from ..stix.normalize import NON_SCO_TYPES, _refs_in, normalize_bundle
from .base import DataSource, SourceQuery
from .bundle import BundleSource


def _type_of(i: str) -> str:
    return i.split("--", 1)[0]


class TaxiiSource(DataSource):
    schemes = ("taxii", "taxii+http", "taxii+https")

    def __init__(self, uri: str, config: dict | None = None):
        super().__init__(uri, config)
        from ..taxii.client import collection_url, credentials

        self.url = collection_url(uri)
        qs = parse_qs(urlsplit(uri).query)
        self.added_after = (qs.get("added_after") or [None])[0] or self.config.get("added_after")
        self.creds = credentials(self.config)
        self.notes: list[str] = []
        self.stats: dict = {}

    def _fetch(self, types=None, added_after=None) -> Iterator[dict]:
        from ..taxii.client import fetch

        yield from fetch(self.url, added_after=added_after, types=types,
                         page_size=self.config.get("page_size"), creds=self.creds,
                         verify=self.config.get("verify", True),
                         timeout=self.config.get("timeout", 60), stats=self.stats)

    def _objects(self, etype: str, progress) -> list[dict]:
        got: dict[str, dict] = {}

        def take(objs):
            for o in objs:
                if isinstance(o.get("id"), str):
                    got.setdefault(o["id"], o)
                    if progress:
                        progress(len(got))

        if not self.config.get("narrow", True):
            take(self._fetch(added_after=self.added_after))
            return list(got.values())
        take(self._fetch(["observed-data", etype], self.added_after))
        prefix = etype + "--"
        kept = [o for o in got.values() if o.get("type") == "observed-data"
                and any(isinstance(i, str) and i.startswith(prefix)
                        for i in o.get("object_refs") or ())]
        fetched_types = {etype, "observed-data"}
        wanted: set[str] = set()
        for od in kept:
            wanted.update(i for i in od.get("object_refs") or () if isinstance(i, str))
        for _ in range(int(self.config.get("ref_rounds", 3))):
            refs: list[str] = []
            for i in wanted:
                if i in got:  # SCO refs (_refs_in skips normalize.NON_SCO_REFS)
                    _refs_in(got[i], refs)
            wanted.update(refs)
            types = {_type_of(i) for i in wanted if i not in got} - NON_SCO_TYPES - fetched_types
            if not types:
                break
            take(self._fetch(sorted(types)))
            fetched_types |= types
        keep = {o["id"] for o in kept} | wanted
        return [o for i, o in got.items() if i in keep]

    def query(self, q: SourceQuery, progress: Callable[[int], None] | None = None
              ) -> Iterator[Observation]:
        if q.limit is not None and q.limit <= 0:
            return
        objs = self._objects(q.etype, progress)
        self.stats["objects"] = len(objs)
        accept, _ = BundleSource._filters(q)
        n = 0
        for obs in normalize_bundle(objs, stats=self.stats):
            if accept(obs):
                yield obs
                n += 1
                if q.limit is not None and n >= q.limit:
                    return
