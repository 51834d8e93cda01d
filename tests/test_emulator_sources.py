"""The Splunk emulator's event sources: OTRF ``.zip`` archives (read in place), ``.evtx`` files,
raw Windows events as JSON Lines and CIM rows, each told apart by content and turned into the
rows the Sysmon / Windows add-ons would give (stixgraph.splunk.cim), then searched over HTTPS as
stix-shifter does.  The real files of ../shared/data are used when present (skipped, with the
reason printed, when not)."""
from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import time
import zipfile
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import pytest
from conftest import need_shared
import requests

from stixgraph.splunk import cim
from stixgraph.splunk.emulator import Emulator, cli
from stixgraph.splunk.events import EventFileError, EventStore, expand_paths

REPO = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
COBALT = DATA / "otrf" / "atomic__windows__other__aptsimulator_cobaltstrike.zip"
EVTX = DATA / "cc0" / "T1136_ID4688_user_creation_via_commandline.evtx"
NOW = datetime(2021, 6, 12, 2, 0, 0, tzinfo=timezone.utc)


need = need_shared


# -- OTRF-shaped events (as in the real zips: flat, string values but an int EventID, a verbose
# Message, TimeCreated/@timestamp from the collector, Sysmon's own UtcTime) ----------------------
SYSMON_ENVELOPE = {"SourceName": "Microsoft-Windows-Sysmon",
                   "ProviderGuid": "{5770385f-c22a-43e0-bf4c-06f5698ffbd9}", "Level": "4",
                   "Keywords": "0x8000000000000000",
                   "Channel": "Microsoft-Windows-Sysmon/Operational", "Hostname": "WORKSTATION5"}
SECURITY_ENVELOPE = {"SourceName": "Microsoft-Windows-Security-Auditing",
                     "ProviderGuid": "{54849625-5478-4994-a5ba-3e3b0328c30d}", "Level": "0",
                     "Keywords": "0x8020000000000000", "Channel": "security",
                     "Hostname": "WORKSTATION5"}
CMD = "C:\\Windows\\System32\\cmd.exe"


def sysmon(eid: int, utc: str, collected: str, **data) -> dict:
    return {**SYSMON_ENVELOPE, "TimeCreated": collected, "@timestamp": collected, "EventID": eid,
            "Message": f"Event {eid}:\r\nRuleName: -\r\nUtcTime: {utc}", "Task": str(eid),
            "RuleName": "-", "UtcTime": utc, **data}


def security(eid: int, t: str, **data) -> dict:
    return {**SECURITY_ENVELOPE, "TimeCreated": t, "@timestamp": t, "EventID": eid,
            "Message": "A new process has been created.\r\n\r\n", "Task": "13312", **data}


EVENTS = [
    sysmon(1, "2021-06-12 01:07:15.633", "2021-06-11T09:07:15.635Z",
           ProcessGuid="{e2c04bb9-08c3-60c4-1c17-400100000000}", ProcessId="2164",
           Image="C:\\Windows\\System32\\PING.EXE", OriginalFileName="ping.exe",
           CommandLine="ping  -n 3 127.0.0.1 ", CurrentDirectory="C:\\Users\\APT\\",
           User="WORKSTATION5\\APT-Simulator", IntegrityLevel="High",
           Hashes="SHA1=565505D129A019780E351E615A29722AEF479380",
           ParentProcessGuid="{e2c04bb9-d0f0-60c3-48da-ec0000000000}", ParentProcessId="5632",
           ParentImage=CMD, ParentCommandLine=f'"{CMD}" '),
    sysmon(10, "2021-06-12 01:07:15.624", "2021-06-11T09:07:15.636Z",   # not covered: dropped
           SourceProcessId="5632", SourceImage=CMD, TargetProcessId="2164",
           TargetImage="C:\\Windows\\system32\\PING.EXE", GrantedAccess="0x1fffff"),
    security(4688, "2021-06-11T09:07:17.666Z", SubjectUserName="APT-Simulator",
             SubjectDomainName="WORKSTATION5", NewProcessId="0x1948",
             NewProcessName="C:\\TMP\\7z.exe", ProcessId="0x1600", TargetUserName="-",
             CommandLine="7z.exe e -paptsimulator x.7z &gt; out.txt", ParentProcessName=CMD),
    sysmon(3, "2021-06-12 01:07:41.144", "2021-06-11T09:07:42.306Z",
           ProcessGuid="{e2c04bb9-a31b-60c3-eb03-000000000000}", ProcessId="4410",
           Image="C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
           User="WORKSTATION5\\APT-Simulator", Protocol="tcp", Initiated="true",
           SourceIp="10.0.0.5", SourceHostname="-", SourcePort="49711",
           DestinationIp="203.0.113.50", DestinationHostname="-", DestinationPort="443"),
    sysmon(1, "2021-06-12 01:08:00.001", "2021-06-11T09:08:00.100Z", ProcessId="3000",
           ProcessGuid="{e2c04bb9-0000-60c4-1c17-400100000001}",
           Image="C:\\Windows\\System32\\whoami.exe", CommandLine="whoami /all",
           User="WORKSTATION5\\APT-Simulator", ParentProcessId="5632", ParentImage=CMD),
    {"SourceName": "PowerShell", "Channel": "Windows PowerShell", "Hostname": "WORKSTATION5",
     "TimeCreated": "2021-06-11T09:08:01.000Z", "@timestamp": "2021-06-11T09:08:01.000Z",
     "EventID": 400, "Message": "Engine state is changed from None to Available."},
]
COVERED = 4   # EVENTS less the Sysmon 10 and the PowerShell 400


