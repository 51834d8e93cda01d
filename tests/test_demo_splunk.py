"""``stixgraph demo`` end to end: the seed's hunts as written, through the real stix-shifter
splunk module, against the Splunk emulator serving the demo scenario as CIM events (what
``make demo`` prints).  The answers are the seed's findings (caldera.FACTS)."""
from __future__ import annotations

import re

import pytest

import stix_shifter_modules.splunk  # noqa: F401 - a dependency: fail loudly when missing

from stixgraph.demo import caldera, run as demo_run  # noqa: E402
from stixgraph.display import Message, Summary, Table, Visual  # noqa: E402

from analytic_pages import page_data, plotted, unpinned_rows
from dns_rdap_servers import DEMO_PTRS, DEMO_RDAP, FakeDNS, FakeRDAP, SilentDNS, dead_port

F = caldera.FACTS


def _run(hunts=None) -> dict[str, list]:
    """{hunt file name: [displays]} of a demo run (all hunts, as `make demo` runs them)."""
    out: dict[str, list] = {}
    current: list = []

    def announce(name):
        current.append(name)
        out[name] = []

    demo_run.run(":memory:", size=caldera.DEFAULT_SIZE, seed=caldera.DEFAULT_SEED,
                 write=lambda d: out[current[-1]].append(d), announce=announce, hunts=hunts)
    return out


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """One demo run, its reverse DNS and RDAP answered by loopback servers holding the seed's
    answers for the scenario's GitHub addresses."""
    with FakeDNS(DEMO_PTRS) as dns, FakeRDAP(DEMO_RDAP) as rdap, pytest.MonkeyPatch.context() as mp:
        mp.setenv("STIXGRAPH_CONFIG", str(tmp_path_factory.mktemp("cfg") / "none.toml"))
        mp.setenv("STIXGRAPH_DNS", dns.address)
        mp.setenv("STIXGRAPH_RDAP", rdap.url)
        return _run()


def _tables(displays) -> list[Table]:
    return [d for d in displays if isinstance(d, Table)]


def _col(t: Table, name: str) -> list:
    i = t.columns.index(name)
    return [r[i] for r in t.rows]


def test_every_hunt_ends_with_its_summary(demo):
    assert [p.name for p in demo_run.hunt_files()] == list(demo)
    for name, displays in demo.items():
        summaries = [d for d in displays if isinstance(d, Summary)]
        assert len(summaries) == 1 and summaries[0].variables, name


def test_t1016_and_t1518_processes(demo):
    t, = _tables(demo["01_t1016_network_config_discovery.hf"])
    assert sorted(_col(t, "pid")) == sorted(F["t1016"]["pids"])
    assert any("ipconfig /all && netsh interface show interface && arp -a" in c
               for c in _col(t, "command_line"))
    t, = _tables(demo["02_t1518_antivirus_discovery.hf"])
    assert sorted(_col(t, "pid")) == sorted(F["t1518"]["pids"])
    assert any("SecurityCenter2" in c for c in _col(t, "command_line"))


def test_github_connections_lead_to_lazagne_and_sharpshares(demo):
    nt, procs, users, files = _tables(demo["04_external_443_pivot.hf"])
    assert sorted([r[1], r[2]] for r in nt.rows) == sorted(F["nt_external_443"]["flows"])
    # the processes come from the network events; their command lines from their creation
    # events, which the FIND's prefetch brings in (as Kestrel did for the seed)
    cmds = " ".join(_col(procs, "command_line"))
    assert "LaZagne.exe" in cmds and "SharpShares.exe" in cmds
    assert set(_col(procs, "x_original_file_name")) == {"PowerShell.EXE"}
    assert users.rows == []  # the splunk mapping puts users on events: the seed's cell too
    assert {r[0] for r in files.rows} == set(F["nt_proc_files"]["names"])


def test_suspicious_processes_and_user_accounts(demo):
    t, = _tables(demo["05_suspicious_scoring.hf"])
    scores = dict(zip(_col(t, "command_line"), _col(t, "x_suspicious_score")))
    # the seed's two (cmd.exe net user /add "Alex", whoami.exe) score above 0.9 ...
    assert scores[caldera.CMD_T1136] > 0.9 and scores[caldera.WHOAMI] > 0.9
    # ... and so does the credential dumping Kestrel's scorer missed: LaZagne.exe and the
    # cmd.exe that ran it; nothing else does
    others = set(scores) - {caldera.CMD_T1136, caldera.WHOAMI}
    assert others and all("LaZagne.exe" in c for c in others), others
    assert all(s > 0.9 for s in scores.values())
    t, = _tables(demo["06_user_accounts.hf"])
    assert sorted(_col(t, "user_id")) == sorted(F["users"]["user_ids"])
    assert dict(zip(_col(t, "user_id"), _col(t, "id"))) == F["users"]["ids"]


