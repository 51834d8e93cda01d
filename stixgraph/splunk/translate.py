"""Splunk CIM result rows -> STIX 2.0 observed-data, fast, with stix-shifter's exact output.

stix-shifter's results translation (``StixTranslation().translate('splunk', 'results', ...)``)
interprets the splunk module's ``to_stix_map`` recursively for every row, at about 4,000 rows/s
a core (research/stix-shifter.md §6).  :class:`Translator` reads the *same* mapping once, at
run time, and generates one Python function per CIM field (``compile()``d source, see
``Translator.source(field)``) with the object tags, property names, reference tags,
transformers and validity regexes as constants.  A row then costs one loop over its fields
calling those functions: no recursion, no per-row tag building, no mapping lookups.  Values
inside lists (multi-value fields) take a general interpreted walk with the same semantics.
Transformer results for repeated string values are cached (only immutable results; a field
whose values do not repeat, like ``_raw``, switches its cache off), so a transformer that
logs a failure logs it once per distinct value, not once per row.

**Where the mapping comes from.**  Exactly where stix-shifter gets it: the splunk entry point
built from the validated options (so ``options["mapping"]["to_stix_map"]`` replaces the map
as it does in stix-shifter, and otherwise the installed module's map is used), with the
module's own transformer classes (stix-shifter's ``ToInteger``, ``SplunkToTimestamp``, ...,
called as they are, never re-implemented).  A ``to_stix_map`` passed to :class:`Translator`
wins over both.

**Semantics reproduced** (stix-shifter 8.x ``DataSourceObjToStixObj``, STIX 2.0 mode): fields
are visited in the row's key order; an object index ("0", "1", ...) is handed out the first
time a mapping entry writes to its tag (``<object>_0``, ``<object>_<i>`` for unwrapped lists,
``<object>_<parent index>`` inside lists of dicts); a reference resolves only to a tag that
exists *at that moment* (else the property is dropped); ``None``, ``""`` and ``[]`` values
are dropped; a failing transformer drops the value; ``ipv4-addr.value`` & co. are checked
against stix-shifter's regexes; the first writer of a plain property wins, dict values are
merged, ``group`` lists are extended; at the end objects that never got a non-``_ref``
property are removed (their indexes stay unused) and the rest are ordered by index; mapping
keys without a dot (``first_observed``, ``number_observed``) go onto the observed-data.
Quirks are kept on purpose (``process_hash`` gives an orphan file, ``file.hashes.X`` with an
empty leaf is kept, ...): the output must be the same objects.

**What differs from stix-shifter**, and only this: stix-shifter gives every observed-data a
random ``id`` (uuid4) and the wall clock as ``created``/``modified`` (and as
``first_observed``/``last_observed`` when the row has no ``_time``).  Here:

* ``id`` is deterministic and cheap: a UUID whose first 20 hex digits come from
  uuid5(identity id + ``id_seed``) and whose last 12 are the Translator's running row number,
  so the same rows through a new Translator with the same identity and seed get the same ids
  (cheaper than any content hash);
  ``id_factory=translator.content_id`` gives each Splunk event one id whatever search
  returns it (uuid5 of identity id + the event's address or its content: :func:`event_key`;
  what ``stixshifter://`` uses, so that a prefetch that returns an event again adds no
  second observation), and any ``id_factory=callable(row) -> str`` is accepted
  (``lambda row: "observed-data--" + str(uuid.uuid4())`` is stix-shifter's behaviour);
* ``created``/``modified`` are ``created`` (an argument, a STIX timestamp string) or, by
  default, the observation's own ``last_observed`` when that is a string, else
  ``1970-01-01T00:00:00.000Z``; rows without ``_time`` get ``created`` as
  ``first_observed``/``last_observed`` where stix-shifter would put "now".

Mapping features the compiler does not handle (``ds_key``, ``group_ref``, a non-dict entry,
a dict ``key``) and a result callback are not guessed at: rows that reach such an entry are
translated by stix-shifter's own ``DataSourceObjToStixObj`` (then given the ids above);
``Translator.fallback_rows`` counts them.  The splunk module's map (8.1.3) has none, so every
row is on the fast path.

:func:`check_data` is the row rewrite stix-shifter's splunk *transmission* applies before
translation (``ResultsConnector.check_data``: ``"-"`` -> None, ``networkdata``,
``file_hashes``, ``registry_value``, ``mime_type_raw``, ...), on copies of the rows; the common
steps are done inline and every rare branch calls the connector's own static helpers, so the
result equals stix-shifter's (see tests/test_translate_fastpath.py, which compares both).

:func:`assert_same_as_stix_shifter` is the differential check: any iterable of CIM rows ->
both translations, compared object by object.
"""
from __future__ import annotations

import copy
import gc
import hashlib
import itertools
import json
import re
import uuid
from typing import Callable, Iterable

import orjson

