"""observed-data (STIX 2.0 embedded, STIX 2.1 object_refs) → normalised Observation."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from stixgraph.errors import DataSourceError
from stixgraph.stix.ids import sco_id
from stixgraph.stix.normalize import (norm_timestamp, normalize_bundle, normalize_objects,
                                      normalize_observed_data, raw_observation)

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "kestrel"


def kestrel(name):
    p = DATA / name
    if not p.exists():
        pytest.skip(f"shared data {p} is not present on this machine")
    return json.loads(p.read_text())


OD20 = {
    "type": "observed-data", "id": "observed-data--0001",
    "created": "2020-06-30T19:31:23.651Z", "modified": "2020-06-30T19:31:23.651Z",
    "first_observed": "2020-06-30T19:25:09.447726Z", "last_observed": "2020-06-30T21:28:49+02:00",
    "number_observed": 3, "x_custom": {"a": 1},
    "objects": {
        "0": {"type": "file", "name": "cmd.exe", "parent_directory_ref": "1"},
        "1": {"type": "directory", "path": "C:\\Windows\\System32", "contains_refs": ["0", "9"]},
        "2": {"type": "process", "pid": 4, "binary_ref": "0", "parent_ref": "3",
              "extensions": {"x-ext": {"thing_ref": "5"}}},
        "3": {"type": "process", "pid": 1, "created": "2020-06-30T19:00:00Z", "parent_ref": "2"},
        "4": {"type": "x-oca-asset", "hostname": "host1"},
        "5": {"type": "ipv4-addr", "value": "10.0.0.1"},
        "6": {"type": "network-traffic", "src_ref": "5", "dst_ref": "7", "dst_port": 22},
        "7": {"type": "ipv4-addr", "value": "10.0.0.2", "x_note": "kept"},
    },
}


def test_stix20_embedded():
    st = {}
    o = normalize_observed_data(OD20, stats=st)
    assert o.id == "observed-data--0001"
    assert o.first_observed == "2020-06-30T19:25:09.447Z"
    assert o.last_observed == "2020-06-30T19:28:49.000Z"
    assert o.number_observed == 3
    assert o.props == {"created": OD20["created"], "modified": OD20["modified"],
                       "x_custom": {"a": 1}}
    by_type = {}
    for i, x in o.objects.items():
        assert x["id"] == i
        by_type.setdefault(x["type"], []).append(x)
    d = by_type["directory"][0]
    f = by_type["file"][0]
    # dependency order: the file's id uses its parent directory's deterministic id
    assert f["parent_directory_ref"] == d["id"] == sco_id({"type": "directory", "path": d["path"]})
    assert f["id"] == sco_id({"type": "file", "name": "cmd.exe", "parent_directory_ref": d["id"]})
    assert d["contains_refs"] == [f["id"]]  # the dangling "9" dropped
    assert st["dropped_refs"] == 1
    procs = {p["pid"]: p for p in by_type["process"]}
    assert procs[4]["binary_ref"] == f["id"]
    assert procs[4]["parent_ref"] == procs[1]["id"] and procs[1]["parent_ref"] == procs[4]["id"]
    assert procs[4]["extensions"]["x-ext"]["thing_ref"] in o.objects  # nested ref rewritten
    # process identity: pid+created+asset host; no created -> unique to this observation
    assert procs[1]["id"] == sco_id({"type": "process", "pid": 1,
                                     "created": "2020-06-30T19:00:00Z"}, host="host1")
    nt = by_type["network-traffic"][0]
    assert o.objects[nt["dst_ref"]]["x_note"] == "kept"
    assert raw_observation(OD20).objects is OD20["objects"]  # raw: no copy, refs unchanged
    assert OD20["objects"]["0"]["parent_directory_ref"] == "1"  # input not modified


def test_ids_are_deterministic_but_scoped():
    a = normalize_observed_data(OD20)
    b = normalize_observed_data(json.loads(json.dumps(OD20)))
    assert list(a.objects) == list(b.objects)
    other = dict(OD20, id="observed-data--0002")
    c = normalize_observed_data(other)
    pid4 = lambda o: next(x["id"] for x in o.objects.values() if x.get("pid") == 4)
    assert pid4(a) != pid4(c)  # pid without created: never merged across observations
    shared = set(a.objects) & set(c.objects)
    assert len(shared) == len(a.objects) - 1


def test_stix21_object_refs_and_transitive_scos():
    top = {
        "file--a": {"type": "file", "id": "file--a", "spec_version": "2.1", "name": "x.exe",
                    "parent_directory_ref": "directory--b"},
        "directory--b": {"type": "directory", "id": "directory--b", "path": "/tmp"},
        "process--c": {"type": "process", "id": "process--c", "pid": 9, "binary_ref": "file--a",
                       "object_marking_refs": ["marking-definition--x"]},
        "identity--i": {"type": "identity", "id": "identity--i", "name": "me"},
    }
    od = {"type": "observed-data", "id": "observed-data--21", "spec_version": "2.1",
          "first_observed": "2021-01-01T00:00:00Z", "last_observed": "2021-01-01T00:00:01Z",
          "number_observed": 1, "object_refs": ["process--c", "missing--z", "identity--i"]}
    o = normalize_observed_data(od, bundle_objects=top)
    types = sorted(x["type"] for x in o.objects.values())
    assert types == ["directory", "file", "process"]  # file/dir pulled in through refs
    p = next(x for x in o.objects.values() if x["type"] == "process")
    assert p["object_marking_refs"] == ["marking-definition--x"]  # SDO refs kept verbatim
    f = o.objects[p["binary_ref"]]
    assert f["id"] == sco_id({"type": "file", "name": "x.exe",
                              "parent_directory_ref": sco_id(top["directory--b"])})
    # a process without identity keeps its 2.1 identity (the original id) across observations
    o2 = normalize_observed_data(dict(od, id="observed-data--22"), bundle_objects=top)
    assert p["id"] in o2.objects


def test_cycles_in_contributing_refs_terminate():
    od = {"type": "observed-data", "id": "observed-data--c", "first_observed": "2020-01-01T00:00:00Z",
          "objects": {"0": {"type": "x-a", "peer_ref": "1"}, "1": {"type": "x-a", "peer_ref": "0"},
                      "2": {"type": "file", "name": "z", "extensions": {"archive-ext": {
                          "contains_refs": ["2"]}}}}}
    o1 = normalize_observed_data(od)
    o2 = normalize_observed_data(od)
    assert list(o1.objects) == list(o2.objects) and len(o1.objects) == 3
    assert o1.last_observed == o1.first_observed  # missing last_observed


@pytest.mark.parametrize("bad", [
    {"type": "observed-data", "id": "observed-data--x", "objects": {}},
    {"type": "observed-data", "id": "observed-data--x", "first_observed": "yesterday"},
])
def test_bad_observed_data(bad):
    with pytest.raises(DataSourceError):
        normalize_observed_data(bad)


@pytest.mark.parametrize("text,expected", [
    ("2020-06-30T19:25:09.447726Z", "2020-06-30T19:25:09.447Z"),
    ("2020-06-30T19:25:09Z", "2020-06-30T19:25:09.000Z"),
    ("2020-06-30T19:25:09.4Z", "2020-06-30T19:25:09.400Z"),
    ("2020-06-30T19:25:09.000Z", "2020-06-30T19:25:09.000Z"),
    ("2020-06-30T21:25:09.9999+02:00", "2020-06-30T19:25:09.999Z"),
    ("2020-06-30T19:25:09", "2020-06-30T19:25:09.000Z"),
    ("2020-06-30 19:25:09.123456789Z", "2020-06-30T19:25:09.123Z"),
])
def test_norm_timestamp(text, expected):
    assert norm_timestamp(text) == expected


def test_normalize_objects_for_new():
    objs = [{"type": "ipv4-addr", "value": "1.2.3.4"},
            {"type": "network-traffic", "src_ref": "0", "dst_port": 80},
            {"type": "process", "pid": 123}, {"type": "process", "pid": 99}]
    out = normalize_objects(objs)
    assert len(out) == 4
    nt = next(x for x in out.values() if x["type"] == "network-traffic")
    assert out[nt["src_ref"]]["value"] == "1.2.3.4"
    assert normalize_objects(objs) == out  # deterministic
    # a different NEW of an identity-less process never collides with these
    other = normalize_objects([{"type": "process", "pid": 5}])
    assert not set(other) & set(out)
    with pytest.raises(DataSourceError):
        normalize_objects([{"value": "no type"}])
    # refs by original id
    o2 = normalize_objects([{"type": "ipv4-addr", "id": "ipv4-addr--old", "value": "9.9.9.9"},
                            {"type": "network-traffic", "src_ref": "ipv4-addr--old"}])
    nt2 = next(x for x in o2.values() if x["type"] == "network-traffic")
    assert o2[nt2["src_ref"]]["value"] == "9.9.9.9"


def test_kestrel_bundles_normalise():
    for name, n in [("test_bundle.json", 100), ("doctored-1k.json", 974),
                    ("ccoe_investigator_demo.json", None), ("test_bundle_nt_2.json", 201)]:
        b = kestrel(name)
        st = {}
        obs = normalize_bundle(b, stats=st)
        ods = [o for o in b["objects"] if o["type"] == "observed-data"]
        assert len(obs) == len(ods) == (n or len(ods))
        for o, od in zip(obs, ods):
            assert o.id == od["id"]
            for i, x in o.objects.items():
                assert i.startswith(x["type"] + "--") and x["id"] == i
                for k, v in x.items():  # every ref names an object of the observation
                    if k.endswith("_ref") and k != "created_by_ref":
                        assert v in o.objects, (name, k, v)
                    elif k.endswith("_refs") and k != "object_marking_refs":
                        assert all(r in o.objects for r in v), (name, k, v)


def test_test_bundle_ipv4_ids_equal_stix2():
    import stix2
    b = kestrel("test_bundle.json")
    obs = normalize_bundle(b)
    for o in obs[:20]:
        for x in o.objects.values():
            if x["type"] == "ipv4-addr":
                assert x["id"] == stix2.v21.IPv4Address(value=x["value"]).id
            if x["type"] == "user-account":
                kw = {k: x[k] for k in ("user_id", "account_login") if k in x}
                assert x["id"] == stix2.v21.UserAccount(**kw).id


def test_normalising_normalised_data_keeps_every_id():
    """A process without identity properties gets a scoped id; published as STIX 2.1 and read
    back (TAXII push then pull), it keeps that id instead of being scoped again."""
    from stixgraph.taxii import observations_to_stix

    od = {"type": "observed-data", "id": "observed-data--00000000-0000-4000-8000-000000000001",
          "first_observed": "2024-01-01T00:00:00Z", "last_observed": "2024-01-01T00:00:00Z",
          "number_observed": 1,
          "objects": {"0": {"type": "process", "name": "cmd.exe", "binary_ref": "1"},
                      "1": {"type": "file", "name": "cmd.exe"}}}
    once = normalize_bundle({"type": "bundle", "objects": [od]})
    twice = normalize_bundle(observations_to_stix(once))
    assert sorted(once[0].objects) == sorted(twice[0].objects)
    def props(o):
        return {k: v for k, v in o.items() if k != "spec_version"}  # added when published

    assert {i: props(o) for i, o in once[0].objects.items()} == \
        {i: props(o) for i, o in twice[0].objects.items()}
