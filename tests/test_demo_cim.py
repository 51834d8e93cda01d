"""The Caldera demo scenario as Splunk CIM rows (stixgraph.demo.caldera --format cim): the same
events as the STIX bundle, deterministic, and - once translated by the real stix-shifter splunk
module (check_data + translate results, STIX 2.0) - holding the facts of FACTS."""
from __future__ import annotations

import base64
import copy
import gzip
import hashlib
import io
import json
from datetime import timedelta

import pytest

from stixgraph.demo import caldera
from stixgraph.demo.caldera import FACTS, GITHUB_IPS, HOST_IP

SIZE = 3000
IDENTITY = {"type": "identity", "id": caldera.IDENTITY_ID, "name": "splunk",
            "identity_class": "events"}


@pytest.fixture(scope="module")
def rows():
    return list(caldera.iter_cim_rows(SIZE))


@pytest.fixture(scope="module")
def observed():
    return list(caldera.iter_observations(SIZE))


@pytest.fixture(scope="module")
def translated(rows):
    """stix-shifter's STIX 2.0 objects dict for every row, as transmit results + translate do."""
    from stix_shifter.stix_translation.stix_translation import StixTranslation
    from stix_shifter_modules.splunk.stix_transmission.results_connector import ResultsConnector

    data = ResultsConnector.check_data(copy.deepcopy(rows))
    out = StixTranslation().translate("splunk", "results", dict(IDENTITY), data, {})
    ods = out["objects"][1:]
    assert len(ods) == len(rows)
    return ods


def _of(objs: dict, t: str) -> list[dict]:
    return [o for o in objs.values() if o["type"] == t]


def _procs(ods):
    """(pid, name, command_line, first_observed, objects, process) of every subject process."""
    for od in ods:
        objs = od["objects"]
        ev = _of(objs, "x-oca-event")[0]
        if "process_ref" in ev:
            p = objs[ev["process_ref"]]
            yield p.get("pid"), p.get("name"), p.get("command_line"), od["first_observed"], objs, p


def test_stix_bundle_unchanged():
    """The STIX output is byte-identical to what the generator wrote before the CIM writer
    was added (default size and seed)."""
    buf = io.BytesIO()
    caldera.generate(buf)
    assert hashlib.sha256(buf.getvalue()).hexdigest() == (
        "cd249569a79e44ba891ca01110d1a067e084530a3b13e28757f1c41541e8e997")


def test_deterministic(tmp_path):
    a, b = io.BytesIO(), io.BytesIO()
    sa = caldera.generate_cim(a, size=800, seed=5)
    caldera.generate_cim(b, size=800, seed=5)
    assert a.getvalue() == b.getvalue() and sa["rows"] == 800
    c = io.BytesIO()
    caldera.generate_cim(c, size=800, seed=6)
    assert c.getvalue() != a.getvalue()
    p = tmp_path / "x.jsonl.gz"
    caldera.generate_cim(p, size=800, seed=5)
    assert gzip.decompress(p.read_bytes()) == a.getvalue()


def test_rows_are_the_bundle_events(rows, observed):
    """One row per observed-data, same order, same time and the same _raw XML (artifact)."""
    assert len(rows) == len(observed) == SIZE
    for r, od in zip(rows, observed):
        assert r["_time"][:-6] + "Z" == od["first_observed"]
        art = [o for o in od["objects"].values() if o["type"] == "artifact"][0]
        assert base64.b64decode(art["payload_bin"]).decode() == r["_raw"]
        assert r["host"] == "WindowsTarget" and r["index"] == "main"
        assert r["sourcetype"] == "XmlWinEventLog"
        assert r["source"] == od["objects"]["0"]["module"]
        assert r["signature_id"] == od["objects"]["0"]["code"]
        for k, v in r.items():
            assert isinstance(v, (str, list)), (k, v)


def test_story_rows_fields(rows):
    by_pid = {}
    for r in rows:
        if r["EventCode"] == "1":
            by_pid.setdefault(int(r["process_id"]), r)
    t1016 = by_pid[9636]
    assert t1016["process"] == caldera.CMD_T1016
    assert t1016["parent_process_name"] == "splunkd.exe" and t1016["parent_process_id"] == "5784"
    assert t1016["parent_process"] == caldera.SANDCAT_CMD
    assert t1016["user"] == "inf808" and t1016["User"] == "WINDOWSTARGET\\inf808"
    assert by_pid[caldera.PID_T1136_CMD]["process"] == caldera.CMD_T1136
    assert by_pid[caldera.PID_T1136_CMD]["user"] == "administrator"
    assert by_pid[caldera.PID_WHOAMI]["user"] == "Alex"
    assert by_pid[1304]["process"] == caldera.SEVENZIP
    assert by_pid[1304]["_time"] == "2024-12-12T17:01:24.000+00:00"
    assert by_pid[10504]["process"].startswith('"C:\\Windows\\System32\\curl.exe" -T ')
    assert by_pid[2688]["process"] == caldera.CMD_FILEIO
    gh = [r for r in rows if r["EventCode"] == "3" and r.get("dest_ip") in GITHUB_IPS]
    assert sorted((int(r["src_port"]), r["dest_ip"]) for r in gh) == sorted(
        (s, d) for s, d in FACTS["nt_external_443"]["flows"])
    assert {r["dest_port"] for r in gh} == {"443"} and {r["src_ip"] for r in gh} == {HOST_IP}
    assert {r["transport"] for r in gh} == {"tcp"} and {r["direction"] for r in gh} == {"outbound"}
    # 4732: the member is the user, the group is kept apart
    g = [r for r in rows if r["EventCode"] == "4732"]
    assert [(r["user"], r["user_group"]) for r in g] == [("Alex", "Administrators")]


