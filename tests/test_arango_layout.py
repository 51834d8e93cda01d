"""The ArangoDB layout's documents, batches and definitions (no server: pure Python)."""
from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
import uuid

import pytest

from stixgraph.stix.model import Observation
from stixgraph.stix.normalize import normalize_observed_data
from stixgraph.store import arango_layout as L

NOW = "2024-05-01T10:20:30.123456Z"
LATER = "2024-05-02T00:00:00.000001Z"
TAXII_FIELDS = ("_record_created", "_record_modified", "_record_md5_hash", "_is_latest", "_taxii")


def _od(n: int = 1, name: str = "cmd.exe", cmd=None) -> dict:
    """A STIX 2.0 observed-data: process (parent, binary, connection) and ipv4 ends; the
    processes (ids from x_unique_id), the file and 10.0.0.1 are the same in every one."""
    proc = {"type": "process", "pid": 4, "name": name, "parent_ref": "1", "binary_ref": "2",
            "opened_connection_refs": ["3"], "x_unique_id": f"{{guid-{name}}}"}
    if cmd is not None:
        proc["command_line"] = cmd
    return {
        "type": "observed-data", "id": f"observed-data--00000000-0000-4000-8000-{n:012d}",
        "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
        "created_by_ref": "identity--00000000-0000-4000-8000-0000000000aa",
        "first_observed": "2024-01-01T00:00:00Z", "last_observed": "2024-01-01T00:00:01Z",
        "number_observed": 2,
        "objects": {
            "0": proc,
            "1": {"type": "process", "pid": 1, "name": "explorer.exe", "x_unique_id": "{guid-1}"},
            "2": {"type": "file", "name": name},
            "3": {"type": "network-traffic", "src_ref": "4", "dst_ref": "5",
                  "protocols": ["tcp"], "src_port": 49152 + n, "dst_port": 443},
            "4": {"type": "ipv4-addr", "value": "10.0.0.1"},
            "5": {"type": "ipv4-addr", "value": f"192.0.2.{n % 250 + 1}"},
        },
    }


def _obs(n: int = 1, **kw) -> Observation:
    return normalize_observed_data(_od(n, **kw))


def _by_type(obs: Observation) -> dict:
    return {o["type"] + ("-parent" if o.get("name") == "explorer.exe" else ""): sid
            for sid, o in obs.objects.items()}


def _one_line_error(fn, *args, needle: str) -> str:
    with pytest.raises(ValueError) as e:
        fn(*args)
    msg = str(e.value)
    assert "\n" not in msg and needle in msg, msg
    return msg


# ---------------------------------------------------------------------------
# names, keys, ids


def test_collection_names():
    assert L.collection_names("default") == {
        "vertex": "default_vertex_collection", "edge": "default_edge_collection",
        "variables": "default_variables", "var_rows": "default_var_rows",
        "graph": "default_graph"}
    assert L.collection_names("Hunt_2")["edge"] == "Hunt_2_edge_collection"


@pytest.mark.parametrize("bad", ["", "a-b", "a b", "x/y", "_sys", "1abc", "é", "x" * 239])
def test_bad_collection_names(bad):
    _one_line_error(L.collection_names, bad, needle=repr(bad)[:20])
    _one_line_error(L.index_definitions, bad, needle="bad store collection name")
    _one_line_error(L.graph_definition, bad, needle="bad store collection name")
    with pytest.raises(ValueError, match="bad store collection name"):
        L.observation_documents(_obs(), bad, NOW)


def test_vertex_key():
    sid = "process--50ace8ec-a605-584d-8712-53e024a9acb5"
    assert L.vertex_key(sid) == sid
    assert L.vertex_key("x-custom--a:b.c@d(e)+f,g=h;i$j!k*l'm%n_o").startswith("x-custom")
    assert L.vertex_key("a" * 254) == "a" * 254


@pytest.mark.parametrize("bad", ["", "file--a/b", "file--a b", "file--é", "a" * 255,
                                 "file--a\nb", "file--a#b"])
def test_bad_vertex_keys(bad):
    msg = _one_line_error(L.vertex_key, bad, needle="not a valid ArangoDB document key")
    assert repr(bad)[:10] in msg


def test_bad_key_in_observation_rejected():
    obs = Observation("observed-data--bad id", "2024-01-01T00:00:00.000Z",
                      "2024-01-01T00:00:00.000Z", 1, {})
    _one_line_error(L.observation_documents, obs, "default", NOW, needle="'observed-data--bad id'")