__all__ = ["Translator", "check_data", "check_data_stix_shifter", "stix_shifter_translate",
           "assert_same_as_stix_shifter", "load_mapping", "DEFAULT_IDENTITY", "compare"]

MODULE = "splunk"
DEFAULT_IDENTITY = {"type": "identity", "id": "identity--f431f809-377b-45e0-aa1c-6a4751cae5ff",
                    "name": "splunk", "identity_class": "events"}
_NS = uuid.UUID("00abedb4-aa42-466c-9c01-fed23315a9b7")   # stix-shifter's UUID5 namespace
EPOCH = "1970-01-01T00:00:00.000Z"


class _Unsupported(Exception):
    """A mapping entry the compiler does not reproduce: the row goes to stix-shifter."""


# -- the mapping, transformers and validators stix-shifter would use ------------------------

def _results_translator(options: dict | None):
    """stix-shifter's own splunk results translator for ``options`` (as ``translate`` builds
    it: validated options, the entry point, the default dialect's translator)."""
    from stix_shifter_utils.utils.param_validator import param_validator
    import importlib
    opts = copy.deepcopy(options or {})
    validated = param_validator(MODULE, opts, "connection.options")
    ep = importlib.import_module(f"stix_shifter_modules.{MODULE}.entry_point").EntryPoint(
        options=validated)
    return ep.get_results_translator()


def load_mapping(options: dict | None = None) -> dict:
    """The ``to_stix_map`` stix-shifter's splunk results translation uses with ``options``."""
    return _results_translator(options).map_data


# -- compiled mapping entries -----------------------------------------------------------------

class _Prop:
    """One mapping entry (``{"key": "process.pid", "object": "process", ...}``), prepared."""
    __slots__ = ("raw", "key", "top", "type_name", "pk", "obj", "obj0", "group", "named",
                 "has_unwrap", "refs", "refs0", "refs_list", "tf", "sub", "valid", "mark",
                 "has_value", "value")

    def __init__(self, prop: dict, transformers: dict, validators: dict):
        if not isinstance(prop, dict):
            raise _Unsupported(f"mapping entry {prop!r}")
        key = prop.get("key")
        if isinstance(key, dict):
            raise _Unsupported("dict key")
        if "ds_key" in prop or prop.get("group_ref"):
            raise _Unsupported("ds_key/group_ref")
        self.raw = prop
        self.key = key
        if key is None:
            return
        name = prop.get("transformer")
        if name is not None and name in transformers:
            self.tf = transformers[name].transform
        elif "transformer" in prop:
            self.tf = _missing_transformer(name)
        else:
            self.tf = None
        refs = prop.get("references")
        self.refs = refs if refs else None
        self.refs_list = isinstance(refs, list)
        if self.refs is None:
            self.refs0 = None
        elif self.refs_list:
            self.refs0 = [r + "_0" for r in refs]
        else:
            self.refs0 = refs + "_0"
        self.has_unwrap = "unwrap" in prop
        self.valid = validators.get(key)
        parts = key.split(".")
        self.top = len(parts) < 2
        self.has_value = False      # 'value' only counts for keys with a dot (stix-shifter)
        self.value = None
        if self.top:
            return
        self.type_name, self.pk = parts[0], parts[1]
        self.sub = tuple(parts[2:])
        self.obj = prop["object"] if "object" in prop else self.type_name
        self.obj0 = self.obj + "_0"
        self.group = prop["group"] if "group" in prop else False
        self.named = isinstance(self.group, str) and self.group.lower() != "true"
        self.mark = "_ref" not in self.pk           # marks its object as worth keeping
        self.has_value = "value" in prop
        self.value = prop.get("value")


def _missing_transformer(name):
    def tf(_v):
        raise _Unsupported(f"unknown transformer {name!r}")   # stix-shifter: KeyError
    return tf


LEAF, PLIST, NESTED, BAD = range(4)


class _Node:
    """A mapping node: LEAF (one entry), PLIST (list of entries), NESTED (dict of sub-fields)."""
    __slots__ = ("kind", "props", "children", "why")

    def __init__(self, conf, transformers, validators):
        self.props = ()
        self.children = None
        self.why = None
        try:
            if isinstance(conf, dict) and conf.get("key") is not None:
                self.kind = LEAF
                self.props = (_Prop(conf, transformers, validators),)
            elif isinstance(conf, list):
                self.kind = PLIST
                self.props = tuple(_Prop(p, transformers, validators) for p in conf)
            elif isinstance(conf, dict):
                if "key" in conf:           # "key": None -> stix-shifter treats it as nested
                    raise _Unsupported("nested mapping with a 'key'")
                self.kind = NESTED
                if any(isinstance(v, dict) and v.get("group_ref") and v.get("references")
                       for v in conf.values()):
                    raise _Unsupported("group_ref")
                self.children = {k: _Node(v, transformers, validators) for k, v in conf.items()}
            else:
                raise _Unsupported(f"mapping node {conf!r}")
        except _Unsupported as e:
            self.kind = BAD
            self.why = str(e)


