"""The compiled Splunk results translation (stixgraph.splunk.translate) against stix-shifter.

stix-shifter itself is the oracle everywhere: rows shaped like the Splunk Add-on for Sysmon's
CIM output (EID 1, 3, 11, 12, 13, 22), with the odd values real data has ("-", "", unicode,
backslashes, multi-value lists, IPv6, hex pids, missing fields), go through both
``check_data``s and both translations, and must give the same observed-data, object by object.
``rows_sysmon(n, seed)`` is importable for other tests and benchmarks.
"""
from __future__ import annotations

import copy
import json
import random
import uuid

import pytest

import stix_shifter  # noqa: E402,F401
import stix_shifter_modules.splunk  # noqa: E402,F401

from stixgraph.splunk import translate as T  # noqa: E402
from stixgraph.splunk.translate import (Translator, assert_same_as_stix_shifter, check_data,  # noqa: E402
                                        check_data_stix_shifter, compare, stix_shifter_translate)

# -- CIM rows like the Splunk Add-on for Sysmon's ------------------------------------------

HOSTS = ["WS01", "ws02.corp.local", "DC-01", "héllo-ünïcode"]
USERS = ["CORP\\alice", "NT AUTHORITY\\SYSTEM", "bob", "-", "", ["CORP\\a", "CORP\\b"]]
IMAGES = [r"C:\Windows\System32\cmd.exe", r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe",
          r"C:\Program Files\Microsoft Office\root\Office16\WINWORD.EXE", r"C:\Users\Üser\AppData\Local\Temp\pay load.exe",
          "rundll32.exe", "/usr/bin/bash", "-"]
CMDS = ["cmd.exe /c whoami /all", 'powershell.exe -enc SQBFAFgA "quoted"', "", "-",
        'C:\\Windows\\system32\\rundll32.exe C:\\x\\y.dll,#1', "日本語 コマンド"]
HASHES = ["MD5=5A0B0E6F407C89916515328F318842A1,SHA256=8FC86B75926043F048971696BC7A407615C9A03D9B1BFACC54785C8903B82A91,IMPHASH=406DD24835F1447987FB607C78597252",
          "SHA1=A94A8FE5CCB19BA61C4C0873D391E987982FBBD3", "d41d8cd98f00b204e9800998ecf8427e",
          "a94a8fe5ccb19ba61c4c0873d391e987982fbbd3", "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
          "not-a-hash", "-", ""]
IPS = ["10.0.0.5", "192.168.1.20", "203.0.113.50", "fe80::1c2d:3e4f:5a6b:7c8d", "::1", "999.1.1.1",
       "-", "", ["10.1.1.1", "2001:db8::1"]]
REG_KEYS = [r"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Run\evil",
            r"HKU\S-1-5-21-1\Software\Microsoft\Windows\CurrentVersion\Run",
            r"hkcu\software\x", r"\REGISTRY\MACHINE\SYSTEM\x", "HKCR", "-"]
TIMES = ["2024-05-01T12:00:01.123+00:00", "2021-12-31T23:59:59.999+00:00", "2020-02-29T00:00:00.000+00:00"]


def _guid(rnd):
    return "{" + str(uuid.UUID(int=rnd.getrandbits(128))).upper() + "}"


def _common(rnd, eid, signature):
    host = rnd.choice(HOSTS)
    raw = (f"<Event><System><EventID>{eid}</EventID><Computer>{host}</Computer></System>"
           f"<EventData>\\back\\slash \"q\" ü {rnd.random()}</EventData></Event>")
    r = {"_time": rnd.choice(TIMES), "host": host,
         "source": "XmlWinEventLog:Microsoft-Windows-Sysmon/Operational",
         "sourcetype": "XmlWinEventLog", "_sourcetype": "XmlWinEventLog",
         "eventtype": rnd.choice([["ms-sysmon-process", "endpoint"], "ms_sysmon", [], "-"]),
         "signature_id": str(eid), "signature": signature, "vendor_product": "Microsoft Sysmon",
         "action": rnd.choice(["allowed", "created", "modified", "-", ""]), "_raw": raw,
         "dest": host, "EventCode": str(eid)}
    if rnd.random() < 0.1:
        r["_raw"] = rnd.choice(["", "-"])
    return r