def make_otrf_zip(path: Path, events: list[dict]) -> Path:
    """A zip as OTRF ships them: one JSON Lines member, plus macOS's ``__MACOSX/._`` junk."""
    member = "aptsim_2021-06-11T21081492.json"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(member, "".join(json.dumps(e) + "\n" for e in events))
        z.writestr(f"__MACOSX/._{member}", b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X junk")
    return path


def cim_row(t: str, name: str, **extra) -> dict:
    return {"_time": t, "process_name": name, "signature_id": "1", "host": "WS01",
            "_raw": f"<Event><Image>{name}</Image></Event>", **extra}


@pytest.fixture(scope="module")
def sources(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("sources")
    make_otrf_zip(d / "aptsim.zip", EVENTS)
    return d


@pytest.fixture(scope="module")
def server(sources, tmp_path_factory):
    store = EventStore.from_files([sources / "aptsim.zip"])
    with Emulator(store, now=NOW, cert_dir=tmp_path_factory.mktemp("cert")) as emu:
        yield emu


def search(emu: Emulator, spl: str) -> list[dict]:
    """Run ``spl`` through the emulator's REST API as a client would: login, create the job,
    poll its status, fetch every result (count=0)."""
    s = requests.Session()
    kw = {"verify": str(emu.cert_path), "timeout": 10}
    r = s.post(emu.url + "/services/auth/login", data={
        "username": emu.username, "password": emu.configuration()["auth"]["password"],
        "output_mode": "json"}, **kw)
    assert r.status_code == 200, r.text
    s.headers["Authorization"] = f"Splunk {r.json()['sessionKey']}"
    r = s.post(emu.url + "/services/search/jobs", data={"search": spl, "output_mode": "json"},
               **kw)
    assert r.status_code == 201, r.text
    sid = r.json()["sid"]
    for _ in range(500):
        r = s.get(emu.url + f"/services/search/jobs/{sid}", params={"output_mode": "json"}, **kw)
        state = r.json()["entry"][0]["content"]["dispatchState"]
        if state in ("DONE", "FAILED"):
            break
        time.sleep(0.01)
    assert state == "DONE", r.text
    r = s.get(emu.url + f"/services/search/v2/jobs/{sid}/results",
              params={"output_mode": "json", "count": 0}, **kw)
    assert r.status_code == 200, r.text
    return r.json()["results"]


# -- loading ---------------------------------------------------------------------------------
def test_each_format_is_told_by_content_and_reported(sources, tmp_path):
    raw_gz = tmp_path / "raw-events.jsonl.gz"       # raw events as JSON Lines, gzip'd
    with gzip.open(raw_gz, "wt") as f:
        f.write("".join(json.dumps(dict(e, Hostname="WS02")) + "\n" for e in EVENTS))
    rows = tmp_path / "rows.jsonl"                  # CIM rows
    rows.write_text(json.dumps(cim_row("2021-06-12T01:00:00.000+00:00", "a.exe")) + "\n")
    nameless = tmp_path / "archive"                 # a zip without its suffix
    nameless.write_bytes((sources / "aptsim.zip").read_bytes())
    seen = []
    store = EventStore.from_files([sources / "aptsim.zip", raw_gz, rows], on_file=seen.append)
    assert [(Path(s.path).name, s.kind, s.rows, s.events) for s in seen] == [
        ("aptsim.zip", "otrf-zip", COVERED, len(EVENTS)),
        ("raw-events.jsonl.gz", "events-json", COVERED, len(EVENTS)),
        ("rows.jsonl", "cim-json", 1, None)]
    assert store.sources == seen and len(store) == 2 * COVERED + 1
    assert all(s.seconds >= 0 for s in seen)
    assert "aptsim.zip: 4 rows from 6 events (OTRF zip) in " in str(seen[0])
    # the same rows cim.iter_cim_rows gives (the loader goes through cim.sysmon_to_cim)
    want = sorted(json.dumps(r, sort_keys=True)
                  for r in cim.iter_cim_rows([sources / "aptsim.zip"]))
    got = store.search("search host=WORKSTATION5 earliest=0", now=NOW)
    assert sorted(json.dumps(r, sort_keys=True) for r in got) == want
    assert {r["host"] for r in store.search("search signature_id=1 earliest=0", now=NOW)} == {
        "WORKSTATION5", "WS02", "WS01"}
    assert EventStore.from_files(nameless).sources[0].kind == "otrf-zip"


def test_directories_globs_and_duplicates(sources, tmp_path):
    d = tmp_path / "d"
    d.mkdir()
    make_otrf_zip(d / "a.zip", EVENTS)
    (d / "b.jsonl").write_text(json.dumps(cim_row("2021-06-12T01:00:00.000+00:00", "b.exe")) + "\n")
    (d / "notes.txt").write_text("not events")
    assert [Path(p).name for p in expand_paths(d)] == ["a.zip", "b.jsonl"]
    assert len(EventStore.from_files(d)) == COVERED + 1
    assert [Path(p).name for p in expand_paths(str(d / "*.zip"))] == ["a.zip"]
    # a file named twice (directly, by its directory, by a glob) is loaded once
    s = EventStore.from_files([d / "a.zip", d, str(d / "*.zip")])
    assert len(s) == COVERED + 1 and len(s.sources) == 2
    with pytest.raises(EventFileError, match=r"\*\.evtx: no file matches"):
        EventStore.from_files(str(d / "*.evtx"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(EventFileError, match="a directory with no event file"):
        EventStore.from_files(tmp_path / "empty")


def one_line_error(paths) -> str:
    with pytest.raises(EventFileError) as info:
        EventStore.from_files(paths)
    msg = str(info.value)
    assert "\n" not in msg and "Traceback" not in msg
    return msg


def test_corrupt_and_empty_zips_are_one_line_errors(tmp_path):
    from click.testing import CliRunner

    good = make_otrf_zip(tmp_path / "good.zip", EVENTS * 50).read_bytes()
    garbage = tmp_path / "garbage.zip"
    garbage.write_bytes(b"this is no zip archive at all\n" * 3)
    assert one_line_error(garbage) == (
        f"{garbage}: a damaged or unreadable zip archive (File is not a zip file)")
    truncated = tmp_path / "truncated.zip"          # central directory cut off
    truncated.write_bytes(good[: len(good) // 2])
    assert one_line_error(truncated).startswith(f"{truncated}: a damaged or unreadable zip")
    damaged = tmp_path / "damaged.zip"               # deflate stream overwritten
    data = bytearray(good)
    data[200:600] = b"\xff" * 400
    damaged.write_bytes(bytes(data))
    assert one_line_error(damaged).startswith(f"{damaged}: a damaged or unreadable zip archive (")
    empty = tmp_path / "empty.zip"
    with zipfile.ZipFile(empty, "w") as z:
        z.writestr("README.txt", "no events here")
    assert one_line_error(empty) == (
        f"{empty}: no events in the zip archive (no JSON Lines member with a JSON object)")
    assert one_line_error(tmp_path / "missing.zip") == (
        f"{tmp_path / 'missing.zip'}: No such file or directory")
    # the serve command: one line on stderr, exit status 1, no traceback, no server started
    r = CliRunner().invoke(cli, ["serve", "--port", "0", "--cert-dir", str(tmp_path / "cert"),
                                 str(damaged)])
    assert r.exit_code == 1, r.output
    assert r.output.startswith(f"Error: cannot load events: {damaged}: a damaged or unreadable")
    assert r.output.count("\n") == 1 and "Traceback" not in r.output


def test_json_shapes_are_told_apart_or_refused(tmp_path):
    ecs = tmp_path / "winlogbeat.jsonl"   # neither CIM rows nor the flat OTRF shape
    ecs.write_text(json.dumps({"@timestamp": "2021-06-11T09:07:15.635Z",
                               "winlog": {"event_id": 1, "channel": "Microsoft-Windows-Sysmon/"
                                          "Operational"}}) + "\n")
    assert one_line_error(ecs).startswith(
        f"{ecs}:1: neither a Splunk CIM row (no _time) nor a raw Windows event")
    mixed = tmp_path / "mixed.jsonl"      # CIM rows, then a raw event
    mixed.write_text(json.dumps(cim_row("2021-06-12T01:00:00.000+00:00", "a.exe")) + "\n\n"
                     + json.dumps(EVENTS[0]) + "\n")
    assert one_line_error(mixed).startswith(f"{mixed}:3: a row without _time")
    bad_time = tmp_path / "bad_time.json"
    bad_time.write_text(json.dumps([cim_row("2021-06-12T01:00:00.000+00:00", "a.exe"),
                                    cim_row("yesterday", "b.exe")]))
    assert one_line_error(bad_time).startswith(f"{bad_time}: row 2: bad _time 'yesterday'")
    bundle = tmp_path / "bundle.json"
    bundle.write_text(json.dumps({"type": "bundle", "objects": []}, indent=2))
    assert "one JSON object over several lines" in one_line_error(bundle)
    broken = tmp_path / "broken.jsonl.gz"
    broken.write_bytes(gzip.compress(b"".join(json.dumps(e).encode() + b"\n"
                                              for e in EVENTS))[:-12])
    assert one_line_error(broken).startswith(f"{broken}: cannot be read (")
    nothing = tmp_path / "nothing.jsonl"  # an empty file: no rows, no error
    nothing.write_text("\n")
    assert len(EventStore.from_files(nothing)) == 0


# -- searching through the emulator ----------------------------------------------------------
def test_otrf_zip_rows_come_back_over_https(server):
    rows = search(server, "search process_name=ping.exe earliest=0")
    assert len(rows) == 1
    r = rows[0]
    assert (r["process_name"], r["signature_id"], r["signature"], r["EventCode"]) == (
        "PING.EXE", "1", "Process Create", "1")
    assert r["_time"] == "2021-06-12T01:07:15.633+00:00"     # Sysmon's UtcTime wins
    assert (r["process_id"], r["parent_process_id"], r["parent_process_name"]) == (
        "2164", "5632", "cmd.exe")
    assert (r["process"], r["user"], r["user_domain"]) == (
        "ping  -n 3 127.0.0.1 ", "APT-Simulator", "WORKSTATION5")
    assert (r["host"], r["source"], r["sourcetype"], r["index"]) == (
        "WORKSTATION5", "XmlWinEventLog:Microsoft-Windows-Sysmon/Operational", "XmlWinEventLog",
        "main")
    assert r["_raw"].startswith("<Event xmlns=") and "<EventID>1</EventID>" in r["_raw"]
    assert "Message" not in r
    # Security 4688 from a lower-case 'security' channel: hex ids made decimal, XML undone
    [p] = search(server, "search signature_id=4688 earliest=0")
    assert (p["process_name"], p["process_id"], p["parent_process_id"], p["process"]) == (
        "7z.exe", str(0x1948), str(0x1600), "7z.exe e -paptsimulator x.7z > out.txt")
    assert p["source"] == "XmlWinEventLog:Security" and p["user"] == "APT-Simulator"
    [n] = search(server, 'search dest_port=443 transport=tcp earliest=0 | fields dest_ip, '
                         'process_name')
    assert (n["dest_ip"], n["process_name"]) == ("203.0.113.50", "powershell.exe")
    assert search(server, "search EventCode=10 OR EventCode=400 earliest=0") == []
    assert [r["process_name"] for r in search(server, "search signature_id=1 earliest=0")] == [
        "whoami.exe", "PING.EXE"]                              # newest first


def test_stix_shifter_reads_the_zip_rows(server):
    from stix_shifter.stix_translation.stix_translation import StixTranslation
    from stix_shifter.stix_transmission.stix_transmission import StixTransmission

    spl = StixTranslation().translate(
        "splunk", "query", "{}", "[process:name = 'whoami.exe'] START "
        "t'2021-06-12T01:00:00.000Z' STOP t'2021-06-12T02:00:00.000Z'",
        {"result_limit": 100})["queries"][0]
    t = StixTransmission("splunk", server.connection(), server.configuration())
    q = t.query(spl)
    assert q["success"], q
    res = t.results(q["search_id"], 0, 100)
    assert res["success"], res
    assert [(r["process_name"], r["process"], r["signature_id"]) for r in res["data"]] == [
        ("whoami.exe", "whoami /all", "1")]


def test_real_evtx_served(tmp_path):
    path = need(EVTX)
    store = EventStore.from_files(path)
    [st] = store.sources
    assert st.kind == "evtx" and st.rows == len(store) == len(list(cim.iter_cim_rows([path])))
    assert st.events >= st.rows > 0
    with Emulator(store, cert_dir=tmp_path) as emu:   # the wall clock: the events are of 2021
        procs = search(emu, "search signature_id=4688 earliest=0")
        assert procs and {r["signature_id"] for r in procs} == {"4688"}
        net = next(r for r in procs if r["process_name"] == "net.exe")
        assert net["process"] == "net  user toto3 @#(*kjh@(@Jd /add"
        assert net["host"] == "FS03.offsec.lan"
        assert search(emu, "search signature_id=4720 earliest=0")[0]["source"] == \
            "XmlWinEventLog:Security"


def test_real_otrf_zip_loaded_in_place(tmp_path):
    path = need(COBALT)
    t0 = time.perf_counter()
    store = EventStore.from_files(path)
    load = time.perf_counter() - t0
    [st] = store.sources
    assert st.path == str(path) and st.kind == "otrf-zip"
    assert 0 < st.rows == len(store) < st.events
    by_eid = Counter(r["signature_id"] for r in cim.iter_cim_rows([path]))
    assert sum(by_eid.values()) == len(store) and by_eid["1"] > 0
    print(f"{path.name}: {st.rows} rows from {st.events} events, loaded in {load:.2f}s")
    with Emulator(store, now=NOW, cert_dir=tmp_path) as emu:
        rows = search(emu, "search signature_id=1 earliest=0")
        assert len(rows) == by_eid["1"]
        assert {(r["signature_id"], r["EventCode"], r["signature"]) for r in rows} == {
            ("1", "1", "Process Create")}
        assert all(r["process_name"] and r["process_guid"] for r in rows)
        times = [r["_time"] for r in rows]
        assert times == sorted(times, reverse=True)
    assert time.perf_counter() - t0 < 20


def test_cli_serve_reports_each_file(sources, tmp_path):
    rows = tmp_path / "rows.jsonl"
    rows.write_text(json.dumps(cim_row("2021-06-12T01:00:00.000+00:00", "a.exe")) + "\n")
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    proc = subprocess.Popen(
        [sys.executable, "-c", "from stixgraph.splunk.emulator import cli; cli()", "serve",
         "--port", "0", "--events", str(sources / "aptsim.zip"), str(rows), str(rows)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=REPO, text=True)
    try:
        lines = [proc.stdout.readline() for _ in range(3)]
        assert all(line.startswith("export STIXSHIFTER_SPLUNK_") for line in lines), lines
    finally:
        proc.send_signal(2)
        out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    assert f"{sources / 'aptsim.zip'}: 4 rows from 6 events (OTRF zip) in " in err
    assert f"{rows}: 1 rows (CIM rows) in " in err
    assert "loaded 5 events from 2 file(s) in " in err


def test_cli_serve_refuses_an_unknown_time_zone(sources):
    from click.testing import CliRunner

    r = CliRunner().invoke(cli, ["serve", "--tz", "Mars/Olympus", str(sources / "aptsim.zip")])
    assert r.exit_code == 2 and "not a time zone" in r.output
