"""The Kestrel v1 parser: every command form, WHERE expressions, literals, timespans,
positions and error reporting."""
from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest

from stixgraph import ir
from stixgraph.errors import HuntSemanticError, HuntSyntaxError, StixgraphError
from stixgraph.lang import parse, parse_timestamp

P = ir.AttrPath


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def one(text: str) -> ir.Statement:
    (stmt,) = parse(text).statements
    return stmt


def where(cond: str) -> ir.Expr:
    """The lowered WHERE of `DISP x WHERE <cond>`."""
    return one(f"DISP x WHERE {cond}").expr.where


def value(literal: str):
    return where(f"a = {literal}").value


def syntax_error(text: str) -> HuntSyntaxError:
    with pytest.raises(HuntSyntaxError) as info:
        parse(text, filename="t.hunt")
    return info.value


# ---------------------------------------------------------------------------- GET


@pytest.mark.parametrize("written, source", [
    ("stixshifter://splunk", "stixshifter://splunk"),
    ('"stixshifter://splunk"', "stixshifter://splunk"),
    ("'stixshifter://splunk'", "stixshifter://splunk"),
    ("splunk", "splunk"),  # a bare profile or variable name: left to the session
    ("file:///abs/path/bundle.json", "file:///abs/path/bundle.json"),
    ("file://a.json,b.json", "file://a.json,b.json"),
    ('"http://127.0.0.1:8765/x.json"', "http://127.0.0.1:8765/x.json"),
    ("./data/bundle.json", "./data/bundle.json"),
    ('"C:\\\\data\\\\my bundle.json"', "C:\\data\\my bundle.json"),
])
def test_get_sources(written, source):
    get = one(f"x = GET process FROM {written} WHERE name = 'cmd.exe'")
    assert get.source == source


def test_get_full_form():
    get = one("procs = GET process FROM stixshifter://edr WHERE pid = 4 "
              "START 2024-12-01T00:00:00Z STOP 2024-12-02T00:00:00.250Z LIMIT 10")
    assert isinstance(get, ir.Get)
    assert (get.out, get.etype, get.source, get.limit, get.pattern) == (
        "procs", "process", "stixshifter://edr", 10, False)
    assert get.where == ir.Comparison(P(("pid",)), "=", 4)
    assert get.timespan == ir.TimeRange(utc(2024, 12, 1), utc(2024, 12, 2, 0, 0, 0, 250000))
    assert get.inputs == () and get.output == "procs"


def test_get_without_from_or_output():
    get = one("GET ipv4-addr WHERE value = '10.0.0.1'")
    assert get.source is None and get.out == "_" and get.etype == "ipv4-addr"


def test_get_bracketed_pattern():
    get = one("x = GET network-traffic WHERE [network-traffic:dst_port = 22 AND dst_ref.value = '10.0.0.9']")
    assert get.pattern is True
    assert get.where == ir.And((
        ir.Comparison(P(("dst_port",), "network-traffic"), "=", 22),
        ir.Comparison(P(("dst_ref", "value")), "=", "10.0.0.9"),
    ))


def test_get_requires_where():
    err = syntax_error("x = GET process FROM stixshifter://splunk\nDISP x")
    assert (err.line, err.column) == (2, 1)
    assert "unexpected 'DISP'" in err.message and "'WHERE'" in err.message
    assert "GET needs a WHERE clause" in err.message
    err = syntax_error("GET process LAST 5 DAYS")
    assert (err.line, err.column) == (1, 13)
    assert err.expected == ("'FROM'", "'WHERE'")


# ---------------------------------------------------------------------------- FIND


def test_find_forms():
    find = one("procs = FIND process CREATED BY conns")
    assert isinstance(find, ir.Find)
    assert (find.out, find.etype, find.relation, find.by, find.var) == ("procs", "process", "created", True, "conns")
    assert find.inputs == ("conns",)

    find = one("FIND ipv4-addr Linked nt WHERE value != '10.0.0.5' LAST 2 hours LIMIT 5")
    assert (find.out, find.relation, find.by, find.var, find.limit) == ("_", "linked", False, "nt", 5)
    assert find.where == ir.Comparison(P(("value",)), "!=", "10.0.0.5")
    assert find.timespan == ir.LastSpan(2, "hours")

    find = one("p = FIND process created p START t'2024-01-01T00:00:00Z' STOP t'2024-01-02T00:00:00Z'")
    assert find.timespan == ir.TimeRange(utc(2024, 1, 1), utc(2024, 1, 2)) and find.where is None