def _proc(rnd, prefix, r):
    img = rnd.choice(IMAGES)
    r[prefix + "process"] = rnd.choice(CMDS)
    r[prefix + "process_name"] = img.replace("/", "\\").split("\\")[-1] if img != "-" else "-"
    r[prefix + "process_id"] = rnd.choice([str(rnd.randint(4, 70000)), hex(rnd.randint(4, 70000)), "-", "", "12a"])
    r[prefix + "process_guid"] = _guid(rnd)
    r[prefix + "process_path"] = img
    r[prefix + "process_exec"] = rnd.choice([r[prefix + "process_name"], "other.exe", "-"])


def _eid1(rnd):
    r = _common(rnd, 1, "Process Create")
    _proc(rnd, "", r)
    _proc(rnd, "parent_", r)
    r.update(user=rnd.choice(USERS), process_hash=rnd.choice(HASHES),
             process_current_directory="C:\\Windows\\system32\\", original_file_name="Cmd.Exe",
             process_integrity_level="High")
    return r


def _eid3(rnd):
    r = _common(rnd, 3, "Network connection detected")
    _proc(rnd, "", r)
    r.update(user=rnd.choice(USERS), src_ip=rnd.choice(IPS), dest_ip=rnd.choice(IPS),
             src_port=rnd.choice([str(rnd.randint(1024, 65535)), "-", "", "80.0"]),
             dest_port=rnd.choice(["443", "53", "-", "x"]),
             transport=rnd.choice(["tcp", "udp", "TCP", "-", ["tcp", "UDP"]]),
             protocol=rnd.choice(["ip", "-", None]), direction=rnd.choice(["outbound", "inbound", "-"]),
             src_host=rnd.choice(HOSTS), dest_host="example.com")
    if rnd.random() < 0.3:
        r["src"] = r["src_ip"]
    if rnd.random() < 0.2:
        del r["src_ip"]
    if rnd.random() < 0.1:
        del r["dest_port"], r["dest_ip"]
    return r


def _eid11(rnd):
    r = _common(rnd, 11, "File created")
    _proc(rnd, "", r)
    path = rnd.choice([r"C:\Users\alice\Downloads\payload.exe", r"C:\Temp\日本.txt", r"\\server\share\x.dll", "-"])
    r.update(file_path=path, file_name=path.split("\\")[-1], file_hash=rnd.choice(HASHES),
             file_create_time=rnd.choice(["2024-05-01 12:00:01.123", "2024-05-01T12:00:01.123", "-"]),
             file_size=rnd.choice(["1024", "12.5", "-", "big"]), user=rnd.choice(USERS))
    if rnd.random() < 0.2:
        r["file_name"] = rnd.choice(["-", ""])
    return r


def _eid12_13(rnd):
    eid = rnd.choice([12, 13, 14])
    r = _common(rnd, eid, {12: "Registry object added or deleted", 13: "Registry value set",
                           14: "Registry object renamed"}[eid])
    _proc(rnd, "", r)
    key = rnd.choice(REG_KEYS)
    r.update(registry_path=key, registry_key_name=key,
             registry_value_name=rnd.choice(["evil", "(Default)", "-", ""]),
             registry_value_data=rnd.choice(["C:\\x\\evil.exe", "DWORD (0x00000001)", "-", None]),
             registry_hive=rnd.choice(["HKEY_LOCAL_MACHINE", "-"]), registry_value_type="REG_SZ",
             user=rnd.choice(USERS))
    return r


def _eid22(rnd):
    r = _common(rnd, 22, "Dns query")
    _proc(rnd, "", r)
    r.update(query=rnd.choice(["example.com", "xn--bcher-kva.de", "-", "a.b.c.d", "bad_name!"]),
             answer=rnd.choice(["93.184.216.34", "::ffff:93.184.216.34", ["1.2.3.4", "5.6.7.8", "::1"],
                                "type:  5 x.net;1.2.3.4;", "-"]),
             record_type=rnd.choice(["A", "AAAA", "-"]), reply_code=rnd.choice(["0", "NOERROR"]),
             query_count="1", user=rnd.choice(USERS))
    return r


SHAPES = [_eid1, _eid3, _eid11, _eid12_13, _eid22]


def _perturb(rnd, r):
    """Drop, blank and re-order fields the way real searches do."""
    keys = list(r)
    for k in keys:
        x = rnd.random()
        if x < 0.06:
            del r[k]
        elif x < 0.09:
            r[k] = "-"
        elif x < 0.11:
            r[k] = ""
    if rnd.random() < 0.3:
        items = list(r.items())
        rnd.shuffle(items)
        r = dict(items)
    return r