def test_staging_and_exfiltration(demo):
    procs, aggr, nt_ts = _tables(demo["08_staging_processes.hf"])
    assert sorted(_col(procs, "pid")) == sorted(F["procs_exfil"]["pids"])
    assert sorted([r[2], r[3]] for r in nt_ts.rows) == sorted(F["nt_exfil"]["flows"])
    t, = _tables(demo["09_exfiltration_commands.hf"])
    assert sorted(r[:3] for r in t.rows) == sorted(F["exfil_cmd"]["rows"])
    cmds = " ".join(_col(t, "command_line"))
    assert "curl.exe\" -T" in cmds and "7z.exe\" a" in cmds


def _visual(displays) -> Visual:
    v, = [d for d in displays if isinstance(d, Visual)]
    return v


def test_apply_cells_run_offline_as_written(demo):
    """The seed's four analytics, each run as its cell wrote it (docker:// falls back to the
    built-in, and says so)."""
    notes = [d.text for ds in demo.values() for d in ds if isinstance(d, Message)]
    for name in ("pinip", "domainnamelookup", "susp_scoring"):
        assert sum(f"docker://{name}: no Docker engine" in n for n in notes) == 1, name
    # pinip: the six GitHub addresses pinned on one map, the host's private address listed
    page = _visual(demo["03_external_443_map.hf"]).html
    assert sorted(a["ip"] for p in page_data(page)["points"] for a in p["addresses"]) == \
        F["nt_external_443"]["dst_ips"]
    assert unpinned_rows(page) == {F["host"]["ip"]: "private"}
    # the traffic timeline counts every timestamped connection once
    conns = sum(n for _, n in plotted(_visual(demo["07_traffic_timeline.hf"]).html))
    summary, = [d for d in demo["07_traffic_timeline.hf"] if isinstance(d, Summary)]
    assert conns == {v.variable: v.entities for v in summary.variables}["conns_ts"] > 0
    # the exfiltration traffic is all outbound
    assert plotted(_visual(demo["08_staging_processes.hf"]).html) == [
        ("outbound", len(F["nt_exfil"]["flows"]))]


def test_domain_names_and_organisations(demo):
    """The seed's DISP after domainnamelookup: each GitHub address with its PTR and registrant."""
    nt = _tables(demo["04_external_443_pivot.hf"])[0]
    assert nt.columns[-2:] == ["x_domain_name", "x_domain_organization"]
    for dst, name, org in zip(_col(nt, "dst_ref.value"), _col(nt, "x_domain_name"),
                              _col(nt, "x_domain_organization")):
        assert name == DEMO_PTRS[dst]
        assert org == ("GitHub, Inc. (GITHU)" if dst.startswith("140.82.")
                       else "GitHub, Inc (ORG-GI58-RIPE)")


def test_offline_lookups_fail_and_the_hunt_goes_on(tmp_path, monkeypatch):
    """No DNS answer and no RDAP server: the lookups fail, one note counts them, the addresses
    keep "", and the rest of the hunt runs."""
    monkeypatch.setenv("STIXGRAPH_CONFIG", str(tmp_path / "none.toml"))
    monkeypatch.setenv("STIXGRAPH_RDAP", f"http://127.0.0.1:{dead_port()}")
    monkeypatch.setenv("STIXGRAPH_DNS_TIMEOUT", "0.5")
    with SilentDNS() as dns:
        monkeypatch.setenv("STIXGRAPH_DNS", dns.address)
        out = _run([demo_run.HUNTS_DIR / "04_external_443_pivot.hf"])["04_external_443_pivot.hf"]
    n = len(F["nt_external_443"]["dst_ips"])
    assert any(d.text.startswith(f"domainnamelookup: {2 * n} of {2 * n} lookups failed")
               for d in out if isinstance(d, Message)), out
    nt, procs, users, files = _tables(out)
    assert set(_col(nt, "x_domain_name")) == {""} and set(_col(nt, "x_domain_organization")) == {""}
    assert {r[0] for r in files.rows} == set(F["nt_proc_files"]["names"])


def test_cli_demo_writes_each_hunts_displays_to_its_folder(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from stixgraph.cli import main

    monkeypatch.setenv("STIXGRAPH_CONFIG", str(tmp_path / "none.toml"))
    monkeypatch.setenv("STIXGRAPH_RDAP", "off")
    monkeypatch.setenv("STIXGRAPH_DNS_TIMEOUT", "0.5")
    out = tmp_path / "displays"
    with SilentDNS() as dns:
        monkeypatch.setenv("STIXGRAPH_DNS", dns.address)
        r = CliRunner().invoke(main, ["demo", "--size", "300", "--store", ":memory:",
                                      "--display-dir", str(out)])
    assert r.exit_code == 0, r.output
    listed = re.search(r"maps and plots \((\d+) files\) are in (.*)/:\n((?:  .*\n)+)", r.output)
    assert listed and listed.group(2) == str(out), r.output
    names = listed.group(3).split()
    assert int(listed.group(1)) == len(names) == 5
    assert sorted(p.relative_to(out).as_posix() for p in out.glob("*/*")) == sorted(names)
    assert {n.split("/")[0] for n in names} == {
        "03_external_443_map", "07_traffic_timeline", "08_staging_processes"}
