"""The ArangoDB layout (``arango/README.md``) as documents: what a store collection ``X`` holds.

Nothing here talks to a server and python-arango is not imported: this module names the
collections, shapes the vertex and edge documents of observations, batches them for loading,
and reads the index, analyzer and graph definitions from ``arango/indexes.json`` and
``arango/graph.json`` (the single source of truth; ``X`` in them is the store collection).

Documents (README "Vertex documents", "Edge documents"):

* an SCO vertex is its STIX 2.1 dict (top-level nulls and ``_``-prefixed keys dropped,
  ``spec_version: "2.1"``), ``_key`` = its STIX id;
* an observation vertex is a STIX 2.1 ``observed-data`` (``object_refs`` = every object of
  the observation; ``created``/``modified`` from the source, else the record time ``now``);
* an edge per ref value: top-level ``*_ref``/``*_refs`` and the ones nested in dicts and
  lists (extensions, ``body_multipart``), not ``created_by_ref``/``object_marking_refs``/
  ``granular_markings`` (they point at SDOs outside the collection); plus the observation's
  ``object_refs``.  A ref whose target is not an object of the observation makes no edge and
  is counted (``stats["dangling_refs"]``);
* every document carries the Arango TAXII Server's fields: ``_record_created``,
  ``_record_modified``, ``_record_md5_hash``, ``_is_latest``, ``_taxii``; edges also
  ``_is_ref: true`` (hidden from TAXII), ``_ref_name``, ``_source_type``, ``_target_type``.

Edge naming follows stix2arango's ``get_embedded_refs`` (``relationship_type`` = the ref
property minus ``_ref``/``_refs``, ``_`` made ``-``, prefixed by the raw names of the
properties it is nested in, joined by ``-``: ``body_multipart-body-raw``); stix2arango does
not descend into dicts nested in dicts, stixgraph does, with the same rule
(``extensions-archive-ext-contains``).  ``_ref_name`` is the exact top-level property
(``opened_connection_refs``), or the dotted path for a nested ref
(``extensions.archive-ext.contains_refs``): a nested ref never matches a relation table row.
"""
from __future__ import annotations

import copy
import hashlib
import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Iterable

from ..stix.model import SPEC_VERSION, Observation
from ..stix.normalize import NON_SCO_REFS

#: stix2arango's namespace for embedded-ref relationship ids (``config.namespace``)
EDGE_NAMESPACE = uuid.UUID("72e906ce-ca1b-5d73-adcd-9ea9eb66a1b4")
_NAMESPACE_BYTES = EDGE_NAMESPACE.bytes
OBJECT_REFS = "object_refs"
#: the layout's files (a repository folder, found next to the ``stixgraph`` package)
ARANGO_DIR = Path(__file__).resolve().parents[2] / "arango"

_COLLECTION_RE = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_MAX_COLLECTION = 256 - len("_vertex_collection")  # ArangoDB names: at most 256 bytes
# ArangoDB document keys: at most 254 bytes of these characters
_KEY_RE = re.compile(r"[A-Za-z0-9_\-:.@()+,=;$!*'%]+")
_MAX_KEY = 254
_RECORD_TIME_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z")
_RECORD_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
_TAXII = {"first": True, "last": True, "visible": True}


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


# ---------------------------------------------------------------------------
# names, keys and ids


def collection_names(x: str) -> dict[str, str]:
    """The ArangoDB names of store collection ``x``: ``vertex``, ``edge``, ``variables``,
    ``var_rows`` (collections) and ``graph`` (the named graph).

    ``x`` is letters, digits and ``_``, starting with a letter (a leading ``_`` would make
    system collections, a leading digit is not a traditional ArangoDB name)."""
    if not isinstance(x, str) or not _COLLECTION_RE.fullmatch(x) or len(x) > _MAX_COLLECTION:
        raise ValueError(f"bad store collection name {_short(x)}: letters, digits and _, "
                         f"starting with a letter, at most {_MAX_COLLECTION} characters")
    return {"vertex": f"{x}_vertex_collection", "edge": f"{x}_edge_collection",
            "variables": f"{x}_variables", "var_rows": f"{x}_var_rows", "graph": f"{x}_graph"}


