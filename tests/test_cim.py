"""stixgraph.splunk.cim: Sysmon/Security events -> Splunk CIM rows, checked field by field on
real OTRF and EVTX events, and through real stix-shifter (check_data + translate results)."""
from __future__ import annotations

import copy
import gzip
import io
import json
import re
from pathlib import Path

import pytest
from conftest import need_shared

from stixgraph.splunk import cim

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
OTRF = DATA / "otrf"
COBALT = OTRF / "atomic__windows__other__aptsimulator_cobaltstrike.zip"
COVENANT = OTRF / "atomic__windows__lateral_movement__host__covenant_dcom_iertutil_dll_hijack.zip"
EVTX = DATA / "cc0" / "T1136_ID4688_user_creation_via_commandline.evtx"
IDENTITY = {"type": "identity", "id": "identity--f431f809-377b-45e0-aa1c-6a4751cae5ff",
            "name": "splunk", "identity_class": "events"}
TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$")


need = need_shared


def find(path: Path, pred) -> dict:
    for ev in cim.iter_otrf_zip(need(path)):
        if pred(ev):
            return ev
    raise AssertionError(f"no such event in {path.name}")


def stix(rows: list[dict]) -> list[dict]:
    """What stix-shifter's splunk module makes of ``rows`` (STIX 2.0): the results connector's
    check_data (as transmit results does) then translate results."""
    from stix_shifter.stix_translation.stix_translation import StixTranslation
    from stix_shifter_modules.splunk.stix_transmission.results_connector import ResultsConnector

    data = ResultsConnector.check_data(copy.deepcopy(rows))
    out = StixTranslation().translate("splunk", "results", dict(IDENTITY), data, {})
    assert out.get("type") == "bundle", out
    return [o["objects"] for o in out["objects"][1:]]


def of_type(objs: dict, t: str) -> list[dict]:
    return [o for o in objs.values() if o["type"] == t]


def all_strings(row: dict) -> None:
    for k, v in row.items():
        assert isinstance(v, str) or (isinstance(v, list) and all(isinstance(x, str) for x in v)), (k, v)


# -- real OTRF events, field by field ------------------------------------------------------------

@pytest.fixture(scope="module")
def eid1():
    return find(COBALT, lambda e: e.get("EventID") == 1 and "-paptsimulator" in e.get("CommandLine", ""))


def test_eid1_process_create(eid1):
    row = cim.sysmon_to_cim(eid1, index="sysmon")
    all_strings(row)
    assert row["_time"] == "2021-06-12T01:07:17.666+00:00"  # UtcTime, not @timestamp
    assert eid1["@timestamp"].startswith("2021-06-11T09:07")  # the OTRF disagreement
    assert row["index"] == "sysmon"
    assert row["source"] == "XmlWinEventLog:Microsoft-Windows-Sysmon/Operational"
    assert row["sourcetype"] == row["_sourcetype"] == "XmlWinEventLog"
    assert row["host"] == row["dest"] == "WORKSTATION5"
    assert (row["EventCode"], row["signature_id"], row["signature"]) == ("1", "1", "Process Create")
    assert row["vendor_product"] == "Microsoft Sysmon" and row["action"] == "allowed"
    assert row["process"] == eid1["CommandLine"] == row["CommandLine"]
    assert row["process_id"] == "6472"
    assert row["process_guid"] == "{e2c04bb9-08c5-60c4-8619-400100000000}"
    assert row["process_path"].endswith(r"APTSimulator-master\helpers\7z.exe")
    assert row["process_name"] == "7z.exe"
    assert row["parent_process_name"] == "cmd.exe"
    assert row["parent_process_id"] == "5632"
    assert row["parent_process_guid"] == "{e2c04bb9-d0f0-60c3-48da-ec0000000000}"
    assert row["parent_process_path"] == r"C:\Windows\System32\cmd.exe"
    assert row["user"] == "APT-Simulator" and row["user_domain"] == "WORKSTATION5"
    assert row["process_hash"].startswith("SHA1=") and "MD5=" in row["process_hash"]
    assert row["original_file_name"] == eid1["OriginalFileName"]
    assert "Message" not in row and "@timestamp" not in row


