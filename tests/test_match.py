"""Observation-level matching, scalar comparison semantics, the sound text pre-filter and
the STIX pattern text."""
from __future__ import annotations

import json
import random
from datetime import datetime, timezone

import pytest

from stixgraph import ir
from stixgraph.errors import HuntSemanticError
from stixgraph.stix.match import (compare, compile_matcher, in_time_range, like_regex,
                                  number_texts, text_filter)
from stixgraph.stix.model import Observation
from stixgraph.stix.pattern import to_stix_pattern


def C(path, op, value=None, negated=False, etype=None):
    return ir.Comparison(ir.AttrPath(tuple(path.split(".")), etype), op, value, negated)


def obs(objects, first="2020-06-30T19:25:09.447Z", last=None):
    return Observation("observed-data--1", first, last or first, 1, objects)


NT = obs({
    "0": {"type": "ipv4-addr", "value": "192.168.1.5"},
    "1": {"type": "ipv4-addr", "value": "10.0.0.91"},
    "2": {"type": "network-traffic", "src_ref": "0", "dst_ref": "1", "src_port": 52983,
          "dst_port": 22, "protocols": ["ip", "tcp"]},
    "3": {"type": "user-account", "user_id": "1008", "account_login": "henry"},
    "4": {"type": "process", "pid": 4, "name": "cmd.exe", "binary_ref": "5",
          "parent_ref": "6", "opened_connection_refs": ["2", "99"]},
    "5": {"type": "file", "name": "cmd.exe", "parent_directory_ref": "7",
          "hashes": {"SHA-256": "ab" * 32}},
    "6": {"type": "process", "pid": 1, "name": "explorer.exe", "binary_ref": "8"},
    "7": {"type": "directory", "path": "C:\\Windows\\System32"},
    "8": {"type": "file", "name": "explorer.exe"},
})


# ---------------------------------------------------------------------------
# compare(): the scalar semantics the SQL backend mirrors

@pytest.mark.parametrize("actual,op,value,neg,expected", [
    ("a", "=", "a", False, True),
    ("a", "!=", "a", False, False),
    ("a", "!=", "b", False, True),
    (443, "=", "443", False, True),          # numeric string literal vs number
    ("443", "=", 443, False, True),           # numeric string attribute vs number
    (443, "=", "0443", False, True),
    (443, "=", "x443", False, False),
    (443.0, "=", 443, False, True),
    (True, "=", True, False, True),
    (1, "=", True, False, False),             # bool only equals bool
    (22, "<", 100, False, True),
    ("22", "<", 100, False, True),
    (22, "<", "100", False, True),
    ("b", ">", "a", False, True),
    ("b", ">", 1, False, False),              # incomparable: false
    (5, "IN", (1, 5), False, True),
    ("5", "IN", (1, 5), False, True),
    ("x", "IN", ("x", "y"), False, True),
    ("z", "IN", ("x", "y"), True, True),      # NOT IN
    ("henry", "LIKE", "hen%", False, True),
    ("Henry", "LIKE", "hen%", False, False),  # case-sensitive
    ("hen", "LIKE", "h_n", False, True),
    ("a.c", "LIKE", "a.c", False, True),
    ("abc", "LIKE", "a.c", False, False),     # '.' is literal in LIKE
    ("xhenry", "LIKE", "hen%", False, False),  # whole string
    ("line1\nline2", "LIKE", "line1%", False, True),
    (443, "LIKE", "44%", False, True),        # numbers as text
    ("abc", "LIKE", "a%", True, False),       # NOT LIKE
    ("cmd.exe", "MATCHES", r"^c.d\.", False, True),
    ("xcmd", "MATCHES", "cmd", False, True),  # re.search
    ("10.1.2.3", "ISSUBSET", "10.0.0.0/8", False, True),
    ("11.1.2.3", "ISSUBSET", "10.0.0.0/8", False, False),
    ("10.1.0.0/16", "ISSUBSET", "10.0.0.0/8", False, True),
    ("2001:db8::1", "ISSUBSET", "2001:db8::/32", False, True),
    ("2001:db8::1", "ISSUBSET", "10.0.0.0/8", False, False),
    ("not an ip", "ISSUBSET", "10.0.0.0/8", False, False),
    ("10.0.0.0/8", "ISSUPERSET", "10.1.2.3", False, True),
    ("10.0.0.0/8", "ISSUPERSET", "11.1.2.3", False, False),
    ("10.1.2.3", "ISSUBSET", "10.0.0.0/8", True, False),
    ("2020-06-30T19:25:09.447726Z", ">",
     ir.Timestamp(datetime(2020, 6, 30, 19, 25, 9, 447000, tzinfo=timezone.utc)), False, True),
    ("2020-06-30T21:25:09+02:00", "=",
     ir.Timestamp(datetime(2020, 6, 30, 19, 25, 9, tzinfo=timezone.utc)), False, True),
    ("garbage", "<", ir.Timestamp(datetime(2020, 1, 1, tzinfo=timezone.utc)), False, False),
])
def test_compare(actual, op, value, neg, expected):
    assert compare(actual, op, value, neg) is expected


