"""The ArangoDB store without a server: the arango:// URL, the password's handling, the error
for an unreachable host, and the requests an ingest sends (built from arango_layout)."""
from __future__ import annotations

import socket
import time

import pytest

from stixgraph.errors import StoreError
from stixgraph.stix.model import Observation
from stixgraph.store import arango_layout as L
from stixgraph.store.arangodb import (EDGE_INSERT_AQL, OBS_QUERY_AQL, ArangoStore,
                                      ArangoTarget, batch_requests, ingest_requests,
                                      object_requests, parse_arango_url, resolve_password)

SECRET = "s3cr3t-Pa55"
NOW = "2024-12-20T00:00:00.000000Z"


def test_url_parts_and_defaults():
    t = parse_arango_url("arango://hunter@db.example:9000/hunts?collection=case1&tls=1")
    assert t == ArangoTarget("https://db.example:9000", "hunter", "hunts", "case1")
    t = parse_arango_url("arango://localhost/hunts")
    assert (t.host, t.user, t.db, t.collection) == ("http://localhost:8529", "root", "hunts",
                                                    "default")
    assert parse_arango_url("arango://u@[::1]:8530/d").host == "http://[::1]:8530"
    assert parse_arango_url(str(t)) == t


@pytest.mark.parametrize("url, names", [
    ("http://u@h/db", "scheme"),
    ("arango://u@h", "no database"),
    ("arango://u@h/", "no database"),
    ("arango://u@h/9db", "database name"),
    ("arango://u@h/a/b", "database name"),
    ("arango://u@h:99999/db", "port"),
    ("arango://u@h:x/db", "port"),
    ("arango://u@/db", "no host"),
    ("arango://@h/db", "user"),
    ("arango://u@h/db?collection=_sys", "collection"),
    ("arango://u@h/db?tls=maybe", "tls"),
    ("arango://u@h/db?colection=x", "unknown option"),
    ("arango://u@h/db#frag", "fragment"),
])
def test_bad_urls_are_one_line_errors_naming_the_problem(url, names):
    with pytest.raises(StoreError) as e:
        parse_arango_url(url)
    assert names in str(e.value) and "\n" not in str(e.value)


def test_a_password_in_the_url_is_refused_without_echoing_it():
    for url in (f"arango://u:{SECRET}@h/db", f"arango://u:{SECRET}@h:8529/db?tls=1"):
        with pytest.raises(StoreError) as e:
            parse_arango_url(url)
        msg = str(e.value)
        assert "ARANGO_PASSWORD" in msg and SECRET not in msg and "\n" not in msg
        assert SECRET not in repr(e.value)


def test_password_comes_from_the_environment_or_the_prompt(monkeypatch):
    monkeypatch.setenv("ARANGO_PASSWORD", SECRET)
    assert resolve_password(lambda: "other") == SECRET
    monkeypatch.delenv("ARANGO_PASSWORD")
    assert resolve_password(lambda: "typed") == "typed"
    with pytest.raises(StoreError, match="ARANGO_PASSWORD"):
        resolve_password()
    t = parse_arango_url("arango://u@h/db")
    assert SECRET not in repr(t) + str(t) and not hasattr(t, "password")


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_host_is_one_line_naming_host_and_database(monkeypatch):
    monkeypatch.setenv("ARANGO_PASSWORD", SECRET)
    port = _closed_port()
    t0 = time.monotonic()
    with pytest.raises(StoreError) as e:
        ArangoStore(f"arango://hunter@127.0.0.1:{port}/hunts", timeout=2, retries=0)
    msg = str(e.value)
    assert f"127.0.0.1:{port}" in msg and "'hunts'" in msg and "\n" not in msg
    assert SECRET not in msg and SECRET not in repr(e.value)
    assert time.monotonic() - t0 < 10


def _obs(n: int) -> Observation:
    proc = f"process--00000000-0000-4000-8000-{n:012d}"
    parent = "process--00000000-0000-4000-8000-999999999999"
    return Observation(
        id=f"observed-data--00000000-0000-4000-8000-{n:012d}",
        first_observed="2024-12-12T16:43:24.000Z", last_observed="2024-12-12T16:43:25.000Z",
        number_observed=2,
        objects={proc: {"type": "process", "id": proc, "pid": n, "parent_ref": parent},
                 parent: {"type": "process", "id": parent, "pid": 1}})


def test_ingest_sends_what_arango_layout_batches():
    obs = [_obs(i) for i in range(3)]
    batcher = L.Batcher("case1", NOW, max_vertices=4, max_edges=4)
    sent = list(ingest_requests(batcher, obs, qid=7))
    expected = list(L.Batcher("case1", NOW, max_vertices=4, max_edges=4)
                    .add_observations(obs))
    want = [r for b in expected for r in batch_requests(b, "case1", 7)]
    assert sent == want
    vertices = [d for text, bind in sent if text == L.VERTEX_UPSERT_AQL for d in bind["docs"]]
    edges = [d for text, bind in sent if text == EDGE_INSERT_AQL for d in bind["docs"]]
    assert len({d["_key"] for d in vertices}) == 3 + 4  # the parent once per pending set
    assert len(edges) == len({d["_key"] for d in edges}) == 3 * 3  # parent_ref + 2 object_refs
    assert all(bind["@collection"] == "case1_vertex_collection" for text, bind in sent
               if text != EDGE_INSERT_AQL)
    tagged = [k for text, bind in sent if text == OBS_QUERY_AQL for k in bind["keys"]]
    assert tagged == [o.id for o in obs] and batcher.stats["observations"] == 3