def rows_sysmon(n: int, seed: int = 1, perturb: bool = True) -> list[dict]:
    """``n`` varied CIM rows of the Sysmon shapes above (raw, before check_data)."""
    rnd = random.Random(seed)
    out = []
    for _ in range(n):
        r = rnd.choice(SHAPES)(rnd)
        out.append(_perturb(rnd, r) if perturb else r)
    return out


# -- the differential ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def translator():
    return Translator()


@pytest.mark.parametrize("shape", SHAPES, ids=lambda f: f.__name__)
def test_each_sysmon_shape_same_as_stix_shifter(shape, translator):
    rnd = random.Random(hash(shape.__name__) & 0xffff)
    rows = [shape(rnd) for _ in range(150)] + [_perturb(rnd, shape(rnd)) for _ in range(150)]
    assert assert_same_as_stix_shifter(rows, translator=translator) == 300


def test_varied_rows_same_as_stix_shifter(translator):
    rows = rows_sysmon(3000, seed=7)
    assert assert_same_as_stix_shifter(rows, translator=translator) == 3000
    assert translator.fallback_rows == 0          # the splunk map is fully compiled


def test_the_comparison_has_teeth(translator):
    """What the differential compares would notice a wrong ref, a lost object, an extra
    property or a renumbering."""
    rows = check_data(rows_sysmon(40, seed=3, perturb=False))
    mine = translator.translate(rows)
    theirs = stix_shifter_translate(check_data_stix_shifter(rows_sysmon(40, seed=3, perturb=False)))
    assert all(not compare(a, b) for a, b in zip(mine, theirs))
    a = next(o for o in mine if "process_ref" in o["objects"]["0"])
    b = theirs[mine.index(a)]
    bad = copy.deepcopy(a)
    bad["objects"]["0"]["process_ref"] = "99"
    assert compare(bad, b)
    bad = copy.deepcopy(a)
    bad["objects"].popitem()
    assert compare(bad, b)
    bad = copy.deepcopy(a)
    bad["objects"]["0"]["x_extra"] = 1
    assert compare(bad, b)
    bad = copy.deepcopy(a)
    bad["objects"] = {str(int(k) + 1): v for k, v in bad["objects"].items()}
    assert compare(bad, b)
    bad = copy.deepcopy(a)
    bad["first_observed"] = "2000-01-01T00:00:00.000Z"
    assert compare(bad, b)


def test_sysmon_objects_are_produced(translator):
    """The rows used above do exercise the mapping: the Sysmon object types all appear."""
    seen = set()
    for o in translator.translate(check_data(rows_sysmon(500, seed=11))):
        seen.update(x["type"] for x in o["objects"].values())
    assert {"x-oca-event", "x-oca-asset", "x-splunk-data", "process", "file", "directory",
            "network-traffic", "ipv4-addr", "ipv6-addr", "user-account", "windows-registry-key",
            "artifact", "domain-name"} <= seen


