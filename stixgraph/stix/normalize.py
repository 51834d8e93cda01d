"""STIX 2.0 / 2.1 observed-data → :class:`~stixgraph.stix.model.Observation` (STIX 2.1).

Rules
-----
* **Objects.** STIX 2.0 (and deprecated 2.1) observed-data embed their SCOs in ``objects``
  (``{"0": {...}, "1": {...}}``, refs by key).  STIX 2.1 observed-data list SCO ids in
  ``object_refs``; the SCOs are top-level objects of the bundle (``bundle_objects``: id →
  object).  The observation holds the listed objects **plus every SCO they reference,
  transitively** (a process's ``binary_ref`` file and its ``parent_directory_ref``), whether
  or not ``object_refs`` lists it.  A ref to an SDO/SRO is not followed.
* **Ids.** Every SCO gets its deterministic id (:mod:`stixgraph.stix.ids`), computed in
  dependency order (a file's id after its parent directory's).  A contributing ref caught in a
  cycle contributes the target's scope id.  The scope of an object without identity is the
  observed-data id + ``/`` + its key for embedded objects, its original id for top-level 2.1
  SCOs.  Processes use the host of the observation's first ``x-oca-asset``.  Two objects of
  one observation with the same id are merged (first value of a property wins).
* **Refs.** Every ``*_ref`` / ``*_refs`` value, at any depth (extensions, ``values``,
  ``body_multipart``), becomes the target's new id.  A ref that resolves to no object of the
  observation is dropped (a ``*_refs`` list loses the element, and the property when empty)
  and counted in ``stats["dropped_refs"]``.  ``created_by_ref``, ``object_marking_refs`` and
  ``granular_markings`` point at SDOs and are kept verbatim.
* **Times.** ``first_observed`` / ``last_observed`` become ``YYYY-MM-DDTHH:MM:SS.mmmZ`` (UTC;
  any ISO-8601 input incl. offsets; sub-millisecond digits truncated).  A missing
  ``last_observed`` takes ``first_observed``; a missing ``first_observed`` or an unparsable
  time is a :class:`~stixgraph.errors.DataSourceError`.  ``number_observed`` defaults to 1.
  Timestamps inside SCOs are kept as written.
* **Kept.** The observed-data id (STIX 2.0 ids stay as they are), custom ``x_`` properties,
  custom types, extensions; the other observed-data properties go to ``Observation.props``.
"""
from __future__ import annotations

from datetime import datetime, timezone

from ..errors import DataSourceError
from .ids import ID_PROPS, _parse_ts, asset_host, canonical, contrib_id, scoped_id, sco_id
from .model import Observation

#: ref properties that point at SDOs (markings, identities), never rewritten or dropped
NON_SCO_REFS = frozenset(("created_by_ref", "object_marking_refs", "granular_markings"))
#: top-level types that are never SCOs
NON_SCO_TYPES = frozenset((
    "attack-pattern", "bundle", "campaign", "course-of-action", "extension-definition",
    "grouping", "identity", "incident", "indicator", "infrastructure", "intrusion-set",
    "language-content", "location", "malware", "malware-analysis", "marking-definition", "note",
    "observed-data", "opinion", "relationship", "report", "sighting", "threat-actor", "tool",
    "vulnerability"))
# per standard type: the contributing properties that can hold refs
_ID_REF_KEYS = {t: tuple(p for p in props if p.endswith(("_ref", "_refs")) or p == "extensions")
                for t, props in ID_PROPS.items()}
_OD_OWN = frozenset(("type", "id", "first_observed", "last_observed", "number_observed",
                     "objects", "object_refs"))


# ---------------------------------------------------------------------------
# timestamps