class _State:
    """One row's translation state.  Every new tag gets the next index, so the next index is
    always ``len(tags)``."""
    __slots__ = ("tags", "keep", "out", "objects")

    def __init__(self, tags=None, objects=None, keep=None, out=None):
        self.tags = {} if tags is None else tags            # tag -> index string
        self.objects = {} if objects is None else objects
        self.keep = {} if keep is None else keep            # index -> True: has a non-_ref property
        self.out = {} if out is None else out               # observed-data keys (first_observed, ...)


def _dict_merge(a, b):
    if isinstance(a, dict) and isinstance(b, dict):
        r = a.copy()
        for k, v in b.items():
            if k in r and isinstance(r[k], dict) and isinstance(v, dict):
                r[k] = _dict_merge(r[k], v)
            else:
                r[k] = v
        return r
    from stix_shifter_utils.utils.helpers import dict_merge   # lists & oddities: theirs
    return dict_merge(a, b)


_MISSING = object()


def _add(objects, ind, p, value):
    o = objects.get(ind)
    if o is None:
        objects[ind] = {"type": p.type_name, p.pk: [value] if p.named else value}
        return
    pk = p.pk
    if pk not in o:
        o[pk] = value
    elif isinstance(value, dict):
        cur = o[pk]
        if p.named and isinstance(cur, list):
            cur[0] = _dict_merge(cur[0], value)
        else:
            o[pk] = _dict_merge(cur, value)
    elif p.group and isinstance(o[pk], list):
        o[pk].extend(value)


def _leaf(st, p, data, refs, unwrap, check):
    """The value of one entry for ``data`` before sub-key wrapping (None: dropped)."""
    v = data
    tf = p.tf
    if tf is not None:
        try:
            v = tf(v)
        except _Unsupported:
            raise
        except Exception:
            return None
        if v is None:
            return None
    if refs:
        tags = st.tags
        if p.refs_list:
            rv = _refl(tags, refs, v)
        else:
            rv = tags.get(refs + "_0") if isinstance(v, list) else tags.get(refs)
            if unwrap is True and not isinstance(rv, list):
                rv = [rv]
        return rv if rv else None
    if check and not unwrap:
        m = p.valid
        if m is not None:
            try:
                if not m(str(v)):
                    return None
            except Exception:
                return None
    return v


def _drop(value) -> bool:
    if value is None or value == "" or value == []:
        return True
    if isinstance(value, dict):
        drop = False
        for v in value.values():
            if isinstance(v, dict) and list(v.values())[0] in ("", []):
                drop = True
        return drop
    return False


def _ind(st, tag, p):
    i = st.tags.get(tag)
    if i is None:
        i = st.tags[tag] = str(len(st.tags))
    if p.mark:
        st.keep[i] = True
    return i


def _handle_value(st, data, props, oki):
    """stix-shifter's ``_handle_value`` (general form: lists, nested indexes)."""
    is_list = isinstance(data, list)
    for p in props:
        if p.key is None:
            continue
        refs = p.refs
        if refs:
            if oki:
                refs = [r + "_" + oki for r in refs] if p.refs_list else refs + "_" + oki
            elif not is_list:
                refs = p.refs0
        unwrap = p.has_unwrap and is_list
        if p.top:
            st.out[p.key] = _leaf(st, p, data, refs, unwrap, True)
            continue
        if oki:
            tag = p.obj + "_" + oki
        elif is_list and unwrap and not refs:
            tag = p.obj
        else:
            tag = p.obj0
        if p.has_value:
            value = p.value
        else:
            value = _leaf(st, p, data, refs, unwrap, True)
            for k in reversed(p.sub):
                value = {k: value}
        if _drop(value):
            continue
        if not refs and unwrap and isinstance(value, list):
            for j, el in enumerate(value):
                _add(st.objects, _ind(st, f"{tag}_{j}", p), p, el)
        else:
            _add(st.objects, _ind(st, tag, p), p, value)


def _fast(st, data, props):
    """``_handle_value`` for a value that is not a list, outside any list (the usual case)."""
    tags = st.tags
    for p in props:
        if p.key is None:
            continue
        refs = p.refs0
        if p.top:
            st.out[p.key] = _leaf(st, p, data, refs, False, True)
            continue
        if p.has_value:
            value = p.value
        else:
            # inline of _leaf for the common shapes
            v = data
            tf = p.tf
            if tf is not None:
                try:
                    v = tf(v)
                except _Unsupported:
                    raise
                except Exception:
                    v = None
            if v is None:
                pass
            elif refs is not None:
                v = _leaf(st, p, data, refs, False, False) if p.refs_list or isinstance(v, list) \
                    else tags.get(refs)
            elif p.valid is not None:
                try:
                    if not p.valid(str(v)):
                        v = None
                except Exception:
                    v = None
            value = v
            if p.sub:
                for k in reversed(p.sub):
                    value = {k: value}
        if value is None or value == "" or value == []:
            continue
        if isinstance(value, dict) and _drop(value):
            continue
        tag = p.obj0
        i = tags.get(tag)
        if i is None:
            i = tags[tag] = str(len(tags))
        if p.mark:
            st.keep[i] = True
        o = st.objects.get(i)
        if o is None:
            st.objects[i] = {"type": p.type_name, p.pk: [value] if p.named else value}
        elif p.pk not in o and not p.named:
            o[p.pk] = value
        else:
            _add(st.objects, i, p, value)


