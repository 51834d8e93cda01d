"""The AQL compiler (:mod:`stixgraph.store.aql`), without a server.

* snapshots: the AQL and bind variables each case of ``tests/test_snapshots.py`` compiles to,
  in ``tests/snapshots/<case>/arango/out.aql`` (rewrite with ``STIXGRAPH_UPDATE_SNAPSHOTS=1``
  and review the diff);
* user values and names reach AQL only as bind parameters;
* structure: FIND is one query per statement, with the traversal direction of each hop.

No offline AQL parser exists (ArangoDB parses AQL server-side only: ``db.aql.validate``), so
the AQL is checked here for its tokens and brackets, not parsed.
"""
from __future__ import annotations

import difflib
import json
import re
from pathlib import Path

import pytest

from stixgraph import ir
from stixgraph.errors import HuntSemanticError, StoreError
from stixgraph.lang import parse
from stixgraph.relations import RELATIONS, hops
from stixgraph.session import ExplainType
from stixgraph.store import aql
from test_snapshots import CASES, HOSTILE, UPDATE, _hostile_hunts, _quote, _strings, \
    render_explain, snapshot_path


def explain(hunt: str, collection: str = "default"):
    """[(statement, [AqlQuery, ...]), ...] as a session would explain on ArangoDB."""
    types: dict = {}
    out = []
    for stmt in parse(hunt).statements:
        out.append((stmt, aql.explain(stmt, types, collection)))
        if stmt.output:
            made = ExplainType.of_output(stmt, types)
            if made is not None:
                types[stmt.output] = made
    return out


def queries(hunt: str):
    return [q for _, qs in explain(hunt) for q in qs if q.text]


def find(hunt: str) -> aql.AqlQuery:
    """The query of the hunt's last statement (one)."""
    (*_, (_, qs)) = explain(hunt)
    assert len(qs) == 1 and qs[0].text, qs
    return qs[0]


# ------------------------------------------------------------------------------ snapshots

@pytest.mark.parametrize("case", sorted(CASES))
def test_aql_snapshot(case):
    text = render_explain(explain(CASES[case]))
    path = snapshot_path(case, "arango")
    old = path.read_text(encoding="utf-8") if path.exists() else None
    if UPDATE:
        if old != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            pytest.skip(f"snapshot {'updated' if old is not None else 'created'}: {path}")
        return
    assert old is not None, f"no snapshot {path}; create it with STIXGRAPH_UPDATE_SNAPSHOTS=1"
    if old != text:
        diff = "".join(difflib.unified_diff(old.splitlines(True), text.splitlines(True),
                                            "snapshot", "now"))
        pytest.fail(f"AQL differs from {path}:\n{diff}", pytrace=False)


def test_snapshots_cover_every_relation_both_ways():
    """Each row of the relation table is FOUND both ways in the snapshot cases."""
    types = {}
    seen = set()
    for case, hunt in CASES.items():
        if not case.startswith("find_"):
            continue
        for stmt in parse(hunt).statements:
            if isinstance(stmt, ir.New):
                types[stmt.out] = stmt.etype
            elif isinstance(stmt, ir.Find) and stmt.var in types:
                x, y = (types[stmt.var], stmt.etype) if stmt.by else (stmt.etype, types[stmt.var])
                seen.add((x, stmt.relation, y, stmt.by))
    want = {(x, rel, y, by) for (x, rel, y) in RELATIONS for by in (False, True)}
    assert want - seen == set()


# ------------------------------------------------------------------ structure and direction

_HOP = re.compile(r"FOR (r\d+) IN @@var_rows FILTER \1\.var == @(\w+) FOR n\d+, (g\d+) IN 1\.\.1 "
                  r"(OUTBOUND|INBOUND) \1\.v @@edge FILTER \3\.relationship_type (?:==|IN) @(\w+) "
                  r"AND \3\._ref_name (?:==|IN) @(\w+) FILTER n\d+\.type == @(\w+)")


def _as_tuple(v):
    return tuple(v) if isinstance(v, list) else (v,)


