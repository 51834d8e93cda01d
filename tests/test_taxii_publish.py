"""GET ... with publishing on (``Session(publish=URL)``, ``stixgraph hunt --publish URL``, a
stix-shifter profile's ``publish`` option): what a GET pulls from a data source goes to a
TAXII 2.1 collection (medallion 3.0.0 on loopback, :mod:`taxii_servers`), once; a failed
publish is a one-line warning that keeps the GET; GET from a variable publishes nothing."""
from __future__ import annotations

import json

import pytest
import requests
from click.testing import CliRunner

from bundles import bundle20, proc_obs, write
from stixgraph.cli import main
from stixgraph.display import Message, Table
from stixgraph.errors import DataSourceError
from stixgraph.session import Session
from stixgraph.sources.bundle import BundleSource
from stixgraph.sources.profiles import load_profile
from stixgraph.taxii import client as tc
from taxii_servers import (CLI, PASSWORD, PULL, READONLY, USER, WRITABLE,  # noqa: F401
                           medallion_credentials, medallion_server)



@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    with medallion_server(tmp_path_factory.mktemp("medallion-publish")) as s:
        yield s


pytestmark = pytest.mark.usefixtures("medallion_credentials")


@pytest.fixture
def bundle(tmp_path):
    """Two observations; only the first has a cmd.exe (and a network connection)."""
    return write(tmp_path / "b.json", bundle20([
        proc_obs(100, "cmd.exe", "whoami", dst="140.82.114.3"), proc_obs(200, "ps.exe", "x")]))


def _held(url: str) -> list[str]:
    """The ids the collection holds, through the repo's fetch."""
    return [o["id"] for o in tc.fetch(url, creds=tc.Credentials(USER, PASSWORD))]


def _expected(bundle_uri: str, name: str) -> set[str]:
    """The ids a GET of ``process WHERE name = NAME`` pulls from the bundle: its observations
    (normalised, as the file source reads them) and their SCOs."""
    from stixgraph.sources.base import SourceQuery
    from stixgraph import ir

    q = SourceQuery(uri=bundle_uri, etype="process", where=ir.Comparison(
        ir.AttrPath(("name",)), "=", name), stix_pattern="", start=None, stop=None, limit=None)
    ds = BundleSource(bundle_uri)
    try:
        obs = list(ds.query(q))
    finally:
        ds.close()
    assert obs
    return {o.id for o in obs} | {i for o in obs for i in o.objects}


def _said(out, what: str = "publish") -> list[Message]:
    return [d for d in out if isinstance(d, Message) and what in d.text]


def _versions(url: str) -> int:
    """Every version the collection holds (one page: medallion cannot page this query)."""
    r = requests.get(url + "objects/", params={"match[version]": "all", "limit": 1000},
                     auth=(USER, PASSWORD), headers={"Accept": tc.TAXII_MEDIA}, timeout=10)
    r.raise_for_status()
    assert not r.json().get("more")
    return len(r.json().get("objects") or [])


def test_a_get_publishes_what_it_pulled_once(srv, bundle, monkeypatch):
    url = srv.collection_url(WRITABLE)
    reports: list = []

    def spy(*a, **kw):
        reports.append(publish(*a, **kw))
        return reports[-1]

    publish = tc.publish
    monkeypatch.setattr(tc, "publish", spy)
    want = _expected(bundle, "cmd.exe")
    assert {i.split("--")[0] for i in want} >= {"observed-data", "process", "file",
                                                 "ipv4-addr", "network-traffic"}
    assert srv.count(WRITABLE) == 0
    s = Session(":memory:", publish=url)
    out = s.run(f"p = GET process FROM \"{bundle}\" WHERE name = 'cmd.exe'")
    msgs = [d for d in out if isinstance(d, Message)]
    # one line, the statement's last message
    assert msgs[-1].text == f"published {len(want)} objects to {url} (0 already there, 0 failed)"
    assert msgs[-1].level == "info" and len(_said(out)) == 1
    held = _held(url)
    assert set(held) == want and len(held) == len(want) == srv.count(WRITABLE)
    # ps.exe's observation was not pulled by this GET: not published
    assert not any("ps.exe" in json.dumps(o) for o in tc.fetch(url))
    # the same hunt again, in a new session: nothing added, nothing failed
    s2 = Session(":memory:", publish=url)
    out = s2.run(f"p = GET process FROM \"{bundle}\" WHERE name = 'cmd.exe'")
    assert [m.text for m in _said(out)] == [
        f"published 0 objects to {url} ({len(want)} already there, 0 failed)"]
    assert srv.count(WRITABLE) == len(want) and sorted(_held(url)) == sorted(held)
    assert _versions(url) == len(want)  # no second version of anything
    assert [r.envelopes for r in reports] == [1, 0]  # the manifest said: nothing to send
    # a GET from a variable, an assignment: no data source, nothing published
    out = s2.run("q = GET process FROM p WHERE pid = 100\nr = p WHERE pid = 100")
    assert _said(out) == [] and s2.vars["q"].entities == 1
    assert srv.count(WRITABLE) == len(want)