def test_find_relation_is_any_word():
    assert one("x = FIND file WHATEVER y").relation == "whatever"


# ---------------------------------------------------------------------------- DISP, assign, transforms


def test_disp_all_clauses():
    disp = one("DISP procs WHERE pid > 4 ATTR pid, name, x-oca-asset:hostname, parent_ref.binary_ref.name "
               "SORT BY pid ASC LIMIT 5 OFFSET 2")
    assert isinstance(disp, ir.Disp)
    assert disp.expr == ir.VarExpr(
        "procs", None, ir.Comparison(P(("pid",)), ">", 4),
        (P(("pid",)), P(("name",)), P(("hostname",), "x-oca-asset"), P(("parent_ref", "binary_ref", "name"))),
        ir.SortSpec(P(("pid",)), descending=False), 5, 2)
    assert disp.inputs == ("procs",) and disp.output is None


def test_sort_by_defaults_to_desc():
    assert one("DISP x SORT BY name").expr.sort == ir.SortSpec(P(("name",)), True)
    assert one("DISP x sort   by name desc").expr.sort == ir.SortSpec(P(("name",)), True)


@pytest.mark.parametrize("name", ["TIMESTAMPED", "RECORDS", "ADDOBSID"])
def test_transforms(name):
    assign = one(f"y = {name.lower()}(x) WHERE pid = 1 LIMIT 3")
    assert isinstance(assign, ir.Assign)
    assert assign.expr == ir.VarExpr("x", name, ir.Comparison(P(("pid",)), "=", 1), limit=3)
    disp = one(f"DISP {name}(exfil_cmd) ATTR pid, name")
    assert disp.expr.transform == name and disp.expr.var == "exfil_cmd"


def test_assign_forms():
    assign = one("b = a")
    assert assign == ir.Assign(pos=assign.pos, out="b", expr=ir.VarExpr("a"))
    assert assign.inputs == ("a",) and assign.output == "b"
    assign = one("b = a WHERE name = 'x' ATTR name SORT BY name LIMIT 1 OFFSET 0")
    assert assign.expr.attrs == (P(("name",)),) and assign.expr.offset == 0


def test_merge():
    merge = one("all = a + b + c")
    assert isinstance(merge, ir.Merge)
    assert (merge.out, merge.vars, merge.inputs) == ("all", ("a", "b", "c"), ("a", "b", "c"))
    assert one("ab = a+b").vars == ("a", "b")


# ---------------------------------------------------------------------------- SORT GROUP JOIN


def test_sort_command():
    sort = one("s = SORT procs BY x_suspicious_score")
    assert isinstance(sort, ir.Sort)
    assert (sort.out, sort.var, sort.sort) == ("s", "procs", ir.SortSpec(P(("x_suspicious_score",)), True))
    assert one("SORT procs BY pid ASC").sort.descending is False
    assert one("SORT procs BY pid DESC").out == "_"


def test_sort_statement_after_plain_assign():
    """`SORT x BY ..` right after `y = x` is a new SORT statement, not a SORT BY clause."""
    hunt = parse("y = x\nSORT x BY pid\nz = x SORT BY pid")
    assert [s.kind for s in hunt.statements] == ["ASSIGN", "SORT", "ASSIGN"]
    assert hunt.statements[0].expr.sort is None and hunt.statements[2].expr.sort is not None


