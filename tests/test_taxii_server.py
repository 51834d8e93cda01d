"""stixgraph's own TAXII 2.1 server (``stixgraph taxii serve``) on loopback, over a real SQLite
store: taxii2-client against it, a permission matrix, the error answers, paging while others
write, and POSTed observations reaching the hunt graph."""
from __future__ import annotations

import base64
import threading
import uuid
from pathlib import Path

import orjson
import pytest
import requests
from taxii2client.v21 import Collection, Server, as_pages

from bundles import bundle20, proc_obs, write
from stixgraph.session import Session
from stixgraph.stix.ids import sco_id
from stixgraph.store.sqlite import SQLiteStore
from stixgraph.taxii.access import AccessConfigError, hash_password, hash_token
from stixgraph.taxii.server import make_server, serve_in_thread

TAXII = "application/taxii+json;version=2.1"
H = {"Accept": TAXII}
PW = {"alice": "alice-pw", "bob": "bob-pw", "dave": "dave-pw"}
TOKEN = "carol-token-8f2e"


def _store_with_data(path: Path) -> str:
    s = Session(store=str(path))
    b = write(path.parent / "b.json", bundle20([
        proc_obs(100, "cmd.exe", "whoami", dst="140.82.114.3"),
        proc_obs(200, "powershell.exe", "iwr x", t="2024-12-12T17:00:00.000Z")]))
    s.run(f'p = GET process FROM "{b}" WHERE pid > 0')
    s.store.close()
    return str(path)


def _config(tmp: Path) -> Path:
    lines = ['[server]', 'max_content_length = 20000', 'max_page_size = 50']
    for user, pw in PW.items():
        lines += [f"[users.{user}]", f'password = "{hash_password(pw, iterations=1000)}"']
    lines += ["[users.carol]", f'token = "{hash_token(TOKEN)}"',
              "[collections.default]", 'read = ["bob"]', 'write = ["alice", "carol"]',
              "[collections.public]", 'read = ["anonymous"]', 'write = ["alice"]']
    p = tmp / "taxii.toml"
    p.write_text("\n".join(lines) + "\n")
    return p


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """A server with users over a store holding a GET's data ('default') and an empty
    'public' collection."""
    tmp = tmp_path_factory.mktemp("taxii")
    path = _store_with_data(tmp / "store.db")
    SQLiteStore(path, collection="public").close()
    url, stop = serve_in_thread(path, config=_config(tmp))
    yield url, path
    stop()


@pytest.fixture
def open_server(tmp_path):
    path = _store_with_data(tmp_path / "store.db")
    url, stop = serve_in_thread(path)
    yield url, path
    stop()


def auth(user):
    if user is None:
        return None
    if user == "carol":
        return None
    return (user, PW[user])


def hdr(user, extra=None):
    h = dict(H)
    if user == "carol":
        h["Authorization"] = f"Bearer {TOKEN}"
    h.update(extra or {})
    return h


def coll_url(url, name="default"):
    return f"{url}/stixgraph/collections/{name}/"


def _indicator(**kw):
    t = "2024-12-12T16:00:00.000Z"
    return {"type": "indicator", "spec_version": "2.1", "id": f"indicator--{uuid.uuid4()}",
            "created": t, "modified": t, "pattern": "[ipv4-addr:value = '140.82.114.3']",
            "pattern_type": "stix", "valid_from": t, **kw}


def _post(url, objs, user="alice", name="default", **kw):
    return requests.post(coll_url(url, name) + "objects/", data=orjson.dumps({"objects": objs}),
                         auth=auth(user), headers=hdr(user, {"Content-Type": TAXII}), **kw)


def _ids(url, user="alice", name="default", **params):
    out, nxt = [], None
    while True:
        q = dict(params, **({"next": nxt} if nxt else {}))
        r = requests.get(coll_url(url, name) + "objects/", params=q, auth=auth(user),
                         headers=hdr(user))
        assert r.status_code == 200, r.text
        body = r.json()
        out += [o["id"] for o in body.get("objects", [])]
        if not body.get("more"):
            return out
        nxt = body["next"]