# -- code generation: one Python function per CIM field ------------------------------------

_IMMUTABLE = (str, int, float, bool, type(None))
_MEMO_SIZE = 8192


class _Memo:
    """A transformer with a cache of its results for string inputs (only immutable results;
    exceptions count as None, as in stix-shifter).  Turned off for a field whose values do not
    repeat (``_raw``)."""

    def __init__(self, tf):
        self.tf = tf
        self.cache = {}
        self.hits = 0
        self.on = True

    def __call__(self, v):
        try:
            r = self.tf(v)
        except _Unsupported:
            raise
        except Exception:
            r = None
        if self.on and type(v) is str and type(r) in _IMMUTABLE:
            c = self.cache
            if len(c) >= _MEMO_SIZE:
                if self.hits < _MEMO_SIZE // 2:
                    self.on = False
                c.clear()
                self.hits = 0
            c[v] = r
        return r


def _valid(m, x):
    try:
        return bool(m(str(x)))
    except Exception:
        return False


def _refl(tags, refs, x):
    """A list ``references`` entry, outside lists: the indexes of the tags that exist."""
    rv = []
    if not isinstance(x, list):
        for r in refs:
            i = tags.get(r)
            if i:
                rv.append(i)
    else:
        for r in refs:
            for j in range(len(x)):
                i = tags.get(f"{r}_{j}")
                if i:
                    rv.append(i)
    return rv if rv else None


class _Gen:
    """Writes, for one mapping node, ``f(v, tags, objects, keep, out)``: the straight-line
    equivalent of stix-shifter's walk for a value that is not inside a list (tags, indexes,
    property names and transformers are constants of the generated code); lists, and
    anything unusual, go to the general walk."""

    def __init__(self, translator, memos):
        self.tr = translator
        self.memos = memos
        self.env = {"MISS": _MISSING, "_drop": _drop, "_add": _add, "_valid": _valid,
                    "_refl": _refl, "_Unsupported": _Unsupported, "isinstance": isinstance,
                    "list": list, "dict": dict, "str": str, "type": type, "len": len}
        self.n = 0

    def name(self, obj, prefix="K"):
        self.n += 1
        nm = f"{prefix}{self.n}"
        self.env[nm] = obj
        return nm

    def leaf(self, p, L, ind):
        """Code computing ``x`` (the entry's value before sub-keys) from ``v``."""
        if p.has_value:
            L.append(f"{ind}x = {self.name(p.value, 'VAL')}")
            return
        if p.tf is None:
            L.append(f"{ind}x = v")
        else:
            name = p.raw.get("transformer")
            memo = self.memos.get(name)
            if memo is None:
                memo = self.memos[name] = _Memo(p.tf)
            C = self.name(memo.cache, "C")
            T = self.name(memo, "T")
            M = self.name(memo, "M")
            L.append(f"{ind}x = {C}.get(v, MISS) if type(v) is str else MISS")
            L.append(f"{ind}if x is MISS:")
            L.append(f"{ind}    x = {T}(v)")
            L.append(f"{ind}else:")
            L.append(f"{ind}    {M}.hits += 1")
        if p.refs is not None:
            if p.refs_list:
                L.append(f"{ind}if x is not None:")
                L.append(f"{ind}    x = _refl(tags, {self.name(p.refs0, 'R')}, x)")
            else:
                L.append(f"{ind}if x is not None:")
                L.append(f"{ind}    x = tags.get({p.refs0!r}) if type(x) is str else "
                         f"(tags.get({(p.refs0 + '_0')!r}) if isinstance(x, list) "
                         f"else tags.get({p.refs0!r}))")
        elif p.valid is not None:
            V = self.name(p.valid, "V")
            L.append(f"{ind}if x is not None and not ({V}(x) if type(x) is str "
                     f"else _valid({V}, x)):")
            L.append(f"{ind}    x = None")

    def prop(self, p, L, ind):
        if p.key is None:
            return
        L.append(f"{ind}# {p.key}")
        self.leaf(p, L, ind)
        if p.top:
            L.append(f"{ind}out[{p.key!r}] = x")
            return
        if p.sub:
            lit = "x"
            for k in reversed(p.sub):
                lit = "{" + repr(k) + ": " + lit + "}"
            L.append(f"{ind}x = {lit}")
        if p.sub or p.has_value:
            L.append(f"{ind}if not _drop(x):")
        else:
            L.append(f"{ind}if x is not None and x != '' and (type(x) is str or not "
                     f"(x == [] or (isinstance(x, dict) and _drop(x)))):")
        i2 = ind + "    "
        L.append(f"{i2}i = tags.get({p.obj0!r})")
        L.append(f"{i2}if i is None:")
        L.append(f"{i2}    i = tags[{p.obj0!r}] = str(len(tags))")
        if p.mark:
            L.append(f"{i2}keep[i] = True")
        L.append(f"{i2}o = objects.get(i)")
        L.append(f"{i2}if o is None:")
        val = "[x]" if p.named else "x"
        L.append(f"{i2}    objects[i] = {{'type': {p.type_name!r}, {p.pk!r}: {val}}}")
        L.append(f"{i2}elif {p.pk!r} not in o:")
        L.append(f"{i2}    o[{p.pk!r}] = x")
        # an existing property: first writer wins, except dict merges and group lists
        if p.group:
            cond = f"isinstance(x, dict) or isinstance(o[{p.pk!r}], list)"
        else:
            cond = "type(x) is not str and isinstance(x, dict)"
        L.append(f"{i2}elif {cond}:")
        L.append(f"{i2}    _add(objects, i, {self.name(p, 'P')}, x)")

    def function(self, node, label):
        N = self.name(node, "N")
        G = self.name(self.tr._generic, "G")
        L = [f"def f(v, tags, objects, keep, out):  # {label}"]
        if node.kind == BAD:
            L.append(f"    raise _Unsupported({node.why!r})")
        elif node.kind == NESTED:
            CH = self.name({k: self.function(c, f"{label}.{k}")
                            for k, c in node.children.items()}, "CH")
            L += ["    if isinstance(v, dict):",
                  "        for kk, vv in v.items():",
                  "            if vv is not None:",
                  f"                g = {CH}.get(kk)",
                  "                if g is not None:",
                  "                    g(vv, tags, objects, keep, out)",
                  "    elif isinstance(v, list):",
                  f"        {G}({N}, v, tags, objects, keep, out)"]
        else:
            if node.kind == PLIST:
                L.append("    if type(v) is not str and isinstance(v, (list, dict)):")
            else:
                L.append("    if type(v) is not str and isinstance(v, list):")
            L.append(f"        return {G}({N}, v, tags, objects, keep, out)")
            n0 = len(L)
            for p in node.props:
                self.prop(p, L, "    ")
            if len(L) == n0:
                L.append("    pass")
        src = "\n".join(L) + "\n"
        ns = dict(self.env)
        exec(compile(src, f"<stixgraph.splunk.translate {label}>", "exec"), ns)
        f = ns["f"]
        f.source = src
        return f