def test_group():
    group = one("g = GROUP conns BY src_ref.value, BIN(first_observed, 5m), BIN(src_port, 10000) "
                "WITH COUNT(dst_port) AS n, max(dst_port), nunique(src_ref.value)")
    assert isinstance(group, ir.Group)
    assert group.var == "conns"
    assert group.by == (P(("src_ref", "value")), ir.Bin(P(("first_observed",)), 5, "minutes"),
                        ir.Bin(P(("src_port",)), 10000, None))
    assert group.aggregates == (ir.Aggregate("COUNT", P(("dst_port",)), "n"),
                                ir.Aggregate("MAX", P(("dst_port",))),
                                ir.Aggregate("NUNIQUE", P(("src_ref", "value"))))
    assert [a.column for a in group.aggregates] == ["n", "max_dst_port", "nunique_src_ref.value"]
    assert one("GROUP x BY name").aggregates == () and one("GROUP x BY name").out == "_"


@pytest.mark.parametrize("unit, word", [
    ("d", "days"), ("DAY", "days"), ("days", "days"), ("h", "hours"), ("Hour", "hours"),
    ("hours", "hours"), ("m", "minutes"), ("minute", "minutes"), ("MINUTES", "minutes"),
    ("s", "seconds"), ("second", "seconds"), ("seconds", "seconds"),
])
def test_time_units(unit, word):
    assert one(f"x = GET process WHERE a = 1 LAST 3 {unit}").timespan == ir.LastSpan(3, word)
    assert one(f"GROUP x BY BIN(first_observed, 2{unit})").by == (ir.Bin(P(("first_observed",)), 2, word),)


def test_join():
    join = one("j = JOIN ips, assets BY value, ip")
    assert isinstance(join, ir.Join)
    assert (join.left, join.right, join.left_attr, join.right_attr) == ("ips", "assets", P(("value",)), P(("ip",)))
    assert join.inputs == ("ips", "assets")
    join = one("JOIN a, b")
    assert join.left_attr is None and join.right_attr is None and join.out == "_"


# ---------------------------------------------------------------------------- NEW LOAD SAVE INFO DESCRIBE APPLY


def test_new():
    new = one('ips = NEW ipv4-addr ["192.168.1.2", \'192.168.1.3\']')
    assert isinstance(new, ir.New)
    assert (new.out, new.etype, new.data) == ("ips", "ipv4-addr", ("192.168.1.2", "192.168.1.3"))
    new = one('NEW [{"type": "process", "name": "cmd.exe", "pid": 123, "x_score": 0.5, '
              '"x_ok": true, "x_none": null, "x_list": [1, "a"], "x_obj": {"k": false}}]')
    assert new.etype is None and new.out == "_"
    assert new.data == ({"type": "process", "name": "cmd.exe", "pid": 123, "x_score": 0.5, "x_ok": True,
                         "x_none": None, "x_list": [1, "a"], "x_obj": {"k": False}},)
    new = one('p = NEW process [{"name": "a"}, {"name": "b"}]')
    assert new.etype == "process" and len(new.data) == 2


def test_new_mixed_items_is_an_error():
    err = syntax_error('x = NEW process ["a", {"name": "b"}]')
    assert "list of strings or a list of JSON objects" in err.message and err.line == 1


def test_load_save_info_describe():
    load = one("ips = LOAD /data/ips.csv AS ipv4-addr")
    assert isinstance(load, ir.Load) and (load.out, load.path, load.etype) == ("ips", "/data/ips.csv", "ipv4-addr")
    load = one('LOAD "my dir/procs.json"')
    assert (load.out, load.path, load.etype) == ("_", "my dir/procs.json", None)
    save = one("SAVE procs TO /tmp/procs.parquet.gz")
    assert isinstance(save, ir.Save) and (save.var, save.path) == ("procs", "/tmp/procs.parquet.gz")
    assert save.output is None and save.inputs == ("procs",)
    info = one("INFO procs")
    assert isinstance(info, ir.Info) and info.var == "procs"
    desc = one("DESCRIBE procs.hashes.'SHA-256'")
    assert isinstance(desc, ir.Describe) and desc.var == "procs" and desc.attr == P(("hashes", "SHA-256"))