def vertex_key(stix_id: str) -> str:
    """The ``_key`` of a vertex: its STIX id, checked to be a valid ArangoDB key."""
    if not isinstance(stix_id, str) or not _KEY_RE.fullmatch(stix_id) \
            or len(stix_id.encode()) > _MAX_KEY:
        raise ValueError(f"STIX id {_short(stix_id)} is not a valid ArangoDB document key "
                         f"(at most {_MAX_KEY} bytes of letters, digits and _-:.@()+,=;$!*'%)")
    return stix_id


_STEMS: dict[str, str | None] = {}


def _ref_stem(prop: str) -> str | None:
    """``prop`` minus ``_refs``/``_ref``, or None if it is not a ref property (memoised)."""
    try:
        return _STEMS[prop]
    except KeyError:
        pass
    stem = None
    for suffix in ("_refs", "_ref"):
        if prop.endswith(suffix) and len(prop) > len(suffix):
            stem = prop[: -len(suffix)]
            break
    if len(_STEMS) < 100_000:
        _STEMS[prop] = stem
    return stem


def relationship_type(prop: str, path: Iterable[str] = ()) -> str:
    """The edge's ``relationship_type`` for ref property ``prop`` (``opened_connection_refs``
    → ``opened-connection``); ``path``: the properties it is nested in, kept raw and joined
    by ``-`` as stix2arango does (``("body_multipart",)``, ``body_raw_ref`` →
    ``body_multipart-body-raw``)."""
    stem = _ref_stem(prop) if isinstance(prop, str) else None
    if stem is None:
        raise ValueError(f"{_short(prop)} is not a ref property (*_ref or *_refs)")
    return "-".join([*path, *stem.split("_")])


def edge_key(rel_type: str, source: str, target: str) -> str:
    """The edge's ``_key``: uuid5 of ``"<relationship_type>+<source id>+<target id>"`` in
    stix2arango's namespace (``str(uuid.uuid5(...))``, computed without the UUID object)."""
    h = bytearray(hashlib.sha1(_NAMESPACE_BYTES + f"{rel_type}+{source}+{target}".encode())
                  .digest()[:16])
    h[6] = (h[6] & 0x0F) | 0x50  # version 5
    h[8] = (h[8] & 0x3F) | 0x80  # RFC 4122 variant
    x = h.hex()
    return f"{x[:8]}-{x[8:12]}-{x[12:16]}-{x[16:20]}-{x[20:]}"


def edge_id(rel_type: str, source: str, target: str) -> str:
    """The edge's STIX id, as stix2arango makes it: ``relationship--`` + :func:`edge_key`."""
    return "relationship--" + edge_key(rel_type, source, target)


def md5_hash(obj: dict) -> str:
    """``_record_md5_hash``: md5 of the JSON of the non-``_`` properties, sorted keys, as
    stix2arango's ``generate_md5`` writes it (``json.dumps(..., sort_keys=True,
    default=str)``: ASCII, ``", "``/``": "`` separators) so both give the same hash."""
    props = {k: v for k, v in obj.items() if k[:1] != "_"}
    return hashlib.md5(json.dumps(props, sort_keys=True, default=str).encode()).hexdigest()


def record_time(when: datetime | None = None) -> str:
    """A ``_record_created``/``_record_modified`` value (UTC, microseconds: the
    ``date_transform`` analyzer reads six digits after the seconds)."""
    when = datetime.now(timezone.utc) if when is None else when.astimezone(timezone.utc)
    return when.strftime(_RECORD_TIME_FORMAT)


def _check_now(now: str) -> str:
    if not isinstance(now, str) or not _RECORD_TIME_RE.fullmatch(now):
        raise ValueError(f"bad record time {_short(now)}: want YYYY-MM-DDTHH:MM:SS.ffffffZ")
    return now


# ---------------------------------------------------------------------------
# documents


def _meta(doc: dict, now: str, hashed: bool = True) -> dict:
    """Add the TAXII fields (README) to ``doc`` (its STIX properties complete); without
    ``hashed``, ``_record_md5_hash`` is left to the caller (the :class:`Batcher`)."""
    doc["_record_created"] = now
    doc["_record_modified"] = now
    if hashed:
        doc["_record_md5_hash"] = md5_hash(doc)
    doc["_is_latest"] = True
    doc["_taxii"] = dict(_TAXII)
    return doc


def _stix_props(obj: dict) -> dict:
    return {k: v for k, v in obj.items() if v is not None and not k.startswith("_")}


