"""Deterministic SCO ids: equal to the stix2 library's for every standard type."""
from __future__ import annotations

import random
import uuid

import pytest

from stixgraph.stix import ids
from stixgraph.stix.ids import canonical, sco_id, scoped_id

import stix2  # noqa: E402
v21 = stix2.v21

IP = "ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd"
DIR = "directory--9b5a8a3b-f4f1-5d4c-8e0e-7b1a1c2d3e4f"
FILE = "file--1b6d1f4c-7b3e-5f8a-9c2d-3e4f5a6b7c8d"
ART = "artifact--6f1d8b0c-2a3b-5c4d-8e5f-6a7b8c9d0e1f"
EMAIL = "email-addr--2d1c9b8a-7f6e-5d4c-8b3a-291807f6e5d4"


def samples():
    """(stix2 object, the same as a plain dict) for a good sample of every type."""
    rnd = random.Random(7)
    out = []

    def add(cls, **kw):
        o = cls(allow_custom=True, **kw)
        d = {"type": o["type"], **kw}
        out.append((o, d))

    for v in ["10.0.0.1", "192.168.121.121", "0.0.0.0/0", "10.0.0.0/8"]:
        add(v21.IPv4Address, value=v)
    for v in ["::1", "2001:db8::ff00:42:8329", "fe80::/10"]:
        add(v21.IPv6Address, value=v)
    for cls, vals in [(v21.DomainName, ["example.com", "bücher.de", "a.b.c.d"]),
                      (v21.EmailAddress, ["a@b.c", "Ünïcødé <u@x.org>"]),
                      (v21.MACAddress, ["00:11:22:33:44:55"]),
                      (v21.URL, ["http://x.y/z?q=1&r=\"2\"", "https://例え.jp/パス", "ftp://\\\\server\\share"])]:
        for v in vals:
            add(cls, value=v)
    for p in [r"C:\Windows\System32", "/usr/bin", "C:\\Users\\👩‍💻\\Temp", "tab\there\nnewline"]:
        add(v21.Directory, path=p)
    for n in ["svchost.exe", "cmd.exe", "Ⅻ.dat", "quote\"s.txt", "\x01ctl"]:
        add(v21.File, name=n)
    add(v21.File, name="a.exe", parent_directory_ref=DIR)
    add(v21.File, hashes={"SHA-256": "a" * 64, "MD5": "b" * 32}, name="x")
    add(v21.File, hashes={"SHA-256": "c" * 64, "SHA-1": "d" * 40})
    add(v21.File, hashes={"SHA-512": "e" * 128})
    add(v21.File, hashes={"SSDEEP": "3:abc:def"}, size=10)
    add(v21.File, name="n.txt", extensions={"ntfs-ext": {"sid": "S-1-5", "alternate_data_streams": [
        {"name": "s1", "size": 3}]}})
    add(v21.File, name="z.zip", extensions={"archive-ext": {"contains_refs": [FILE], "comment": "c"}})
    for _ in range(5):
        add(v21.Mutex, name=f"Global\\M{rnd.getrandbits(32):x}")
    for n in [1, 15169, 4294967295]:
        add(v21.AutonomousSystem, number=n, name="AS")
    add(v21.Artifact, payload_bin="aGVsbG8=")
    add(v21.Artifact, hashes={"SHA-256": "f" * 64}, url="http://a/b")
    add(v21.Artifact, hashes={"MD5": "0" * 32}, payload_bin="AA==")
    add(v21.EmailMessage, is_multipart=False, from_ref=EMAIL, subject="Hi ☃", body="line1\nline2")
    add(v21.EmailMessage, is_multipart=False, subject="only subject")
    for i in range(6):
        kw = {"src_ref": IP, "protocols": rnd.sample(["ipv4", "tcp", "http", "ssl"], 2),
              "src_port": rnd.randint(1, 65535)}
        if i % 2:
            kw["dst_port"] = 443
        if i % 3 == 0:
            kw["start"] = "2020-06-30T19:25:09.447726Z"
            kw["end"] = "2020-06-30T19:25:10Z"
            kw["is_active"] = False
        if i == 4:
            kw["start"] = "2020-06-30T19:25:09.100Z"
        out_kw = dict(kw)
        add(v21.NetworkTraffic, **out_kw)
    add(v21.NetworkTraffic, dst_ref=IP, protocols=["tcp"], extensions={
        "http-request-ext": {"request_method": "get", "request_value": "/",
                             "request_header": {"Host": "x", "Accept-Encoding": "gzip"}}})
    add(v21.NetworkTraffic, src_ref=IP, dst_ref=IP, protocols=["tcp"],
        extensions={"tcp-ext": {"src_flags_hex": "00000002"}})
    add(v21.Software, name="Word", cpe="cpe:2.3:a:microsoft:word:2000:*:*:*:*:*:*:*",
        vendor="Microsoft", version="2002")
    add(v21.Software, name="nginx", version="1.25.3", swid="swid:x")
    add(v21.UserAccount, user_id="1001", account_login="henry", account_type="unix")
    add(v21.UserAccount, user_id="S-1-5-18")
    add(v21.UserAccount, account_login="ünicode")
    add(v21.WindowsRegistryKey, key="HKEY_LOCAL_MACHINE\\System\\Foo", values=[
        {"name": "Foo", "data": "qwerty", "data_type": "REG_SZ"},
        {"name": "Bar", "data": "42", "data_type": "REG_DWORD"}])
    add(v21.WindowsRegistryKey, key="HKEY_CURRENT_USER\\x")
    add(v21.X509Certificate, serial_number="36:f7:d4:32:f4:ab:70:ea:d3:ce:98:6e:ea:99:93:49:32:0a:b7:06")
    add(v21.X509Certificate, hashes={"SHA-1": "1" * 40}, serial_number="01")
    return out


