"""The seed notebook's hunts, as written (stixgraph/demo/hunts/*.hf), run end to end on the demo
bundle the project generates (stixgraph.demo.caldera), with answers known in advance
(caldera.FACTS).  ``FROM stixshifter://splunk`` is pointed at the bundle, as ``make demo``
does with ``--source splunk=...``.

As in the notebook (and ``make demo``), the hunts share one store and run in order: FIND never
re-queries the data source (no Kestrel prefetch), so a pivot sees what earlier GETs brought in.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from stixgraph.demo import caldera
from stixgraph.display import Summary, Table
from stixgraph.session import Session

HUNTS = Path(__file__).resolve().parents[1] / "stixgraph" / "demo" / "hunts"
F = caldera.FACTS


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    path = tmp_path_factory.mktemp("demo") / "caldera.json"
    caldera.generate(str(path), size=3000, seed=808)
    return "file://" + str(path)


@pytest.fixture(scope="module", params=["sqlite"])
def results(bundle, request):
    """Every example hunt, in order, on one store: {file name: displays}."""
    s = Session(":memory:", now=caldera.DEMO_NOW, sources={"splunk": bundle})
    out = {}
    for path in sorted(HUNTS.glob("*.hf")):
        displays = out[path.name] = s.run(path.read_text(), path.name)
        # later hunts rebind names (procs, nt): keep each hunt's variables as it left them
        out[path.name + ":vars"] = {v.variable: s.store.records(v.variable)
                                    for v in displays[-1].variables}
    out["session"] = s
    yield out
    s.store.close()


@pytest.fixture
def hunt(results):
    def run(name):
        return results[name]

    run.session = results["session"]
    run.vars = lambda name: results[name + ":vars"]
    return run


def tables(displays):
    return [d for d in displays if isinstance(d, Table)]


def col(table, name):
    i = table.columns.index(name)
    return [r[i] for r in table.rows]


def test_t1016(hunt):
    out = hunt("01_t1016_network_config_discovery.hf")
    t, = tables(out)
    assert sorted(col(t, "pid")) == sorted(F["t1016"]["pids"])
    assert set(col(t, "name")) == {"cmd.exe"}
    assert isinstance(out[-1], Summary) and out[-1].variables[0].variable == "t1016_instances"


def test_t1518(hunt):
    t, = tables(hunt("02_t1518_antivirus_discovery.hf"))
    assert sorted(col(t, "pid")) == sorted(F["t1518"]["pids"])


def test_external_443_pivot(hunt):
    out = hunt("04_external_443_pivot.hf")
    v = hunt.vars("04_external_443_pivot.hf")
    nt, procs, users, files = tables(out)
    assert len(v["nt"]) == F["nt_external_443"]["entities"]
    flows = sorted([r[1], r[2]] for r in nt.rows)
    assert flows == sorted(F["nt_external_443"]["flows"])
    assert all(r[0] == F["host"]["ip"] and r[3] == 443 for r in nt.rows)
    assert sorted(r["value"] for r in v["ips"]) == F["nt_ips"]["values"]
    assert sorted(r["pid"] for r in v["procs"]) == sorted(F["nt_procs"]["pids"])
    assert {r[0] for r in users.rows} == set(F["nt_procs"]["owners"])
    # files LINKED to those processes: the observations earlier GETs brought in hold them
    # (no prefetch); the seed's Kestrel listed more through its prefetch re-query
    names = {r[0] for r in files.rows}
    assert set(F["nt_proc_files"]["in_nt_observations"]) <= names <= set(F["nt_proc_files"]["names"])


def test_user_accounts(hunt):
    t, = tables(hunt("06_user_accounts.hf"))
    assert sorted(col(t, "user_id")) == sorted(F["users"]["user_ids"])
    ids = dict(zip(col(t, "user_id"), col(t, "id")))
    assert ids == F["users"]["ids"]  # the seed's own STIX 2.1 ids, recomputed


def test_staging_processes(hunt):
    out = hunt("08_staging_processes.hf")
    procs, aggr, nt_ts = tables(out)
    assert sorted(col(procs, "pid")) == sorted(F["procs_exfil"]["pids"])
    assert aggr.columns == ["unique_name", "unique_pid", "unique_command_line"]
    v = hunt.vars("08_staging_processes.hf")
    assert {r["name"] for r in v["parent_procs_exfil"]} == set(F["parent_procs_exfil"]["names"])
    assert [r["name"] for r in v["aggr"]] == F["parent_procs_exfil"]["names"]
    flows = sorted([r[2], r[3]] for r in nt_ts.rows)
    assert flows == sorted(F["nt_exfil"]["flows"])
    assert all(r[0] == '["ip","tcp"]' for r in nt_ts.rows)


def test_exfiltration_commands(hunt):
    t, = tables(hunt("09_exfiltration_commands.hf"))
    assert t.columns[:3] == ["first_observed", "pid", "name"]
    assert sorted(r[:3] for r in t.rows) == sorted(F["exfil_cmd"]["rows"])


def test_timeline_records(hunt):
    summary = hunt("07_traffic_timeline.hf")[-1]
    rows = {v.variable: v for v in summary.variables}
    assert rows["conns_all"].entities == F["nt_external_443"]["entities"]
    assert rows["conns_ts"].entities == rows["conns_all"].entities
    assert rows["conns_ts"].records == rows["conns_all"].records


def test_every_example_hunt_runs(results):
    for path in sorted(HUNTS.glob("*.hf")):
        assert isinstance(results[path.name][-1], Summary), path.name