def test_raw_is_forwarder_xml(eid1):
    raw = cim.sysmon_to_cim(eid1)["_raw"]
    assert raw.startswith("<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'>"
                          "<System><Provider Name='Microsoft-Windows-Sysmon'")
    assert "<EventID>1</EventID>" in raw
    assert "<Channel>Microsoft-Windows-Sysmon/Operational</Channel>" in raw
    assert "<Computer>WORKSTATION5</Computer>" in raw
    assert "<Data Name='ProcessId'>6472</Data>" in raw
    # XML-escaped: the command line's quotes stay, & < > are entities; it parses back
    import xml.etree.ElementTree as ET
    root = ET.fromstring(raw)
    ns = {"e": "http://schemas.microsoft.com/win/2004/08/events/event"}
    cmd = root.find("e:EventData/e:Data[@Name='CommandLine']", ns).text
    assert cmd == eid1["CommandLine"]
    ev = dict(eid1, CommandLine="a & b <c>")
    assert "<Data Name='CommandLine'>a &amp; b &lt;c&gt;</Data>" in cim.sysmon_to_cim(ev)["_raw"]


def test_eid3_external_443():
    ev = find(COVENANT, lambda e: e.get("EventID") == 3 and e.get("DestinationIp") == "204.79.197.203"
              and e.get("SourcePort") == "51604")
    row = cim.sysmon_to_cim(ev)
    all_strings(row)
    assert row["_time"] == "2020-10-09T22:27:50.747+00:00"
    assert row["host"] == "WORKSTATION5.theshire.local"
    assert (row["src_ip"], row["src_port"]) == ("172.18.39.5", "51604")
    assert (row["dest_ip"], row["dest_port"]) == ("204.79.197.203", "443")
    assert row["transport"] == "tcp" and row["protocol"] == "ip" and row["direction"] == "outbound"
    assert row["process_name"] == "MicrosoftEdgeCP.exe" and row["process_id"] == "10132"
    assert row["user"] == "wardog"
    assert row["signature"] == "Network connection detected"
    inbound = cim.sysmon_to_cim(dict(ev, Initiated="false"))
    assert inbound["direction"] == "inbound"


def test_eid11_eid13_eid22():
    f = find(COBALT, lambda e: e.get("EventID") == 11
             and e.get("TargetFilename") == r"C:\Windows\Prefetch\PING.EXE-7E94E73E.pf")
    row = cim.sysmon_to_cim(f)
    assert row["file_path"] == r"C:\Windows\Prefetch\PING.EXE-7E94E73E.pf"
    assert row["file_name"] == "PING.EXE-7E94E73E.pf"
    assert row["file_create_time"] == "2021-06-11 20:19:10.589"
    assert row["process_name"] == "svchost.exe" and row["signature"] == "File created"

    r = find(COBALT, lambda e: e.get("EventID") == 13 and "CreateNamedPipe.exe" in e.get("TargetObject", ""))
    row = cim.sysmon_to_cim(r)
    assert row["registry_path"] == row["registry_key_name"] == r["TargetObject"]
    assert row["registry_hive"] == "HKEY_LOCAL_MACHINE"
    assert row["registry_value_name"] == "CreateNamedPipe.exe"
    assert row["registry_value_data"] == "Binary Data"
    assert row["signature"] == "Registry value set"

    d = find(COVENANT, lambda e: e.get("EventID") == 22 and e.get("QueryName") == "c-ring.msedge.net")
    row = cim.sysmon_to_cim(d)
    assert row["query"] == "c-ring.msedge.net"
    assert row["answer"] == "13.107.4.254"  # CNAME 'type: 5' entries dropped, ::ffff: stripped
    assert row["reply_code_id"] == "0"
    assert "user" not in row  # OTRF's User is null here
    two = cim.sysmon_to_cim(dict(d, QueryResults="::ffff:1.2.3.4;::ffff:5.6.7.8;"))
    assert two["answer"] == ["1.2.3.4", "5.6.7.8"]


def test_security_4688_quirks():
    ev = find(COBALT, lambda e: e.get("EventID") == 4688 and "-paptsimulator" in e.get("CommandLine", ""))
    row = cim.sysmon_to_cim(ev)
    assert ev["NewProcessId"] == "0x1948" and row["process_id"] == "6472"  # hex -> decimal
    assert row["parent_process_id"] == str(int(ev["ProcessId"], 16))
    assert row["process_name"] == "7z.exe" and row["parent_process_name"] == "cmd.exe"
    assert row["process"] == ev["CommandLine"]
    assert row["user"] == "APT-Simulator"
    assert row["source"] == "XmlWinEventLog:Security" and row["vendor_product"] == "Microsoft Windows"
    assert row["_time"] == "2021-06-11T09:07:17.666+00:00"  # no UtcTime: TimeCreated
    # OTRF quirks: lower-case channel, XML-escaped 4688 command line
    q = cim.sysmon_to_cim(dict(ev, Channel="security", CommandLine="cmd /c a &gt; b &amp;&amp; c"))
    assert q["source"] == "XmlWinEventLog:Security"
    assert q["process"] == "cmd /c a > b && c"
    assert cim.sysmon_to_cim(dict(ev, EventID="4688"))["EventCode"] == "4688"  # string ids