# ---------------------------------------------------------------- taxii2-client against it

def test_taxii2_client_reads_pages_and_writes(served):
    url, _ = served
    server = Server(f"{url}/taxii2/", user="alice", password=PW["alice"])
    root = server.api_roots[0]
    assert root.max_content_length == 20000 and TAXII in root.versions
    colls = {c.title: c for c in root.collections}
    assert set(colls) == {"default", "public"}
    c = colls["default"]
    assert c.can_read and c.can_write
    everything = c.get_objects()["objects"]
    types = {o["type"] for o in everything}
    assert {"observed-data", "process", "ipv4-addr", "network-traffic", "file"} <= types
    od = next(o for o in everything if o["type"] == "observed-data")
    assert set(od["object_refs"]) <= {o["id"] for o in everything}
    paged = [o["id"] for page in as_pages(c.get_objects, per_request=3) for o in page["objects"]]
    assert sorted(paged) == sorted(o["id"] for o in everything) and len(set(paged)) == len(paged)
    manifest = c.get_manifest()["objects"]
    assert [m["id"] for m in manifest] == [o["id"] for o in everything]
    assert all(m["media_type"] == "application/stix+json;version=2.1" for m in manifest)
    ind = _indicator()
    v2 = dict(ind, modified="2024-12-13T00:00:00.000Z")
    status = c.add_objects({"objects": [ind, v2]})
    assert status.status == "complete" and status.success_count == 2
    assert root.get_status(status.id).success_count == 2
    assert c.get_object(ind["id"])["objects"] == [v2]  # latest version by default
    assert c.object_versions(ind["id"])["versions"] == [ind["modified"], v2["modified"]]
    assert len(c.get_objects(type="indicator", version="all")["objects"]) == 2
    assert c.get_objects(type="indicator", version="first")["objects"] == [ind]
    # again: no new version, nothing duplicated
    c.add_objects({"objects": [ind]})
    assert len(c.get_objects(type="indicator", version="all")["objects"]) == 2


def test_filters_and_date_headers(served):
    url, _ = served
    u = coll_url(url) + "objects/"
    r = requests.get(u, params={"match[type]": "process,ipv4-addr"}, auth=auth("bob"), headers=H)
    objs = r.json()["objects"]
    assert {o["type"] for o in objs} == {"process", "ipv4-addr"}
    first, last = r.headers["X-TAXII-Date-Added-First"], r.headers["X-TAXII-Date-Added-Last"]
    assert first <= last and first.endswith("Z") and len(first) == 27
    later = requests.get(u, params={"added_after": first, "match[type]": "process,ipv4-addr"},
                         auth=auth("bob"), headers=H).json()["objects"]
    assert [o["id"] for o in later] == [o["id"] for o in objs[1:]]  # strictly after
    one = objs[0]["id"]
    r = requests.get(u, params={"match[id]": one}, auth=auth("bob"), headers=H)
    assert [o["id"] for o in r.json()["objects"]] == [one]
    r = requests.get(u, params={"match[type]": "no-such-type"}, auth=auth("bob"), headers=H)
    assert r.status_code == 200 and r.json() == {} and "X-TAXII-Date-Added-First" not in r.headers


# ---------------------------------------------------------------- who may do what

ROLES = ["alice", "bob", "dave", None, "carol"]  # owner, reader, outsider, anonymous, token


