"""The TAXII view of an ArangoDB store: AQL over each store collection's
``X_vertex_collection`` (stix2arango's layout, ``arango/README.md``).

``date_added`` is the vertex's ``_record_created`` (microseconds, the layout's record time);
pages are read by ``(_record_created, _key)`` (the persistent index ``stixgraph_taxii_added``).
The layout keys a vertex by its STIX id, so one version per object is kept: a POST of a newer
version replaces it, an older one is ignored (success, nothing changed).  DELETE sets
``_taxii.visible`` to false — the Arango TAXII Server hides such objects too — and leaves the
graph alone.  Statuses are kept in the database's ``stixgraph_taxii_status`` collection.

Not run against a server here (no ArangoDB in this workplace); the SQLite backend is the one
the tests exercise.  The AQL below binds every value.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import replace

from ...store.arango_layout import record_time, vertex_key
from ...store.arangodb import ArangoStore, parse_arango_url
from .base import (Collection, Filter, Page, Record, Status, TaxiiBackend, format_us,
                   object_version, parse_us)

STATUS_COLLECTION = "stixgraph_taxii_status"
_SUFFIX = "_vertex_collection"


def _clean(doc: dict) -> dict:
    return {k: v for k, v in doc.items() if not k.startswith("_")}


class ArangoTaxiiBackend(TaxiiBackend):
    def __init__(self, url: str, password: str | None = None):
        super().__init__()
        self.target = parse_arango_url(url)
        self._password = password
        base = self._store(self.target.collection)
        if not base._base.has_collection(STATUS_COLLECTION):
            base._base.create_collection(STATUS_COLLECTION)

    def _open_store(self, name: str) -> ArangoStore:
        return ArangoStore(replace(self.target, collection=name), self._password, init=False)

    def collections(self) -> list[Collection]:
        with self._lock:
            db = self._store(self.target.collection)._base
            names = sorted(c["name"][:-len(_SUFFIX)] for c in db.collections()
                           if c["name"].endswith(_SUFFIX) and not c["name"].startswith("_"))
            return [Collection(n, n, f"stixgraph store collection {n!r} in ArangoDB")
                    for n in names]

    def page(self, collection, flt, limit, after, objects=True):
        with self._lock:
            store = self._store(collection)
            bind: dict = {"@v": store.names["vertex"], "n": limit + 1}
            conds = ["d._taxii.visible != false", "d.type != null"]
            if flt.added_after is not None:
                bind["after"] = format_us(flt.added_after)
                conds.append("d._record_created > @after")
            for key, field, values in (("ids", "d.id", flt.ids), ("types", "d.type", flt.types),
                                       ("svs", '(d.spec_version || "2.1")', flt.spec_versions)):
                if values:
                    bind[key] = list(values)
                    conds.append(f"{field} IN @{key}")
            stamps = [v for v in flt.versions if v not in ("first", "last", "all")]
            if stamps and not set(flt.versions) & {"first", "last", "all"}:
                # one version per object: first = last = all; a timestamp must be its version
                bind["vers"] = [parse_us(v) // 1000 for v in stamps]
                conds.append("DATE_TIMESTAMP(d.modified || d.created || d._record_created) "
                             "IN @vers")
            if after is not None:
                bind["ca"], bind["ck"] = format_us(int(after[0])), str(after[2])
                conds.append("(d._record_created > @ca OR (d._record_created == @ca AND "
                             "d._key > @ck))")
            rows = store._aql(
                "FOR d IN @@v FILTER " + " AND ".join(conds)
                + " SORT d._record_created, d._key LIMIT @n RETURN d", bind)
            recs = []
            for d in rows[:limit]:
                added = parse_us(d["_record_created"])
                recs.append(Record(d["id"], d["type"], added,
                                   object_version(d) or format_us(added),
                                   d.get("spec_version") or "2.1", (added, 0, d["_key"]),
                                   _clean(d) if objects else None))
            return Page(recs, len(rows) > limit)

    # -- writing -------------------------------------------------------------------------
    @contextmanager
    def _writing(self, collection):
        with self._lock, self._store(collection).atomic():
            yield

    def _graph_store(self, collection):
        return self._store(collection)

    def _docs(self, collection, ids):
        store = self._store(collection)
        keys = [vertex_key(i) for i in ids]
        return store._aql("FOR k IN @k LET d = DOCUMENT(@@v, k) FILTER d != null RETURN d",
                          {"@v": store.names["vertex"], "k": keys}) if keys else []

    def _stored_objects(self, collection, ids):
        return [_clean(d) for d in self._docs(collection, ids)]

    def _added_times(self, collection, ids):
        return {d["id"]: parse_us(d["_record_created"]) for d in self._docs(collection, ids)}

    def _show_again(self, collection, ids):
        store = self._store(collection)
        if ids:
            store._aql("FOR k IN @k LET d = DOCUMENT(@@v, k) FILTER d != null AND "
                       "d._taxii.visible == false UPDATE d WITH {_taxii: MERGE(d._taxii, "
                       "{visible: true}), _record_created: @now} IN @@v",
                       {"@v": store.names["vertex"], "k": [vertex_key(i) for i in ids],
                        "now": record_time()})

    def _store_other(self, collection, objs):
        have = {d["id"]: object_version(d) for d in self._docs(collection, [o["id"] for o in objs])}
        newer = [o for o in objs if o["id"] not in have or parse_us(object_version(o) or
                 "1970-01-01T00:00:00Z") > parse_us(have[o["id"]] or "1970-01-01T00:00:00Z")]
        if newer:
            self._store(collection).add_objects(newer)

    def delete(self, collection, flt):
        with self._lock:
            store = self._store(collection)
            keys = [r.cursor[2] for r in self._matching(collection, flt)]
            if keys:
                with store.atomic():
                    store._aql("FOR k IN @k UPDATE k WITH {_taxii: {first: true, last: true, "
                               "visible: false}} IN @@v", {"@v": store.names["vertex"], "k": keys})
            return len(keys)

    def save_status(self, collection, status):
        with self._lock:
            db = self._store(collection)._base
            doc = {"_key": status.id, "collection": collection, "status": status.__dict__}
            db.collection(STATUS_COLLECTION).insert(doc, overwrite=True)

    def status(self, status_id):
        with self._lock:
            db = self._store(self.target.collection)._base
            try:
                doc = db.collection(STATUS_COLLECTION).get(status_id)
            except Exception:  # noqa: BLE001 - a key ArangoDB refuses is no status
                return None
            return None if doc is None else (doc["collection"], Status(**doc["status"]))