def _refs(value, path: tuple, out: list) -> None:
    """(path, property, target) for every ref value inside ``value`` (a dict or list)."""
    if isinstance(value, list):
        for v in value:
            if isinstance(v, (dict, list)):
                _refs(v, path, out)
        return
    for k, v in value.items():
        if k in NON_SCO_REFS:
            continue
        stem = _ref_stem(k)
        if stem is None:
            if isinstance(v, (dict, list)):
                _refs(v, path + (k,), out)
        elif k.endswith("_refs"):
            if isinstance(v, list):
                out.extend((path, k, t) for t in v if isinstance(t, str))
        elif isinstance(v, str):
            out.append((path, k, v))


def object_refs(obj: dict) -> list[tuple[tuple[str, ...], str, str]]:
    """Every SCO ref of ``obj``: (path of enclosing properties, ref property, target id), in
    document order; top-level refs have an empty path."""
    out: list = []
    _refs(obj, (), out)
    return out


def _edge(v: str, key: str, rt: str, source: str, stype: str, target: str, ttype: str,
          ref_name: str, now: str, hashed: bool) -> dict:
    """An edge document; ``source``/``target`` are keys of vertices :func:`_documents` built
    (so already checked by :func:`vertex_key`)."""
    doc = {"id": "relationship--" + key, "type": "relationship", "spec_version": SPEC_VERSION,
           "relationship_type": rt, "source_ref": source, "target_ref": target,
           "_key": key, "_from": f"{v}/{source}", "_to": f"{v}/{target}",
           "_ref_name": ref_name,
           "_is_ref": True, "_source_type": stype, "_target_type": ttype}
    return _meta(doc, now, hashed)


def observation_vertex(obs: Observation, now: str, hashed: bool = True) -> dict:
    """The observation as a STIX 2.1 ``observed-data`` vertex."""
    return _meta({**obs.to_stix(), "_key": vertex_key(obs.id)}, now, hashed)


def observation_from_vertices(vertex: dict, objects: list[dict]) -> Observation:
    """An observation back from its vertex and its objects' vertices (the TAXII and store
    fields dropped)."""
    return Observation.from_stix(vertex, objects)


def sco_vertex(sid: str, obj: dict, now: str, hashed: bool = True) -> dict:
    """An SCO of an observation as a vertex (``sid``: its STIX id, the observation's key)."""
    doc = _stix_props(obj)
    doc["id"] = sid
    doc.setdefault("type", sid.split("--", 1)[0])
    doc["spec_version"] = SPEC_VERSION
    doc["_key"] = vertex_key(sid)
    return _meta(doc, now, hashed)


def observation_documents(obs: Observation, x: str, now: str,
                          stats: dict | None = None) -> tuple[list[dict], list[dict]]:
    """The vertex and edge documents of one observation in store collection ``x``, written at
    record time ``now`` (:func:`record_time`).  Vertices: the observation first, then its
    objects in order; edges: each object's refs in document order, then ``object_refs``.
    ``stats["dangling_refs"]`` counts refs to objects not in the observation (no edge)."""
    return _documents(obs, collection_names(x)["vertex"], _check_now(now), stats)


def _documents(obs: Observation, v: str, now: str, stats: dict | None, hashed: bool = True,
               known: set | dict = frozenset()) -> tuple[list[dict], list[dict]]:
    """:func:`observation_documents` for vertex collection ``v``; edges whose ``_key`` is in
    ``known`` are left out (counted in ``stats["duplicate_edges"]``)."""
    objs = obs.objects
    types = {sid: o.get("type") or sid.split("--", 1)[0] for sid, o in objs.items()}
    vertices = [observation_vertex(obs, now, hashed)]
    vertices += [sco_vertex(sid, o, now, hashed) for sid, o in objs.items()]
    specs, dangling = [], 0  # (source, target, path, prop)
    for sid, o in objs.items():
        for path, prop, target in object_refs(o):
            if target in objs:
                specs.append((sid, target, path, prop))
            else:
                dangling += 1
    specs += [(obs.id, sid, (), OBJECT_REFS) for sid in objs]
    edges, dup = [], 0
    for source, target, path, prop in specs:
        rt = relationship_type(prop, path)
        key = edge_key(rt, source, target)
        if key in known:
            dup += 1
            continue
        stype = "observed-data" if source == obs.id else types[source]
        edges.append(_edge(v, key, rt, source, stype, target, types[target],
                           ".".join((*path, prop)), now, hashed))
    if stats is not None:
        for k, n in (("dangling_refs", dangling), ("duplicate_edges", dup)):
            if n:
                stats[k] = stats.get(k, 0) + n
    return vertices, edges