class Translator:
    """CIM rows (after :func:`check_data`) -> STIX 2.0 observed-data, as stix-shifter makes them.

    ``to_stix_map``: the mapping to compile; None: the one stix-shifter's splunk module uses
    with ``options`` (``options["mapping"]["to_stix_map"]`` or the installed module's map).
    ``identity``: the identity SDO (``created_by_ref``; its ``name`` names unmapped-fallback
    objects).  ``options``: stix-shifter results options; ``stix_2.1`` is refused,
    ``unmapped_fallback`` is honoured.  ``id_factory(row) -> str`` and ``created`` replace
    stix-shifter's random id and wall-clock times (module docstring).
    """

    def __init__(self, to_stix_map: dict | None = None, *, identity: dict | None = None,
                 options: dict | None = None, id_factory: Callable[[dict], str] | None = None,
                 created: str | None = None, id_seed: str = ""):
        options = dict(options or {})
        if options.get("stix_2.1"):
            raise ValueError("Translator produces STIX 2.0 (stix-shifter's 2.1 mode de-duplicates "
                             "across a call; not supported)")
        rt = _results_translator(options)
        if to_stix_map is None:
            to_stix_map = rt.map_data
        from stix_shifter_utils.stix_translation.src.json_to_stix import observable
        self.to_stix_map = to_stix_map
        self.transformers = rt.transformers
        self.callback = rt.callback
        self.options = options
        self.identity = identity or DEFAULT_IDENTITY
        self.identity_id = self.identity["id"]
        self.id_factory = id_factory
        self._id_base = "observed-data--" + str(uuid.uuid5(_NS, self.identity_id + "|" + id_seed))[:-12]
        self._id_count = itertools.count()
        self.created = created
        self.fallback_rows = 0
        self.validators = {k: re.compile(v["valid_regex"]).match
                           for k, v in observable.properties.items() if "valid_regex" in v}
        self.unmapped = bool(options.get("unmapped_fallback"))
        self._cust_prefix = "x-" + str(self.identity.get("name", "")).replace("_", "-") + "."
        self._cust_nodes: dict[str, _Node] = {}
        if not isinstance(to_stix_map, dict):
            raise ValueError("to_stix_map must be a dict")
        self.nodes = {k: _Node(v, self.transformers, self.validators)
                      for k, v in to_stix_map.items()}
        self.unsupported = {k: n.why for k, n in self.nodes.items() if n.kind == BAD}
        self._fallback = None
        self._memos: dict[str, _Memo] = {}
        gen = _Gen(self, self._memos)
        self.functions = {k: gen.function(n, k) for k, n in self.nodes.items()}

    def source(self, field: str) -> str:
        """The generated code for one CIM field (for reading and debugging)."""
        return self.functions[field].source

    def _generic(self, node, v, tags, objects, keep, out):
        self._properties(_State(tags, objects, keep, out), node, v, None)

    # -- one row ---------------------------------------------------------------------------
    def observed_data(self, row: dict) -> dict | None:
        """One CIM row (after :func:`check_data`) -> one observed-data dict (None: not a dict,
        which stix-shifter turns into an empty observed-data; here it is skipped)."""
        if not isinstance(row, dict):
            return None
        if self.callback is not None:
            return self._stix_shifter_row(row)
        if self.unmapped:                       # the interpreted walk (see _walk)
            st = _State()
            try:
                self._walk(st, row)
            except _Unsupported:
                return self._stix_shifter_row(row)
            keep, objects, out = st.keep, st.objects, st.out
        else:
            tags = {}
            objects = {}
            keep = {}
            out = {}
            fns = self.functions
            try:
                for k, v in row.items():
                    if v is not None:
                        f = fns.get(k)
                        if f is not None:
                            f(v, tags, objects, keep, out)
            except _Unsupported:
                return self._stix_shifter_row(row)
        # indexes are handed out in ascending order and each one creates its object at once,
        # so ``objects`` is already in index order; drop the ones never given a non-ref property
        if len(keep) != len(objects):
            objects = {k: objects[k] for k in sorted(keep, key=int)}
        return self._observation(row, objects, out)

    def _observation(self, row, objects, out):
        created = self.created
        if created is None:
            lo = out.get("last_observed", _MISSING)
            created = lo if isinstance(lo, str) else EPOCH
        obs = {"id": self.id_factory(row) if self.id_factory else
               f"{self._id_base}{next(self._id_count) & 0xffffffffffff:012x}",
               "type": "observed-data", "created_by_ref": self.identity_id,
               "created": created, "modified": created, "objects": objects}
        if out:
            obs.update(out)
        if "first_observed" not in obs:
            obs["first_observed"] = created
        if "last_observed" not in obs:
            obs["last_observed"] = created
        if "number_observed" not in obs:
            obs["number_observed"] = 1
        return obs

    def content_id(self, row: dict) -> str:
        """The observed-data id of one Splunk event, the same each time a search returns it
        (usable as ``id_factory``): uuid5 of the identity id and Splunk's address of the
        event (``index``, ``_bkt``, ``_cd``) when the row has it, else of the row's sorted-key
        JSON without the fields that change from search to search (``_serial``, ``_si``)."""
        return event_id(self.identity_id, row)

    def _walk(self, st, row):
        nodes = self.nodes
        for k, v in row.items():
            if v is None:
                continue
            node = nodes.get(k)
            if node is None:
                if not self.unmapped:
                    continue
                node = self._cust(k)
            kind = node.kind
            if kind == LEAF:
                if isinstance(v, list):
                    _handle_value(st, v, node.props, None)
                else:
                    _fast(st, v, node.props)
            elif kind == PLIST and not isinstance(v, (list, dict)):
                _fast(st, v, node.props)
            else:
                self._properties(st, node, v, None)

    def _cust(self, k):
        n = self._cust_nodes.get(k)
        if n is None:
            n = self._cust_nodes[k] = _Node({"key": self._cust_prefix + k, "object": "cust_object"},
                                            self.transformers, self.validators)
        return n

    def _properties(self, st, node, data, oki):
        """stix-shifter's ``_handle_properties`` (general form)."""
        if data is None:
            return
        kind = node.kind
        if kind == BAD:
            raise _Unsupported(node.why)
        if kind == LEAF:
            if oki is None and not isinstance(data, list):
                _fast(st, data, node.props)
            else:
                _handle_value(st, data, node.props, oki)
        elif isinstance(data, list):
            for i, d in enumerate(data):
                if isinstance(d, (list, dict)):
                    j = f"{oki}_{i}" if oki else str(i)
                    self._properties(st, node, d, j)
                else:
                    _handle_value(st, data, node.props, oki)
                    break
        elif isinstance(data, dict):
            children = node.children
            for k in data:
                if children is not None and k in children:
                    child = children[k]
                elif self.unmapped:
                    if kind == PLIST and any(k == p.raw for p in node.props):
                        raise _Unsupported("odd membership")
                    child = self._cust(k)
                else:
                    continue
                self._properties(st, child, data[k], oki)
        elif oki is None:
            _fast(st, data, node.props)
        else:
            _handle_value(st, data, node.props, oki)

    def _stix_shifter_row(self, row):
        """A row the compiled table does not cover: stix-shifter's own translator."""
        self.fallback_rows += 1
        if self._fallback is None:
            import importlib
            try:
                mod = importlib.import_module(
                    f"stix_shifter_modules.{MODULE}.stix_translation.json_to_stix_translator")
            except ImportError:
                mod = importlib.import_module(
                    "stix_shifter_utils.stix_translation.src.json_to_stix.json_to_stix_translator")
            self._fallback = mod.DataSourceObjToStixObj(self.identity, self.to_stix_map,
                                                        self.transformers, self.options,
                                                        self.callback)
        obs = self._fallback.transform(row)
        now = obs["created"]
        out = {}
        for k, v in obs.items():
            if k in ("id", "type", "created_by_ref", "created", "modified", "objects"):
                continue
            if k in ("first_observed", "last_observed") and v == now:
                continue        # stix-shifter's "now" default (a real _time cannot be it)
            out[k] = v
        return self._observation(row, obs["objects"], out)

    # -- many rows -------------------------------------------------------------------------
    def translate(self, rows: Iterable[dict]) -> list[dict]:
        """Rows (after :func:`check_data`) -> observed-data, in order (non-dicts skipped)."""
        od = self.observed_data
        # the output holds no reference cycles; the cyclic GC would only re-scan the growing
        # result (about a fifth of the time), so it is paused for the batch
        gc_was_on = gc.isenabled()
        gc.disable()
        try:
            return [o for o in map(od, rows) if o is not None]
        finally:
            if gc_was_on:
                gc.enable()

    def bundle(self, rows: Iterable[dict]) -> dict:
        """stix-shifter's result shape: ``{"type": "bundle", "spec_version": "2.0", "objects":
        [identity, observed-data...]}`` (bundle id derived from the identity)."""
        return {"type": "bundle", "id": "bundle--" + str(uuid.uuid5(_NS, self.identity_id)),
                "objects": [self.identity, *self.translate(rows)], "spec_version": "2.0"}