def test_hunt_publish_option(srv, bundle, tmp_path):
    url = srv.collection_url(CLI)
    want = _expected(bundle, "cmd.exe") | _expected(bundle, "ps.exe")
    hunt = tmp_path / "h.hf"
    hunt.write_text(f'p = GET process FROM "{bundle}" WHERE pid > 0\nDISP p ATTR name\n')
    args = ["hunt", "--store", ":memory:", "--publish", url, str(hunt)]
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 0, r.output
    line = f"info: published {len(want)} objects to {url} (0 already there, 0 failed)"
    assert line in r.stdout.splitlines() and PASSWORD not in r.output
    # after the GET's output, before the next statement's
    assert r.stdout.index(line) < r.stdout.index("cmd.exe")
    assert set(_held(url)) == want and srv.count(CLI) == len(want)
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 0, r.output
    assert (f"info: published 0 objects to {url} ({len(want)} already there, 0 failed)"
            in r.stdout.splitlines())
    assert srv.count(CLI) == len(want)


def test_a_bad_publish_url_is_refused_before_the_hunt(bundle, tmp_path):
    with pytest.raises(DataSourceError, match="not a TAXII collection URI"):
        Session(":memory:", publish="ftp://h/x/")
    hunt = tmp_path / "h.hf"
    hunt.write_text(f'p = GET process FROM "{bundle}" WHERE pid > 0\n')
    r = CliRunner().invoke(main, ["hunt", "--store", ":memory:", "--publish", "ftp://h/x/",
                                  str(hunt)])
    assert r.exit_code == 1 and "not a TAXII collection URI" in r.stderr


@pytest.mark.parametrize("case", ["401", "unreachable", "read-only"])
def test_a_failed_publish_warns_and_keeps_the_get(srv, bundle, monkeypatch, case):
    url = srv.collection_url(WRITABLE)
    secret = PASSWORD
    if case == "401":
        secret = "wrong-Secret-9"
        monkeypatch.setenv(tc.ENV_PASSWORD, secret)
    elif case == "unreachable":  # credentials in the URL are not shown either
        url = f"http://{USER}:{PASSWORD}@127.0.0.1:1/api1/collections/{WRITABLE}/"
    else:
        url = srv.collection_url(READONLY)
    before = srv.count(WRITABLE)
    s = Session(":memory:", publish=url)
    out = s.run(f"p = GET process FROM \"{bundle}\" WHERE pid > 0")  # does not raise
    [warn] = _said(out)
    assert warn.level == "warning" and "\n" not in warn.text
    assert warn.text.startswith(f"publishing to {tc.redact(url)} failed, p and its data are "
                                "kept: ")
    assert {"401": "401", "unreachable": "unreachable", "read-only": "read-only"}[case] in warn.text
    assert secret not in warn.text and PASSWORD not in warn.text
    assert s.vars["p"].entities == 2
    rows = [d for d in s.run("DISP p ATTR name SORT BY name ASC") if isinstance(d, Table)]
    assert [r[0] for r in rows[-1].rows] == ["cmd.exe", "ps.exe"]
    assert srv.count(WRITABLE) == before