# ---------------------------------------------------------------------------
# batching


@dataclass
class Batch:
    """Documents to write together: ``vertices`` first, then ``edges``."""

    vertices: list[dict] = field(default_factory=list)
    edges: list[dict] = field(default_factory=list)


def _merge(old: dict, new: dict) -> dict:
    merged = dict(old)
    for k, val in new.items():
        if val is not None:
            merged[k] = val
    merged["_record_created"] = old["_record_created"]
    return merged


def merge_vertex(old: dict, new: dict) -> dict:
    """Two versions of one vertex merged: later non-null top-level values win,
    ``_record_created`` of the first is kept, the md5 is recomputed."""
    merged = _merge(old, new)
    merged["_record_md5_hash"] = md5_hash(merged)
    return merged


class Batcher:
    """Accumulates the documents of many observations and cuts them into batches of at most
    ``max_vertices`` vertices and ``max_edges`` edges.

    * Vertices with the same ``_key`` merge while pending (:func:`merge_vertex`); a vertex
      seen again after its batch went out is written again, merged only with what is
      pending (the writer's update merges it into the stored one: :data:`VERTEX_UPSERT_AQL`).
    * Edges are de-duplicated by ``_key`` over the whole run (an edge's content is a function
      of its key, but for the record times): a known edge is not even built.
    * ``_record_md5_hash`` is computed once per written document, when its batch is cut.
    * **Vertex before edge.**  Documents wait in one pending set; when it reaches a limit
      (checked after a whole observation is added) it is cut entirely: the vertex chunks go
      out first, the edges ride with the last vertex chunk and after it.  An edge joins the
      pending set with both its end vertices (one observation's documents), so every edge's
      vertices are in its batch or an earlier one: write the batches in order, a batch's
      vertices before its edges.
    """

    def __init__(self, x: str = "default", now: str | None = None, *,
                 max_vertices: int = 5000, max_edges: int = 5000):
        if max_vertices < 1 or max_edges < 1:
            raise ValueError(f"batch limits must be positive: {max_vertices}, {max_edges}")
        self.x = x
        self.vertex_collection = collection_names(x)["vertex"]
        self.now = _check_now(now) if now is not None else record_time()
        self.max_vertices, self.max_edges = max_vertices, max_edges
        self._vertices: dict[str, dict] = {}
        self._merged: set[str] = set()  # pending keys whose md5 is stale
        self._edges: list[dict] = []
        self._edge_keys: set[str] = set()  # every edge accepted so far
        self.stats = {"observations": 0, "vertices": 0, "edges": 0, "merged_vertices": 0,
                      "duplicate_edges": 0, "dangling_refs": 0, "batches": 0}

    def add_observation(self, obs: Observation) -> list[Batch]:
        """Add one observation; returns the batches that are complete (maybe none)."""
        vertices, edges = _documents(obs, self.vertex_collection, self.now, self.stats,
                                     hashed=False, known=self._edge_keys)
        self.stats["observations"] += 1
        return self.add(vertices, edges)

    def add_observations(self, observations: Iterable[Observation]):
        """Every batch of these observations, the last partial one included (a generator)."""
        for obs in observations:
            yield from self.add_observation(obs)
        yield from self.flush()

    def add(self, vertices: list[dict], edges: list[dict]) -> list[Batch]:
        """Add documents (every edge's vertices among ``vertices`` or added before); returns
        the batches that are complete (maybe none)."""
        pv = self._vertices
        for doc in vertices:
            k = doc["_key"]
            old = pv.get(k)
            if old is None:
                pv[k] = doc
            else:
                pv[k] = _merge(old, doc)
                self._merged.add(k)
                self.stats["merged_vertices"] += 1
        for doc in edges:
            k = doc["_key"]
            if k in self._edge_keys:
                self.stats["duplicate_edges"] += 1
            else:
                self._edge_keys.add(k)
                self._edges.append(doc)
        if len(pv) >= self.max_vertices or len(self._edges) >= self.max_edges:
            return self.flush()
        return []

    def flush(self) -> list[Batch]:
        """Cut everything pending into batches (see the class docstring)."""
        vs, es, merged = list(self._vertices.values()), self._edges, self._merged
        self._vertices, self._edges, self._merged = {}, [], set()
        for d in vs:
            if d["_key"] in merged or "_record_md5_hash" not in d:
                d["_record_md5_hash"] = md5_hash(d)
        for d in es:
            if "_record_md5_hash" not in d:
                d["_record_md5_hash"] = md5_hash(d)
        nv, ne = self.max_vertices, self.max_edges
        batches = [Batch(vs[i:i + nv]) for i in range(0, len(vs), nv)]
        if es and not batches:
            batches.append(Batch())
        for i in range(0, len(es), ne):
            if batches[-1].edges:
                batches.append(Batch())
            batches[-1].edges = es[i:i + ne]
        self.stats["vertices"] += len(vs)
        self.stats["edges"] += len(es)
        self.stats["batches"] += len(batches)
        return batches