def test_apply():
    apply = one("APPLY python://attribute-plot ON conns_ts WITH XPARAM=first_observed, YPARAM=id")
    assert isinstance(apply, ir.Apply)
    assert apply.uri == "python://attribute-plot" and apply.vars == ("conns_ts",)
    assert apply.params == (("XPARAM", "first_observed"), ("YPARAM", "id"))
    apply = one("APPLY susp_scoring ON a, b WITH n=3, f=-0.5, s='x y', l=(abc, 888), r=procs.pid")
    assert apply.uri == "python://susp_scoring" and apply.vars == ("a", "b") and apply.inputs == ("a", "b")
    assert apply.params == (("n", 3), ("f", -0.5), ("s", "x y"), ("l", ("abc", 888)),
                            ("r", ir.VarAttr("procs", P(("pid",)))))
    assert one('APPLY "docker://pinip" ON nt').uri == "docker://pinip"
    assert one("APPLY docker://pinip ON nt").output is None


# ---------------------------------------------------------------------------- WHERE expressions


@pytest.mark.parametrize("written, op, negated", [
    ("=", "=", False), ("==", "=", False), ("!=", "!=", False), ("<", "<", False), ("<=", "<=", False),
    (">", ">", False), (">=", ">=", False),
    ("LIKE", "LIKE", False), ("NOT LIKE", "LIKE", True), ("matches", "MATCHES", False),
    ("not matches", "MATCHES", True), ("IN", "IN", False), ("NOT IN", "IN", True),
    ("ISSUBSET", "ISSUBSET", False), ("NOT ISSUBSET", "ISSUBSET", True),
    ("ISSUPERSET", "ISSUPERSET", False), ("Not IsSuperSet", "ISSUPERSET", True),
])
def test_operators(written, op, negated):
    assert where(f"a {written} 'v'") == ir.Comparison(P(("a",)), op, "v", negated)


def test_operators_without_spaces():
    assert where("dst_port>=22") == ir.Comparison(P(("dst_port",)), ">=", 22)
    assert where("name!='x'") == ir.Comparison(P(("name",)), "!=", "x")


def test_null_comparisons():
    assert where("a IS NULL") == ir.Comparison(P(("a",)), "IS NULL", None, False)
    assert where("a is not null") == ir.Comparison(P(("a",)), "IS NULL", None, True)
    assert where("a = NULL") == ir.Comparison(P(("a",)), "IS NULL", None, False)
    assert where("a != null") == ir.Comparison(P(("a",)), "IS NULL", None, True)
    err = syntax_error("DISP x WHERE a LIKE NULL")
    assert (err.line, err.column) == (1, 21) and "NULL" in err.message


def test_and_binds_tighter_than_or():
    a, b, c, d = (ir.Comparison(P((n,)), "=", 1) for n in "abcd")
    assert where("a = 1 OR b = 1 AND c = 1") == ir.Or((a, ir.And((b, c))))
    assert where("a = 1 AND b = 1 OR c = 1 AND d = 1") == ir.Or((ir.And((a, b)), ir.And((c, d))))
    assert where("(a = 1 OR b = 1) AND c = 1") == ir.And((ir.Or((a, b)), c))
    assert where("a = 1 and (b = 1 or (c = 1 and d = 1))") == ir.And((a, ir.Or((b, ir.And((c, d))))))
    assert where("a = 1 OR b = 1 OR c = 1") == ir.Or((a, b, c))
    assert where("((a = 1))") == a


def test_attribute_paths():
    assert where("network-traffic:protocols[*] = 'ip'").path == P(("protocols", "*"), "network-traffic")
    assert where("x-oca-asset:hostname = 'h'").path == P(("hostname",), "x-oca-asset")
    assert where("dst_ref.value = 'h'").path == P(("dst_ref", "value"))
    assert where("parent_ref.binary_ref.name = 'h'").path == P(("parent_ref", "binary_ref", "name"))
    assert where("parent_directory_ref.path = 'h'").path == P(("parent_directory_ref", "path"))
    assert where("hashes.'SHA-256' = 'h'").path == P(("hashes", "SHA-256"))
    assert where('file:hashes."SHA-1" = \'h\'').path == P(("hashes", "SHA-1"), "file")
    assert where("extensions.'windows-process-ext'.aslr_enabled = true").path == P(
        ("extensions", "windows-process-ext", "aslr_enabled"))
    assert where("values[0].name = 'h'").path == P(("values", "0", "name"))
    assert where("protocols[*] = 'tcp'").path.name == "protocols[*]"


