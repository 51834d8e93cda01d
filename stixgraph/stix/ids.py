"""Deterministic STIX 2.1 identifiers for SCOs.

``sco_id(obj)`` returns ``<type>--<uuid>`` where uuid is a UUIDv5 in the STIX namespace
``00abedb4-aa42-466c-9c01-fed23315a9b7`` over the canonical JSON (RFC 8785 / JCS, as the
``stix2`` library does: keys sorted by UTF-16 code units, no whitespace, non-ASCII kept as
UTF-8, ``"`` ``\\`` and control characters escaped, numbers in ECMAScript form) of an object
made of the *ID-contributing properties* that are present (``None`` counts as absent).

Rules, per type
---------------
* Standard SCOs use the spec's contributing properties (:data:`ID_PROPS`); the ids equal the
  ``stix2`` library's for the same object (checked by ``tests/test_stix_ids.py``):
  ``hashes`` contributes one hash only, the first of MD5, SHA-1, SHA-256, SHA-512, else the
  first key; a ``*_ref`` value must already be the referenced object's STIX id (callers
  resolve 2.0 index refs first, :mod:`stixgraph.stix.normalize` does it in dependency order);
  the timestamps ``start``/``end`` of network-traffic are written as ``stix2`` writes them
  (UTC, ``Z``, fraction without trailing zeros, none when zero) so formatting differences do
  not split an entity.
* ``process`` (no standard contributing property):
  1. ``x_unique_id`` (e.g. Sysmon ProcessGuid) when present;
  2. else an extension's ``process_guid`` / ``process_uid`` / ``process_unique_id`` /
     ``unique_id`` (first extension, first key in that order);
  3. else ``pid`` + ``created`` (normalised timestamp) + the host (``hostname``, ``host_id``
     or ``device_id`` of the observation's first ``x-oca-asset``, passed as ``host=``; omitted
     when there is none);
  4. else (no pid or no created) the scope fallback below: never merged with another process.
* ``x-oca-asset``: whichever of ``hostname``, ``host_id``, ``device_id``, ``name`` exist.
* Other custom types (``x-...``) and unknown types: every property except ``id``, ``type``,
  ``spec_version``, ``object_marking_refs``, ``granular_markings`` and ``defanged``.
* No contributing property present (or a process without identity): the id is a UUIDv5 over
  ``scope`` (a string the caller makes unique to this object and deterministic: the
  observation id plus the object's key for STIX 2.0, the original id for 2.1 top-level SCOs),
  so re-ingesting the same data gives the same ids but unrelated objects never merge.
  Without a scope the fallback hashes all the object's properties.

Speed: no ``stix2`` at run time; the namespace SHA-1 state is precomputed, single-string
contributions (``value``, ``path``, ``name``...) take a fast path, and ids of those are cached.
About 1-2 µs per object.
"""
from __future__ import annotations

import hashlib
import re
from datetime import datetime, timezone
from decimal import Decimal
from json.encoder import encode_basestring as _jstr  # C: escapes exactly as JCS does

import orjson

NAMESPACE = "00abedb4-aa42-466c-9c01-fed23315a9b7"
_NS_SHA = hashlib.sha1(bytes.fromhex(NAMESPACE.replace("-", "")))
_VARIANT = {c: "89ab"[int(c, 16) & 3] for c in "0123456789abcdef"}