def test_compare_missing():
    for op, v in [("=", 1), ("!=", 1), ("<", 1), ("IN", (1,)), ("LIKE", "%"), ("MATCHES", "")]:
        assert compare(None, op, v) is False
        assert compare(None, op, v, True) is False  # NOT x on a missing attribute: false
    assert compare(None, "IS NULL", None) is True
    assert compare("x", "IS NULL", None) is False
    assert compare("x", "IS NULL", None, True) is True


def test_bad_regex_and_cidr_are_user_errors():
    with pytest.raises(HuntSemanticError):
        compile_matcher(C("name", "MATCHES", "("), "process")
    with pytest.raises(HuntSemanticError):
        compile_matcher(C("value", "ISSUBSET", "not-a-net"), "ipv4-addr")


def test_like_regex_escapes_everything_else():
    assert like_regex("a+b(c)%").fullmatch("a+b(c)xyz")
    assert not like_regex("a+b").fullmatch("aab")


# ---------------------------------------------------------------------------
# observation-level matching

@pytest.mark.parametrize("expr,centre,expected", [
    (C("dst_port", "=", 22), "network-traffic", True),
    (C("dst_port", "=", "22"), "network-traffic", True),
    (C("dst_port", "=", 23), "network-traffic", False),
    (C("dst_port", "!=", 23), "network-traffic", True),
    (C("dst_ref.value", "=", "10.0.0.91"), "network-traffic", True),
    (C("src_ref.value", "=", "10.0.0.91"), "network-traffic", False),
    (C("dst_ref.value", "ISSUBSET", "10.0.0.0/8"), "network-traffic", True),
    (C("protocols.*", "=", "tcp"), "network-traffic", True),
    (C("protocols", "=", "tcp"), "network-traffic", True),  # implicit any element
    (C("protocols.0", "=", "ip"), "network-traffic", True),
    (C("protocols.1", "=", "ip"), "network-traffic", False),
    (C("binary_ref.name", "=", "cmd.exe"), "process", True),
    (C("parent_ref.binary_ref.name", "=", "explorer.exe"), "process", True),
    (C("binary_ref.parent_directory_ref.path", "LIKE", "C:\\Windows%"), "process", True),
    (C("opened_connection_refs.*.dst_port", "=", 22), "process", True),
    (C("opened_connection_refs.dst_port", "=", 22), "process", True),
    (C("hashes.SHA-256", "=", "ab" * 32), "file", True),
    (C("value", "=", "10.0.0.91", etype="ipv4-addr"), "network-traffic", True),
    (C("account_login", "LIKE", "hen%", etype="user-account"), "network-traffic", True),
    (C("name", "=", "nope", etype="mutex"), "process", False),
    (C("command_line", "IS NULL"), "process", True),
    (C("command_line", "IS NULL", negated=True), "process", False),
    (C("name", "IS NULL", negated=True), "process", True),
    (C("name", "IS NULL"), "mutex", False),  # no mutex at all: nothing holds
    (C("parent_ref", "IS NULL"), "process", True),  # explorer.exe has no parent
    (C("binary_ref.size", "IS NULL"), "process", True),
    (C("pid", "IN", (4, 1), negated=True), "process", False),
    (C("pid", "IN", (4, 7), negated=True), "process", True),  # explorer (1) is not in
])
def test_matcher(expr, centre, expected):
    assert compile_matcher(expr, centre)(NT) is expected