#: result fields that differ between two searches returning the same event
VOLATILE_FIELDS = frozenset(("_serial", "_si", "_kv"))


def event_key(row: dict) -> bytes:
    """What identifies one Splunk event in a result row (see :meth:`Translator.content_id`)."""
    cd, bkt = row.get("_cd"), row.get("_bkt")
    if isinstance(cd, str) and cd and isinstance(bkt, str) and bkt:
        return f"splunk-event|{row.get('index', '')}|{bkt}|{cd}".encode()
    if not VOLATILE_FIELDS.isdisjoint(row):
        row = {k: v for k, v in row.items() if k not in VOLATILE_FIELDS}
    try:
        return orjson.dumps(row, option=orjson.OPT_SORT_KEYS, default=str)
    except TypeError:  # keys that are not strings (not from JSON)
        return orjson.dumps(row, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS,
                            default=str)


_ID_PREFIX: dict[str, "hashlib._Hash"] = {}


def event_id(identity_id: str, row: dict) -> str:
    """``observed-data--`` + uuid5(stix-shifter's namespace, identity id + :func:`event_key`)."""
    h = _ID_PREFIX.get(identity_id)
    if h is None:
        h = _ID_PREFIX[identity_id] = hashlib.sha1(_NS.bytes + identity_id.encode())
    h = h.copy()
    h.update(event_key(row))
    return "observed-data--" + str(uuid.UUID(bytes=h.digest()[:16], version=5))