def test_a_failed_publish_in_a_hunt_is_one_warning_line(srv, bundle, tmp_path, monkeypatch):
    monkeypatch.setenv(tc.ENV_PASSWORD, "wrong-Secret-9")
    hunt = tmp_path / "h.hf"
    hunt.write_text(f'p = GET process FROM "{bundle}" WHERE pid > 0\nDISP p ATTR pid\n')
    r = CliRunner().invoke(main, ["hunt", "--store", ":memory:", "--publish",
                                  srv.collection_url(WRITABLE), str(hunt)])
    assert r.exit_code == 0, r.output
    warn = [ln for ln in r.output.splitlines() if ln.startswith("warning: publishing")]
    assert len(warn) == 1 and "401" in warn[0] and "wrong-Secret-9" not in r.output
    assert "200" in r.stdout  # the next statement ran on the GET's data


# -- the profile option ----------------------------------------------------------------------

def test_profile_publish_option_in_the_config_file(tmp_path, monkeypatch):
    cfg = tmp_path / "config.toml"
    monkeypatch.setenv("STIXGRAPH_CONFIG", str(cfg))
    table = ('[stixshifter.pubtoml]\nconnector = "splunk"\nconfig = {{ auth = {{ username = "u",'
             ' password = "p" }} }}\n[stixshifter.pubtoml.connection]\nhost = "127.0.0.1"\n'
             'port = 1\noptions = {{ publish = {} }}\n')
    cfg.write_text(table.format('"taxii://h.example/api1/coll/"'))
    p = load_profile("pubtoml")
    assert p.retrieval["publish"] == "taxii://h.example/api1/coll/"
    assert "publish" not in p.connection["options"]  # not passed on to stix-shifter
    cfg.write_text(table.format('"ftp://h/x/"'))
    with pytest.raises(DataSourceError, match=r"\[stixshifter.pubtoml\].*publish"):
        load_profile("pubtoml")
    cfg.write_text(table.format("5"))
    with pytest.raises(DataSourceError, match="publish must be a TAXII collection URL"):
        load_profile("pubtoml")
    cfg.write_text(table.format('"taxii://h.example/api1/coll/"').replace(
        "options = { publish", "options = { prefetch = false, publish"))
    assert load_profile("pubtoml").retrieval["publish"]  # other options alongside


def test_a_profile_publishes_its_gets(srv, bundle, monkeypatch, tmp_path):
    """The profile's GETs (prefetched records included) go to its collection; a GET from
    another source in the same session does not."""
    from test_stixshifter_e2e import NOW, PREFETCH_ROWS, SPAN

    from stixgraph.demo.run import splunk_profile
    from stixgraph.splunk.emulator import Emulator
    from stixgraph.splunk.events import EventStore

    url = srv.collection_url(PULL)
    with Emulator(EventStore(PREFETCH_ROWS), now=NOW) as emu, \
            splunk_profile(emu, options={"retry_backoff": 0.01, "publish": url}):
        s = Session(":memory:", now=NOW)
        out = s.run(f"p = GET process FROM splunk WHERE command_line LIKE '%LaZagne%' {SPAN}")
        assert s.vars["p"].records == 4  # the creation event + 3 prefetched records
        [said] = _said(out)
        assert said.level == "info" and said.text.startswith("published ")
        assert said.text.endswith(f" objects to {url} (0 already there, 0 failed)")
        n = int(said.text.split()[1])
        held = _held(url)
        assert n == len(held) == srv.count(PULL)
        mine = s.store.observations_of("p")
        assert {o.id for o in mine} == {i for i in held if i.startswith("observed-data--")}
        assert len(mine) == 4
        assert {i for o in mine for i in o.objects} <= set(held)
        out = s.run(f"f = GET process FROM \"{bundle}\" WHERE pid > 0")  # not the profile
        assert _said(out) == [] and srv.count(PULL) == n
        out = s.run(f"p2 = GET process FROM splunk WHERE command_line LIKE '%LaZagne%' {SPAN}")
        assert [m.text for m in _said(out)] == [
            f"published 0 objects to {url} ({n} already there, 0 failed)"]
        assert srv.count(PULL) == n