def test_not_covered_events_are_none():
    assert cim.sysmon_to_cim({"Channel": "Microsoft-Windows-Sysmon/Operational", "EventID": 10,
                              "UtcTime": "2020-01-01 00:00:00.000"}) is None
    assert cim.sysmon_to_cim({"Channel": "System", "EventID": 7045,
                              "TimeCreated": "2020-01-01T00:00:00Z"}) is None
    assert cim.sysmon_to_cim({"Channel": "Security", "EventID": 4658,
                              "TimeCreated": "2020-01-01T00:00:00Z"}) is None
    assert cim.sysmon_to_cim({"Channel": "Security", "EventID": 4624}) is None  # no time


def test_time_formats():
    f = cim._splunk_time
    assert f("2024-12-12 16:43:24.123") == "2024-12-12T16:43:24.123+00:00"
    assert f("2021-10-19T14:42:41.2183957Z") == "2021-10-19T14:42:41.218+00:00"
    assert f("2024-01-01T10:00:00+02:00") == "2024-01-01T08:00:00.000+00:00"  # to UTC
    assert f("garbage") is None


# -- readers ---------------------------------------------------------------------------------------

def test_iter_otrf_zip_skips_macosx(tmp_path):
    import zipfile
    z = tmp_path / "x.zip"
    ev = {"Channel": "Microsoft-Windows-Sysmon/Operational", "EventID": 5, "Hostname": "H",
          "UtcTime": "2020-01-01 00:00:00.000", "ProcessId": "12", "Image": r"C:\a\b.exe"}
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("data/events.json", json.dumps(ev) + "\n\n" + json.dumps(dict(ev, ProcessId="13")) + "\n")
        zf.writestr("__MACOSX/data/._events.json", b"\x00\x05\x16\x07 junk")
    got = list(cim.iter_otrf_zip(z))
    assert [e["ProcessId"] for e in got] == ["12", "13"]
    rows = list(cim.iter_cim_rows([z]))
    assert [r["process_name"] for r in rows] == ["b.exe", "b.exe"]
    assert rows[0]["signature"] == "Process terminated"


def test_jsonl_gz_and_array_inputs(tmp_path):
    ev = {"Channel": "Security", "EventID": 4624, "Hostname": "H", "TimeCreated": "2020-01-01T00:00:01.5Z",
          "TargetUserName": "bob", "TargetDomainName": "CORP", "ProcessId": "0x2a0",
          "ProcessName": r"C:\Windows\System32\lsass.exe", "IpAddress": "10.1.2.3", "IpPort": "5123",
          "LogonType": "3"}
    gz = tmp_path / "e.jsonl.gz"
    with gzip.open(gz, "wt") as f:
        f.write(json.dumps(ev) + "\n")
    arr = tmp_path / "e.json"
    arr.write_text(json.dumps([ev, dict(ev, TargetUserName="carol")], indent=1))
    rows = list(cim.iter_cim_rows([gz, arr], index="wineventlog"))
    assert [r["user"] for r in rows] == ["bob", "bob", "carol"]
    r = rows[0]
    assert r["_time"] == "2020-01-01T00:00:01.500+00:00" and r["index"] == "wineventlog"
    assert r["process_id"] == "672" and r["process_name"] == "lsass.exe"
    assert (r["src_ip"], r["src_port"]) == ("10.1.2.3", "5123")
    assert r["signature"] == "An account was successfully logged on" and r["action"] == "success"
    with pytest.raises(ValueError):
        list(cim.iter_cim_rows([tmp_path / "x.csv"]))


def test_write_jsonl(tmp_path):
    rows = [{"a": "1"}, {"b": ["x", "y"]}]
    assert cim.write_jsonl(iter(rows), tmp_path / "o.jsonl") == 2
    assert [json.loads(x) for x in (tmp_path / "o.jsonl").read_text().splitlines()] == rows
    assert cim.write_jsonl(rows, tmp_path / "o.jsonl.gz") == 2
    assert [json.loads(x) for x in gzip.open(tmp_path / "o.jsonl.gz", "rt")] == rows
    buf = io.StringIO()
    assert cim.write_jsonl(rows, buf) == 2 and buf.getvalue().count("\n") == 2