def test_keyword_like_attribute_names():
    """Keywords are only keywords where the grammar can take them."""
    d = one("DISP nt WHERE start > 5 AND end < 9 AND count = 1 ATTR start, end, limit SORT BY start")
    assert [c.path.name for c in d.expr.where.items] == ["start", "end", "count"]
    assert [a.name for a in d.expr.attrs] == ["start", "end", "limit"]
    assert one("x = GET process WHERE name = 'a' START 2024-12-01T00:00:00Z STOP 2024-12-02T00:00:00Z").timespan


# ---------------------------------------------------------------------------- values


@pytest.mark.parametrize("literal, expected", [
    ("42", 42), ("-7", -7), ("+3", 3), ("0.9", 0.9), ("-1.5e3", -1500.0), ("'443'", "443"),
    ('"double"', "double"), ("bareword", "bareword"), ("first_observed", "first_observed"),
    ("my-host", "my-host"), ("true", True), ("FALSE", False), ("''", ""),
    ("r'C:\\Windows\\n'", "C:\\Windows\\n"), ('R"\\d+\\.\\d+"', "\\d+\\.\\d+"),
])
def test_literals(literal, expected):
    got = value(literal)
    assert got == expected and type(got) is type(expected)


@pytest.mark.parametrize("literal, expected", [
    (r"'.+\.(exe|dll|bat)$'", r".+\.(exe|dll|bat)$"),   # unknown escapes are kept: regexes work
    (r"'\bcmd\b \d+ \w \s \( \1'", r"\bcmd\b \d+ \w \s \( \1"),
    (r"'C:\\Windows\\System32'", "C:\\Windows\\System32"),
    (r"'C:\Windows\System32'", "C:\\Windows\\System32"),
    (r"'it\'s'", "it's"),
    (r'"say \"hi\""', 'say "hi"'),
    (r"'tab\there\nnewline'", "tab\there\nnewline"),
    (r"'\x41\u00e9\U0001F600'", "A\u00e9\U0001F600"),
    (r"'trailing\\'", "trailing\\"),
    (r"'a\/b'", "a/b"),
])
def test_string_escapes(literal, expected):
    assert value(literal) == expected


@pytest.mark.parametrize("hostile", [
    "' OR 1=1 --",
    "'; DROP TABLE process; --",
    "Robert'); DROP TABLE students;--",
    '" OR ""="',
    "a # not a comment",
    "\\\\server\\share",
    "café ☕ Ω 日本語 \U0001F600",
    "FOR doc IN process RETURN doc",
    "*/ -- /* ${jndi:ldap://x} {{7*7}} %s %n",
    "",
    "   spaces   ",
])
def test_hostile_strings_come_through_exactly(hostile):
    escaped = hostile.replace("\\", "\\\\")
    single = "'" + escaped.replace("'", "\\'") + "'"
    double = '"' + escaped.replace('"', '\\"') + '"'
    assert value(single) == hostile
    assert value(double) == hostile
    assert one(f"x = NEW process [{double}]").data == (hostile,)
    assert value(f"({single}, {double})") == (hostile, hostile)


def test_lists():
    assert value("(1, 2)") == (1, 2)
    assert value("['a', \"b\"]") == ("a", "b")
    assert value("(1)") == (1,)
    assert value("(abc, 888, 'x')") == ("abc", 888, "x")
    assert where("pid IN (procs.pid, 9240)") == ir.Comparison(
        P(("pid",)), "IN", (ir.VarAttr("procs", P(("pid",))), 9240))


def test_var_attr_values():
    assert value("procs.pid") == ir.VarAttr("procs", P(("pid",)))
    assert value("nt.src_ref.value") == ir.VarAttr("nt", P(("src_ref", "value")))
    assert value("f.hashes.'SHA-256'") == ir.VarAttr("f", P(("hashes", "SHA-256")))
    assert str(value("nt.src_ref.value")) == "nt.src_ref.value"
    assert value("my-host.corp") == "my-host.corp"  # not a variable name: a plain string