def test_each_batch_writes_vertices_before_edges():
    batch = L.Batch(vertices=[{"_key": "a", "type": "observed-data"}], edges=[{"_key": "e"}])
    texts = [t for t, _ in batch_requests(batch, "x")]
    assert texts == [L.VERTEX_UPSERT_AQL, EDGE_INSERT_AQL]  # no qid: no query tag
    assert [t for t, _ in batch_requests(batch, "x", 3)] == \
        [L.VERTEX_UPSERT_AQL, OBS_QUERY_AQL, EDGE_INSERT_AQL]
    assert batch_requests(L.Batch(), "x") == []


def test_loose_objects_become_vertices_and_ref_edges_without_an_observation():
    a = {"type": "ipv4-addr", "id": "ipv4-addr--1", "value": "10.0.0.1"}
    m = {"type": "ipv4-addr", "id": "ipv4-addr--2", "value": "10.0.0.2",
         "resolves_to_refs": ["ipv4-addr--1"]}
    sent = list(object_requests([a, m, {**a, "x_tag": "t"}], "x", NOW))
    vertices = [d for t, b in sent if t == L.VERTEX_UPSERT_AQL for d in b["docs"]]
    edges = [d for t, b in sent if t == EDGE_INSERT_AQL for d in b["docs"]]
    assert [v["_key"] for v in vertices] == ["ipv4-addr--1", "ipv4-addr--2"]
    assert vertices[0]["x_tag"] == "t" and all(v["type"] != "observed-data" for v in vertices)
    assert [(e["_from"], e["relationship_type"], e["_to"]) for e in edges] == [
        ("x_vertex_collection/ipv4-addr--2", "resolves-to", "x_vertex_collection/ipv4-addr--1")]


# -- the `stixgraph arango` commands, offline ---------------------------------------------------
def _cli(*args, env=None):
    from click.testing import CliRunner

    from stixgraph.cli import main

    return CliRunner().invoke(main, list(args), env=env or {}, catch_exceptions=False)


def test_arango_commands_need_an_arango_store():
    r = _cli("arango", "status", env={"STIXGRAPH_STORE": ""})
    assert r.exit_code == 1 and "--store arango://" in r.stderr


def test_arango_commands_refuse_a_password_in_the_url():
    r = _cli("arango", "init", "--store", "arango://root:hunter2@127.0.0.1:1/db")
    assert r.exit_code == 1 and "ARANGO_PASSWORD" in r.stderr
    assert "hunter2" not in r.output


def test_unreachable_server_is_one_line_without_the_password():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed when we leave: nobody listens
    r = _cli("arango", "status", "--store", f"arango://hunter@127.0.0.1:{port}/hunts",
             env={"ARANGO_PASSWORD": "s3cr3t-pw"})
    assert r.exit_code == 1, r.output
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and f"127.0.0.1:{port}" in lines[0] and "'hunts'" in lines[0]
    assert "s3cr3t-pw" not in r.output and "Traceback" not in r.output


# -- saved queries for the web UI ---------------------------------------------------------------
def test_saved_queries_are_bound_to_the_store_collection():
    qs = L.saved_queries("hunt7")
    names = {q["name"] for q in qs}
    assert "stixgraph hunt7: exfiltration pivot" in names and len(qs) == 5
    for q in qs:
        assert q["parameter"]["@vertex"] == "hunt7_vertex_collection"
        assert q["parameter"]["@edge"] == "hunt7_edge_collection"
        used = {n for n in __import__("re").findall(r"@(@?\w+)", q["value"].split("\nFOR", 1)[-1])}
        assert used <= set(q["parameter"]), q["name"]
    pivot = next(q for q in qs if q["name"].endswith("exfiltration pivot"))
    assert pivot["parameter"]["port"] == 443  # the header's example, as a number
    tree = next(q for q in qs if q["name"].endswith("process tree"))
    assert tree["parameter"]["depth"] == 5 and tree["parameter"]["process"] == ""
    activity = next(q for q in qs if q["name"].endswith("process activity"))
    assert activity["parameter"] == {"@vertex": "hunt7_vertex_collection",
                                     "@edge": "hunt7_edge_collection", "process": "",
                                     "shown": 20}


@pytest.mark.parametrize("server", ["arango"])
def test_install_queries_keeps_the_users_other_queries(server):
    """Against a real server only: the user's own saved query stays, ours are replaced, not
    doubled, on a second install."""
    from conftest import _arango_server

    found = _arango_server()
    if isinstance(found, str):
        pytest.skip(found)
    import uuid

    host, user, password = found
    db = f"stixgraph_test_{uuid.uuid4().hex[:12]}"
    store = ArangoStore(ArangoTarget(host, user, db), password)
    try:
        base = store._sys
        extra = dict(base.user(user).get("extra") or {})
        base.update_user(user, extra={**extra, "queries": [
            {"name": "mine", "value": "RETURN 1", "parameter": {}}]})
        store.install_queries()
        names = store.install_queries()
        saved = base.user(user)["extra"]["queries"]
        assert [q["name"] for q in saved].count("mine") == 1
        assert sorted(q["name"] for q in saved if q["name"] != "mine") == sorted(names)
        base.update_user(user, extra=extra)
    finally:
        store._sys.delete_database(db, ignore_missing=True)
        store.close()


def test_display_rows_holding_lists_as_python_arango_returns_them():
    """AQL returns lists and objects as Python lists and dicts: DISP shows them as SQLite does
    (compact JSON text) and still drops repeated and all-NULL rows (no 'unhashable' error)."""
    from stixgraph.store.base import shape_rows

    rows = [[1, ["ip", "tcp"], {"b": "é", "a": [1]}], [1, ["ip", "tcp"], {"b": "é", "a": [1]}],
            [None, None, None], [2, [], {}]]
    assert shape_rows(rows, None, None, None) == [[1, '["ip","tcp"]', '{"b":"é","a":[1]}'],
                                                  [2, "[]", "{}"]]