def test_edge_id_is_stix2arangos():
    src = "process--50ace8ec-a605-584d-8712-53e024a9acb5"
    dst = "network-traffic--9a5f95ce-cf99-50cf-ab64-687edb5e4f7c"
    ns = uuid.UUID("72e906ce-ca1b-5d73-adcd-9ea9eb66a1b4")
    want = "relationship--" + str(uuid.uuid5(ns, f"opened-connection+{src}+{dst}"))
    assert L.edge_id("opened-connection", src, dst) == want
    assert L.edge_id("opened-connection", dst, src) != want
    assert L.edge_id("parent", src, dst) != want
    assert want == "relationship--" + L.edge_key("opened-connection", src, dst)
    for i in range(200):  # edge_key formats the uuid itself: same text as uuid.uuid5
        name = f"x-{i}+file--{i * 7919}+é{i}"
        rt, s, t = name.split("+")
        assert L.edge_key(rt, s, t) == str(uuid.uuid5(ns, name))


# stix2arango's own rule (utils.get_embedded_refs), as an independent oracle
_S2A = re.compile(r"([a-z\-_]+)[_\-]refs{0,1}")


def _s2a_type(prop, xpath=()):
    return "-".join(list(xpath) + _S2A.fullmatch(prop).group(1).split("_"))


@pytest.mark.parametrize("prop,path,want", [
    ("opened_connection_refs", (), "opened-connection"),
    ("parent_ref", (), "parent"),
    ("object_refs", (), "object"),
    ("src_ref", (), "src"),
    ("creator_user_ref", (), "creator-user"),
    ("body_raw_ref", ("body_multipart",), "body_multipart-body-raw"),
    ("contains_refs", ("extensions", "archive-ext"), "extensions-archive-ext-contains"),
    ("message_body_data_ref", ("extensions", "http-request-ext"),
     "extensions-http-request-ext-message-body-data"),
])
def test_relationship_type(prop, path, want):
    assert L.relationship_type(prop, path) == want == _s2a_type(prop, path)


@pytest.mark.parametrize("bad", ["name", "_ref", "refs", "x_references"])
def test_relationship_type_rejects_non_refs(bad):
    _one_line_error(L.relationship_type, bad, needle="is not a ref property")


def test_md5_hash():
    a = {"type": "ipv4-addr", "value": "10.0.0.1", "id": "ipv4-addr--x", "_key": "k1"}
    b = {"_record_created": NOW, "id": "ipv4-addr--x", "value": "10.0.0.1", "type": "ipv4-addr"}
    assert L.md5_hash(a) == L.md5_hash(b)  # key order and _ fields do not count
    # stix2arango's generate_md5 form: json.dumps(sort_keys=True) of the non-_ properties
    text = '{"id": "ipv4-addr--x", "type": "ipv4-addr", "value": "10.0.0.1"}'
    assert L.md5_hash(a) == hashlib.md5(text.encode()).hexdigest()
    assert L.md5_hash({**a, "value": "10.0.0.2"}) != L.md5_hash(a)


def test_record_time_and_bad_now():
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", L.record_time())
    for bad in ("2024-05-01T10:20:30Z", "2024-05-01T10:20:30.123Z", "", None):
        _one_line_error(L.observation_documents, _obs(), "default", bad, needle="bad record time")


# ---------------------------------------------------------------------------
# documents