def norm_timestamp(v) -> str:
    """``v`` (ISO-8601 text or datetime) as ``YYYY-MM-DDTHH:MM:SS.mmmZ`` (UTC, truncated)."""
    if isinstance(v, str):
        n = len(v)
        if n >= 20 and v[-1] == "Z" and v[10] == "T" and v[4] == "-" and v[7] == "-" \
                and v[13] == ":" and v[16] == ":":
            if n == 24 and v[19] == ".":
                return v
            if n == 20:
                return v[:19] + ".000Z"
            if v[19] == "." and v[20:-1].isdigit():
                return v[:19] + "." + v[20:-1][:3].ljust(3, "0") + "Z"
        d = _parse_ts(v)
        if d is None:
            raise DataSourceError(f"invalid timestamp {v!r}")
    elif isinstance(v, datetime):
        d = v.astimezone(timezone.utc) if v.tzinfo else v.replace(tzinfo=timezone.utc)
    else:
        raise DataSourceError(f"invalid timestamp {v!r}")
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + f"{d.microsecond // 1000:03d}Z"


def _times(od: dict) -> tuple[str, str]:
    first = od.get("first_observed")
    if first is None:
        raise DataSourceError(f"observed-data {od.get('id', '?')} has no first_observed")
    last = od.get("last_observed")
    f = norm_timestamp(first)
    return f, (f if last is None else norm_timestamp(last))


# ---------------------------------------------------------------------------
# gathering an observation's objects


def _refs_in(v, out: list):
    """Collect every SCO ref value found in ``v`` (a property value)."""
    if isinstance(v, dict):
        for k, x in v.items():
            if k in NON_SCO_REFS:
                continue
            if k.endswith("_ref"):
                if isinstance(x, str):
                    out.append(x)
            elif k.endswith("_refs"):
                if isinstance(x, list):
                    out.extend(r for r in x if isinstance(r, str))
            elif isinstance(x, (dict, list)):
                _refs_in(x, out)
    elif isinstance(v, list):
        for x in v:
            if isinstance(x, (dict, list)):
                _refs_in(x, out)


def gather(od: dict, bundle_objects: dict | None = None) -> dict[str, dict]:
    """The SCOs of an observed-data, keyed as its refs name them (2.0 key or 2.1 id)."""
    emb = od.get("objects")
    objs: dict[str, dict] = {}
    if isinstance(emb, dict):
        objs = emb
        for o in emb.values():
            if type(o) is not dict or type(o.get("type")) is not str:  # drop non-SCOs
                objs = {str(k): o for k, o in emb.items()
                        if isinstance(o, dict) and isinstance(o.get("type"), str)}
                break
    if not bundle_objects:
        return objs
    objs = dict(objs)
    todo = [r for r in od.get("object_refs") or () if isinstance(r, str)]
    if objs:  # embedded objects may name top-level SCOs by id
        for o in objs.values():
            _refs_in(o, todo)
    while todo:
        r = todo.pop()
        if r in objs:
            continue
        o = bundle_objects.get(r)
        if isinstance(o, dict) and o.get("type") not in NON_SCO_TYPES:
            objs[r] = o
            _refs_in(o, todo)
    return objs


def raw_observation(od: dict, bundle_objects: dict | None = None, *,
                    trusted: bool = False) -> Observation:
    """A cheap, un-normalised Observation for matching: objects keyed as in the source, refs
    unchanged (they still name keys of ``objects``), times normalised.  No ids computed.
    ``trusted``: take embedded ``objects`` as they are (the caller retries untrusted when a
    matcher trips over a non-object)."""
    f, l = _times(od)
    emb = od.get("objects")
    objs = emb if trusted and not bundle_objects and type(emb) is dict \
        else gather(od, bundle_objects)
    return Observation(od.get("id", ""), f, l, od.get("number_observed", 1), objs, {})


# ---------------------------------------------------------------------------
# ids and ref rewriting