def test_timestamp_values():
    assert value("t'2024-12-01T00:00:00.5Z'") == ir.Timestamp(utc(2024, 12, 1, 0, 0, 0, 500000))
    assert value("2024-12-01T10:00:00Z") == ir.Timestamp(utc(2024, 12, 1, 10))
    assert value("'2024-12-01T10:00:00Z'") == "2024-12-01T10:00:00Z"


# ---------------------------------------------------------------------------- timespans


@pytest.mark.parametrize("start, stop", [
    ("2024-12-01T00:00:00Z", "2024-12-24T00:00:00Z"),
    ("t'2024-12-01T00:00:00Z'", 't"2024-12-24T00:00:00Z"'),
    ("'2024-12-01T00:00:00Z'", '"2024-12-24T00:00:00.000Z"'),
    ("T'2024-12-01T00:00:00.000000Z'", "2024-12-24T00:00:00Z"),
])
def test_absolute_timespans(start, stop):
    get = one(f"x = GET process WHERE a = 1 START {start} STOP {stop}")
    assert get.timespan == ir.TimeRange(utc(2024, 12, 1), utc(2024, 12, 24))
    assert get.timespan.start.tzinfo is not None


def test_bad_timestamp_is_a_semantic_error():
    with pytest.raises(HuntSemanticError) as info:
        parse("DISP x\nx = GET process WHERE a = 1\n  START 2024-13-01T00:00:00Z STOP 2024-12-24T00:00:00Z", "t.hunt")
    err = info.value
    assert err.statement == "GET" and err.line == 2
    assert "bad timestamp '2024-13-01T00:00:00Z'" in str(err)
    assert str(err).startswith("t.hunt:2: GET statement: bad timestamp")


def test_stop_must_follow_start():
    with pytest.raises(HuntSemanticError) as info:
        parse("x = FIND process CREATED y START 2024-12-02T00:00:00Z STOP 2024-12-01T00:00:00Z")
    assert info.value.statement == "FIND" and info.value.line == 1 and "STOP" in info.value.message
    with pytest.raises(HuntSemanticError):
        parse("x = GET process WHERE a = 1 START 2024-12-02T00:00:00Z STOP 2024-12-02T00:00:00Z")
    with pytest.raises(HuntSemanticError):
        parse("x = GET process WHERE a = 1 LAST 0 DAYS")


def test_parse_timestamp():
    assert parse_timestamp("2024-12-01T00:00:00Z") == utc(2024, 12, 1)
    assert parse_timestamp("t'2024-12-01T00:00:00.123456789Z'") == utc(2024, 12, 1, 0, 0, 0, 123456)
    assert parse_timestamp('"2024-12-01T01:00:00+01:00"') == utc(2024, 12, 1)
    assert parse_timestamp("2024-12-01T00:00:00") == utc(2024, 12, 1)
    assert parse_timestamp("2024-12-01") == utc(2024, 12, 1)
    assert parse_timestamp(datetime(2024, 12, 1)) == utc(2024, 12, 1)
    assert parse_timestamp(datetime(2024, 12, 1, 1, tzinfo=timezone(timedelta(hours=1)))) == utc(2024, 12, 1)
    for bad in ("2024-13-01T00:00:00Z", "2024-02-30T00:00:00Z", "yesterday", "", "2024-12-01T25:00:00Z"):
        with pytest.raises(ValueError, match="bad timestamp"):
            parse_timestamp(bad)


# ---------------------------------------------------------------------------- lexical matters, positions