@pytest.mark.parametrize("user", ROLES, ids=lambda u: u or "anonymous")
def test_permission_matrix(served, user):
    url, _ = served
    c = coll_url(url)
    existing = requests.get(c + "manifest/", auth=("alice", PW["alice"]), headers=H).json()
    oid = existing["objects"][0]["id"]
    expect_read = {"alice": 200, "bob": 200, "carol": 200, "dave": 404, None: 401}[user]
    for path in ("", "objects/", "manifest/", f"objects/{oid}/", f"objects/{oid}/versions/"):
        r = requests.get(c + path, auth=auth(user), headers=hdr(user))
        assert r.status_code == expect_read, (path, r.status_code, r.text)
        if r.status_code >= 400:
            assert r.json()["http_status"] == str(expect_read) and r.json()["title"]
        if r.status_code == 401:
            assert "Basic" in r.headers["WWW-Authenticate"]
    listed = requests.get(f"{url}/stixgraph/collections/", auth=auth(user), headers=hdr(user))
    names = {x["alias"]: x for x in listed.json().get("collections", [])}
    assert ("default" in names) == (expect_read == 200)
    assert "public" in names  # anonymous read
    if "default" in names:
        assert names["default"]["can_write"] == (user in ("alice", "carol"))
    expect_write = {"alice": 202, "carol": 202, "bob": 403, "dave": 404, None: 401}[user]
    r = _post(url, [_indicator()], user=user)
    assert r.status_code == expect_write, r.text
    if r.status_code == 202:
        st = requests.get(f"{url}/stixgraph/status/{r.json()['id']}/", auth=auth(user),
                          headers=hdr(user))
        assert st.status_code == 200 and st.json()["status"] == "complete"
    target = _indicator()
    assert _post(url, [target]).status_code == 202
    r = requests.delete(c + f"objects/{target['id']}/", auth=auth(user), headers=hdr(user))
    assert r.status_code == (200 if user in ("alice", "carol") else expect_write), r.text
    # the public collection: anyone reads, only alice writes
    assert requests.get(coll_url(url, "public") + "objects/", auth=auth(user),
                        headers=hdr(user)).status_code == 200
    assert _post(url, [_indicator()], user=user, name="public").status_code == (
        202 if user == "alice" else 401 if user is None else 403)


def test_wrong_credentials_are_401_and_never_echoed(served):
    url, _ = served
    r = requests.get(coll_url(url) + "objects/", auth=("alice", "hunter2-guess"), headers=H)
    assert r.status_code == 401 and "hunter2" not in r.text
    r = requests.get(coll_url(url) + "objects/", headers=dict(H, Authorization="Bearer nope"))
    assert r.status_code == 401


def test_without_config_everything_is_read_only_and_loopback_only(open_server, tmp_path):
    url, path = open_server
    r = requests.get(coll_url(url) + "objects/", headers=H)
    assert r.status_code == 200 and r.json()["objects"]
    r = _post(url, [_indicator()], user=None)
    assert r.status_code == 403 and "read-only" in r.json()["description"]
    some = _ids(url, None)[0]
    assert requests.delete(coll_url(url) + f"objects/{some}/", headers=H).status_code == 403
    assert some in _ids(url, None)
    with pytest.raises(AccessConfigError, match="refusing to serve on 0.0.0.0"):
        make_server(path, "0.0.0.0", 0)


# ---------------------------------------------------------------- errors

