"""The Caldera demo bundle (stixgraph.demo.caldera): deterministic, valid, shaped like
stix-shifter's Splunk output, and holding the facts FACTS claims.  Every fact is recomputed
here by reading the bundle back, with the seed's hunt conditions evaluated per entity."""
from __future__ import annotations

import io
import json
import re
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from stixgraph.demo import caldera
from stixgraph.demo.caldera import DEMO_NOW, FACTS, generate

SIZE = 3000
UTC = timezone.utc


def _iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.000Z")


@pytest.fixture(scope="module")
def bundle_bytes():
    buf = io.BytesIO()
    generate(buf, size=SIZE)
    return buf.getvalue()


@pytest.fixture(scope="module")
def bundle(bundle_bytes):
    return json.loads(bundle_bytes)


@pytest.fixture(scope="module")
def obs(bundle):
    return [o for o in bundle["objects"] if o["type"] == "observed-data"]


def _window(obs, start: datetime, stop: datetime):
    a, b = _iso(start), _iso(stop)
    return [od for od in obs if od["first_observed"] < b and od["last_observed"] >= a]


def _last(obs, days: int):
    return _window(obs, DEMO_NOW - timedelta(days=days), DEMO_NOW)


def _of(od, etype):
    return [(k, o) for k, o in od["objects"].items() if o["type"] == etype]


def _like(value, pattern: str) -> bool:
    """SQL LIKE, case-insensitively (so that a case-insensitive engine finds the same)."""
    rx = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern)
    return value is not None and re.fullmatch(rx, value, re.S | re.I) is not None


def _procs(obs, cond):
    """Process entities satisfying cond, as {entity: pid}.  An entity is its x_unique_id; a
    parent process (stix-shifter gives it no x_unique_id) is matched to the one process with
    that pid and name that has one."""
    guid_of = {}
    for od in obs:
        for _, p in _of(od, "process"):
            if "x_unique_id" in p:
                guid_of.setdefault((p["pid"], p["name"]), set()).add(p["x_unique_id"])
    found = {}
    for od in obs:
        for _, p in _of(od, "process"):
            if cond(od, p):
                key = p.get("x_unique_id")
                if key is None:
                    guids = guid_of.get((p["pid"], p["name"]), ())
                    key = next(iter(guids)) if len(guids) == 1 else (p["pid"], p["name"])
                found[key] = p["pid"]
    return found


def _pids(found) -> list[int]:
    return sorted(found.values())


# -- determinism, validity, shape ----------------------------------------------------------

def test_same_seed_same_bytes_other_seed_other_bytes():
    a, b, c = io.BytesIO(), io.BytesIO(), io.BytesIO()
    generate(a, size=1200, seed=1)
    generate(b, size=1200, seed=1)
    generate(c, size=1200, seed=2)
    assert a.getvalue() == b.getvalue()
    assert a.getvalue() != c.getvalue()


def test_file_output_matches_stream(tmp_path, bundle_bytes):
    path = tmp_path / "caldera.json"
    stats = generate(path, size=SIZE)
    assert path.read_bytes() == bundle_bytes
    assert stats["observations"] == SIZE
    assert not list(tmp_path.glob("*.tmp*"))


def test_cli_writes_bundle(tmp_path):
    out = tmp_path / "b.json"
    assert caldera.main([str(out), "--size", "800", "--seed", "5", "-q"]) == 0
    data = json.loads(out.read_bytes())
    assert sum(o["type"] == "observed-data" for o in data["objects"]) == 800


def test_bundle_is_stix20_with_identity(bundle, obs):
    assert bundle["type"] == "bundle" and bundle["spec_version"] == "2.0"
    assert bundle["id"].startswith("bundle--")
    ident = bundle["objects"][0]
    assert ident["type"] == "identity" and ident["identity_class"] == "events"
    assert len(obs) == SIZE == len(bundle["objects"]) - 1
    assert len({od["id"] for od in obs}) == SIZE
    assert all(od["created_by_ref"] == ident["id"] for od in obs)


def test_every_observed_data_has_first_and_last_observed(obs):
    lo, hi = FACTS["story"]
    for od in obs:
        first, last = od["first_observed"], od["last_observed"]
        for t in (first, last):
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", t), t
            datetime.fromisoformat(t.replace("Z", "+00:00"))
        assert lo <= first <= last < hi
        assert od["number_observed"] >= 1 and od["objects"]
    assert [od["first_observed"] for od in obs] == sorted(od["first_observed"] for od in obs)


def _refs(value, key=""):
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _refs(v, k)
    elif isinstance(value, list) and key.endswith("_refs"):
        yield from value
    elif isinstance(value, str) and key.endswith("_ref"):
        yield value


def test_refs_are_object_keys(obs):
    for od in obs:
        keys = od["objects"].keys()
        for o in od["objects"].values():
            for ref in _refs(o):
                assert ref in keys, (od["id"], o)