# -- check_data ------------------------------------------------------------------------------

def check_data_stix_shifter(rows: list[dict]) -> list[dict]:
    """stix-shifter's splunk ``ResultsConnector.check_data`` on deep copies of ``rows``."""
    from stix_shifter_modules.splunk.stix_transmission.results_connector import ResultsConnector
    return ResultsConnector.check_data(copy.deepcopy(list(rows)))


_RC = None


def _rc():
    global _RC
    if _RC is None:
        from stix_shifter_modules.splunk.stix_transmission.results_connector import \
            ResultsConnector
        _RC = ResultsConnector
    return _RC


def check_data(rows: Iterable[dict]) -> list[dict]:
    """stix-shifter's splunk ``ResultsConnector.check_data`` (8.x), faster, on copies (the
    input rows are not changed).  The steps are the connector's, in its order; the rare ones
    (network data, registry values, alerts, file hashes, e-mail) call its own helpers."""
    RC = _rc()
    out = []
    for row in rows:
        item = {k: (None if (v is not None and v == "-") else v) for k, v in row.items()}
        get = item.get
        if get("query") is None:
            item["name"] = None
            item["query_count"] = None
            item["query_type"] = None
        if (get("src_ip") is not None or get("src_port") is not None) and (
                get("dest_port") is not None or get("dest_ip") is not None):
            item["networkdata"] = RC.network_traffic_check(item)
        if get("subject") is not None and get("recipient") is None:
            item["subject"] = None
        pn = get("process_name")
        if pn is not None and get("process_exec") is not None and pn == item["process_exec"]:
            item["process_exec"] = None
        pn = get("parent_process_name")
        if pn is not None and get("parent_process_exec") is not None \
                and pn == item["parent_process_exec"]:
            item["parent_process_exec"] = None
        if get("src_user") is not None or get("subject") is not None \
                or get("recipient") is not None:
            RC.email_data_check(item)
        if get("_raw"):
            item["mime_type_raw"] = "text/plain"
        if get("file_name") is None:
            item["file_hash"] = None
        if get("registry_value_name") is not None:
            item["registry_value"] = RC.registry_value_check(item)
        if get("severity") is not None and get("type") is not None and item["type"] == "alert":
            RC.alert_check_ibm_finding(item)
        if get("file_hash") is not None:
            item["file_hashes"] = RC.filehash_check(item)
        else:
            item["file_hashes"] = {}
        out.append(item)
    return out