def test_error_answers(served):
    url, path = served
    c = coll_url(url)
    a = ("alice", PW["alice"])
    cases = [
        (requests.get, c + "objects/", {"headers": {"Accept": "application/json"}}, 406),
        (requests.get, c + "objects/", {"params": {"limit": "0"}}, 400),
        (requests.get, c + "objects/", {"params": {"limit": "x"}}, 400),
        (requests.get, c + "objects/", {"params": {"added_after": "yesterday"}}, 400),
        (requests.get, c + "objects/", {"params": {"next": "bogus"}}, 400),
        (requests.get, c + "objects/", {"params": {"match[colour]": "red"}}, 400),
        (requests.get, c + "objects/", {"params": {"match[version]": "newest"}}, 400),
        (requests.get, c + "objects/indicator--00000000-0000-4000-8000-000000000000/", {}, 404),
        (requests.get, coll_url(url, "nope") + "objects/", {}, 404),
        (requests.get, f"{url}/other/collections/", {}, 404),
        (requests.get, f"{url}/stixgraph/status/nope/", {}, 404),
        (requests.put, c + "objects/", {}, 405),
    ]
    for call, u, kw, code in cases:
        kw.setdefault("headers", H)
        r = call(u, auth=a, **kw)
        assert r.status_code == code, (u, kw, r.status_code, r.text)
        body = r.json()
        assert body["title"] and body["http_status"] == str(code)
        assert r.headers["Content-Type"] == TAXII
    r = requests.get(c + "objects", auth=a, headers=H, allow_redirects=False)
    assert r.status_code == 308 and r.headers["Location"].endswith("/objects/")
    before = _ids(url)
    post = lambda data, ctype=TAXII: requests.post(  # noqa: E731
        c + "objects/", data=data, auth=a, headers=dict(H, **{"Content-Type": ctype}))
    assert post(b"{}", "application/json").status_code == 415
    assert post(b"{not json").status_code == 400
    assert post(orjson.dumps({"objects": [_indicator(pattern="x" * 30000)]})).status_code == 413
    bad = [_indicator(), {"type": "indicator", "id": "indicator--nope"},
           dict(_indicator(), spec_version="2.0"), dict(_indicator(), modified="soon"),
           {"type": "observed-data", "spec_version": "2.1", "id": f"observed-data--{uuid.uuid4()}",
            "created": "2024-01-01T00:00:00Z", "modified": "2024-01-01T00:00:00Z",
            "objects": {"0": {"type": "ipv4-addr", "value": "1.2.3.4"}}}]
    r = post(orjson.dumps({"objects": bad}))
    assert r.status_code == 422
    d = r.json()["description"]
    assert "objects[1]" in d and "objects[2]" in d and "objects[3]" in d and "objects[4]" in d
    assert "objects[0]" not in d and "nothing was stored" in d
    assert post(b'{"objects": {}}').status_code == 422
    assert _ids(url) == before  # a refused envelope stores nothing


# ---------------------------------------------------------------- into the hunt graph

def test_posted_observations_join_the_graph_and_delete_only_hides(served):
    url, path = served
    t = "2024-12-14T08:00:00.000Z"
    ip = {"type": "ipv4-addr", "spec_version": "2.1", "value": "203.0.113.9"}
    ip["id"] = sco_id(ip)  # what STIX 2.1 producers send (stix2 does the same)
    proc = {"type": "process", "spec_version": "2.1", "id": f"process--{uuid.uuid4()}",
            "pid": 4242, "name": "exfil.exe"}
    od = {"type": "observed-data", "spec_version": "2.1", "id": f"observed-data--{uuid.uuid4()}",
          "created": t, "modified": t, "first_observed": t, "last_observed": t,
          "number_observed": 1, "object_refs": [ip["id"], proc["id"]]}
    assert _post(url, [ip, proc]).status_code == 202
    assert _post(url, [od]).status_code == 202  # its SCOs came in an earlier envelope
    store = SQLiteStore(path)
    try:
        n = store.db.execute("SELECT COUNT(*) FROM contains c JOIN observations o ON "
                             "o.oid = c.oid WHERE o.id = ?", (od["id"],)).fetchone()[0]
        assert n == 2  # the observation holds both objects, as a GET would store them
    finally:
        store.close()
    got = requests.get(coll_url(url) + f"objects/{od['id']}/", auth=("bob", PW["bob"]),
                       headers=H).json()["objects"][0]
    assert sorted(got["object_refs"]) == sorted([ip["id"], proc["id"]])
    s = Session(store=path)
    try:
        s.run(f"procs = NEW process [{{\"pid\": 4242, \"name\": \"exfil.exe\"}}]")
        r = requests.delete(coll_url(url) + f"objects/{proc['id']}/", auth=("alice", PW["alice"]),
                            headers=H)
        assert r.status_code == 200
        assert requests.get(coll_url(url) + f"objects/{proc['id']}/", auth=("alice", PW["alice"]),
                            headers=H).status_code == 404
        assert s.store.db.execute("SELECT COUNT(*) FROM entities WHERE id = ?",
                                  (proc["id"],)).fetchone()[0] == 1  # the graph keeps it
        assert _post(url, [proc]).status_code == 202  # shown again, as newly added
        assert _ids(url)[-1] == proc["id"]  # newest
        assert requests.get(coll_url(url) + f"objects/{proc['id']}/", auth=("alice", PW["alice"]),
                            headers=H).status_code == 200
    finally:
        s.store.close()


