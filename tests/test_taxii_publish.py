"""GET ... --publish: what a GET pulls from a data source goes to a TAXII collection (here
stixgraph's own server on loopback, with users), once; a failed publish warns and keeps the
GET; a stix-shifter profile can carry the option."""
from __future__ import annotations

import json

import pytest
import requests
from click.testing import CliRunner

from bundles import bundle20, proc_obs, write
from stixgraph.cli import main
from stixgraph.display import Message
from stixgraph.errors import DataSourceError
from stixgraph.session import Session
from stixgraph.sources.profiles import load_profile
from stixgraph.store.sqlite import SQLiteStore
from stixgraph.taxii.access import hash_password
from stixgraph.taxii.server import serve_in_thread

H = {"Accept": "application/taxii+json;version=2.1"}


@pytest.fixture
def target(tmp_path, monkeypatch):
    """A TAXII server whose 'shared' collection alice may write: its collection URL."""
    SQLiteStore(tmp_path / "team.db", collection="shared").close()
    cfg = tmp_path / "taxii.toml"
    cfg.write_text(f'[users.alice]\npassword = "{hash_password("pw-alice", iterations=1000)}"\n'
                   '[collections.shared]\nread = ["alice"]\nwrite = ["alice"]\n')
    url, stop = serve_in_thread(tmp_path / "team.db", config=cfg)
    monkeypatch.setenv("STIXGRAPH_TAXII_USER", "alice")
    monkeypatch.setenv("STIXGRAPH_TAXII_PASSWORD", "pw-alice")
    monkeypatch.setenv("STIXGRAPH_CONFIG", str(tmp_path / "none.toml"))
    colls = requests.get(f"{url}/stixgraph/collections/", auth=("alice", "pw-alice"),
                         headers=H).json()["collections"]
    cid = next(c["id"] for c in colls if c["alias"] == "shared")
    yield f"{url}/stixgraph/collections/{cid}/"  # taxii2-client wants the id in the URL
    stop()


def _held(url):
    r = requests.get(url + "objects/", params={"limit": 1000}, auth=("alice", "pw-alice"),
                     headers=H)
    return [o["id"] for o in r.json().get("objects", [])]


@pytest.fixture
def bundle(tmp_path):
    return write(tmp_path / "b.json", bundle20([
        proc_obs(100, "cmd.exe", "whoami", dst="140.82.114.3"), proc_obs(200, "ps.exe", "x")]))


def test_a_get_publishes_its_observations_once(target, bundle):
    s = Session(":memory:", publish=target)
    out = s.run(f'p = GET process FROM "{bundle}" WHERE name = \'cmd.exe\'')
    said = [m.text for m in out if isinstance(m, Message) and "published to" in m.text]
    assert said and " added, 0 already there, 0 failed" in said[0]
    held = _held(target)
    mine = {o.id for o in s.store.observations_of("p")}
    assert mine and mine <= set(held)
    assert {i.split("--")[0] for i in held} >= {"observed-data", "process", "ipv4-addr"}
    out = s.run(f'p = GET process FROM "{bundle}" WHERE name = \'cmd.exe\'')  # again
    said = [m.text for m in out if isinstance(m, Message) and "published to" in m.text]
    assert "0 added" in said[0] and _held(target) == held  # nothing twice
    s.run("q = p WHERE pid = 100")  # GET from a variable / assignments publish nothing
    assert _held(target) == held


def test_a_failed_publish_warns_and_keeps_the_get(target, bundle, monkeypatch):
    monkeypatch.setenv("STIXGRAPH_TAXII_PASSWORD", "wrong-secret")
    s = Session(":memory:", publish=target)
    out = s.run(f'p = GET process FROM "{bundle}" WHERE pid > 0')
    warn = [m for m in out if isinstance(m, Message) and "publishing p" in m.text]
    assert warn and "failed" in warn[0].text and "wrong-secret" not in warn[0].text
    assert s.vars["p"].entities == 2


def test_hunt_publish_option(target, bundle, tmp_path):
    hunt = tmp_path / "h.hf"
    hunt.write_text(f'p = GET process FROM "{bundle}" WHERE pid > 0\n')
    r = CliRunner().invoke(main, ["hunt", "--store", ":memory:", "--publish", target, str(hunt)])
    assert r.exit_code == 0, r.output
    assert "published to" in r.output and "pw-alice" not in r.output
    assert len(_held(target)) > 5


def test_a_profile_carries_the_publish_option(monkeypatch):
    conn = {"host": "127.0.0.1", "port": 1, "options": {"publish": "https://t/api/collections/c/"}}
    monkeypatch.setenv("STIXSHIFTER_PUBTEST_CONNECTOR", "splunk")
    monkeypatch.setenv("STIXSHIFTER_PUBTEST_CONNECTION", json.dumps(conn))
    monkeypatch.setenv("STIXSHIFTER_PUBTEST_CONFIG", json.dumps({"auth": {"username": "u",
                                                                          "password": "p"}}))
    p = load_profile("pubtest")
    assert p.retrieval["publish"] == "https://t/api/collections/c/"
    assert "publish" not in p.connection["options"]  # not passed on to stix-shifter
    conn["options"]["publish"] = 5
    monkeypatch.setenv("STIXSHIFTER_PUBTEST_CONNECTION", json.dumps(conn))
    with pytest.raises(DataSourceError, match="publish must be a TAXII collection URL"):
        load_profile("pubtest")