def test_stix_shifter_shape(obs):
    for od in obs:
        objs = od["objects"]
        ev = objs["0"]
        assert ev["type"] == "x-oca-event" and ev["created"] == od["first_observed"]
        asset = objs[ev["host_ref"]]
        assert asset == {"type": "x-oca-asset", "hostname": "WindowsTarget",
                         "ip_refs": [asset["ip_refs"][0]]}
        assert objs[asset["ip_refs"][0]]["value"] == "10.0.0.5"
        assert objs[ev["original_ref"]]["type"] == "artifact"
        assert _of(od, "x-splunk-data")
        assert objs[ev["user_ref"]]["type"] == "user-account"
        for _, p in _of(od, "process"):
            assert isinstance(p["pid"], int) and p["name"]
            if "parent_ref" in p:  # a Sysmon 1 event: the full view
                assert p["x_unique_id"].startswith("{") and p["command_line"] and p["created"]
                assert objs[p["creator_user_ref"]]["type"] == "user-account"
                assert "x_unique_id" not in objs[p["parent_ref"]]
        for _, nt in _of(od, "network-traffic"):
            if "protocols" in nt:
                assert nt["protocols"][0] == "ip" and nt["protocols"][1] in ("tcp", "udp")
                assert {"src_ref", "dst_ref", "src_port", "dst_port"} <= nt.keys()
            else:
                assert "dns-ext" in nt["extensions"]


def test_size_knob_and_floor():
    small = io.BytesIO()
    stats = generate(small, size=0)
    n_story = stats["observations"]
    assert 100 < n_story < 400  # the story alone
    big = io.BytesIO()
    assert generate(big, size=n_story + 7)["observations"] == n_story + 7


def test_now_shifts_every_timestamp():
    a, b = io.BytesIO(), io.BytesIO()
    generate(a, size=300)
    generate(b, size=300, now=DEMO_NOW + timedelta(days=400))
    oa = [o for o in json.loads(a.getvalue())["objects"] if o["type"] == "observed-data"]
    ob = [o for o in json.loads(b.getvalue())["objects"] if o["type"] == "observed-data"]
    shift = lambda s: _iso(datetime.fromisoformat(s.replace("Z", "+00:00")) + timedelta(days=400))  # noqa
    assert [shift(o["first_observed"]) for o in oa] == [o["first_observed"] for o in ob]


def test_users_are_the_known_accounts(obs):
    ids = {o["user_id"] for od in obs for _, o in _of(od, "user-account")}
    assert ids <= {u["user_id"] for u in caldera.USERS.values()}
    assert {"SYSTEM", "inf808", "NETWORK SERVICE", "Alex", "administrator"} <= ids


# -- the seed's hunts ---------------------------------------------------------------------------

STORY = (datetime(2024, 12, 1, tzinfo=UTC), datetime(2024, 12, 24, tzinfo=UTC))


def test_cell9_t1016(obs):
    found = _procs(_window(obs, *STORY), lambda od, p: p["name"] == "cmd.exe" and any(
        _like(p.get("command_line"), pat) for pat in ("%netsh%", "%ipconfig%", "%arp%")))
    assert _pids(found) == sorted(FACTS["t1016"]["pids"])


def test_cell10_t1518(obs):
    found = _procs(_window(obs, *STORY), lambda od, p: _like(p.get("command_line"), "%AntiVirusProduct%"))
    assert _pids(found) == sorted(FACTS["t1518"]["pids"])


def _nt_external_443(obs):
    """(od, key, nt) for cells 222/214/223's GET network-traffic ... LAST 15 DAYS."""
    out = []
    for od in _last(obs, 15):
        for k, nt in _of(od, "network-traffic"):
            dst = od["objects"].get(nt.get("dst_ref"), {}).get("value")
            if (dst is not None and not _like(dst, "10.%") and nt.get("dst_port") == 443
                    and "ip" in nt.get("protocols", [])):
                out.append((od, k, nt))
    return out


def test_cells222_214_network_traffic(obs):
    hits = _nt_external_443(obs)
    flows = sorted((nt["src_port"], od["objects"][nt["dst_ref"]]["value"]) for od, _, nt in hits)
    facts = FACTS["nt_external_443"]
    assert flows == sorted(map(tuple, facts["flows"]))
    assert len(flows) == facts["entities"] == 15
    assert sorted({d for _, d in flows}) == facts["dst_ips"]
    for od, _, nt in hits:
        assert od["objects"][nt["src_ref"]]["value"] == "10.0.0.5"
        assert nt["protocols"] == ["ip", "tcp"]


