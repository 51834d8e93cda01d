"""``stixgraph demo`` end to end: the seed's hunts as written, through the real stix-shifter
splunk module, against the Splunk emulator serving the demo scenario as CIM events (what
``make demo`` prints).  The answers are the seed's findings (caldera.FACTS)."""
from __future__ import annotations

import pytest

import stix_shifter_modules.splunk  # noqa: F401 - a dependency: fail loudly when missing

from stixgraph.demo import caldera, run as demo_run  # noqa: E402
from stixgraph.display import Message, Summary, Table  # noqa: E402

F = caldera.FACTS


@pytest.fixture(scope="module")
def demo(tmp_path_factory, request):
    """{hunt file name: [displays]} of one demo run, as `make demo` runs it."""
    mp = pytest.MonkeyPatch()
    mp.setenv("STIXGRAPH_CONFIG", str(tmp_path_factory.mktemp("cfg") / "none.toml"))
    out: dict[str, list] = {}
    current: list = []

    def announce(name):
        current.append(name)
        out[name] = []

    demo_run.run(":memory:", size=caldera.DEFAULT_SIZE, seed=caldera.DEFAULT_SEED,
                 write=lambda d: out[current[-1]].append(d), announce=announce)
    mp.undo()
    return out


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
    assert sorted(_col(t, "pid")) == sorted(F["susp"]["pids"])
    assert any('net user /add "Alex"' in c for c in _col(t, "command_line"))
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


def test_apply_cells_say_they_are_not_available(demo):
    said = {name: [d.text for d in ds if isinstance(d, Message)] for name, ds in demo.items()}
    assert any("APPLY docker://pinip ON nt" in m and "not available" in m
               for m in said["03_external_443_map.hf"])
    assert sum("not available" in m for ms in said.values() for m in ms) == 5