#: Writing a batch's vertices so that an existing vertex keeps its ``_record_created`` and
#: merges top-level (later non-null values win; nested objects replaced, not deep-merged).
#: Bind vars: ``docs`` (the batch's vertices), ``@collection``.  ``import_bulk(...,
#: on_duplicate="update")`` would overwrite ``_record_created`` and deep-merge nested
#: objects.  Not run here (no server).  Edges: ``import_bulk(edges, on_duplicate="ignore")``.
VERTEX_UPSERT_AQL = (
    "FOR d IN @docs UPSERT {_key: d._key} INSERT d UPDATE UNSET(d, '_record_created') "
    "IN @@collection OPTIONS {mergeObjects: false}")


# ---------------------------------------------------------------------------
# indexes, analyzers, graph


@lru_cache(maxsize=None)
def _layout_file(name: str) -> dict:
    path = ARANGO_DIR / name
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(f"ArangoDB layout file {path} not found: stixgraph reads it "
                                f"from the repository (install with pip install -e)") from None


def _substitute(value, x: str):
    """A copy of ``value`` with every string (and dict key) starting ``X_`` given ``x``'s
    prefix."""
    if isinstance(value, str):
        return x + value[1:] if value.startswith("X_") else value
    if isinstance(value, list):
        return [_substitute(v, x) for v in value]
    if isinstance(value, dict):
        return {_substitute(k, x): _substitute(v, x) for k, v in value.items()}
    return value


def index_definitions(x: str) -> dict[str, list[dict]]:
    """ArangoDB collection name → its indexes, each python-arango 8's
    ``collection.add_index({...})`` argument (``arango/indexes.json``)."""
    collection_names(x)
    return _substitute(_layout_file("indexes.json")["indexes"], x)


def analyzer_definitions() -> list[dict]:
    """The analyzers the indexes need, each python-arango 8's ``db.create_analyzer(**d)``
    keyword arguments (per database, shared by every store collection)."""
    return copy.deepcopy(_layout_file("indexes.json")["analyzers"])


def graph_definition(x: str) -> dict:
    """The named graph of store collection ``x``: python-arango 8's
    ``db.create_graph(**d)`` keyword arguments (``name``, ``edge_definitions``)."""
    collection_names(x)
    return _substitute(_layout_file("graph.json")["graph"], x)


_BIND_DEFAULT = re.compile(r"@(\w+) = (\d+(?:\.\d+)?|\"[^\"]*\")")


def saved_queries(x: str) -> list[dict]:
    """``arango/queries/*.aql`` as the web UI's saved queries (``extra.queries`` of the ArangoDB
    user: ``name``, ``value`` = the AQL, ``parameter`` = bind variables), for store
    collection ``x``: ``@@vertex``/``@@edge`` bound to its collections, the other parameters
    to the example value the file's header gives (a number or a quoted string), else ""."""
    names = collection_names(x)
    out = []
    for path in sorted((ARANGO_DIR / "queries").glob("*.aql")):
        text = path.read_text(encoding="utf-8")
        header = "\n".join(line for line in text.splitlines() if line.startswith("//"))
        defaults = {m[1]: json.loads(m[2]) for m in _BIND_DEFAULT.finditer(header)}
        body = "\n".join(line for line in text.splitlines() if not line.startswith("//"))
        params = {}
        for name in dict.fromkeys(re.findall(r"@(@?\w+)", body)):
            if name.startswith("@"):
                params[name] = names[name[1:]]
            else:
                params[name] = defaults.get(name, "")
        out.append({"name": f"stixgraph {x}: {path.stem.replace('_', ' ')}", "value": text,
                    "parameter": params})
    return out