def test_cell214_linked_ips_procs_users_files(obs):
    hits = _nt_external_443(obs)
    ips = {o["value"] for od, _, _ in hits for _, o in _of(od, "ipv4-addr")} - {"10.0.0.5"}
    assert sorted(ips) == FACTS["nt_ips"]["values"]
    procs = {}
    for od, k, _ in hits:
        for _, p in _of(od, "process"):
            if k in p.get("opened_connection_refs", []):
                procs[p["x_unique_id"]] = (p, od["objects"][p["creator_user_ref"]]["user_id"])
    facts = FACTS["nt_procs"]
    assert sorted(p["pid"] for p, _ in procs.values()) == sorted(facts["pids"])
    assert sorted({p["name"] for p, _ in procs.values()}) == facts["names"]
    assert sorted({u for _, u in procs.values()}) == facts["owners"]
    # their parents, from their own process-create events
    parents, files = set(), set()
    for od in obs:
        for _, p in _of(od, "process"):
            if p.get("x_unique_id") in procs:
                files |= {f.get("name") for _, f in _of(od, "file")}
                if "parent_ref" in p:
                    parents.add(od["objects"][p["parent_ref"]]["name"])
    assert sorted(parents) == facts["parents"]
    assert sorted(files) == FACTS["nt_proc_files"]["names"]
    files_here = {f["name"] for od, _, _ in hits for _, f in _of(od, "file")}
    assert sorted(files_here) == FACTS["nt_proc_files"]["in_nt_observations"]


def test_cell42_suspicious_processes(obs):
    net_user = _procs(obs, lambda od, p: _like(p.get("command_line"), "%net user /add%Alex%coucou%")
                      and p["name"] == "cmd.exe")
    whoami = _procs(obs, lambda od, p: p["name"] == "whoami.exe")
    assert _pids(net_user) + _pids(whoami) == FACTS["susp"]["pids"]
    # both are in cell 42's GET: binary name matches .exe and is not powershell.exe
    for od in _window(obs, *STORY):
        for _, p in _of(od, "process"):
            if p["pid"] in FACTS["susp"]["pids"] and "x_unique_id" in p:
                name = od["objects"][p["binary_ref"]]["name"]
                assert re.fullmatch(r".+\.(exe|dll|bat)$", name) and name != "powershell.exe"


def test_cell221_users(obs):
    window = _window(obs, datetime(2024, 12, 1, 15, 5, tzinfo=UTC),
                     datetime(2024, 12, 24, 8, tzinfo=UTC))
    excluded = {"SYSTEM", "inf808", "WDAGUtilityAccount", "DefaultAccount", "Guest"}
    users = {json.dumps(u, sort_keys=True): u for od in window for _, u in _of(od, "user-account")
             if u["user_id"] not in excluded}
    facts = FACTS["users"]
    assert sorted(u["user_id"] for u in users.values()) == sorted(facts["user_ids"])
    ns = uuid.UUID("00abedb4-aa42-466c-9c01-fed23315a9b7")  # STIX 2.1 SCO namespace
    for u in users.values():
        props = {k: v for k, v in u.items() if k != "type"}
        sid = "user-account--" + str(uuid.uuid5(ns, json.dumps(props, sort_keys=True,
                                                                separators=(",", ":"))))
        assert sid == facts["ids"][u["user_id"]]


def test_cell224_exfil_processes_parents_traffic(obs):
    found = _procs(_last(obs, 10), lambda od, p: _like(p.get("command_line"), "%StageDir%"))
    assert _pids(found) == sorted(FACTS["procs_exfil"]["pids"])
    parents, flows = set(), set()
    for od in obs:
        for _, p in _of(od, "process"):
            if p.get("x_unique_id") not in found:
                continue
            if "parent_ref" in p:
                pp = od["objects"][p["parent_ref"]]
                parents.add((pp["name"], pp["pid"]))
            for ref in p.get("opened_connection_refs", []):
                nt = od["objects"][ref]
                flows.add((nt["src_port"], od["objects"][nt["dst_ref"]]["value"]))
    assert sorted(parents) == sorted(zip(FACTS["parent_procs_exfil"]["names"],
                                         FACTS["parent_procs_exfil"]["pids"]))
    assert sorted(flows) == sorted(map(tuple, FACTS["nt_exfil"]["flows"]))


def test_cell191_exfil_commands_and_their_times(obs):
    found = _procs(_last(obs, 15), lambda od, p: _like(p.get("command_line"), "%StagedFiles.7z%"))
    assert _pids(found) == sorted(FACTS["exfil_cmd"]["pids"])
    rows = {(od["first_observed"], p["pid"], p["name"]) for od in obs
            for _, p in _of(od, "process") if p.get("x_unique_id") in found}
    assert sorted(rows) == sorted(map(tuple, FACTS["exfil_cmd"]["rows"]))


def test_last_15_days_matters(obs):
    """External 443 traffic exists outside the window (Chrome before the proxy), so a hunt
    that ignores LAST 15 DAYS finds more than the story."""
    outside = [od for od in obs if od["first_observed"] < _iso(DEMO_NOW - timedelta(days=15))
               for _, nt in _of(od, "network-traffic") if nt.get("dst_port") == 443
               and not od["objects"][nt["dst_ref"]]["value"].startswith("10.")]
    assert outside
