"""One WHERE, two evaluators: the observation matcher (stixgraph.stix.match, used on data
sources that cannot filter) and the SQL compiler (stixgraph.store.sql, used on stored data)
must agree.  For a single comparison on the centre type, an observation matches exactly when
it holds an entity that satisfies the comparison, so both sides give comparable sets."""
from __future__ import annotations

import random

import pytest

from stixgraph import ir
from stixgraph.stix.match import compile_matcher
from stixgraph.stix.normalize import normalize_observed_data
from stixgraph.store import sql as S
from stixgraph.store.sqlite import SQLiteStore

NAMES = ["cmd.exe", "CMD.EXE", "powershell.exe", "a%b", "a_b", "naïve.exe", "", "443"]
LINES = ["cmd /c whoami", "powershell -enc AAA", 'say "hi"', r"C:\Windows\x", None]
ADDRS = ["10.0.0.5", "140.82.114.3", "192.168.1.4", "2001:db8::1", "10.0.1.200"]


def _observations(n=160, seed=7):
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        objs = {}
        k = 0
        for _ in range(rnd.randint(1, 2)):
            proc = {"type": "process", "pid": rnd.choice([4, 443, 1380, 9636]),
                    "x_unique_id": f"guid-{i}-{k}"}
            if rnd.random() < 0.85:
                proc["name"] = rnd.choice(NAMES)
            line = rnd.choice(LINES)
            if line is not None:
                proc["command_line"] = line
            if rnd.random() < 0.5:
                proc["x_tags"] = rnd.sample(["a", "b", "ip", "tcp"], rnd.randint(0, 3))
            if rnd.random() < 0.3:
                proc["x_score"] = rnd.choice([0.5, 0.95, 2, "3"])
            objs[str(k)] = proc
            k += 1
        addr = rnd.choice(ADDRS)
        objs[str(k)] = {"type": "ipv6-addr" if ":" in addr else "ipv4-addr", "value": addr}
        objs[str(k + 1)] = {"type": "network-traffic", "dst_ref": str(k), "dst_port": rnd.choice([443, 80, "443"]),
                            "protocols": rnd.sample(["ip", "tcp", "ipv6", "udp"], rnd.randint(1, 3))}
        objs["0"]["opened_connection_refs"] = [str(k + 1)]
        t = f"2024-12-{1 + i % 20:02d}T10:00:00.000Z"
        out.append(normalize_observed_data({
            "type": "observed-data", "id": f"observed-data--00000000-0000-4000-8000-{i:012d}",
            "first_observed": t, "last_observed": t, "number_observed": 1, "objects": objs}))
    return out


@pytest.fixture(scope="module")
def world():
    obs = _observations()
    store = SQLiteStore(":memory:")
    store.ingest(obs)
    yield obs, store
    store.close()


def P(*parts, etype=None):
    return ir.AttrPath(tuple(parts), etype)


CASES = [
    ("process", ir.Comparison(P("name"), "=", "cmd.exe")),
    ("process", ir.Comparison(P("name"), "!=", "cmd.exe")),
    ("process", ir.Comparison(P("name"), "LIKE", "%.exe")),
    ("process", ir.Comparison(P("name"), "LIKE", "a_b")),
    ("process", ir.Comparison(P("name"), "LIKE", "cmd%", True)),
    ("process", ir.Comparison(P("name"), "MATCHES", r"^[a-z]+\.exe$")),
    ("process", ir.Comparison(P("name"), "IN", ("cmd.exe", "443"))),
    ("process", ir.Comparison(P("name"), "IN", ("cmd.exe", "443"), True)),
    ("process", ir.Comparison(P("name"), "IS NULL")),
    ("process", ir.Comparison(P("name"), "IS NULL", None, True)),
    ("process", ir.Comparison(P("pid"), "=", "443")),
    ("process", ir.Comparison(P("pid"), ">", 500)),
    ("process", ir.Comparison(P("pid"), "<=", "443")),
    ("process", ir.Comparison(P("command_line"), "=", 'say "hi"')),
    ("process", ir.Comparison(P("command_line"), "LIKE", "%\\%")),
    ("process", ir.Comparison(P("x_tags", "*"), "=", "ip")),
    ("process", ir.Comparison(P("x_tags"), "=", "ip")),
    ("process", ir.Comparison(P("x_tags"), "!=", "ip")),
    ("process", ir.Comparison(P("x_score"), ">", 0.9)),
    ("network-traffic", ir.Comparison(P("dst_port"), "=", 443)),
    ("network-traffic", ir.Comparison(P("dst_port"), "=", "443")),
    ("network-traffic", ir.Comparison(P("protocols", "*"), "=", "ip")),
    ("network-traffic", ir.Comparison(P("protocols"), "IN", ("udp", "ipv6"))),
    ("network-traffic", ir.Comparison(P("dst_ref", "value"), "LIKE", "10.%", True)),
    ("network-traffic", ir.Comparison(P("dst_ref", "value"), "ISSUBSET", "10.0.0.0/24")),
    ("network-traffic", ir.Comparison(P("dst_ref", "value"), "ISSUBSET", "2001:db8::/32")),
    ("network-traffic", ir.Comparison(P("dst_ref", "value"), "=", "140.82.114.3")),
    ("process", ir.Comparison(P("opened_connection_refs", "dst_port"), "=", 80)),
    ("process", ir.Comparison(P("opened_connection_refs", "dst_ref", "value"), "MATCHES", "^10\\.")),
]


@pytest.mark.parametrize("centre, cmp", CASES, ids=[f"{c}:{x.path}{' NOT' if x.negated else ''} {x.op} {x.value!r}" for c, x in CASES])
def test_matcher_and_sql_agree(world, centre, cmp):
    obs, store = world
    match = compile_matcher(cmp, centre)
    by_matcher = {o.id for o in obs if match(o)}
    p = S.Params()
    sql = (f"SELECT DISTINCT o.id FROM contains c JOIN entities e ON e.eid = c.eid "
           f"JOIN observations o ON o.oid = c.oid WHERE c.etype = {p(centre)} "
           f"AND {S.where_cond(p, cmp, centre)}")
    by_sql = {r[0] for r in store._run(sql, p.values)}
    assert by_sql == by_matcher
    assert 0 < len(by_matcher) < len(obs) or cmp.op in ("IS NULL",), "case should discriminate"
