"""TAXII 2.1 publish and pull against medallion (memory backend) on loopback
(:mod:`taxii_servers`): object counts on the server, re-publishing adds nothing, envelopes
cut to max_content_length, one-line errors without secrets, GET ... FROM taxii+http://...,
paging, added_after."""
from __future__ import annotations

import io

import orjson
from datetime import datetime, timedelta, timezone

import pytest

from stixgraph.display import Table
from stixgraph.errors import DataSourceError
from stixgraph.session import Session
from stixgraph.stix.normalize import normalize_bundle
from stixgraph.taxii import client as tc
from taxii_servers import (PASSWORD, PULL, READONLY, SMALL, SMALL_LIMIT, USER, WRITABLE,
                           medallion_credentials, medallion_server)  # noqa: F401


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    with medallion_server(tmp_path_factory.mktemp("medallion")) as s:
        yield s


pytestmark = pytest.mark.usefixtures("medallion_credentials")


def _obs(i: int, name: str, t: str = "2024-01-01T00:00:00.000Z"):
    pid = {"type": "process", "id": f"process--00000000-0000-4000-8000-{i:012d}", "pid": 100 + i,
           "name": name, "binary_ref": f"file--00000000-0000-4000-8000-{i:012d}"}
    f = {"type": "file", "id": pid["binary_ref"], "name": name}
    od = {"type": "observed-data", "spec_version": "2.1",
          "id": f"observed-data--00000000-0000-4000-8000-{i:012d}",
          "created": t, "modified": t, "first_observed": t, "last_observed": t,
          "number_observed": 1, "object_refs": [pid["id"], f["id"]]}
    return normalize_bundle([od, pid, f])[0]


def _demo_objects(size=8):
    from stixgraph.demo import caldera
    buf = io.BytesIO()
    caldera.generate(buf, size=size)
    return tc.observations_to_stix(normalize_bundle(orjson.loads(buf.getvalue())))


def test_uri_forms():
    assert tc.collection_url("taxii://h.example/api1/abc/") == \
        "https://h.example/api1/collections/abc/"
    assert tc.collection_url("taxii+http://127.0.0.1:5000/a/b/abc") == \
        "http://127.0.0.1:5000/a/b/collections/abc/"
    assert tc.collection_url("taxii://h/api1/collections/abc/") == \
        "https://h/api1/collections/abc/"
    assert tc.collection_url("https://h/api1/collections/abc") == \
        "https://h/api1/collections/abc/"
    with pytest.raises(DataSourceError):
        tc.collection_url("taxii://h/onlyone/")


def test_credentials_never_shown(monkeypatch):
    monkeypatch.setenv(tc.ENV_PASSWORD, "s3cret-pw")
    c = tc.credentials()
    assert c.user == USER and "s3cret" not in repr(c) and "s3cret" not in str(c)
    monkeypatch.setenv(tc.ENV_TOKEN, "tok-123")
    c = tc.credentials()
    assert c.token == "tok-123" and "tok-123" not in repr(c)
    r = c.auth()(type("R", (), {"headers": {}})())
    assert r.headers["Authorization"] == "Bearer tok-123"


def test_credentials_read_the_config_file_only_when_needed(monkeypatch, tmp_path):
    from stixgraph.sources import profiles

    reads: list[str] = []
    real = profiles.config_table

    def counting(section, *a, **kw):
        reads.append(section)
        return real(section, *a, **kw)

    monkeypatch.setattr(profiles, "config_table", counting)
    cfg = tmp_path / "config.toml"
    cfg.write_text('[taxii]\nuser = "file-user"\npassword = "file-pw"\n'
                   '[stixshifter.one]\nconnector = "splunk"\n')
    monkeypatch.setenv("STIXGRAPH_CONFIG", str(cfg))
    assert tc.credentials().user == USER and reads == []  # the environment's
    monkeypatch.delenv(tc.ENV_USER)
    assert tc.credentials({"token": "t"}).token == "t" and reads == []  # the source's
    c = tc.credentials()
    assert (c.user, c.password, c.origin, reads) == ("file-user", "file-pw", "config file",
                                                     ["taxii"])
    assert profiles.profile_names() == ["one"]  # the same reader, for profiles
    cfg.write_text('[taxii\nuser = "x"\n')
    with pytest.raises(tc.TaxiiError, match="cannot read the config file"):
        tc.credentials()
    assert profiles.profile_names() == []  # listing never fails
    with pytest.raises(DataSourceError, match="cannot read the config file"):
        profiles.load_profile("one")


