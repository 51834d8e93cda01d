"""Every command of the language on the embedded store (and, through the ``backend`` fixture,
on every backend): NEW, LOAD, SAVE, INFO, DESCRIBE, JOIN, merge, SORT, GROUP, assignment,
TIMESTAMPED/RECORDS/ADDOBSID, ``_``, and persistence across sessions."""
from __future__ import annotations

import csv
import json

import pytest

from bundles import bundle20, proc_obs, write
from stixgraph.display import Message, Table
from stixgraph.errors import HuntSemanticError


def tables(out):
    return [d for d in out if isinstance(d, Table)]


def disp(s, text):
    return tables(s.run(text))[-1]


@pytest.fixture
def s(make_session, tmp_path):
    obs = [
        proc_obs(100, "cmd.exe", "cmd /c whoami", t="2024-12-12T10:00:00.000Z", dst="140.82.114.3"),
        proc_obs(101, "cmd.exe", "cmd /c net user", t="2024-12-12T10:05:00.000Z"),
        proc_obs(200, "powershell.exe", "powershell -c iwr", t="2024-12-12T11:00:00.000Z", dst="185.199.111.133"),
        proc_obs(300, "whoami.exe", "whoami", t="2024-12-13T09:00:00.000Z", parent=(100, "cmd.exe", "{guid-p}")),
    ]
    sess = make_session()
    sess.uri = write(tmp_path / "b.json", bundle20(obs))
    sess.run(f'procs = GET process FROM "{sess.uri}" WHERE pid > 0')
    return sess


def test_new_and_merge(s):
    s.run('a = NEW process ["x.exe", "y.exe"]\nb = NEW [{"type": "process", "name": "z.exe", "pid": 7}]\nm = a + b')
    assert s.vars["a"].entities == 2 and s.vars["m"].entities == 3 and s.vars["m"].type == "process"
    t = disp(s, "DISP m ATTR name SORT BY name ASC")
    assert [r[0] for r in t.rows] == ["x.exe", "y.exe", "z.exe"]
    with pytest.raises(HuntSemanticError, match="different types"):
        s.run('c = NEW ipv4-addr ["1.2.3.4"]\nd = a + c')


def test_new_then_disp_sort_limit_offset(s):
    s.run('n = NEW process [{"name": "a", "pid": 123}, {"name": "b", "pid": 99}, {"name": "c", "pid": 5}]')
    t = disp(s, "DISP n ATTR pid SORT BY pid ASC LIMIT 2 OFFSET 1")
    assert t.rows == [[99], [123]]


def test_disp_shows_lists_and_objects_as_json_text_on_every_backend(s):
    """One rendering for list and object attributes (SQLite's JSON text); repeated rows holding
    them are still dropped (a list cell is not hashable as it comes from ArangoDB)."""
    s.run('n = NEW network-traffic [{"dst_port": 1, "protocols": ["ip", "tcp"], '
          '"x_h": {"b": "é", "a": [1, 2.5]}}, {"dst_port": 2, "protocols": ["ip", "tcp"]}]')
    t = disp(s, "DISP n ATTR dst_port, protocols, x_h SORT BY dst_port ASC")
    assert t.rows == [[1, '["ip","tcp"]', '{"b":"é","a":[1,2.5]}'], [2, '["ip","tcp"]', None]]
    assert disp(s, "DISP n ATTR protocols").rows == [['["ip","tcp"]']]


def test_assign_where_sort_limit(s):
    s.run("c = procs WHERE name = 'cmd.exe' SORT BY pid DESC LIMIT 1")
    assert s.vars["c"].entities == 1
    assert disp(s, "DISP c ATTR pid").rows == [[101]]
    s.run("srt = SORT procs BY pid ASC")
    assert [r[0] for r in disp(s, "DISP srt ATTR pid").rows][:2] == [100, 101]


def test_timestamped_where_on_observation_time(s):
    s.run("ts = TIMESTAMPED(procs)\nlate = ts WHERE first_observed >= '2024-12-12T11:00:00.000Z'")
    t = disp(s, "DISP late ATTR pid")
    assert sorted(r[0] for r in t.rows) == [100, 200, 300]  # 100 appears as 300's parent on the 13th
    t = disp(s, "DISP ts")
    assert t.columns[0] == "first_observed"
    t = disp(s, "DISP RECORDS(procs) ATTR pid")
    assert t.columns[:4] == ["number_observed", "first_observed", "last_observed", "observation_id"]


def test_group_with_bins_and_aggregates(s):
    s.run("ts = TIMESTAMPED(procs)\ng = GROUP ts BY BIN(first_observed, 1d) WITH COUNT(pid) AS n, MAX(pid)")
    t = disp(s, "DISP g")
    assert t.columns == ["first_observed_bin", "n", "max_pid"]
    assert t.rows == [["2024-12-12T00:00:00Z", 3, 200], ["2024-12-13T00:00:00Z", 2, 300]]
    s.run("g2 = GROUP procs BY name")
    t = disp(s, "DISP g2 ATTR name, unique_pid")
    assert t.rows == [["cmd.exe", 2], ["powershell.exe", 1], ["whoami.exe", 1]]


def test_join(s, tmp_path):
    s.run('assets = NEW process [{"name": "cmd.exe", "x_risk": 2}, {"name": "other.exe", "x_risk": 9}]\n'
          "j = JOIN procs, assets BY name, name")
    t = disp(s, "DISP j ATTR pid, x_risk SORT BY pid ASC")
    assert t.rows == [[100, 2], [101, 2]]