def test_an_sco_with_a_random_id_is_stored_under_its_deterministic_id(served):
    url, _ = served
    ip = {"type": "ipv4-addr", "spec_version": "2.1", "id": f"ipv4-addr--{uuid.uuid4()}",
          "value": "198.51.100.77"}
    r = _post(url, [ip])
    want = sco_id({"type": "ipv4-addr", "value": "198.51.100.77"})
    detail = r.json()["successes"][0]
    assert detail["id"] == ip["id"] and want in detail["message"] and detail["version"]
    got = requests.get(coll_url(url) + f"objects/{want}/", auth=("bob", PW["bob"]), headers=H)
    assert got.json()["objects"][0]["value"] == "198.51.100.77"
    versions = requests.get(coll_url(url) + f"objects/{want}/versions/", auth=("bob", PW["bob"]),
                            headers=H).json()["versions"]
    assert versions == [detail["version"]]


def test_a_loose_sco_may_reference_scos_posted_before(served):
    url, _ = served
    src = {"type": "ipv4-addr", "spec_version": "2.1", "value": "10.9.9.9"}
    dst = {"type": "ipv4-addr", "spec_version": "2.1", "value": "203.0.113.77"}
    for o in (src, dst):
        o["id"] = sco_id(o)
    assert _post(url, [src, dst]).status_code == 202
    nt = {"type": "network-traffic", "spec_version": "2.1", "src_ref": src["id"],
          "dst_ref": dst["id"], "dst_port": 8443, "protocols": ["tcp"]}
    nt["id"] = sco_id(nt)
    r = _post(url, [nt])
    assert "message" not in r.json()["successes"][0]  # stored under the id it was sent with
    got = requests.get(coll_url(url) + f"objects/{nt['id']}/", auth=("bob", PW["bob"]),
                       headers=H).json()["objects"][0]
    assert got["src_ref"] == src["id"] and got["dst_ref"] == dst["id"]


# ---------------------------------------------------------------- concurrency

def test_paging_while_others_write_loses_and_repeats_nothing(served):
    """Writers post while readers page: every pass of a reader sees each object at most once,
    and every object that was there before the pass began."""
    url, _ = served
    writers, per_writer, batch = 4, 60, 15
    errors: list = []
    passes: list[tuple[set, list]] = []
    done = threading.Event()

    def write_some(w):
        try:
            for i in range(0, per_writer, batch):
                objs = [_indicator(name=f"w{w}-{i + j}") for j in range(batch)]
                r = _post(url, objs, user="alice" if w % 2 else "carol")
                assert r.status_code == 202 and r.json()["success_count"] == batch, r.text
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    def read():
        try:
            while not done.is_set():
                before = set(_ids(url, "bob", limit=7))
                seen = _ids(url, "bob", limit=7)
                passes.append((before, seen))
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    start = set(_ids(url))
    ts = [threading.Thread(target=write_some, args=(w,)) for w in range(writers)]
    rs = [threading.Thread(target=read) for _ in range(2)]
    for t in ts + rs:
        t.start()
    for t in ts:
        t.join(120)
    done.set()
    for t in rs:
        t.join(120)
    assert not errors, errors[0]
    assert passes
    for before, seen in passes:
        assert len(seen) == len(set(seen))  # nothing twice
        assert before <= set(seen)  # nothing lost
    final = _ids(url)
    assert len(final) == len(set(final)) == len(start) + writers * per_writer