def test_case_insensitive_keywords():
    hunt = parse("x = get process from stixshifter://s where name = 'a' and PID = 1 or Name Like 'b%' "
                 "last 5 Days limit 3\n"
                 "Disp x Where pid In (1, 2) Attr name Sort By name Asc Limit 1 Offset 1\n"
                 "y = find process created by x\n"
                 "group x by name with Count(pid) as n\n"
                 "z = timestamped(x)\napply python://a on x with k=v\ninfo x\ndescribe x.name")
    assert [s.kind for s in hunt.statements] == ["GET", "DISP", "FIND", "GROUP", "ASSIGN", "APPLY", "INFO", "DESCRIBE"]
    get = hunt.statements[0]
    assert get.where == ir.Or((ir.And((ir.Comparison(P(("name",)), "=", "a"), ir.Comparison(P(("PID",)), "=", 1))),
                               ir.Comparison(P(("Name",)), "LIKE", "b%")))
    assert get.timespan == ir.LastSpan(5, "days") and get.limit == 3
    assert hunt.statements[2].by is True


def test_comments():
    hunt = parse("# leading comment\n"
                 "x = GET process   # after the command\n"
                 "  # a comment line inside the statement\n"
                 "  WHERE name = 'a#b' # trailing\n"
                 "DISP x # done\n# the end")
    get, disp = hunt.statements
    assert get.where.value == "a#b"
    assert (get.pos.line, get.pos.column, get.pos.end_line) == (2, 1, 4)
    assert get.pos.text == ("x = GET process   # after the command\n"
                            "  # a comment line inside the statement\n  WHERE name = 'a#b'")
    assert disp.pos.text == "DISP x" and disp.pos.line == 5
    assert parse("# only a comment").statements == ()
    assert parse("").statements == () and parse("  \n\n ").statements == ()


def test_statements_need_no_separator():
    hunt = parse("x = GET process WHERE a = 1 DISP x y = x + x INFO y")
    assert [s.kind for s in hunt.statements] == ["GET", "DISP", "MERGE", "INFO"]
    assert [s.pos.column for s in hunt.statements] == [1, 29, 36, 46]
    assert hunt.statements[1].pos.text == "DISP x"


def test_positions_and_hunt():
    text = "a = GET process WHERE pid = 1\n\n   DISP a ATTR pid\r\nSORT a BY pid"
    hunt = parse(text, filename="h.hunt")
    assert hunt.source == text and hunt.filename == "h.hunt"
    get, disp, sort = hunt.statements
    assert (disp.pos.line, disp.pos.column, disp.pos.end_line, disp.pos.text) == (3, 4, 3, "DISP a ATTR pid")
    assert str(disp.pos) == "line 3"
    assert (sort.pos.line, sort.pos.column) == (4, 1)


def test_underscore_variable():
    assert one("DISP _").expr.var == "_"
    assert one("x = _").expr.var == "_"


# ---------------------------------------------------------------------------- errors


def test_error_unexpected_keyword_for_entity_type():
    err = syntax_error("x = GET WHERE name = 'a'")
    assert (err.line, err.column) == (1, 9)
    assert err.message == "unexpected 'WHERE', expected an entity type"
    assert err.expected == ("an entity type",)
    assert err.source_line == "x = GET WHERE name = 'a'"
    assert err.render().splitlines()[-1] == "    " + " " * 8 + "^"
    err = syntax_error("GET where WHERE a = 1")
    assert (err.line, err.column) == (1, 5) and "'where'" in err.message and "entity type" in err.message


def test_error_end_of_input():
    err = syntax_error("x = GET process\n  WHERE name =")
    assert err.message == "unexpected end of input, expected a value"
    assert (err.line, err.column) == (2, 15)
    err = syntax_error("DISP x ATTR")
    assert err.message == "unexpected end of input, expected an attribute"


def test_error_unterminated_string():
    err = syntax_error("x = GET process\nWHERE name = 'abc\nDISP x")
    assert (err.line, err.column) == (2, 14)
    assert "unterminated string" in err.message
    err = syntax_error('DISP x WHERE name = "abc')
    assert (err.line, err.column) == (1, 21) and "unterminated string" in err.message


def test_error_stray_character():
    err = syntax_error("x = GET process WHERE name = 'a'\n DISP x @ 1")
    assert (err.line, err.column) == (2, 9)
    assert err.message.startswith("unexpected character '@', expected one of:")
    assert len(err.expected) <= 9
    err = syntax_error("x = GET process WHERE name = 'a';")
    assert (err.line, err.column) == (1, 33) and "';'" in err.message