def test_edge_rows_same_as_stix_shifter(translator):
    rows = [
        {},
        {"_time": "2024-05-01T12:00:01.123+00:00"},
        {"host": "h"},                                         # no _time: "now" on both sides
        {"_time": ["2024-05-01T12:00:01.123+00:00"]},          # transformer fails on a list
        {"_time": "garbage"},                                  # invalid date -> None
        {"event_count": "3", "_time": "2024-05-01T12:00:01.123+00:00"},
        {"event_count": "x"},
        {"dest_ip": ["10.0.0.1", "10.0.0.2", "fe80::1"], "src_ip": "10.9.9.9", "src_port": "1"},
        {"src_ip": ["1.1.1.1"], "dest_ip": [], "dest_port": "5"},
        {"user": ["a", "b", "c"], "process_name": "x.exe"},
        {"user": []},
        {"eventtype": ["a", "b"], "source": "s", "_sourcetype": "t"},
        {"process_id": "0x1f", "parent_process_id": "0X10", "parent_process_name": "p.exe"},
        {"process_hash": "abc", "process_name": "a.exe"},
        {"process_hash": "MD5=1,SHA256=2", "process_exec": "b.exe"},
        {"process_hash": "bad=1=2,x"},
        {"file_hash": "SHA1=AB,MD5=CD", "file_name": "f"},
        {"file_hash": "SHA1", "file_name": "f"} if False else {"file_hash": "deadbeef", "file_name": "f"},
        {"registry_value_name": "v", "registry_key_name": "HKLM\\HKLM\\x"},
        {"registry_value_name": "v", "registry_value_data": "", "registry_key_name": "HKLM"},
        {"networkdata": {"src_port": "1", "dest_port": "2", "protocol": "UDP, TCP"}, "src_ip": "1.2.3.4"},
        {"networkdata": [{"src_port": "1"}, {"dest_port": "2"}]},
        {"networkdata": "scalar"},
        {"file_hashes": {"file_md5": "", "file_sha1": "x"}, "file_name": "n"},
        {"answer": ["1.2.3.4", "::1", "nope"], "query": "a.com"},
        {"query": "UPPER.Example.COM", "dest_ip": "1.1.1.1", "src_ip": "2.2.2.2"},
        {"src_mac": "00-11-22-33-44-55", "src_ip": "1.2.3.4", "dest_mac": "aabb", "dest_ip": "1.1.1.1"},
        {"recipient": ["a@b.c", "d@e.f"], "subject": "hi", "src_user": "x@y.z", "src_user_domain": "y.z",
         "recipient_domain": "e.f"},
        {"ssl_issuer_email": ["i@x.y"], "ssl_hash": "", "ssl_start_time": "1714564801000", "ssl_is_valid": "true"},
        {"severity": "high", "type": "alert", "signature": "s", "id": "1", "description": "d",
         "mitre_technique_id": ["T1003", "T1059"], "dest_ip": "1.1.1.1"},
        {"severity": "bogus"},
        {"http_user_agent": "UA", "http_referrer": "", "uri_path": "/", "url": "http://x/y"},
        {"name": "n", "query": "q.com", "query_type": "A", "message_type": "Q"},
        {"bytes_in": "10.7", "bytes_out": "-", "packets_in": "3", "duration": "1.0"},
        {"process_name": ["a.exe", "b.exe"], "process_id": ["1", "2"], "process_path": ["C:\\a.exe"]},
        {"_raw": "x", "mime_type_raw": "application/json"},
        {"process": 5, "process_id": 12, "dest_port": 80, "src_port": 5, "src_ip": "1.1.1.1"},
        {"unmapped": "x", "Image": "C:\\a.exe"},
    ]
    assert assert_same_as_stix_shifter(rows, translator=translator) == len(rows)


def test_unmapped_fallback_option_same_as_stix_shifter():
    ident = {"type": "identity", "id": "identity--3532c56d-ea72-48be-a2ad-1a53f4c9c6d3",
             "name": "my_splunk", "identity_class": "events"}
    opts = {"unmapped_fallback": True}
    tr = Translator(identity=ident, options=opts)
    rows = rows_sysmon(300, seed=5)
    assert assert_same_as_stix_shifter(rows, translator=tr, options=opts) == 300
    o = tr.observed_data(check_data([{"Image": "C:\\a.exe", "host": "h"}])[0])
    assert any(x["type"] == "x-my-splunk" for x in o["objects"].values())


def test_custom_mapping_from_options_is_honoured():
    """options["mapping"]["to_stix_map"] replaces the module's map, as in stix-shifter."""
    m = T.load_mapping()
    m = copy.deepcopy(m)
    m["CommandLine"] = {"key": "process.command_line", "object": "process"}
    m["Image"] = [{"key": "file.name", "object": "img", "transformer": "ToFileName"},
                  {"key": "process.binary_ref", "object": "process", "references": "img"}]
    del m["host"]
    opts = {"mapping": {"to_stix_map": m}}
    tr = Translator(options=opts)
    rows = rows_sysmon(200, seed=9)
    for r in rows:
        r["CommandLine"] = r.get("process", "x")
        r["Image"] = "C:\\Windows\\" + str(r.get("process_name"))
    assert assert_same_as_stix_shifter(rows, translator=tr, options=opts) == 200
    o = tr.observed_data(check_data([{"CommandLine": "c d", "host": "h", "Image": "C:\\z.exe"}])[0])
    types = sorted(x["type"] for x in o["objects"].values())
    assert types == ["file", "process"]          # host unmapped now, Image -> file via binary_ref
    # and an explicit to_stix_map argument wins
    o = Translator({"host": {"key": "x-oca-asset.hostname", "object": "h"}}).observed_data({"host": "h", "process": "p"})
    assert o["objects"] == {"0": {"type": "x-oca-asset", "hostname": "h"}}