def test_translated_processes(translated):
    procs = list(_procs(translated))
    cmd_of = {}
    for pid, name, cmd, _, _, _ in procs:
        if cmd:
            cmd_of.setdefault(pid, (name, cmd))
    # T1016 (cell 9) and T1518.001 (cell 10)
    for pid in FACTS["t1016"]["pids"]:
        name, cmd = cmd_of[pid]
        assert name == "cmd.exe" and any(w in cmd for w in ("netsh", "ipconfig", "arp"))
    for pid in FACTS["t1518"]["pids"]:
        assert "antivirusproduct" in cmd_of[pid][1].lower()
    # StageDir (cell 224) and StagedFiles.7z (cell 191)
    for pid in FACTS["procs_exfil"]["pids"]:
        assert "StageDir" in cmd_of[pid][1]
    for pid in FACTS["exfil_cmd"]["pids"]:
        assert "StagedFiles.7z" in cmd_of[pid][1]
    # the rows of DISP TIMESTAMPED(exfil_cmd)
    got = {(t, pid, name) for pid, name, cmd, t, _, _ in procs
           if cmd and "StagedFiles.7z" in cmd}
    got |= {(t, pid, name) for pid, name, cmd, t, objs, p in procs
            if pid == 6764 and p.get("opened_connection_refs")}
    assert got == {tuple(r) for r in FACTS["exfil_cmd"]["rows"]}
    # the suspicious pair and their command lines
    assert cmd_of[caldera.PID_T1136_CMD] == ("cmd.exe", caldera.CMD_T1136)
    assert cmd_of[caldera.PID_WHOAMI] == ("whoami.exe", caldera.WHOAMI)
    # LaZagne / SharpShares downloaded with Invoke-WebRequest
    assert "Invoke-WebRequest" in cmd_of[caldera.PID_LAZAGNE1_PSH][1]
    assert "SharpShares.exe" in cmd_of[8836][1]


def test_translated_parents_and_guids(translated):
    for pid, name, cmd, t, objs, p in _procs(translated):
        if pid in FACTS["procs_exfil"]["pids"] and cmd:
            parent = objs[p["parent_ref"]]
            assert parent["name"] in FACTS["parent_procs_exfil"]["names"]
            assert parent["pid"] in FACTS["parent_procs_exfil"]["pids"]
            assert p["x_unique_id"].startswith("{")


def test_translated_github_443(translated):
    """cells 222/214: dst NOT LIKE '10.%' AND dst_port = 443 AND protocols[*] = 'ip' LAST 15
    DAYS (Chrome's direct 443 before 12-04 18:00 falls outside)."""
    start = caldera._iso(caldera.DEMO_NOW - timedelta(days=15))
    flows, owners = [], {}
    early = 0
    for od in translated:
        objs = od["objects"]
        ev = _of(objs, "x-oca-event")[0]
        if "network_ref" not in ev:
            continue
        nt = objs[ev["network_ref"]]
        if "dst_ref" not in nt:
            continue
        dst = objs[nt["dst_ref"]]["value"]
        if dst.startswith("10.") or nt.get("dst_port") != 443 or "ip" not in nt.get("protocols", []):
            continue
        if od["first_observed"] < start:
            early += 1
            continue
        flows.append([nt["src_port"], dst])
        assert objs[nt["src_ref"]]["value"] == HOST_IP
        p = objs[ev["process_ref"]]
        assert p["opened_connection_refs"] == [ev["network_ref"]]
        owners[p["pid"]] = (p["name"], objs[ev["user_ref"]]["user_id"])
    assert early > 0  # the window matters
    assert sorted(flows) == sorted(FACTS["nt_external_443"]["flows"])
    assert sorted({d for _, d in flows}) == FACTS["nt_ips"]["values"]
    assert sorted(owners) == sorted(FACTS["nt_procs"]["pids"])
    assert {n for n, _ in owners.values()} == set(FACTS["nt_procs"]["names"])
    assert {u for _, u in owners.values()} == set(FACTS["nt_procs"]["owners"])


def test_translated_users_and_files(translated):
    users = set()
    logins = {}
    files = set()
    for od in translated:
        for o in od["objects"].values():
            if o["type"] == "user-account":
                users.add(o["user_id"])
                if "account_login" in o:
                    logins[o["user_id"]] = o["account_login"]
            elif o["type"] == "file" and "name" in o:
                files.add(o["name"])
    assert {"inf808", "Alex", "administrator", "SYSTEM", "NETWORK SERVICE", "WindowsTarget$"} <= users
    # cell 221: the user ids outside the analyst's known list
    known = {"SYSTEM", "inf808", "WDAGUtilityAccount", "DefaultAccount", "Guest"}
    assert set(FACTS["users"]["user_ids"]) <= users - known
    assert logins == {"NETWORK SERVICE": "'S-1-5-18'"}
    assert set(FACTS["nt_proc_files"]["names"]) <= files
    assert {"StagedFiles.7z", "7z.exe", "curl.exe", "splunkd.exe", "whoami.exe"} <= files


def test_cli_cim(tmp_path, capsys):
    out = tmp_path / "c.jsonl"
    assert caldera.main([str(out), "--format", "cim", "--size", "400", "-q"]) == 0
    lines = out.read_bytes().splitlines()
    assert len(lines) == 400
    assert json.loads(lines[0])["_time"].startswith("2024-12-01T")
    assert caldera.main([str(out), "--format", "cim", "--scale", "0.1", "--index", "sysmon"]) == 0
    lines = out.read_bytes().splitlines()
    assert len(lines) == 500 and json.loads(lines[0])["index"] == "sysmon"
    assert "rows/s" in capsys.readouterr().err
    assert caldera._count("1M") == 1_000_000 and caldera._count("100k") == 100_000