def test_and_or_are_observation_level():
    a = C("name", "=", "cmd.exe")
    b = C("name", "=", "explorer.exe")
    # two different processes of the observation satisfy the two sides
    assert compile_matcher(ir.And((a, b)), "process")(NT)
    assert compile_matcher(ir.Or((C("pid", "=", 99), b)), "process")(NT)
    assert not compile_matcher(ir.And((a, C("pid", "=", 99))), "process")(NT)
    assert compile_matcher(None, "process")(NT)


def test_dangling_refs_lead_nowhere():
    o = obs({"0": {"type": "network-traffic", "dst_ref": "7", "dst_port": 1}})
    assert not compile_matcher(C("dst_ref.value", "=", "x"), "network-traffic")(o)
    assert compile_matcher(C("dst_ref.value", "IS NULL"), "network-traffic")(o)


def test_in_time_range():
    o = obs({}, "2020-06-30T19:25:09.447Z", "2020-06-30T19:28:49.692Z")
    utc = timezone.utc
    assert in_time_range(o, datetime(2020, 6, 30, 19, 25, tzinfo=utc), datetime(2020, 6, 30, 19, 26, tzinfo=utc))
    assert in_time_range(o, datetime(2020, 6, 30, 19, 28, 49, 692000, tzinfo=utc), None)
    assert in_time_range(o, datetime(2020, 6, 30, 19, 28, 49, 692900, tzinfo=utc), None)  # same ms
    assert not in_time_range(o, datetime(2020, 6, 30, 19, 28, 49, 693000, tzinfo=utc), None)
    assert not in_time_range(o, None, datetime(2020, 6, 30, 19, 25, 9, 447000, tzinfo=utc))  # [start, stop)
    assert in_time_range(o, None, datetime(2020, 6, 30, 19, 25, 9, 447001, tzinfo=utc))
    assert in_time_range(o, None, None)


def test_matcher_speed():
    import time
    m = compile_matcher(ir.And((C("dst_port", "=", 22), C("dst_ref.value", "=", "10.0.0.91"))),
                        "network-traffic")
    t = time.perf_counter()
    for _ in range(20000):
        m(NT)
    per = (time.perf_counter() - t) / 20000
    assert per < 50e-6, per  # a few µs on a normal machine; generous for slow CI


# ---------------------------------------------------------------------------
# text pre-filter: sound (never rejects an observation the matcher accepts)

def test_number_texts():
    assert number_texts(443) == [b"443", b"4.43", b"44.3"]
    assert number_texts(8080)[0] == b"808"
    assert number_texts(True) is None


def _writers(od):
    yield json.dumps(od)
    yield json.dumps(od, ensure_ascii=True)
    yield json.dumps(od, indent=2)
    yield json.dumps(od, separators=(",", ":"))


def test_text_filter_is_sound_on_random_observations():
    rnd = random.Random(3)
    names = ["cmd.exe", "svc host.exe", "a\"b", "C:\\x\\y", "Ünï{c}ode", "}, {", "tab\tx"]
    exprs = [
        (C("name", "=", "cmd.exe"), "process"),
        (C("name", "=", "Ünï{c}ode"), "process"),
        (C("name", "LIKE", "%host%"), "process"),
        (C("name", "LIKE", "a\"%"), "process"),
        (C("name", "IN", ("C:\\x\\y", "tab\tx")), "process"),
        (C("pid", "=", 443), "process"),
        (C("pid", "=", "443"), "process"),
        (C("pid", "IN", (8080, 22)), "process"),
        (ir.Or((C("pid", "=", 22), C("name", "=", "}, {"))), "process"),
        (ir.And((C("pid", "=", 22), C("value", "=", "10.0.0.1", etype="ipv4-addr"))), "process"),
        (C("binary_ref.name", "=", "cmd.exe"), "process"),
        (C("name", "IS NULL"), "process"),
    ]
    pids = [22, 443, 443.0, 4.43e2, "443", 8080, 80.8e2, 1]
    for _ in range(400):
        objs = {}
        for i in range(rnd.randint(1, 4)):
            o = {"type": rnd.choice(["process", "file", "ipv4-addr"])}
            if rnd.random() < 0.8:
                o["name"] = rnd.choice(names)
            if rnd.random() < 0.6:
                o["pid"] = rnd.choice(pids)
            if o["type"] == "ipv4-addr":
                o["value"] = rnd.choice(["10.0.0.1", "10.0.0.2"])
            if i and rnd.random() < 0.5:
                o["binary_ref"] = "0"
            objs[str(i)] = o
        od = {"type": "observed-data", "id": "observed-data--x", "objects": objs,
              "first_observed": "2020-01-01T00:00:00Z", "last_observed": "2020-01-01T00:00:00Z"}
        o = obs(objs)
        for expr, centre in exprs:
            tf = text_filter(expr, centre)
            if tf is None or not compile_matcher(expr, centre)(o):
                continue
            for text in _writers(od):
                b = text.encode()
                assert any(n in b for n in tf.needles), (expr, text)
                assert tf.check(b), (expr, text)
                for alt in tf.alternatives:
                    assert any(n in b for n in alt), (expr, alt, text)