# -- the oracle and the differential check --------------------------------------------------

def stix_shifter_translate(rows: list[dict], identity: dict | None = None,
                           options: dict | None = None) -> list[dict]:
    """stix-shifter's ``translate('splunk', 'results', identity, rows, options)`` observed-data
    (raises on an error answer)."""
    from stix_shifter.stix_translation.stix_translation import StixTranslation
    res = StixTranslation().translate(MODULE, "results", copy.deepcopy(identity or DEFAULT_IDENTITY),
                                      rows, copy.deepcopy(options or {}))
    if not isinstance(res, dict) or "objects" not in res:
        raise RuntimeError(f"stix-shifter results translation failed: {res!r}"[:2000])
    return [o for o in res["objects"] if o.get("type") == "observed-data"]


_VOLATILE = ("id", "created", "modified")


def compare(mine: dict, theirs: dict) -> list[str]:
    """Differences between two observed-data (ids and wall-clock times excepted; a row without
    ``_time`` has first/last_observed == created on both sides).  Empty list: the same."""
    diffs = []
    for side, o in (("fast", mine), ("stix-shifter", theirs)):
        for k in ("first_observed", "last_observed"):
            if k not in o:
                diffs.append(f"{side}: no {k}")
    a = {k: v for k, v in mine.items() if k not in _VOLATILE}
    b = {k: v for k, v in theirs.items() if k not in _VOLATILE}
    for k in ("first_observed", "last_observed"):
        if theirs.get(k) == theirs.get("created") and mine.get(k) == mine.get("created"):
            a.pop(k, None)
            b.pop(k, None)
    if list(a) != list(b):
        diffs.append(f"observed-data keys {list(a)} != {list(b)}")
    for k in a.keys() | b.keys():
        if k == "objects":
            continue
        if a.get(k, _MISSING) != b.get(k, _MISSING):
            diffs.append(f"{k}: {a.get(k)!r} != {b.get(k)!r}")
    oa, ob = a.get("objects", {}), b.get("objects", {})
    if list(oa) != list(ob):
        diffs.append(f"object keys {list(oa)} != {list(ob)}")
    for k in oa.keys() | ob.keys():
        if oa.get(k) != ob.get(k):
            diffs.append(f"objects[{k}]: {oa.get(k)!r} != {ob.get(k)!r}")
        elif k in oa and list(oa[k]) != list(ob[k]):
            diffs.append(f"objects[{k}] key order {list(oa[k])} != {list(ob[k])}")
    return diffs


def assert_same_as_stix_shifter(rows: Iterable[dict], *, translator: Translator | None = None,
                                identity: dict | None = None, options: dict | None = None,
                                chunk: int = 2000) -> int:
    """Translate ``rows`` (raw CIM rows, before check_data) both ways and assert the results
    are the same: :func:`check_data` == stix-shifter's check_data, and the fast observed-data
    == stix-shifter's, row by row, object by object (ids, created, modified excepted).
    Returns the number of rows compared."""
    tr = translator or Translator(identity=identity, options=options)
    n = 0
    buf: list[dict] = []

    def run(batch):
        fast_rows = check_data(batch)
        ref_rows = check_data_stix_shifter(batch)
        for i, (x, y) in enumerate(zip(fast_rows, ref_rows)):
            assert x == y and list(x) == list(y), \
                f"check_data differs on row {n + i}: {x!r}\n != {y!r}"
        assert len(fast_rows) == len(ref_rows)
        mine = tr.translate(fast_rows)
        theirs = stix_shifter_translate(ref_rows, tr.identity, options)
        assert len(mine) == len(theirs), f"{len(mine)} observed-data != {len(theirs)}"
        for i, (a, b) in enumerate(zip(mine, theirs)):
            d = compare(a, b)
            assert not d, f"row {n + i} differs from stix-shifter:\n  " + "\n  ".join(d) + \
                f"\nrow: {batch[i]!r}"
        return len(batch)

    for r in rows:
        buf.append(r)
        if len(buf) >= chunk:
            n += run(buf)
            buf = []
    if buf:
        n += run(buf)
    return n