ID_PROPS: dict[str, tuple[str, ...]] = {
    "artifact": ("hashes", "payload_bin"),
    "autonomous-system": ("number",),
    "directory": ("path",),
    "domain-name": ("value",),
    "email-addr": ("value",),
    "email-message": ("from_ref", "subject", "body"),
    "file": ("hashes", "name", "extensions", "parent_directory_ref"),
    "ipv4-addr": ("value",),
    "ipv6-addr": ("value",),
    "mac-addr": ("value",),
    "mutex": ("name",),
    "network-traffic": ("start", "end", "src_ref", "dst_ref", "src_port", "dst_port",
                        "protocols", "extensions"),
    "software": ("name", "cpe", "swid", "vendor", "version"),
    "url": ("value",),
    "user-account": ("account_type", "user_id", "account_login"),
    "windows-registry-key": ("key", "values"),
    "x509-certificate": ("hashes", "serial_number"),
    "x-oca-asset": ("hostname", "host_id", "device_id", "name"),
    "process": (),
}
HASH_ORDER = ("MD5", "SHA-1", "SHA-256", "SHA-512")
PROCESS_EXT_IDS = ("process_guid", "process_uid", "process_unique_id", "unique_id")
ASSET_HOST_PROPS = ("hostname", "host_id", "device_id")
_NOT_CONTRIB = frozenset(("id", "type", "spec_version", "object_marking_refs",
                          "granular_markings", "defanged"))
_TS_PROPS = {"network-traffic": ("start", "end")}
# single-property types: id cached by value
_SIMPLE = {t: p[0] for t, p in ID_PROPS.items() if len(p) == 1}
_cache: dict = {}
_CACHE_MAX = 50_000


def uuid5(data: str | bytes) -> str:
    """UUIDv5 (as text) of ``data`` (text, or its UTF-8 bytes) in the STIX SCO namespace."""
    h = _NS_SHA.copy()
    h.update(data if isinstance(data, bytes) else data.encode("utf-8", "surrogatepass"))
    x = h.hexdigest()
    return f"{x[:8]}-{x[8:12]}-5{x[13:16]}-{_VARIANT[x[16]]}{x[17:20]}-{x[20:32]}"


# ---------------------------------------------------------------------------
# canonical JSON (RFC 8785)


def _num(v) -> str:
    if isinstance(v, int) and -(2 ** 53) < v < 2 ** 53:
        return str(v)
    f = float(v)
    if f != f or f in (float("inf"), float("-inf")):
        raise ValueError(f"invalid JSON number {v!r}")
    if f == 0:
        return "0"
    sign, digits, exp = Decimal(repr(f)).as_tuple()
    ds = "".join(map(str, digits)).rstrip("0")
    exp += len(digits) - len(ds)
    k = len(ds)
    n = k + exp  # value = 0.ds * 10**n
    if k <= n <= 21:
        s = ds + "0" * (n - k)
    elif 0 < n <= 21:
        s = ds[:n] + "." + ds[n:]
    elif -6 < n <= 0:
        s = "0." + "0" * (-n) + ds
    else:
        e = n - 1
        s = ds[0] + ("." + ds[1:] if k > 1 else "") + "e" + ("+" if e >= 0 else "-") + str(abs(e))
    return ("-" if sign else "") + s


def _key(k: str):
    return k.encode("utf-16-be")


def _plain(v) -> bool:
    """True when orjson's sorted output is already RFC 8785 (no floats, no ints beyond
    2**53, ASCII keys only)."""
    t = type(v)
    if t is str or t is bool or v is None:
        return True
    if t is int:
        return -(2 ** 53) < v < 2 ** 53
    if t is dict:
        for k, x in v.items():
            if type(k) is not str or not k.isascii() or not _plain(x):
                return False
        return True
    if t is list:
        for x in v:
            if not _plain(x):
                return False
        return True
    return False


def canonical_bytes(v) -> bytes:
    """UTF-8 of :func:`canonical`, fast through orjson when that is exact."""
    if _plain(v):
        return orjson.dumps(v, option=orjson.OPT_SORT_KEYS)
    return canonical(v).encode("utf-8", "surrogatepass")