@pytest.mark.parametrize("row", sorted(RELATIONS), ids="-".join)
@pytest.mark.parametrize("by", [False, True], ids=["fwd", "BY"])
def test_find_is_one_traversal_query_with_the_right_directions(row, by):
    x, rel, y = row
    result, given = (y, x) if by else (x, y)
    rel = rel.upper() + (" BY" if by else "")
    q = find(f"inp = NEW {given} [\"a\"]\nout = FIND {result} {rel} inp")
    b = q.bind_vars
    got = set()
    for m in _HOP.finditer(q.text):
        assert b[m.group(2)] == "inp" and b[m.group(7)] == result
        props = _as_tuple(b[m.group(6)])
        assert _as_tuple(b[m.group(5)]) == tuple(dict.fromkeys(aql.relationship_type(p)
                                                               for p in props))
        got.add((m.group(4), props))
    want = {("OUTBOUND" if h.from_input else "INBOUND", h.props)
            for h in hops(result, row[1], given, by)}
    assert got == want
    assert q.text.count("@@var_rows") == len(want)  # one pass over the variable per hop
    assert ("UNION_DISTINCT" in q.text) == (len(want) > 1)
    assert "DOCUMENT(id)" in q.text and "SORT v._key" in q.text


def test_linked_goes_through_observations_and_is_one_query():
    q = find("procs = NEW process [\"a\"]\nr = FIND ipv4-addr LINKED procs")
    assert re.search(r"FOR o\d+, og\d+ IN 1\.\.1 INBOUND r\d+\.v @@edge .* "
                     r"FOR n\d+, g\d+ IN 1\.\.1 OUTBOUND o\d+ @@edge", q.text)
    assert q.text.count("@@var_rows") == 1
    assert {"object", "object_refs", "observed-data", "ipv4-addr"} <= set(q.bind_vars.values())


def test_find_where_time_and_limit():
    q = find("procs = NEW process [\"a\"]\nr = FIND file LOADED BY procs WHERE name LIKE 'A%' "
             "START 2024-12-01T00:00:00Z STOP 2024-12-02T00:00:00Z LIMIT 5")
    b = q.bind_vars
    start = next(k for k, v in b.items() if v == "2024-12-01T00:00:00.000Z")
    stop = next(k for k, v in b.items() if v == "2024-12-02T00:00:00.000Z")
    assert f".first_observed < @{stop} AND " in q.text and f".last_observed >= @{start}" in q.text
    assert re.search(r"LIMIT @(\w+) RETURN \{v: v\._id, obs: null\}$", q.text)
    assert 5 in b.values() and "A%" in b.values()  # as written: AQL's LIKE is case-sensitive


def test_other_type_comparison_goes_through_an_observation():
    q = find("procs = NEW process [\"a\"]\nr = FIND process CREATED procs "
             "WHERE x-oca-asset:hostname = 'h1'")
    assert re.search(r"INBOUND v @@edge .* FILTER o\d+\.type == @\w+ FOR x\d+, xg\d+ IN 1\.\.1 "
                     r"OUTBOUND o\d+ @@edge .* FILTER x\d+\.type == @\w+", q.text)
    assert "x-oca-asset" in q.bind_vars.values() and "h1" in q.bind_vars.values()


def test_get_from_a_variable_sort_limit_offset():
    (*_, (_, [q])) = explain("procs = NEW process [\"a\"]\n"
                             "a = procs WHERE pid > 4 SORT BY binary_ref.name ASC LIMIT 5 OFFSET 2")
    assert re.search(r"LET sk = FIRST\(FOR t\d+, g\d+ IN 1\.\.1 OUTBOUND v @@edge .*\) "
                     r"SORT sk == null, sk ASC, r\.rid LIMIT @\w+, @\w+ "
                     r"RETURN \{v: r\.v, obs: r\.obs, data: r\.data\}$",
                     q.text)
    (*_, (_, [q])) = explain("procs = NEW process [\"a\"]\nb = procs OFFSET 3")
    assert re.search(r"LIMIT @\w+, @\w+ RETURN", q.text) and aql.NO_LIMIT in q.bind_vars.values()


def test_timestamped_is_one_row_per_entity_and_observation():
    (*_, (_, [q])) = explain("procs = NEW process [\"a\"]\nts = TIMESTAMPED(procs) WHERE pid > 4")
    assert "INBOUND r.v @@edge" in q.text and "SORT o.first_observed, r.rid, o._id" in q.text
    assert q.text.endswith("RETURN {v: r.v, obs: o._id}")
    (*_, (_, [q])) = explain("procs = NEW process [\"a\"]\nts = TIMESTAMPED(procs)\n"
                             "late = ts WHERE first_observed > t'2024-12-01T00:00:00Z'")
    assert "LET o = (r.obs == null ? null : DOCUMENT(r.obs))" in q.text
    assert re.search(r"o\.first_observed > @\w+", q.text)