def _assign_ids(objs: dict[str, dict], scope_of) -> dict[str, str]:
    host = None
    for o in objs.values():
        if o.get("type") == "x-oca-asset":
            host = asset_host(o)
            break
    ids: dict[str, str] = {}
    busy: set = set()

    def resolve_for_id(ref):
        if ref not in objs:
            return None
        if ref in ids:
            return ids[ref]
        if ref in busy:  # cycle: contribute the target's scope id
            return scoped_id(objs[ref]["type"], scope_of(ref))
        return idof(ref)

    def idof(key):
        o = objs[key]
        busy.add(key)
        t = o["type"]
        keys = _ID_REF_KEYS.get(t)
        if keys:  # a standard type: its contributions, refs made ids first
            c = {}
            try:
                for p in ID_PROPS[t]:
                    v = o.get(p)
                    if v is None:
                        continue
                    if p in keys:
                        v = _rewrite_value(p, v, resolve_for_id, None)
                        if v is _DROP:
                            continue
                    c[p] = v
                i = contrib_id(t, c, lambda: scope_of(key))
            finally:
                busy.discard(key)
            ids[key] = i
            return i
        if keys is None:  # custom type: every property contributes
            keys = [k for k, v in o.items() if _kind(k) in (1, 2) or isinstance(v, (dict, list))]
        view = dict(o)
        for k in keys:  # contributing refs must be ids first
            v = o.get(k)
            if v is None or k in NON_SCO_REFS:
                continue
            nv = _rewrite_value(k, v, resolve_for_id, None)
            if nv is _DROP:
                del view[k]
            else:
                view[k] = nv
        try:
            i = sco_id(view, scope=lambda: scope_of(key), host=host)
        finally:
            busy.discard(key)
        ids[key] = i
        return i

    later = []
    for key, o in objs.items():  # objects without contributing refs: no recursion
        keys = _ID_REF_KEYS.get(o["type"])
        if keys is not None:
            for k in keys:
                if k in o:
                    break
            else:
                ids[key] = sco_id(o, scope=_Scope(scope_of, key), host=host)
                continue
        later.append(key)
    for key in later:
        if key not in ids:
            idof(key)
    return ids


class _Scope:
    """``scope_of(key)``, computed only if called (cheaper than a closure per object)."""

    __slots__ = ("f", "key")

    def __init__(self, f, key):
        self.f, self.key = f, key

    def __call__(self):
        return self.f(self.key)


_DROP = object()
_KINDS: dict[str, int] = {k: 3 for k in NON_SCO_REFS}


def _kind(k: str) -> int:
    """0: plain property, 1: ``*_ref``, 2: ``*_refs``, 3: kept verbatim (memoised)."""
    r = _KINDS.get(k)
    if r is None:
        r = 1 if k.endswith("_ref") else 2 if k.endswith("_refs") else 0
        if len(_KINDS) < 100_000:
            _KINDS[k] = r
    return r


def _rewrite_value(k: str, v, resolve, counter: list | None):
    """Rewrite the refs in property ``k``'s value; ``_DROP`` when it must disappear."""
    kind = _kind(k)
    if kind == 3:
        return v
    if kind == 1:
        if type(v) is str:
            r = resolve(v)
            if r is None:
                if counter is not None:
                    counter[0] += 1
                return _DROP
            return r
        return v
    if kind == 2:
        if type(v) is list:
            out = []
            for x in v:
                r = resolve(x) if type(x) is str else None
                if r is None:
                    if counter is not None:
                        counter[0] += 1
                else:
                    out.append(r)
            return out if out else _DROP
        return v
    if type(v) is dict:
        return _rewrite_obj(v, resolve, counter)
    if type(v) is list and v and type(v[0]) is dict:
        return [_rewrite_obj(x, resolve, counter) if type(x) is dict else x for x in v]
    return v


def _rewrite_obj(o: dict, resolve, counter) -> dict:
    out = {}
    kinds = _KINDS
    for k, v in o.items():
        kind = kinds.get(k)
        if kind == 0:
            tv = type(v)
            if tv is not dict and (tv is not list or not v or type(v[0]) is not dict):
                out[k] = v
                continue
        elif kind == 3:
            out[k] = v
            continue
        elif kind == 1:  # _rewrite_value's *_ref case, inline
            if type(v) is str:
                r = resolve(v)
                if r is None:
                    if counter is not None:
                        counter[0] += 1
                else:
                    out[k] = r
            else:
                out[k] = v
            continue
        nv = _rewrite_value(k, v, resolve, counter)
        if nv is not _DROP:
            out[k] = nv
    return out