# ---------------------------------------------------------------- the command and old stores

def test_taxii_serve_command_serves_until_stopped(tmp_path):
    import subprocess
    import sys

    path = _store_with_data(tmp_path / "store.db")
    exe = Path(sys.executable).with_name("stixgraph")
    p = subprocess.Popen([str(exe), "taxii", "serve", "--store", path, "--port", "0"],
                         stderr=subprocess.PIPE, text=True)
    try:
        line = p.stderr.readline()
        assert "TAXII 2.1 at http://127.0.0.1:" in line and "read-only, no users" in line
        base = line.split(" at ", 1)[1].split("/taxii2/", 1)[0]
        r = requests.get(base + "/taxii2/", headers=H, timeout=10)
        assert r.status_code == 200 and r.json()["api_roots"] == [base + "/stixgraph/"]
        assert len(_ids(base, None)) > 5
    finally:
        p.terminate()
        p.wait(10)


def test_a_store_of_schema_3_gains_added_times_in_insertion_order(tmp_path):
    path = _store_with_data(tmp_path / "old.db")
    db = SQLiteStore(path).db
    before = [i for (i,) in db.execute("SELECT id FROM entities ORDER BY eid")]
    for t in ("entities", "observations"):
        db.execute(f"DROP INDEX {t}_added")
        db.execute(f"ALTER TABLE {t} DROP COLUMN added")
    db.execute("UPDATE meta SET value = '3' WHERE key = 'schema'")
    db.close()
    store = SQLiteStore(path)
    try:
        rows = store.db.execute("SELECT id, added FROM entities ORDER BY added").fetchall()
        assert [i for i, _ in rows] == before and all(a for _, a in rows)
        assert store.db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()[0] == "4"
        newest = max(a for _, a in rows)
        assert store.stamp() > newest  # new rows sort after the old ones
    finally:
        store.close()


@pytest.mark.parametrize("backend", ["arango"])
def test_the_server_over_an_arango_store(backend, tmp_path, monkeypatch):
    """The same round trip on an ArangoDB store (only where a server is reachable)."""
    from conftest import _arango_server

    found = _arango_server()
    if isinstance(found, str):
        pytest.skip(found)
    host, user, password = found
    db = f"stixgraph_test_{uuid.uuid4().hex[:12]}"
    url = f"arango://{user}@{host.split('://', 1)[1]}/{db}"
    if host.startswith("https"):
        url += "?tls=1"
    monkeypatch.setenv("ARANGO_PASSWORD", password)
    from stixgraph.store.arangodb import ArangoStore

    store = ArangoStore(url, password)
    s = Session(store=store)
    b = write(tmp_path / "b.json", bundle20([proc_obs(100, "cmd.exe", "whoami", dst="1.2.3.4")]))
    s.run(f'p = GET process FROM "{b}" WHERE pid > 0')
    cfg = _config(tmp_path)
    server = make_server(url, "127.0.0.1", 0, cfg, quiet=True)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        ids = _ids(base, "bob")
        assert any(i.startswith("observed-data--") for i in ids) and len(ids) > 4
        assert _ids(base, "bob", limit=2) == ids
        ind = _indicator()
        assert _post(base, [ind]).status_code == 202
        assert _ids(base, "bob")[-1] == ind["id"]
        r = requests.delete(coll_url(base) + f"objects/{ind['id']}/", auth=("alice", PW["alice"]),
                            headers=H)
        assert r.status_code == 200 and ind["id"] not in _ids(base, "bob")
    finally:
        server.shutdown()
        server.taxii_app.backend.close()
        store._sys.delete_database(db, ignore_missing=True)
        store.close()