@pytest.mark.parametrize("obj,plain", samples(), ids=lambda x: x["type"] if isinstance(x, dict) else "")
def test_matches_stix2_library(obj, plain):
    assert uuid.UUID(obj.id.split("--")[1]).version == 5  # stix2 made a deterministic id
    assert sco_id(plain) == obj.id


def test_every_standard_type_is_sampled():
    types = {d["type"] for _, d in samples()}
    std = set(ids.ID_PROPS) - {"process", "x-oca-asset"}
    assert std <= types, std - types


def test_canonical_json_is_rfc8785():
    assert canonical({"b": 1, "a": [True, None, "x"]}) == '{"a":[true,null,"x"],"b":1}'
    assert canonical(1.0) == "1" and canonical(1e21) == "1e+21" and canonical(1e-7) == "1e-7"
    assert canonical(0.000001) == "0.000001" and canonical(123.456) == "123.456"
    assert canonical(2 ** 60) == "1152921504606847000"  # as a double, like stix2
    assert canonical("é\n\"\\\x1f") == '"é\\n\\"\\\\\\u001f"'
    # UTF-16 code unit order: U+FF5E sorts after U+1F600 in UTF-16 (surrogates 0xD83D...)
    assert canonical({"\uff5e": 1, "\U0001f600": 2}) == '{"\U0001f600":2,"\uff5e":1}'


def test_deterministic_and_uuid5():
    a = sco_id({"type": "ipv4-addr", "value": "1.2.3.4"})
    assert a == sco_id({"type": "ipv4-addr", "value": "1.2.3.4", "x_extra": 1})
    u = uuid.UUID(a.split("--")[1])
    assert u.version == 5
    assert str(uuid.uuid5(uuid.UUID(ids.NAMESPACE), '{"value":"1.2.3.4"}')) == str(u)


def test_network_traffic_timestamp_format_does_not_split():
    a = {"type": "network-traffic", "src_ref": IP, "start": "2020-06-30T19:25:09.000Z"}
    b = {"type": "network-traffic", "src_ref": IP, "start": "2020-06-30T21:25:09+02:00"}
    assert sco_id(a) == sco_id(b)


def test_process_identity_rules():
    p = {"type": "process", "pid": 4, "name": "System"}
    # no pid+created, no guid: scope decides, never merged across scopes
    assert sco_id(p, scope="od1/0") == sco_id(p, scope="od1/0")
    assert sco_id(p, scope="od1/0") != sco_id(p, scope="od2/0")
    g = {"type": "process", "pid": 4, "x_unique_id": "{abc}"}
    assert sco_id(g, scope="a") == sco_id({"type": "process", "x_unique_id": "{abc}"}, scope="b")
    e = {"type": "process", "extensions": {"x-sentinel": {"process_guid": "{abc}"}}}
    assert sco_id(e, scope="z") == sco_id(g, scope="y")
    c = {"type": "process", "pid": 10, "created": "2023-06-01T01:58:36.354Z"}
    c2 = dict(c, created="2023-06-01T01:58:36.354000Z", name="other.exe")
    assert sco_id(c, scope="1") == sco_id(c2, scope="2")
    assert sco_id(c, scope="1", host="h1") != sco_id(c, scope="1", host="h2")
    assert sco_id(c, host="h1") == sco_id(c2, host="h1")


def test_custom_and_empty_types():
    a = {"type": "x-oca-asset", "hostname": "h1", "ip_refs": ["x"]}
    assert sco_id(a) == sco_id({"type": "x-oca-asset", "hostname": "h1"})
    x1 = {"type": "x-ecs-event", "code": 4624, "kind": "event"}
    assert sco_id(x1) == sco_id(dict(x1)) != sco_id(dict(x1, code=4625))
    f = {"type": "file", "size": 10}  # no contributing property
    assert sco_id(f, scope="o/1") != sco_id(f, scope="o/2")
    assert sco_id(f) == sco_id(dict(f))  # without scope: deterministic over all properties
    assert scoped_id("file", "o/1") == sco_id(f, scope="o/1")


def test_hash_preference():
    f1 = {"type": "file", "hashes": {"SHA-256": "a" * 64, "MD5": "b" * 32}}
    f2 = {"type": "file", "hashes": {"MD5": "b" * 32}}
    assert sco_id(f1) == sco_id(f2)