def test_join_copies_right_columns_and_matches_by_type(s):
    """JOIN keeps a left row once per matching right row, compares values with their type
    (pid 100 is not "100") and never matches null."""
    s.run('r = NEW process [{"name": "x", "pid": 100, "x_tag": "int"}, '
          '{"name": "y", "pid": "100", "x_tag": "str"}, {"name": "z", "pid": 100, "x_tag": "int2"}]\n'
          "j = JOIN procs, r BY pid, pid")
    t = disp(s, "DISP j ATTR pid, x_tag")
    assert sorted(t.rows) == [[100, "int"], [100, "int2"]]
    assert "x_tag" in s.vars["j"].columns


def test_observations_of_a_variable(s):
    """What TAXII publishing sends: every observation holding one of the variable's entities,
    with all its objects, back as STIX (object_refs = the objects)."""
    s.run("cmd = procs WHERE name = 'cmd.exe'")
    obs = s.store.observations_of("cmd")
    assert len(obs) == 3  # pid 100, pid 101, and 300's observation (100 as parent)
    for o in obs:
        od = o.to_stix()
        assert od["object_refs"] == list(o.objects) and od["type"] == "observed-data"
        assert any(x.get("type") == "process" and x.get("name") == "cmd.exe"
                   for x in o.objects.values())
        assert all(not k.startswith("_") for x in o.objects.values() for k in x)
        assert all(r in o.objects for x in o.objects.values() for k, r in x.items()
                   if k.endswith("_ref"))
    assert sorted(o.first_observed for o in obs) == [
        "2024-12-12T10:00:00.000Z", "2024-12-12T10:05:00.000Z", "2024-12-13T09:00:00.000Z"]


def test_find_relations_both_ways(s):
    s.run("kids = FIND process CREATED BY procs WHERE name = 'whoami.exe'\n"
          "parents = FIND process CREATED kids\n"
          "nt = FIND network-traffic CREATED BY procs\n"
          "openers = FIND process CREATED nt\n"
          "owners = FIND user-account OWNED procs\n"
          "bins = FIND file LOADED BY procs")
    assert s.vars["kids"].entities == 1
    assert disp(s, "DISP parents ATTR name").rows == [["cmd.exe"]]
    assert s.vars["nt"].entities == 2 and s.vars["openers"].entities == 2
    assert disp(s, "DISP owners ATTR user_id").rows == [["inf808"]]
    assert s.vars["bins"].entities == 3


def test_find_where_other_type_and_time(s, tmp_path):
    other = [proc_obs(500, "cmd.exe", "cmd /c dir", host="OtherHost", t="2024-12-14T00:00:00.000Z",
                      dst="140.82.114.3")]
    uri2 = write(tmp_path / "c.json", bundle20(other))
    s.run(f'more = GET process FROM "{uri2}" WHERE pid > 0\nall = procs + more\n'
          "nt = FIND network-traffic CREATED BY all\n"
          "onhost = FIND process CREATED nt WHERE x-oca-asset:hostname = 'WindowsTarget'\n"
          "early = FIND process CREATED nt START 2024-12-12T00:00:00Z STOP 2024-12-12T10:30:00Z")
    assert sorted(r[0] for r in disp(s, "DISP onhost ATTR pid").rows) == [100, 200]
    assert disp(s, "DISP early ATTR pid").rows == [[100]]


def test_underscore_is_the_last_variable(s):
    s.run("c = procs WHERE name = 'cmd.exe'")
    t = disp(s, "DISP _ ATTR pid")
    assert sorted(r[0] for r in t.rows) == [100, 101]


def test_info_and_describe(s):
    t = disp(s, "INFO procs")
    info = dict((r[0], r[1]) for r in t.rows)
    assert info["Entity Type"] == "process" and info["Number of Entities"] == 5
    assert "x_unique_id" in info["Customized Attributes"]
    assert "binary_ref.name" in info["Indirect Attributes"]
    t = disp(s, "DESCRIBE procs.pid")
    stats = dict((r[0], r[1]) for r in t.rows)
    assert stats["min"] == 100 and stats["max"] == 300
    t = disp(s, "DESCRIBE procs.name")
    assert dict((r[0], r[1]) for r in t.rows)["top"] == "cmd.exe"


def test_save_and_load_roundtrip(s, tmp_path):
    out = tmp_path / "procs.csv"
    assert any(isinstance(d, Message) for d in s.run(f'SAVE procs TO "{out}"'))
    with open(out) as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 5 and "binary_ref.name" in rows[0]
    (tmp_path / "ips.json").write_text(json.dumps([{"value": "10.0.0.1", "x_risk": 3}, {"value": "10.0.0.2"}]))
    s.run(f'ips = LOAD "{tmp_path}/ips.json" AS ipv4-addr')
    assert s.vars["ips"].entities == 2 and s.vars["ips"].type == "ipv4-addr"
    with pytest.raises(HuntSemanticError, match="no such file"):
        s.run(f'x = LOAD "{tmp_path}/nope.csv" AS ipv4-addr')


def test_variables_persist_across_sessions(make_session, tmp_path):
    uri = write(tmp_path / "b.json", bundle20([proc_obs(1, "a.exe", "a")]))
    db = tmp_path / "hunt.db"
    first = make_session(store=str(db))
    first.run(f'p = GET process FROM "{uri}" WHERE name = \'a.exe\'')
    first.store.close()
    second = make_session(store=str(db))
    assert second.vars["p"].entities == 1
    assert disp(second, "DISP p ATTR name").rows == [["a.exe"]]


def test_get_without_from_reuses_last_source(s):
    s.run("again = GET process WHERE name = 'whoami.exe'")
    assert s.vars["again"].entities == 1