def test_group_collects_with_aggregates():
    (*_, (_, [q])) = explain("procs = NEW process [\"a\"]\ng = GROUP procs BY name, BIN(pid, 10) "
                             "WITH COUNT(pid) AS n, NUNIQUE(x), AVG(y)")
    assert "COLLECT k0 = kx0, k1 = kx1 AGGREGATE a0 = SUM(ax0), a1 = UNIQUE(ax1), " \
        "a2 = AVERAGE(ax2)" in q.text
    assert q.text.endswith("RETURN [k0, k1, a0, LENGTH(REMOVE_VALUE(a1, null)), a2]")


def test_what_is_not_compiled_says_so():
    hunt = ("procs = NEW process [\"a\"]\n"
            "x = procs WHERE x_ip ISSUBSET '2001:db8::/32'\ny = procs WHERE a[*].b[*] = 1\n")
    comments = [qs[0].purpose for _, qs in explain(hunt)[1:] if not qs[0].text]
    assert len(comments) == 2 and all("not compiled for ArangoDB" in c for c in comments)
    assert "IPv6" in comments[0] and "two [*] steps" in comments[1]


def test_join_reads_the_right_side_once_keyed_by_value():
    """JOIN is linear: the right variable becomes one object keyed by the JSON of each value
    (so 1 and "1" differ, null never matches); each left row looks its value up."""
    p = aql.Params()
    stmt = ir.Join(out="j", left="procs", right="nt", left_attr=ir.AttrPath(("pid",)),
                   right_attr=ir.AttrPath(("src_port",)), pos=ir.Pos(1, 1, 1, "j"))
    text = aql.select_join(p, stmt, ["dst_port", "src_ref.value"])
    check_aql_shape(text)
    assert text.startswith("LET rights = MERGE(APPEND([{}], (FOR w IN @@var_rows")
    assert "COLLECT rk = JSON_STRINGIFY(rx) INTO g" in text
    assert "FILTER rx != null" in text and "FILTER lx != null" in text
    assert "FOR m IN (rights[JSON_STRINGIFY(lx)] || []) SORT r.rid, m.rid" in text
    assert text.endswith("RETURN {v: r.v, obs: null, data: m.d}")
    b = p.values
    assert {"procs", "nt", "pid", "src_port", "dst_port", "src_ref.value"} <= set(
        v for v in b.values() if isinstance(v, str))
    # the copied ref column is read through its edge, as a display column is
    assert re.search(r"\[@v\d+\]: FIRST\(FOR t\d+, g\d+ IN 1\.\.1 OUTBOUND f @@edge", text)


def test_tables_and_join_columns_are_read_from_row_data():
    hunt = ("procs = NEW process [\"a\"]\ng = GROUP procs BY name WITH COUNT(pid) AS n\n"
            "DISP g SORT BY n DESC LIMIT 3\n")
    (*_, (_, [q])) = explain(hunt)
    assert q.text == "FOR r IN @@var_rows FILTER r.var == @v0 SORT r.rid RETURN r.data"
    assert "SORT BY, LIMIT and OFFSET are applied to the rows by the caller" in q.purpose
    p = aql.Params()
    text = aql.select_display(p, "j", "process", [("name", ("name",)), ("dst_port", ("dst_port",))],
                              None, None, False, data=frozenset({"dst_port"}))
    assert re.search(r"RETURN \[v\[@v\d+\], r\.data\[@v\d+\]\]$", text)


def test_group_without_with_reads_attribute_types_first_seen_first():
    p = aql.Params()
    text = aql.select_column_types(p, "procs")
    check_aql_shape(text)
    assert "COLLECT key = k, t = TYPENAME(v[k])" in text and text.endswith("SORT first RETURN [key, t]")
    aggs = aql.auto_aggregates(aql.Params(), "process",
                               [["pid", "number"], ["name", "string"], ["id", "string"],
                                ["x_n", "number"], ["x_n", "string"], ["x_score", "number"]],
                               False)
    assert [(n, f) for n, f, _ in aggs] == [("unique_pid", "NUNIQUE"), ("unique_name", "NUNIQUE"),
                                            ("unique_x_n", "NUNIQUE"), ("mean_x_score", "AVG")]


def test_observations_of_a_variable_walk_object_refs_both_ways():
    p = aql.Params()
    text = aql.select_observations_of(p, "procs")
    check_aql_shape(text)
    assert "INBOUND e @@edge" in text and "OUTBOUND o @@edge" in text
    assert text.endswith("RETURN x)]") and "SORT o._key" in text
    assert "object_refs" in p.values.values()