def test_evtx_file():
    events = list(cim.iter_evtx(need(EVTX)))
    assert events and all("EventID" in e and "Computer" in e for e in events)
    rows = list(cim.iter_cim_rows([EVTX]))
    procs = [r for r in rows if r["EventCode"] == "4688"]
    assert procs, [e["EventID"] for e in events]
    net = next(r for r in procs if r["process_name"] == "net.exe")
    assert net["process"] == "net  user toto3 @#(*kjh@(@Jd /add"
    assert net["process_id"] == "3556"  # 0xde4
    assert net["parent_process_id"] == str(0xb5c)
    assert net["user"] == "admmig"
    assert net["host"] == "FS03.offsec.lan"
    assert net["_time"] == "2021-10-19T14:42:41.202+00:00"
    assert "<EventRecordID>60383</EventRecordID>" in net["_raw"]
    assert "<Execution ProcessID='4' ThreadID='1920'/>" in net["_raw"]
    for r in rows:
        assert TIME_RE.match(r["_time"])
        all_strings(r)
    codes = {r["EventCode"] for r in rows}
    assert codes <= {"4624", "4634", "4688", "4720", "4732", "4798"}


# -- through stix-shifter --------------------------------------------------------------------------

def test_stix_shifter_translates_rows(eid1):
    e3 = find(COVENANT, lambda e: e.get("EventID") == 3 and e.get("SourcePort") == "51604")
    e11 = find(COBALT, lambda e: e.get("EventID") == 11
               and e.get("TargetFilename") == r"C:\Windows\Prefetch\PING.EXE-7E94E73E.pf")
    e13 = find(COBALT, lambda e: e.get("EventID") == 13 and "CreateNamedPipe.exe" in e.get("TargetObject", ""))
    e22 = find(COVENANT, lambda e: e.get("EventID") == 22 and e.get("QueryName") == "c-ring.msedge.net")
    rows = [cim.sysmon_to_cim(e) for e in (eid1, e3, e11, e13, e22)]
    o1, o3, o11, o13, o22 = stix(rows)

    ev = of_type(o1, "x-oca-event")[0]
    assert ev["code"] == "1" and ev["action"] == "Process Create" and ev["provider"] == "Microsoft Sysmon"
    p = o1[ev["process_ref"]]
    assert p["name"] == "7z.exe" and p["pid"] == 6472
    assert p["command_line"] == eid1["CommandLine"]
    assert p["x_unique_id"] == "{e2c04bb9-08c5-60c4-8619-400100000000}"
    parent = o1[p["parent_ref"]]
    assert parent["name"] == "cmd.exe" and parent["pid"] == 5632
    assert o1[ev["user_ref"]] == {"type": "user-account", "user_id": "APT-Simulator"}
    assert o1[o1[p["binary_ref"]]["parent_directory_ref"]]["path"].endswith(r"APTSimulator-master\helpers")
    assert of_type(o1, "artifact")[0]["payload_bin"]  # _raw
    assert of_type(o1, "x-oca-asset")[0]["hostname"] == "WORKSTATION5"

    ev = of_type(o3, "x-oca-event")[0]
    nt = o3[ev["network_ref"]]
    assert o3[nt["src_ref"]]["value"] == "172.18.39.5" and o3[nt["dst_ref"]]["value"] == "204.79.197.203"
    assert (nt["src_port"], nt["dst_port"]) == (51604, 443)
    assert nt["protocols"] == ["ip", "tcp"] and nt["x_direction"] == "outbound"
    assert o3[ev["process_ref"]]["opened_connection_refs"] == [ev["network_ref"]]

    ev = of_type(o11, "x-oca-event")[0]
    f = o11[ev["file_ref"]]
    assert f["name"] == "PING.EXE-7E94E73E.pf"
    assert o11[f["parent_directory_ref"]]["type"] == "directory"

    key = of_type(o13, "windows-registry-key")
    assert len(key) == 1 and key[0]["key"].startswith("HKEY_LOCAL_MACHINE\\System\\CurrentControlSet")
    assert key[0]["values"] == [{"name": "CreateNamedPipe.exe", "data": "Binary Data"}]

    dn = of_type(o22, "domain-name")
    assert [d["value"] for d in dn] == ["c-ring.msedge.net"]
    assert "13.107.4.254" in [a["value"] for a in of_type(o22, "ipv4-addr")]


def test_stix_shifter_security_and_evtx():
    rows = [r for r in cim.iter_cim_rows([need(EVTX)]) if r["EventCode"] == "4688"][:1]
    (objs,) = stix(rows)
    ev = of_type(objs, "x-oca-event")[0]
    p = objs[ev["process_ref"]]
    assert (p["name"], p["pid"], p["command_line"]) == ("net.exe", 3556, "net  user toto3 @#(*kjh@(@Jd /add")
    assert objs[p["parent_ref"]]["pid"] == 0xb5c
    assert objs[ev["user_ref"]]["user_id"] == "admmig"