def test_observation_documents():
    obs = _obs()
    t = _by_type(obs)
    vertices, edges = L.observation_documents(obs, "hunt", NOW)
    assert [v["_key"] for v in vertices] == [obs.id, *obs.objects]
    ov = vertices[0]
    assert ov["type"] == "observed-data" and ov["spec_version"] == "2.1"
    assert ov["id"] == ov["_key"] == obs.id
    assert ov["object_refs"] == list(obs.objects) and len(obs.objects) == 6
    assert (ov["first_observed"], ov["last_observed"], ov["number_observed"]) == \
        ("2024-01-01T00:00:00.000Z", "2024-01-01T00:00:01.000Z", 2)
    assert ov["created_by_ref"] == "identity--00000000-0000-4000-8000-0000000000aa"
    assert ov["created"] == ov["modified"] == "2024-01-01T00:00:00.000Z"
    proc = vertices[1 + list(obs.objects).index(t["process"])]
    assert proc["name"] == "cmd.exe" and proc["spec_version"] == "2.1"
    assert proc["parent_ref"] == t["process-parent"]

    V = "hunt_vertex_collection/"
    got = {(e["_ref_name"], e["_from"], e["_to"]) for e in edges}
    want = {("parent_ref", V + t["process"], V + t["process-parent"]),
            ("binary_ref", V + t["process"], V + t["file"]),
            ("opened_connection_refs", V + t["process"], V + t["network-traffic"])}
    nt = obs.objects[t["network-traffic"]]
    want |= {("src_ref", V + t["network-traffic"], V + nt["src_ref"]),
             ("dst_ref", V + t["network-traffic"], V + nt["dst_ref"])}
    want |= {("object_refs", V + obs.id, V + sid) for sid in obs.objects}
    assert got == want and len(edges) == len(want) == 11  # no created_by_ref edge
    for e in edges:
        src, dst = e["_from"][len(V):], e["_to"][len(V):]
        assert (e["source_ref"], e["target_ref"]) == (src, dst)
        assert e["relationship_type"] == L.relationship_type(e["_ref_name"])
        assert e["id"] == L.edge_id(e["relationship_type"], src, dst)
        assert e["_key"] == e["id"].removeprefix("relationship--")
        assert e["type"] == "relationship" and e["spec_version"] == "2.1"
        assert e["_is_ref"] is True
        assert (e["_source_type"], e["_target_type"]) == (src.split("--")[0], dst.split("--")[0])


def test_taxii_fields_on_every_document():
    vertices, edges = L.observation_documents(_obs(), "default", NOW)
    for doc in vertices + edges:
        assert all(f in doc for f in TAXII_FIELDS), doc
        assert doc["_record_created"] == doc["_record_modified"] == NOW
        assert doc["_is_latest"] is True
        assert doc["_taxii"] == {"first": True, "last": True, "visible": True}
        assert doc["_record_md5_hash"] == L.md5_hash(doc)
        assert re.fullmatch(r"[0-9a-f]{32}", doc["_record_md5_hash"])
    docs = vertices + edges
    docs[0]["_taxii"]["last"] = False  # each document owns its _taxii dict
    assert all(d["_taxii"]["last"] for d in docs[1:])


def test_nested_refs_skipped_refs_and_dangling():
    objs = {
        "file--a": {"type": "file", "id": "file--a", "name": "x.zip",
                    "extensions": {"archive-ext": {"contains_refs": ["file--b", "file--gone"]}},
                    "object_marking_refs": ["marking-definition--m"],
                    "granular_markings": [{"marking_ref": "marking-definition--m",
                                           "selectors": ["name"]}],
                    "created_by_ref": "identity--i", "size": None},
        "file--b": {"type": "file", "id": "file--b", "name": "y.txt"},
        "email-message--e": {"type": "email-message", "id": "email-message--e",
                             "is_multipart": True, "from_ref": "email-addr--gone",
                             "body_multipart": [{"body_raw_ref": "file--a"},
                                                {"body": "hello"}]},
    }
    obs = Observation("observed-data--o", "2024-01-01T00:00:00.000Z",
                      "2024-01-01T00:00:00.000Z", 1, objs)
    stats = {}
    vertices, edges = L.observation_documents(obs, "default", NOW, stats)
    assert stats == {"dangling_refs": 2}  # file--gone, email-addr--gone
    ref_edges = [(e["relationship_type"], e["_ref_name"], e["source_ref"], e["target_ref"])
                 for e in edges if e["_ref_name"] != "object_refs"]
    assert ref_edges == [
        ("extensions-archive-ext-contains", "extensions.archive-ext.contains_refs",
         "file--a", "file--b"),
        ("body_multipart-body-raw", "body_multipart.body_raw_ref", "email-message--e",
         "file--a")]
    fa = vertices[1]
    assert "size" not in fa  # top-level nulls dropped
    assert fa["object_marking_refs"] == ["marking-definition--m"]
    # no created/modified in the source: first_observed (the same version on every ingest)
    assert vertices[0]["created"] == vertices[0]["modified"] == vertices[0]["first_observed"]
    assert vertices[0]["_record_created"] == NOW
    assert L.object_refs(objs["file--a"]) == [
        (("extensions", "archive-ext"), "contains_refs", "file--b"),
        (("extensions", "archive-ext"), "contains_refs", "file--gone")]


# ---------------------------------------------------------------------------
# batching


def _all(batches):
    return [d for b in batches for d in b.vertices], [d for b in batches for d in b.edges]