def test_publish_demo_twice_no_duplicates(srv):
    objs = _demo_objects()
    url = srv.collection_url(WRITABLE)
    rep = tc.publish(objs, url)
    assert rep.ok and rep.succeeded == rep.total == len({o["id"] for o in objs}), rep.summary()
    assert srv.count(WRITABLE) == rep.total
    again = tc.publish(objs, url)
    assert again.ok and again.succeeded == 0 and again.present == rep.total
    assert again.envelopes == 0
    # without the manifest check medallion keeps no copy either, but says "failure"; the
    # publisher finds them present after all and reports no failure
    raw = tc.publish(objs[:5], url, dedupe=False)
    assert raw.ok and raw.present == 5 and raw.failed == 0, raw.summary()
    assert srv.count(WRITABLE) == rep.total
    # fetch returns exactly what was published
    back = {o["id"]: o for o in tc.fetch(url)}
    assert set(back) == {o["id"] for o in objs}


def test_envelopes_cut_to_max_content_length(srv):
    objs = tc.observations_to_stix([_obs(i, f"p{i}.exe") for i in range(30)])
    rep = tc.publish(objs, srv.collection_url(SMALL, "small"))
    assert rep.ok and rep.succeeded == len(objs) == 90
    assert rep.envelopes >= 90 * 250 // SMALL_LIMIT  # the server's 4000-byte limit was obeyed
    assert srv.count(SMALL, "small") == 90
    # an explicit lower limit cuts further; one object over it fails alone
    big = {"type": "x-big", "id": "x-big--00000000-0000-4000-8000-000000000001",
           "spec_version": "2.1", "blob": "a" * 5000}
    small = tc.observations_to_stix([_obs(99, "q.exe")])
    limit = max(len(orjson.dumps(o)) for o in small) + 20
    rep = tc.publish(small + [big], srv.collection_url(WRITABLE), max_content_length=limit)
    assert rep.succeeded == 3 and rep.failed == 1 and rep.envelopes >= 2
    assert rep.failures[0][0] == big["id"] and "max_content_length" in rep.failures[0][1]


def test_errors_one_line_without_secrets(srv, monkeypatch):
    monkeypatch.setenv(tc.ENV_PASSWORD, "wrong-s3cret")
    url = srv.collection_url(WRITABLE)
    for call in (lambda: tc.publish(_demo_objects(2), url), lambda: list(tc.fetch(url))):
        with pytest.raises(tc.TaxiiError) as e:
            call()
        msg = str(e.value)
        assert "\n" not in msg and "401" in msg and "wrong-s3cret" not in msg
        assert srv.base in msg
    monkeypatch.setenv(tc.ENV_PASSWORD, PASSWORD)
    with pytest.raises(tc.TaxiiError, match="404"):
        list(tc.fetch(srv.collection_url("no-such-collection")))
    with pytest.raises(tc.TaxiiError, match="read-only"):
        tc.publish(_demo_objects(2), srv.collection_url(READONLY))
    with pytest.raises(tc.TaxiiError, match="unreachable"):
        list(tc.fetch("taxii+http://127.0.0.1:1/api1/x/"))
    with pytest.raises(tc.TaxiiError, match="not a TAXII 2.1 answer|HTTP 40"):
        list(tc.fetch(f"{srv.base}/taxii2/collections/x/"))
    with pytest.raises(tc.TaxiiError) as e:
        tc.publish(_demo_objects(2), f"http://{USER}:{PASSWORD}@127.0.0.1:1/api1/collections/x/")
    assert PASSWORD not in str(e.value)


@pytest.fixture(scope="module")
def pulled(srv):
    obs = [_obs(i, "cmd.exe" if i % 3 == 0 else "explorer.exe",
                f"2024-01-01T00:00:{i:02d}.000Z") for i in range(1, 13)]
    objs = tc.observations_to_stix(obs)
    indicator = {"type": "indicator", "spec_version": "2.1",
                 "id": "indicator--00000000-0000-4000-8000-000000000001",
                 "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
                 "pattern": "[process:name = 'cmd.exe']", "pattern_type": "stix",
                 "valid_from": "2024-01-01T00:00:00Z"}
    rep = tc.publish(objs + [indicator], srv.collection_url(PULL),
                     creds=tc.Credentials(USER, PASSWORD))
    assert rep.ok
    return obs


def _names(s, var):
    t = [d for d in s.run(f"DISP {var} ATTR name, pid SORT BY pid ASC") if isinstance(d, Table)]
    return t[-1].rows