def test_unsupported_mapping_entries_fall_back_to_stix_shifter():
    m = copy.deepcopy(T.load_mapping())
    m["weird"] = {"key": "x-thing.value", "object": "thing", "ds_key": "other"}
    tr = Translator(m)
    assert "weird" in tr.unsupported
    raw = [{"weird": "w", "other": "o", "host": "h", "_time": TIMES[0]}, {"host": "h2"}]
    out = tr.translate(check_data(raw))
    assert tr.fallback_rows == 1                 # only the row that reaches the entry
    theirs = stix_shifter_translate(check_data_stix_shifter(raw), options={"mapping": {"to_stix_map": m}})
    assert [compare(a, b) for a, b in zip(out, theirs)] == [[], []]
    assert any(x.get("type") == "x-thing" for x in out[0]["objects"].values())
    assert [o["id"] for o in out] == [o["id"] for o in Translator(m).translate(check_data(raw))]  # ids as on the fast path


def test_check_data_equals_stix_shifters_and_leaves_input_alone():
    rows = rows_sysmon(2000, seed=13)
    before = copy.deepcopy(rows)
    mine = check_data(rows)
    assert rows == before                      # copies, not in place
    theirs = check_data_stix_shifter(rows)
    assert mine == theirs
    assert [list(r) for r in mine] == [list(r) for r in theirs]   # key order too
    assert any(r.get("networkdata") for r in mine) and any(r["file_hashes"] for r in mine)
    assert any(r.get("registry_value") for r in mine)


def test_ids_and_times_are_deterministic_and_parameterised(translator):
    rows = check_data(rows_sysmon(50, seed=17, perturb=False))
    a = Translator().translate(rows)
    b = Translator().translate(copy.deepcopy(rows))
    assert [o["id"] for o in a] == [o["id"] for o in b]
    assert len({o["id"] for o in a}) == len(a)
    for o in a:
        assert o["id"].startswith("observed-data--")
        uuid.UUID(o["id"].split("--", 1)[1])
        assert o["created"] == o["modified"] == o["last_observed"]
        assert o["created_by_ref"] == T.DEFAULT_IDENTITY["id"]
    other_ident = dict(T.DEFAULT_IDENTITY, id="identity--" + str(uuid.uuid4()))
    c = Translator(identity=other_ident).translate(rows)
    assert {o["id"] for o in c}.isdisjoint(o["id"] for o in a)
    assert {o["id"] for o in Translator(id_seed="run2").translate(rows)}.isdisjoint(o["id"] for o in a)
    # content-addressed ids: the same row gets the same id wherever it comes in the stream
    tc = Translator()
    tc.id_factory = tc.content_id
    ids1 = [o["id"] for o in tc.translate(rows)]
    ids2 = [o["id"] for o in tc.translate(list(reversed(copy.deepcopy(rows))))]
    assert ids1 == list(reversed(ids2)) and len(set(ids1)) == len(ids1)
    t = Translator(id_factory=lambda r: "observed-data--" + str(uuid.UUID(int=7)),
                   created="2030-01-01T00:00:00.000Z")
    o = t.observed_data({"host": "h"})
    assert o["id"] == "observed-data--" + str(uuid.UUID(int=7))
    assert o["created"] == o["modified"] == o["first_observed"] == o["last_observed"] \
        == "2030-01-01T00:00:00.000Z"
    json.dumps(a)                               # plain JSON


def test_stix_21_refused():
    with pytest.raises(ValueError):
        Translator(options={"stix_2.1": True})


def test_event_ids_name_the_splunk_event_not_the_search():
    t = Translator()
    row = {"_time": "2024-12-12T16:43:01.000+00:00", "host": "h", "process_name": "a.exe"}
    same = dict(row, _serial="7", _si=["idx1", "main"])     # another search, same event
    other = dict(row, process_name="b.exe")
    assert t.content_id(row) == t.content_id(same) != t.content_id(other)
    # with Splunk's address of the event, that alone names it
    a = dict(row, index="main", _bkt="main~12~ABC", _cd="12:345")
    b = dict(a, _serial="99", extra_field="x")
    c = dict(a, _cd="12:346")
    assert t.content_id(a) == t.content_id(b) != t.content_id(c)
    other_ident = dict(T.DEFAULT_IDENTITY, id="identity--" + str(uuid.uuid4()))
    assert Translator(identity=other_ident).content_id(a) != t.content_id(a)
    uuid.UUID(t.content_id(a).split("--", 1)[1])