def test_exponent_numbers_are_not_skipped():
    expr = C("dst_port", "=", 443)
    tf = text_filter(expr, "network-traffic")
    for text in [b'{"type": "network-traffic", "dst_port": 4.43e2}',
                 b'{"type": "network-traffic", "dst_port": 0.443E3}',
                 b'{"type": "network-traffic", "dst_port": 4430e-1}']:
        assert tf.check(text)


# ---------------------------------------------------------------------------
# STIX patterns

def _valid(p):
    try:
        from stix2patterns.validator import run_validator
    except ImportError:  # pragma: no cover
        print("stix2-patterns not installed: pattern syntax not validated")
        return
    errs = [e for e in run_validator(p, stix_version="2.1") if "valid SHA" not in e]
    assert not errs, (p, errs)


@pytest.mark.parametrize("expr,centre,start,expected", [
    (C("dst_port", "=", 22), "network-traffic", None, "[network-traffic:dst_port = 22]"),
    (ir.And((C("dst_ref.value", "=", "10.0.0.91"), C("dst_port", "=", 22))), "network-traffic",
     None, "[(network-traffic:dst_ref.value = '10.0.0.91' AND network-traffic:dst_port = 22)]"),
    (ir.Or((C("name", "=", "a"), C("name", "=", "b"), C("pid", ">", 4))), "process", None,
     "[((process:name = 'a' OR process:name = 'b') OR process:pid > 4)]"),
    (C("name", "=", "it's a \\ test"), "process", None, "[process:name = 'it\\'s a \\\\ test']"),
    (C("pid", "IN", (1, 2)), "process", None, "[process:pid IN (1, 2)]"),
    (C("name", "IN", ("a", "b"), negated=True), "process", None,
     "[process:name NOT IN ('a', 'b')]"),
    (C("hashes.SHA-256", "=", "ab"), "file", None, "[file:hashes.'SHA-256' = 'ab']"),
    (C("protocols.*", "=", "tcp"), "network-traffic", None,
     "[network-traffic:protocols[*] = 'tcp']"),
    (C("command_line", "IS NULL"), "process", None, "[NOT EXISTS process:command_line]"),
    (C("command_line", "IS NULL", negated=True), "process", None,
     "[EXISTS process:command_line]"),
    (C("value", "ISSUBSET", "10.0.0.0/8", etype="ipv4-addr"), "process", None,
     "[ipv4-addr:value ISSUBSET '10.0.0.0/8']"),
    (C("x", "=", 1.5e3), "x-thing", None, "[x-thing:x = 1500.0]"),
    (C("is_active", "=", True), "network-traffic", None, "[network-traffic:is_active = true]"),
    (C("dst_port", "=", 22), "network-traffic",
     (datetime(2020, 6, 30, 19, 25, tzinfo=timezone.utc),
      datetime(2020, 6, 30, 19, 26, 0, 123456, tzinfo=timezone.utc)),
     "[network-traffic:dst_port = 22] START t'2020-06-30T19:25:00.000Z' "
     "STOP t'2020-06-30T19:26:00.123Z'"),
])
def test_to_stix_pattern(expr, centre, start, expected):
    p = to_stix_pattern(expr, centre, *(start or (None, None)))
    assert p == expected
    _valid(p)


def test_pattern_rejects_unresolved_reference():
    with pytest.raises(ValueError):
        to_stix_pattern(C("pid", "IN", ir.VarAttr("procs", ir.AttrPath(("pid",)))), "process")