def test_get_from_taxii(srv, pulled):
    s = Session(":memory:")
    s.run(f"p = GET process FROM {srv.uri(PULL)} WHERE name = 'cmd.exe'")
    assert _names(s, "p") == [["cmd.exe", 100 + i] for i in (3, 6, 9, 12)]
    # files have deterministic ids: one explorer.exe file, seen by 8 observations
    s.run(f"f = GET file FROM {srv.uri(PULL)} WHERE name = 'explorer.exe'")
    assert _names(s, "f") == [["explorer.exe", None]]
    s.run("e = FIND process LINKED f")
    assert len(_names(s, "e")) == 8
    # the observation's other objects came along: process -> binary file
    s.run("b = FIND file LINKED p")
    assert _names(s, "b") == [["cmd.exe", None]]


def test_paging_and_added_after(srv, pulled):
    url = srv.collection_url(PULL)
    stats: dict = {}
    got = list(tc.fetch(url, types=["process"], page_size=5, stats=stats))
    assert len(got) == 12 and stats["pages"] == 3
    assert {o["type"] for o in got} == {"process"}
    # the data source pages too
    s = Session(":memory:", source_config={srv.uri(PULL): {"page_size": 2}})
    s.run(f"p = GET process FROM {srv.uri(PULL)} WHERE name = 'cmd.exe'")
    assert len(_names(s, "p")) == 4
    # added_after: nothing after now; everything after an hour ago
    now = datetime.now(timezone.utc)
    assert list(tc.fetch(url, added_after=now + timedelta(seconds=1))) == []
    assert len(list(tc.fetch(url, added_after=now - timedelta(hours=1)))) == 27  # 12 od + 12 processes + 2 files + indicator
    # newer objects only, through the URI query
    late = tc.observations_to_stix([_obs(50, "cmd.exe", "2024-01-01T00:00:50.000Z")])
    mark = datetime.now(timezone.utc)
    r = tc.publish(late, url)
    assert r.succeeded == 2 and r.present == 1  # the cmd.exe file was there already
    s = Session(":memory:")
    s.run(f"p = GET process FROM {srv.uri(PULL)}?added_after={tc._ts(mark)} "
          "WHERE name = 'cmd.exe'")
    assert _names(s, "p") == [["cmd.exe", 150]]


def test_cli_push_then_pull(srv, tmp_path):
    """`stixgraph taxii push FILE --collection URL` then `stixgraph taxii pull URL` into a
    store: the same observations come back; pushing again sends nothing."""
    from click.testing import CliRunner

    from stixgraph.cli import main
    from stixgraph.session import Session
    from taxii_servers import CLI

    obs = [_obs(i, "cmd.exe" if i % 2 else "net.exe") for i in range(40, 46)]
    bundle = tmp_path / "b.json"
    bundle.write_bytes(orjson.dumps({"type": "bundle", "id": "bundle--" + "0" * 8 + "-0000-4000-8000-"
                                     + "0" * 12, "objects": tc.observations_to_stix(obs)}))
    url = srv.collection_url(CLI)
    env = {tc.ENV_USER: USER, tc.ENV_PASSWORD: PASSWORD}
    r = CliRunner().invoke(main, ["taxii", "push", str(bundle), "--collection", url], env=env)
    assert r.exit_code == 0, r.output
    # 6 observed-data, 6 processes, 2 files (deterministic ids: one per name)
    assert "14 added, 0 already there, 0 failed" in r.stdout and PASSWORD not in r.output
    r = CliRunner().invoke(main, ["taxii", "push", str(bundle), "--collection", url], env=env)
    assert "0 added, 14 already there" in r.stdout
    store = str(tmp_path / "s.db")
    r = CliRunner().invoke(main, ["taxii", "pull", url, "--store", store], env=env)
    assert r.exit_code == 0, r.output
    assert "14 objects, 6 observations stored" in r.stdout
    s = Session(store)
    s.run(f"p = GET process FROM file://{bundle} WHERE name = 'cmd.exe'")
    assert s.vars["p"].entities == 3
    got = s.store.db.execute("SELECT COUNT(*) FROM observations").fetchone()[0]
    assert got == 6  # the file's observations are the pulled ones: stored once
    r = CliRunner().invoke(main, ["taxii", "push", str(tmp_path / "nope.json"), "--collection",
                                  url, "--store", store], env=env)
    assert r.exit_code == 1 and "nope.json" in r.stderr
    # a variable: the observations holding its entities, with their objects; all present
    # already, so nothing is sent and nothing fails
    s.store.close()
    r = CliRunner().invoke(main, ["taxii", "push", "p", "--collection", url, "--store", store],
                           env=env)
    assert r.exit_code == 0, r.output
    assert "0 added, 7 already there, 0 failed" in r.stdout  # 3 observed-data, 3 procs, 1 file