def canonical(v) -> str:
    """RFC 8785 canonical JSON text of a JSON-like value."""
    if isinstance(v, str):
        return _jstr(v)
    if v is True:
        return "true"
    if v is False:
        return "false"
    if v is None:
        return "null"
    if isinstance(v, (int, float)):
        return _num(v)
    if isinstance(v, dict):
        keys = list(v)
        if all(k.isascii() for k in keys):
            keys.sort()
        else:
            keys.sort(key=_key)
        return "{" + ",".join(_jstr(k) + ":" + canonical(v[k]) for k in keys) + "}"
    if isinstance(v, (list, tuple)):
        return "[" + ",".join(canonical(x) for x in v) + "]"
    if isinstance(v, datetime):
        return _jstr(stix_timestamp(v))
    raise TypeError(f"cannot canonicalise {type(v).__name__}")


# ---------------------------------------------------------------------------
# timestamps as stix2 writes them (used for ids only)


def _parse_ts(s: str) -> datetime | None:
    try:
        t = s.strip()
        d = datetime.fromisoformat(t[:-1] + "+00:00" if t[-1:] in "Zz" else t)
    except (ValueError, AttributeError, IndexError, TypeError):
        return None
    if d.tzinfo is None:
        d = d.replace(tzinfo=timezone.utc)
    return d.astimezone(timezone.utc)


def stix_timestamp(v) -> str:
    """``v`` (ISO text or datetime) as stix2 formats a timestamp: ``Z``, fraction trimmed."""
    d = v if isinstance(v, datetime) else _parse_ts(v)
    if d is None:
        return v  # not a timestamp: contributes verbatim
    if d.tzinfo is not None:
        d = d.astimezone(timezone.utc)
    frac = f".{d.microsecond:06d}".rstrip("0") if d.microsecond else ""
    return d.strftime("%Y-%m-%dT%H:%M:%S") + frac + "Z"


# ---------------------------------------------------------------------------


def choose_hash(hashes: dict) -> dict | None:
    for k in HASH_ORDER:
        if k in hashes:
            return {k: hashes[k]}
    for k in hashes:
        return {k: hashes[k]}
    return None


def _contrib(obj: dict, props) -> dict:
    out = {}
    for p in props:
        v = obj.get(p)
        if v is None:
            continue
        if p == "hashes" and isinstance(v, dict):
            v = choose_hash(v)
            if v is None:
                continue
        out[p] = v
    return out


_SORT = orjson.OPT_SORT_KEYS
_BIG = 2 ** 53


def _finish(t: str, c: dict, std_keys: bool = True) -> str:
    """Id from contributions ``c``; ``std_keys``: the keys are known ASCII names."""
    data = None
    if std_keys:
        for v in c.values():  # flat str/int contributions (the common case) are plain
            tv = type(v)
            if tv is not str and (tv is not int or not -_BIG < v < _BIG):
                if tv is list:  # so are lists of strings (protocols)
                    for x in v:
                        if type(x) is not str:
                            break
                    else:
                        continue
                break
        else:
            data = orjson.dumps(c, option=_SORT)
    if data is None:
        data = canonical_bytes(c)
    # compact text (orjson's bytes over-allocate); 3-tuples never meet sco_id's (type, value)
    key = (t, data.decode("utf-8", "surrogatepass"), None)
    r = _cache.get(key)
    if r is None:
        if len(_cache) >= _CACHE_MAX:
            _cache.clear()
        r = _cache[key] = f"{t}--{uuid5(data)}"
    return r


def scoped_id(t: str, scope: str) -> str:
    """The fallback id: deterministic in ``scope``, unique to it.  A scope that is already an
    id of type ``t`` (a top-level STIX 2.1 object without identity properties) is kept, so
    that normalising normalised data changes nothing (a bundle published and pulled back
    keeps its ids)."""
    if scope.startswith(t) and scope[len(t):len(t) + 2] == "--" and _UUID_RE.fullmatch(
            scope[len(t) + 2:]):
        return scope
    return f'{t}--{uuid5("{" + chr(34) + "x_stixgraph_scope" + chr(34) + ":" + _jstr(scope) + "}")}'


_UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _fast_ts(s: str) -> str:
    """stix2's text for a timestamp already in ``YYYY-MM-DDTHH:MM:SS[.f]Z`` form."""
    n = len(s)
    if 20 <= n <= 30 and s[-1] == "Z" and s[10] == "T" and s[4] == "-" and s[13] == ":":
        if n == 20:
            return s
        if s[19] == "." and s[20:-1].isdigit():
            f = s[20:-1][:6].rstrip("0")
            return s[:19] + ("." + f if f else "") + "Z"
    return stix_timestamp(s)


def process_contrib(obj: dict, host=None) -> dict | None:
    uid = obj.get("x_unique_id")
    if uid is not None:
        return {"x_unique_id": uid}
    exts = obj.get("extensions")
    if isinstance(exts, dict):
        for ext in exts.values():
            if isinstance(ext, dict):
                for k in PROCESS_EXT_IDS:
                    if ext.get(k) is not None:
                        return {"x_unique_id": ext[k]}
    pid, created = obj.get("pid"), obj.get("created")
    if pid is not None and created is not None:
        c = {"pid": pid, "created": _fast_ts(created) if isinstance(created, str) else created}
        if host is not None:
            c["host"] = host
        return c
    return None


def asset_host(asset: dict | None):
    """The host identity an ``x-oca-asset`` lends to the processes of its observation."""
    if asset:
        for p in ASSET_HOST_PROPS:
            if asset.get(p) is not None:
                return asset[p]
    return None


def contrib_id(t: str, c: dict, scope) -> str:
    """The id of a standard-type SCO (not process, not a single-property type) from its
    contributions ``c`` (the present ones, in :data:`ID_PROPS` order, refs already ids,
    hashes not yet reduced), ``scope()`` giving the fallback: what :func:`sco_id` returns."""
    h = c.get("hashes")
    if h is not None and isinstance(h, dict):
        h = choose_hash(h)
        if h is None:
            del c["hashes"]
        else:
            c["hashes"] = h
    tsp = _TS_PROPS.get(t)
    if tsp:
        for k in tsp:
            if isinstance(c.get(k), str):
                c[k] = _fast_ts(c[k])
    if c:
        return _finish(t, c)
    return scoped_id(t, scope())


def sco_id(obj: dict, *, scope=None, host=None) -> str:
    """The deterministic STIX 2.1 id of an SCO dict (``*_ref`` values already STIX ids).

    ``scope``: a deterministic string unique to this object (or a function returning it,
    called only when needed), used when it has no identity of its own (module docstring).  ``host``: the observation's asset host, used by
    processes identified by pid + created.
    """
    t = obj.get("type")
    if not isinstance(t, str) or not t:
        raise ValueError("SCO without a type")
    p = _SIMPLE.get(t)
    if p is not None:
        v = obj.get(p)
        if isinstance(v, str):
            key = (t, v)
            r = _cache.get(key)
            if r is None:
                if len(_cache) >= _CACHE_MAX:
                    _cache.clear()
                r = _cache[key] = f'{t}--{uuid5("{" + _jstr(p) + ":" + _jstr(v) + "}")}'
            return r
    props = ID_PROPS.get(t)
    if t == "process":
        c = process_contrib(obj, host)
    elif props is not None:
        c = _contrib(obj, props)
        tsp = _TS_PROPS.get(t)
        if tsp:
            for k in tsp:
                if isinstance(c.get(k), str):
                    c[k] = _fast_ts(c[k])
    else:
        c = {k: v for k, v in obj.items() if k not in _NOT_CONTRIB and v is not None}
        if c:
            return _finish(t, c, False)
    if c:
        return _finish(t, c)
    if scope is not None:
        return scoped_id(t, scope() if callable(scope) else scope)
    return _finish(t, {k: v for k, v in obj.items() if k not in _NOT_CONTRIB and v is not None}
                   or {"x_stixgraph_scope": ""}, False)
