"""APPLY on every backend: a Kestrel v1 python analytic runs unchanged (profile file, parameters
as environment variables, DataFrame in and out), its attributes land on the stored entities
for every variable that holds them, displays come back, failures change nothing."""
from __future__ import annotations

import io
import os

import pytest

from bundles import bundle20, proc_obs, write
from stixgraph.display import Message, Table, Visual
from stixgraph.errors import HuntSemanticError
from stixgraph.output import Renderer

KESTREL_ANALYTIC = '''
import os
import pandas as pd

def analytics(df):
    # a Kestrel v1 python analytic: parameters arrive as environment variables
    factor = int(os.environ["factor"])
    df["x_score"] = df["pid"] * factor
    df["x_from_cwd"] = open("marker.txt").read().strip()  # cwd is the module's folder
    return df

def two(df1, df2):
    return df1, df2

def show(df):
    return "<html><body>%d rows</body></html>" % len(df)

def boom(df):
    df["x_half"] = 1
    raise ValueError("the analytic broke")

def wrong_count(df):
    return df, df
'''


@pytest.fixture
def s(make_session, tmp_path, monkeypatch):
    mod = tmp_path / "analytics" / "mine.py"
    mod.parent.mkdir()
    mod.write_text(KESTREL_ANALYTIC)
    (mod.parent / "marker.txt").write_text("from the module folder\n")
    profiles = tmp_path / "pythonanalytics.yaml"
    profiles.write_text("profiles:\n" + "".join(
        f"  {name}:\n    module: {mod}\n    func: {func}\n"
        for name, func in (("mine", "analytics"), ("two", "two"), ("show", "show"),
                           ("boom", "boom"), ("wrong", "wrong_count"))))
    monkeypatch.setenv("KESTREL_PYTHON_ANALYTICS_CONFIG", str(profiles))
    sess = make_session()
    uri = write(tmp_path / "b.json", bundle20([
        proc_obs(100, "cmd.exe", "cmd /c whoami"), proc_obs(200, "powershell.exe", "iwr"),
        proc_obs(300, "whoami.exe", "whoami")]))
    sess.run(f'procs = GET process FROM "{uri}" WHERE pid > 0\n'
             "cmds = procs WHERE name = 'cmd.exe'")
    return sess


def rows(s, text):
    return [d for d in s.run(text) if isinstance(d, Table)][-1].rows


def test_a_kestrel_python_analytic_runs_unchanged_and_every_variable_sees_its_attributes(s):
    cwd, env = os.getcwd(), dict(os.environ)
    out = s.run("APPLY python://mine ON procs WITH factor=3")
    assert os.getcwd() == cwd and "factor" not in os.environ and dict(os.environ) == env
    assert any(isinstance(d, Message) and "3 entities updated (x_from_cwd, x_score)" in d.text
               for d in out)
    assert sorted(rows(s, "DISP procs ATTR pid, x_score")) == [[100, 300], [200, 600], [300, 900]]
    # cmds was made before APPLY and holds one of the same entities
    assert rows(s, "DISP cmds ATTR pid, x_score, x_from_cwd") == [
        [100, 300, "from the module folder"]]
    assert rows(s, "high = procs WHERE x_score > 500\nDISP high ATTR pid SORT BY pid ASC") == [
        [200], [300]]


def test_a_failing_analytic_changes_nothing(s):
    with pytest.raises(HuntSemanticError, match=r"line 1.*the analytic broke|the analytic broke"):
        s.run("APPLY python://boom ON procs")
    kept = rows(s, "DISP procs ATTR pid, x_half")
    assert len(kept) == 3 and all(r[1] is None for r in kept)
    with pytest.raises(HuntSemanticError, match="returned 2 DataFrames for 1 input"):
        s.run("APPLY python://wrong ON procs")
    assert s.vars["procs"].entities == 3


def test_two_variables_and_an_html_display(s, tmp_path):
    s.run("APPLY python://two ON procs, cmds")
    out = s.run("APPLY python://show ON procs")
    vis = [d for d in out if isinstance(d, Visual)]
    assert len(vis) == 1 and vis[0].html == "<html><body>3 rows</body></html>"
    buf = io.StringIO()
    Renderer(buf, display_dir=tmp_path / "shown").write(vis[0])
    written = list((tmp_path / "shown").iterdir())
    assert [p.read_text() for p in written] == ["<html><body>3 rows</body></html>"]
    assert str(written[0]) in buf.getvalue()


def test_unknown_scheme_and_missing_variable(s):
    with pytest.raises(HuntSemanticError, match="unknown analytics scheme 'ftp'"):
        s.run("APPLY ftp://x ON procs")
    with pytest.raises(HuntSemanticError, match="unknown variable|nope"):
        s.run("APPLY python://mine ON nope WITH factor=1")


def test_the_builtins_run_through_apply_and_docker_falls_back_once(make_session, tmp_path):
    """The seed's cells as written (docker://) run the built-ins in-process when no Docker
    engine answers, saying so once; their attributes are stored, their displays returned."""
    s = make_session()
    uri = write(tmp_path / "b.json", bundle20([
        proc_obs(100, "cmd.exe", 'net user /add "Alex"', dst="140.82.114.3"),
        proc_obs(200, "svchost.exe", "svchost.exe -k netsvcs", dst="10.1.2.3")]))
    s.run(f'procs = GET process FROM "{uri}" WHERE pid > 0\n'
          "nt = FIND network-traffic CREATED BY procs")
    from stixgraph.analytics.runner import docker_available

    if docker_available():
        pytest.skip("a Docker engine answers here: docker:// would run Kestrel's images")
    out = s.run("APPLY docker://susp_scoring ON procs")
    notes = [d.text for d in out if isinstance(d, Message)]
    assert any("no Docker engine; running stixgraph's built-in 'susp_scoring'" in n
               for n in notes)
    scores = dict(rows(s, "DISP procs ATTR pid, x_suspicious_score"))
    assert scores[100] > 0.5 > scores[200]
    again = [d.text for d in s.run("APPLY docker://susp_scoring ON procs")
             if isinstance(d, Message)]
    assert not any("no Docker engine" in n for n in again)  # said once per session
    out = s.run("APPLY python://attribute-plot ON nt WITH XPARAM=dst_port")
    vis = [d for d in out if isinstance(d, Visual)]
    assert vis and vis[0].png.startswith(b"\x89PNG") and vis[0].html
    out = s.run("APPLY docker://domainnamelookup ON nt WITH resolver='127.0.0.1:9', rdap=off, "
                "timeout=1")
    assert any("lookups failed" in d.text for d in out if isinstance(d, Message))
    assert all(r[1] == "" for r in rows(s, "DISP nt ATTR dst_port, x_domain_name"))