def test_bad_input_fails_clearly():
    p = aql.Params()
    with pytest.raises(HuntSemanticError, match="invalid regular expression"):
        aql.where_cond(p, ir.Comparison(ir.AttrPath(("name",)), "MATCHES", "(x"), "process")
    with pytest.raises(HuntSemanticError, match="needs an IP address"):
        aql.where_cond(p, ir.Comparison(ir.AttrPath(("ip",)), "ISSUBSET", "nope"), "process")
    with pytest.raises(StoreError, match="must be resolved"):
        aql.where_cond(p, ir.Comparison(ir.AttrPath(("pid",)), "=",
                                        ir.VarAttr("procs", ir.AttrPath(("pid",)))), "process")
    for bad in ("", "a-b", "x y", "a;b"):
        with pytest.raises(StoreError, match="collection name"):
            aql.Params(bad)


def test_like_pattern_backslash_is_literal_in_aql():
    """SQLite's LIKE (and the matcher's) has no escape character; AQL's is the backslash, so a
    backslash in the pattern is doubled in the bound value."""
    p = aql.Params()
    aql.where_cond(p, ir.Comparison(ir.AttrPath(("name",)), "LIKE", "C:\\%"), "file")
    assert "C:\\\\%" in p.values.values()


def test_ipv4_subset_is_bound_numbers():
    p = aql.Params()
    text = aql.where_cond(p, ir.Comparison(ir.AttrPath(("value",)), "ISSUBSET", "10.0.0.0/8"),
                          "ipv4-addr")
    assert {10 << 24, (11 << 24) - 1, 8} <= set(p.values.values())
    assert "IPV4_TO_NUMBER" in text and "IS_IPV4" in text


# --------------------------------------------------------------- user values are bound

EXTRA_HOSTILE = ['"', "\\", "@x", "@@x", "`", "/* */", "// x", "ünï ✓ 中 🙂", "' OR 1=1 --",
                 "}, {obs: 1", "RETURN SLEEP(9)"]


def _extra_hunts():
    for i, v in enumerate(EXTRA_HOSTILE):
        q = _quote(v)
        yield pytest.param(f"""\
procs = NEW process ["cmd.exe"]
a = FIND file LOADED BY procs WHERE name = {q} OR name LIKE {q}
    OR x-oca-asset:hostname IN ({q}, 'x')
b = FIND ipv4-addr LINKED procs WHERE value NOT IN ({q}) AND value MATCHES {q} LIMIT 3
c = procs WHERE binary_ref.name != {q} SORT BY pid LIMIT 2 OFFSET 1
d = GROUP procs BY name WITH COUNT(pid)
DISP TIMESTAMPED(procs) WHERE x_tags[*] = {q} ATTR name
""", v, id=f"extra-{i}")


_LEXEME = re.compile(r"\s+|@@?\w+|[A-Za-z_][\w.]*|\d+(?:\.\.\d+)?|==|!=|<=|>=|\|\|"
                     r"|[-+*/%<>?:,=()\[\]{}]")


def check_aql_shape(text: str) -> None:
    """What can be checked without a server: only our lexemes (no string literal, no comment,
    no backtick), balanced brackets."""
    rest = _LEXEME.sub("", text)
    assert rest == "", f"unexpected characters {rest!r} in:\n{text}"
    depth = []
    for ch in re.sub(r"[^()\[\]{}]", "", text):
        if ch in "([{":
            depth.append(ch)
        else:
            assert depth and "([{"[")]}".index(ch)] == depth.pop(), text
    assert not depth, text


@pytest.mark.parametrize("hunt, hostile", [*_hostile_hunts(), *_extra_hunts()])
def test_user_values_are_bind_parameters(hunt, hostile):
    compiled = 0
    for stmt, qs in explain(hunt):
        for q in qs:
            if not q.text:
                continue
            compiled += 1
            check_aql_shape(q.text)
            body = "\n".join(line for line in q.render(pretty=True).splitlines()
                             if not line.startswith("//"))
            for text in (q.text, body):
                assert hostile not in text, f"{hostile!r} in the AQL of {stmt.pos.text!r}"
            used = {t[1:] for t in re.findall(r"@@?\w+", q.text)}
            assert used == set(q.bind_vars), stmt.pos.text  # every parameter bound, no extra
            json.dumps(q.bind_vars)
        if hostile in _strings(stmt) and qs[-1].text and stmt.kind != "DESCRIBE":
            # the statement's query gets the value whole, as (an element of) a bind variable
            # (a LIKE pattern with its backslashes doubled: AQL's escape character)
            bound = [x for v in qs[-1].bind_vars.values()
                     for x in (v if isinstance(v, list) else [v]) if isinstance(x, str)]
            assert any(h in x for x in bound for h in (hostile, hostile.replace("\\", "\\\\"))), \
                (stmt.pos.text, qs[-1].bind_vars)
    assert compiled >= 4