def _build(objs: dict[str, dict], scope_of, stats: dict | None) -> dict[str, dict]:
    ids = _assign_ids(objs, scope_of)
    counter = [0]
    out: dict[str, dict] = {}
    get = ids.get
    for key, o in objs.items():
        new = _rewrite_obj(o, get, counter)
        i = ids[key]
        new["id"] = i
        prev = out.get(i)
        if prev is None:
            out[i] = new
        else:
            for k, v in new.items():
                prev.setdefault(k, v)
    if counter[0] and stats is not None:
        stats["dropped_refs"] = stats.get("dropped_refs", 0) + counter[0]
    return out


# ---------------------------------------------------------------------------
# public API


def normalize_observed_data(od: dict, *, bundle_objects: dict | None = None,
                            stats: dict | None = None) -> Observation:
    """Normalise one observed-data (2.0 embedded objects, or 2.1 ``object_refs`` resolved in
    ``bundle_objects``).  ``stats["dropped_refs"]`` counts unresolvable refs."""
    first, last = _times(od)
    odid = od.get("id")
    if not isinstance(odid, str):
        raise DataSourceError("observed-data without an id")
    objs = gather(od, bundle_objects)

    def scope_of(key, _p=odid + "/"):
        o = objs[key]
        oid = o.get("id")
        return oid if isinstance(oid, str) and "--" in oid else _p + key

    n = od.get("number_observed", 1)
    props = {k: v for k, v in od.items() if k not in _OD_OWN}
    return Observation(odid, first, last, n if isinstance(n, int) else 1,
                       _build(objs, scope_of, stats), props)


def normalize_objects(objs, *, scope: str = "", stats: dict | None = None) -> dict[str, dict]:
    """Normalise loose SCOs (NEW data, unreferenced 2.1 SCOs): a list or a key → object dict.
    Refs may name another object's key (list index as text) or original id.  Returns new id →
    object.  An object without identity is scoped by its original id, else by ``scope``, its
    key and its content: the same object list gives the same ids, different objects never
    share one."""
    items = objs.items() if isinstance(objs, dict) else enumerate(objs)
    by_key: dict[str, dict] = {}
    for k, o in items:
        if not isinstance(o, dict) or not isinstance(o.get("type"), str):
            raise DataSourceError(f"object {k!s} is not a STIX object (no type)")
        by_key[str(k)] = o
    alias = {o["id"]: k for k, o in by_key.items() if isinstance(o.get("id"), str)}
    if alias:  # refs by original id: rename them to keys first
        def fix(ref):
            return ref if ref in by_key else alias.get(ref, ref)
        by_key = {k: _rewrite_obj(o, fix, None) for k, o in by_key.items()}

    def scope_of(key):
        o = by_key[key]
        oid = o.get("id")
        if isinstance(oid, str) and "--" in oid:
            return oid
        return f"{scope}/{key}/" + canonical({k: v for k, v in o.items() if k != "id"})

    return _build(by_key, scope_of, stats)


def normalize_bundle(bundle: dict | list, *, stats: dict | None = None) -> list[Observation]:
    """Every observed-data of a parsed bundle (dict with ``objects``, or a list of objects)."""
    objects = bundle.get("objects") if isinstance(bundle, dict) else bundle
    if not isinstance(objects, list):
        raise DataSourceError("not a STIX bundle: no 'objects' list")
    top = {o["id"]: o for o in objects
           if isinstance(o, dict) and isinstance(o.get("id"), str)
           and o.get("type") not in NON_SCO_TYPES}
    return [normalize_observed_data(o, bundle_objects=top, stats=stats) for o in objects
            if isinstance(o, dict) and o.get("type") == "observed-data"]