def test_batcher_merges_across_observations():
    first = L.observation_documents(_obs(1, cmd="cmd /c whoami"), "default", NOW)
    second = L.observation_documents(_obs(2), "default", LATER)
    b = L.Batcher("default", NOW, max_vertices=1000, max_edges=1000)
    assert b.add(*first) == [] and b.add(*second) == []
    vertices, edges = _all(b.flush())
    keys = [v["_key"] for v in vertices]
    assert len(keys) == len(set(keys))
    t = _by_type(_obs(1))
    proc = next(v for v in vertices if v["_key"] == t["process"])
    # the second sighting has no command_line: the first's value stays
    assert proc["command_line"] == "cmd /c whoami"
    assert proc["_record_created"] == NOW and proc["_record_modified"] == LATER
    assert proc["_record_md5_hash"] == L.md5_hash(proc)
    # shared: both processes, the file, 10.0.0.1; own: observation, traffic, dst ip
    assert len(vertices) == 4 + 2 * 3
    assert b.stats["merged_vertices"] == 4
    ekeys = [e["_key"] for e in edges]
    assert len(ekeys) == len(set(ekeys))
    # parent and binary edges are shared; opened-connection, src, dst and 6 object edges not
    assert len(edges) == 2 + 2 * 9 and b.stats["duplicate_edges"] == 2


def test_batcher_later_non_null_wins():
    b = L.Batcher("default", NOW)
    v1 = L.sco_vertex("x-thing--1", {"type": "x-thing", "a": 1, "b": 2}, NOW)
    v2 = L.sco_vertex("x-thing--1", {"type": "x-thing", "a": 5, "b": None, "c": 3}, LATER)
    b.add([v1], [])
    b.add([v2], [])
    [batch] = b.flush()
    [v] = batch.vertices
    assert (v["a"], v["b"], v["c"]) == (5, 2, 3)
    assert v["_record_created"] == NOW
    assert b.flush() == []
    # documents given to add() as they are: a null does not erase a value either
    m = L.merge_vertex(v1, {**v2, "b": None})
    assert (m["a"], m["b"], m["_record_created"]) == (5, 2, NOW)
    assert m["_record_md5_hash"] == L.md5_hash(m) != v1["_record_md5_hash"]


def test_batch_sizes_and_vertex_before_edge():
    observations = [_obs(n, name=f"p{n % 7}.exe") for n in range(40)]
    b = L.Batcher("default", NOW, max_vertices=5, max_edges=7)
    batches = list(b.add_observations(observations))
    assert len(batches) > 10
    written: set[str] = set()
    for batch in batches:
        assert 0 < len(batch.vertices) + len(batch.edges)
        assert len(batch.vertices) <= 5 and len(batch.edges) <= 7
        written.update(v["_id"] if "_id" in v else "default_vertex_collection/" + v["_key"]
                       for v in batch.vertices)
        for e in batch.edges:  # this batch's vertices or an earlier batch's
            assert e["_from"] in written and e["_to"] in written, e["_key"]
    vertices, edges = _all(batches)
    assert len({e["_key"] for e in edges}) == len(edges)
    for doc in vertices + edges:
        assert all(f in doc for f in TAXII_FIELDS) and doc["_record_created"] == NOW
        assert doc["_record_md5_hash"] == L.md5_hash(doc), doc["_key"]
    separate = [L.observation_documents(o, "default", NOW) for o in observations]
    assert {v["_key"] for vs, _ in separate for v in vs} <= {v["_key"] for v in vertices}
    assert {e["_key"] for _, es in separate for e in es} == {e["_key"] for e in edges}
    assert b.stats["observations"] == 40 and b.stats["batches"] == len(batches)
    # deterministic
    again = list(L.Batcher("default", NOW, max_vertices=5, max_edges=7)
                 .add_observations(observations))
    assert [(x.vertices, x.edges) for x in again] == [(x.vertices, x.edges) for x in batches]


def test_batcher_flush_cuts_edges_after_vertices():
    b = L.Batcher("default", NOW, max_vertices=100, max_edges=100)
    b.add_observation(_obs(1))
    b.max_vertices, b.max_edges = 3, 4  # 7 vertices, 11 edges pending
    batches = b.flush()
    assert [(len(x.vertices), len(x.edges)) for x in batches] == [(3, 0), (3, 0), (1, 4),
                                                                  (0, 4), (0, 3)]