def test_error_two_bracketed_patterns():
    err = syntax_error("x = GET process\n  WHERE [name = 'a'] AND [pid = 1]")
    assert (err.line, err.column) == (2, 22)
    assert "'AND'" in err.message and "only one [...] pattern" in err.message
    err = syntax_error("x = GET process WHERE [name = 'a'] or [pid = 1]")
    assert (err.line, err.column) == (1, 36) and "only one [...] pattern" in err.message


@pytest.mark.parametrize("text, line, column, word", [
    ("get = GET process WHERE a = 1", 1, 1, "get"),
    ("DISP x\nwhere = GET process WHERE a = 1", 2, 1, "where"),
    ("x = y\n  Sort = x", 2, 3, "Sort"),
    ("DISP limit", 1, 6, "limit"),
    ("x = GROUP where BY a", 1, 11, "where"),
    ("x = FIND process CREATED BY and", 1, 29, "and"),
    ("APPLY a ON b, null", 1, 15, "null"),
    ("x = GET process WHERE a = 1\nstart = GET process WHERE a = 1", 2, 1, "start"),
])
def test_error_keyword_as_variable(text, line, column, word):
    err = syntax_error(text)
    assert (err.line, err.column) == (line, column)
    assert err.message == f"unexpected keyword {word!r}, expected a variable name"


def test_error_messages_are_human():
    err = syntax_error("DISP x WHERE a b")
    assert err.message == "unexpected 'b', expected a comparison operator"
    err = syntax_error("x = GET process WHERE a = 1 LAST 3 weeks")
    assert "unexpected 'weeks', expected a time unit" in err.message
    err = syntax_error("x = GET Process WHERE a = 1")
    assert err.message == "unexpected 'Process', expected an entity type"
    err = syntax_error("x = GET process FROM WHERE a = 1")
    assert err.message == "unexpected keyword 'WHERE', expected a data source or path"
    err = syntax_error("x = GET process WHERE a = 1 START 2024-12-01 STOP 2024-12-02")
    assert "expected a timestamp" in err.message and (err.line, err.column) == (1, 35)
    err = syntax_error("x = y +")
    assert err.message == "unexpected end of input, expected a variable name"
    err = syntax_error("x =")
    assert "a command" in err.expected and "a variable name" in err.expected
    for e in (err, syntax_error("DISP x @")):
        assert list(e.expected) == sorted(set(e.expected)) and len(e.expected) <= 9


def test_no_lark_exception_escapes():
    """Truncations and random junk give our errors only."""
    text = ("x = GET network-traffic FROM 'file:///a.json' WHERE [network-traffic:dst_port IN (22, 80) "
            "AND dst_ref.value NOT LIKE '10.%'] START t'2024-12-01T00:00:00Z' STOP 2024-12-02T00:00:00Z LIMIT 5\n"
            "g = GROUP x BY BIN(first_observed, 1h) WITH COUNT(id) AS n\n"
            "n = NEW process [{\"name\": \"a\", \"pid\": 1}]\n"
            "DISP TIMESTAMPED(x) WHERE hashes.'SHA-256' = \"a\\\"b\" ATTR dst_port SORT BY dst_port LIMIT 1 OFFSET 1\n"
            "APPLY docker://x ON x WITH a=(1, b.c), d=e\nj = JOIN x, g BY a, b\ny = x + g\n")
    parse(text)
    rng = random.Random(7)
    junk = "'\"#[](){}=,.:;@\\\n tT-*+!<>$%`"
    variants = [text[:i] for i in range(0, len(text), 3)]
    variants += [text[:i] + rng.choice(junk) + text[i:] for i in (rng.randrange(len(text)) for _ in range(400))]
    variants += [text[:i] + text[i + 1:] for i in (rng.randrange(len(text)) for _ in range(200))]
    for variant in variants:
        try:
            parse(variant)
        except StixgraphError as err:
            if isinstance(err, HuntSyntaxError):
                assert err.line >= 1 and err.column >= 1 and err.message
    with pytest.raises(TypeError):
        parse(b"DISP x")  # type: ignore[arg-type]