def test_collection_names_are_bind_parameters():
    names = {"@edge": "x_1_edge_collection", "@var_rows": "x_1_var_rows"}
    for _, qs in explain(CASES["find_linked_where_time_limit"], collection="x_1"):
        for q in qs:
            assert "x_1" not in q.text
            assert {k: v for k, v in q.bind_vars.items() if k.startswith("@")} == \
                {k: v for k, v in names.items() if "@" + k in q.text}


def test_pretty_changes_only_whitespace():
    for hunt in CASES.values():
        for q in queries(hunt):
            before = [t.text for t in aql.aql_tokens(q.text)]
            assert [t.text for t in aql.aql_tokens(aql.pretty_aql(q.text))] == before


def test_python_arango_takes_these_bind_vars():
    """With python-arango installed (no server here): ``bind_vars`` as its AQL API takes them."""
    import arango
    assert hasattr(arango, "ArangoClient"), "python-arango (a dependency) is not installed"
    import inspect

    from arango.aql import AQL

    assert "bind_vars" in inspect.signature(AQL.execute).parameters


def test_run_time_datetimes_are_bound_as_iso_text():
    from datetime import datetime, timezone

    p = aql.Params()
    hop = hops("file", "loaded", "process", True)
    aql.select_find(p, "file", "loaded", "procs", hop, None,
                    datetime(2024, 12, 1, tzinfo=timezone.utc),
                    datetime(2024, 12, 2, tzinfo=timezone.utc))
    assert {"2024-12-01T00:00:00.000Z", "2024-12-02T00:00:00.000Z"} <= set(p.values.values())


# --------------------------------------------------------------- saved queries (arango/queries)
SAVED = sorted((Path(__file__).resolve().parents[1] / "arango" / "queries").glob("*.aql"))


def test_saved_queries_exist():
    assert {p.stem for p in SAVED} >= {"process_tree", "who_opened_connection",
                                       "linked_to_address", "exfiltration_pivot",
                                       "process_activity"}


@pytest.mark.parametrize("path", SAVED, ids=lambda p: p.stem)
def test_saved_query_takes_every_input_as_a_bind_parameter(path):
    """Each saved query names its bind parameters in its header; the query uses exactly those,
    its collections as @@vertex / @@edge, and its brackets balance.  Its only string literals
    are this project's constants (relationship types, STIX types, the 10/8 bounds)."""
    lines = path.read_text().splitlines()
    header = " ".join(ln for ln in lines if ln.startswith("//"))
    body = "\n".join(ln for ln in lines if not ln.startswith("//"))
    declared = set(re.findall(r"@@?\w+", header.split("Bind:", 1)[1]))
    used = set(re.findall(r"@@?\w+", body))
    assert used == declared and {"@@vertex", "@@edge"} <= used, path.name
    literals = re.findall(r'"([^"]*)"', body)
    allowed = {"parent", "binary", "object", "opened-connection", "src", "dst", "user-account",
               "x-oca-asset", "ipv4-addr", "ipv6-addr", "domain-name", "network-traffic", "id",
               "name", "pid", "command_line", "10.0.0.0", "10.255.255.255",
               "process", "x-oca-event", "file", "parent-directory", "2", "11", "15", "23",
               "26", "29"}
    assert set(literals) <= allowed, set(literals) - allowed
    check_aql_shape(re.sub(r'"[^"]*"', "x", body).replace("1..@depth", "1..9")
                    .replace("].", "] "))


def test_process_activity_query_reads_the_same_sysmon_writes_as_apply():
    """The web UI's process_activity.aql lists Sysmon's file-write codes by hand: the same as
    the ones APPLY's x_written_files takes (stixgraph.analytics.activity)."""
    from stixgraph.analytics.activity import SYSMON_FILE_WRITES

    body = next(p for p in SAVED if p.stem == "process_activity").read_text()
    codes = re.search(r"ev\.code IN \[([^\]]*)\]", body)
    assert codes and set(re.findall(r'"(\d+)"', codes.group(1))) == set(SYSMON_FILE_WRITES)