def test_batcher_rejects_bad_arguments():
    _one_line_error(L.Batcher, "a-b", needle="'a-b'")
    with pytest.raises(ValueError, match="bad record time"):
        L.Batcher("default", "yesterday")
    with pytest.raises(ValueError, match="positive"):
        L.Batcher("default", NOW, max_vertices=0)


# ---------------------------------------------------------------------------
# index, analyzer and graph definitions

ADD_INDEX_KEYS = {"type", "name", "fields", "sparse", "unique", "inBackground", "storedValues",
                  "primarySort"}


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)
    elif isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from _strings(v)


def test_index_definitions():
    defs = L.index_definitions("hunt")
    names = L.collection_names("hunt")
    assert set(defs) == {names["vertex"], names["edge"], names["variables"], names["var_rows"]}
    assert not [s for s in _strings(defs) if s.startswith("X_")]
    for coll, indexes in defs.items():
        assert len({i["name"] for i in indexes}) == len(indexes), coll
        for i in indexes:
            assert set(i) <= ADD_INDEX_KEYS and i["type"] in ("persistent", "inverted"), i
            assert isinstance(i["fields"], list) and i["fields"], i
            if i["type"] == "persistent":
                assert all(isinstance(f, str) and f for f in i["fields"]), i
    for coll in (names["vertex"], names["edge"]):
        [taxii] = [i for i in defs[coll] if i["name"] == "taxii_search"]
        assert taxii["type"] == "inverted"
        assert taxii["primarySort"] == {
            "fields": [{"field": "_record_created", "direction": "asc"}]}
        assert {"name": "_record_created", "analyzer": "date_transform"} in taxii["fields"]
        assert {"type", "id", "spec_version", "_taxii.last"} <= set(
            f for f in taxii["fields"] if isinstance(f, str))
    persistent = {c: [i["fields"] for i in defs[c] if i["type"] == "persistent"] for c in defs}
    assert ["_from", "relationship_type"] in persistent[names["edge"]]
    assert ["_to", "relationship_type"] in persistent[names["edge"]]
    assert ["var", "rid"] in persistent[names["var_rows"]]
    assert ["type", "first_observed"] in persistent[names["vertex"]]
    assert ["type", "last_observed"] in persistent[names["vertex"]]
    # a fresh copy each time, from the file
    defs[names["vertex"]].clear()
    assert L.index_definitions("hunt")[names["vertex"]]
    on_file = json.loads((L.ARANGO_DIR / "indexes.json").read_text())["indexes"]
    assert len(on_file["X_edge_collection"]) == len(defs[names["edge"]])


def test_analyzer_definitions():
    [a] = L.analyzer_definitions()
    assert (a["name"], a["analyzer_type"], a["features"]) == ("date_transform", "aql", [])
    p = a["properties"]
    assert p["returnType"] == "number" and p["keepNull"] is True
    # stix2arango 2.0's create_taxii_views, its Python literal
    assert p["queryString"] == ("RETURN DATE_TIMESTAMP(@param)*1000 + TO_NUMBER(LAST("
                                "REGEX_MATCHES(@param, '.+\\\\.(\\\\d{6}).*')))%1000")


def test_graph_definition():
    g = L.graph_definition("hunt")
    assert g == {"name": "hunt_graph", "edge_definitions": [
        {"edge_collection": "hunt_edge_collection",
         "from_vertex_collections": ["hunt_vertex_collection"],
         "to_vertex_collections": ["hunt_vertex_collection"]}]}
    assert g["name"] == L.collection_names("hunt")["graph"]
    assert L.graph_definition("default")["name"] == "default_graph"


def test_no_python_arango_needed():
    code = ("import sys, stixgraph.store.arango_layout as L; "
            "L.index_definitions('x'); L.graph_definition('x'); "
            "assert 'arango' not in sys.modules, sys.modules['arango']")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=L.ARANGO_DIR.parent / "tests")
    assert done.returncode == 0, done.stderr


def test_the_arango_folder_does_not_shadow_python_arango():
    """The repo's top-level arango/ holds no __init__.py: from the repo root, `import arango`
    is still python-arango (a namespace portion loses to a regular package)."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    assert not (root / "arango" / "__init__.py").exists()
    out = subprocess.run([sys.executable, "-c", "import arango; print(arango.ArangoClient)"],
                         cwd=root, capture_output=True, text=True)
    assert out.returncode == 0 and "ArangoClient" in out.stdout, out.stderr
