"""Snapshot tests of ``explain`` (ibis style): the queries each hunt compiles to, rendered as
``stixgraph explain`` prints them (with pretty SQL), compared with a reviewed file.

One folder per case and backend: ``tests/snapshots/<case>/<backend>/out.sql`` (``out.aql``
for ArangoDB).  After a deliberate change to the compiler, rewrite them and review the diff::

    STIXGRAPH_UPDATE_SNAPSHOTS=1 .venv/bin/python -m pytest -q tests/test_snapshots.py

Also here: every user value reaches the SQL as a bind parameter, never as SQL text.
"""
from __future__ import annotations

import difflib
import os
from pathlib import Path

import pytest

from stixgraph.lang import parse
from test_seed_cells import CELLS

SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"
SNAPSHOT_FILE = {"sqlite": "out.sql", "arango": "out.aql"}
UPDATE = os.environ.get("STIXGRAPH_UPDATE_SNAPSHOTS") == "1"


def render_explain(items) -> str:
    """``Session.explain`` output as text: each statement's source lines, then its queries."""
    out: list[str] = []
    for stmt, queries in items:
        for i, line in enumerate(stmt.pos.text.splitlines()):
            out.append(f"-- {stmt.pos.line + i:>4} | {line}".rstrip())
        out += [q.render(pretty=True) for q in queries] or ["-- (no query)"]
        out.append("")
    return "\n".join(out)


# ------------------------------------------------------------------------------- the cases
# Input variables are made with NEW (its explain is short) unless the case is about GET.

_INPUTS = """\
procs = NEW process ["cmd.exe"]
"""

CASES: dict[str, str] = {
    # the seed notebook's hunts, verbatim
    **{f"seed_cell_{n}": CELLS[n] for n in (9, 214, 42, 224, 191)},

    # -- GET
    "get_source": """\
a = GET process FROM stixshifter://splunk
    WHERE name = 'cmd.exe' AND x-oca-asset:hostname = 'WindowsTarget'
    START 2024-12-01T00:00:00Z STOP 2024-12-24T00:00:00Z LIMIT 100
b = GET network-traffic WHERE dst_port = 443 LAST 2 HOURS
c = GET file FROM stixshifter://splunk WHERE [file:hashes.'SHA-256' = 'abc' OR file:size > 1000]
d = GET x-custom-thing FROM file:///tmp/bundle.json WHERE x_a IS NOT NULL
""",
    "get_variable": _INPUTS + """\
a = GET process FROM procs WHERE pid > 4 LIMIT 3
b = GET process FROM procs WHERE name = 'x' START 2024-12-01T00:00:00Z STOP 2024-12-02T00:00:00Z
c = GET file FROM procs WHERE name = 'x'
ts = TIMESTAMPED(procs)
d = GET process FROM ts WHERE first_observed > t'2024-12-01T00:00:00Z'
""",
    "get_var_attr_reference": """\
ips = NEW ipv4-addr ["198.51.100.7", "203.0.113.9"]
nt = GET network-traffic FROM stixshifter://splunk WHERE dst_ref.value = ips.value
nt2 = GET network-traffic FROM nt WHERE dst_ref.value != ips.value AND src_port IN (ips.x_port, 80)
nt3 = GET network-traffic FROM stixshifter://splunk WHERE dst_ref.value IN ips.value LAST 1 DAY
""",
    "where_scalar_ops": _INPUTS + """\
a = procs WHERE pid = 4 AND pid != '8' AND pid < 10 AND pid <= 10.5 AND pid > -1 AND pid >= 0
b = procs WHERE name IN ('a', 'b', 3) OR name NOT IN ['c'] OR name LIKE 'cmd%' OR name NOT LIKE '%.dll'
c = procs WHERE command_line MATCHES r'\\bnet(stat)?\\b' OR command_line NOT MATCHES '^x'
d = procs WHERE x_ip ISSUBSET '10.0.0.0/8' AND x_net NOT ISSUPERSET '10.1.2.3'
e = procs WHERE name IS NULL OR pid IS NOT NULL OR x_flag = true OR x_flag = FALSE
f = procs WHERE created > t'2024-12-01T00:00:00Z' AND created <= 2024-12-02T00:00:00Z
""",
    "where_paths": _INPUTS + """\
a = procs WHERE binary_ref.name = 'cmd.exe' AND parent_ref.binary_ref.name LIKE '%.exe'
b = procs WHERE binary_ref.name IS NULL OR binary_ref.hashes.'SHA-256' IS NOT NULL
c = procs WHERE x_tags[*] = 'evil' AND x_list[0] = 'first' AND x_objs[*].name LIKE 'a%'
d = procs WHERE opened_connection_refs.dst_ref.value NOT LIKE '10.%'
e = procs WHERE id = 'process--1' AND type = 'process'
f = procs WHERE file:name = 'evil.exe' OR user-account:user_id = 'root'
""",

    # -- FIND: every row of the relation table, without and with BY
    "find_created": """\
p = NEW process ["a.exe"]
nt = NEW network-traffic [{"dst_port": 443}]
msg = NEW email-message [{"subject": "hi"}]
r1 = FIND process CREATED p
r2 = FIND process CREATED nt
r3 = FIND ipv4-addr CREATED nt
r4 = FIND ipv6-addr CREATED nt
r5 = FIND mac-addr CREATED nt
r6 = FIND domain-name CREATED nt
r7 = FIND artifact CREATED nt
r8 = FIND email-addr CREATED msg
""",
    "find_created_by": """\
p = NEW process ["a.exe"]
ip4 = NEW ipv4-addr ["192.0.2.1"]
ip6 = NEW ipv6-addr ["2001:db8::1"]
mac = NEW mac-addr ["00:00:5e:00:53:01"]
dn = NEW domain-name ["example.com"]
art = NEW artifact [{"mime_type": "text/plain"}]
em = NEW email-addr ["a@example.com"]
r1 = FIND process CREATED BY p
r2 = FIND network-traffic CREATED BY p
r3 = FIND network-traffic CREATED BY ip4
r4 = FIND network-traffic CREATED BY ip6
r5 = FIND network-traffic CREATED BY mac
r6 = FIND network-traffic CREATED BY dn
r7 = FIND network-traffic CREATED BY art
r8 = FIND email-message CREATED BY em
""",
    "find_accepted": """\
nt = NEW network-traffic [{"dst_port": 443}]
msg = NEW email-message [{"subject": "hi"}]
r1 = FIND ipv4-addr ACCEPTED nt
r2 = FIND ipv6-addr ACCEPTED nt
r3 = FIND mac-addr ACCEPTED nt
r4 = FIND domain-name ACCEPTED nt
r5 = FIND artifact ACCEPTED nt
r6 = FIND email-addr ACCEPTED msg
""",
    "find_accepted_by": """\
ip4 = NEW ipv4-addr ["192.0.2.1"]
ip6 = NEW ipv6-addr ["2001:db8::1"]
mac = NEW mac-addr ["00:00:5e:00:53:01"]
dn = NEW domain-name ["example.com"]
art = NEW artifact [{"mime_type": "text/plain"}]
em = NEW email-addr ["a@example.com"]
r1 = FIND network-traffic ACCEPTED BY ip4
r2 = FIND network-traffic ACCEPTED BY ip6
r3 = FIND network-traffic ACCEPTED BY mac
r4 = FIND network-traffic ACCEPTED BY dn
r5 = FIND network-traffic ACCEPTED BY art
r6 = FIND email-message ACCEPTED BY em
""",
    "find_loaded": """\
f = NEW file ["a.dll"]
r1 = FIND process LOADED f
""",
    "find_loaded_by": """\
p = NEW process ["a.exe"]
r1 = FIND file LOADED BY p
""",
    "find_owned": """\
p = NEW process ["a.exe"]
em = NEW email-addr ["a@example.com"]
ip4 = NEW ipv4-addr ["192.0.2.1"]
ip6 = NEW ipv6-addr ["2001:db8::1"]
r1 = FIND user-account OWNED p
r2 = FIND user-account OWNED em
r3 = FIND autonomous-system OWNED ip4
r4 = FIND autonomous-system OWNED ip6
""",
    "find_owned_by": """\
u = NEW user-account ["root"]
asys = NEW autonomous-system [{"number": 64496}]
r1 = FIND process OWNED BY u
r2 = FIND email-addr OWNED BY u
r3 = FIND ipv4-addr OWNED BY asys
r4 = FIND ipv6-addr OWNED BY asys
""",
    "find_contained": """\
nt = NEW network-traffic [{"dst_port": 443}]
f = NEW file ["a.txt"]
d = NEW directory ["/tmp"]
art = NEW artifact [{"mime_type": "text/plain"}]
r1 = FIND network-traffic CONTAINED nt
r2 = FIND directory CONTAINED f
r3 = FIND directory CONTAINED d
r4 = FIND file CONTAINED art
""",
    "find_contained_by": """\
nt = NEW network-traffic [{"dst_port": 443}]
f = NEW file ["a.txt"]
d = NEW directory ["/tmp"]
r1 = FIND network-traffic CONTAINED BY nt
r2 = FIND file CONTAINED BY d
r3 = FIND directory CONTAINED BY d
r4 = FIND artifact CONTAINED BY f
""",
    "find_linked_where_time_limit": _INPUTS + """\
r1 = FIND ipv4-addr LINKED procs
r2 = FIND ipv4-addr LINKED procs WHERE value NOT LIKE '10.%' START 2024-12-01T00:00:00Z STOP 2024-12-02T00:00:00Z LIMIT 5
r3 = FIND file LOADED BY procs WHERE name LIKE '%.dll' LAST 3 DAYS LIMIT 10
r4 = FIND process CREATED procs WHERE x-oca-asset:hostname = 'h1'
""",
    "find_errors": _INPUTS + """\
r1 = FIND file CREATED procs
r2 = FIND process CREATED nope
g = GROUP procs BY name WITH COUNT(pid)
r3 = FIND process CREATED g
r4 = FIND process SPAWNED procs
""",

    # -- assign, SORT, MERGE
    "assign": _INPUTS + """\
a = procs WHERE name = 'cmd.exe' SORT BY pid ASC LIMIT 5 OFFSET 2
b = procs OFFSET 3
c = procs LIMIT 3
d = procs ATTR name, pid, binary_ref.name
DISP d
e = procs WHERE binary_ref.name = 'x' SORT BY binary_ref.name
""",
    "assign_transforms": _INPUTS + """\
ts = TIMESTAMPED(procs)
rec = RECORDS(procs) WHERE pid > 4
obs = ADDOBSID(procs) WHERE name = 'x' SORT BY pid LIMIT 2
late = ts WHERE name = 'x' SORT BY first_observed DESC LIMIT 5
ts2 = TIMESTAMPED(ts)
""",
    "sort": _INPUTS + """\
a = SORT procs BY pid
b = SORT procs BY pid ASC
c = SORT procs BY binary_ref.name DESC
ts = TIMESTAMPED(procs)
d = SORT ts BY first_observed ASC
""",
    "merge": _INPUTS + """\
more = NEW process ["b.exe"]
f = NEW file ["c.dll"]
all = procs + more + procs
bad = procs + f
""",

    # -- GROUP, JOIN
    "group_with": _INPUTS + """\
a = GROUP procs BY name WITH COUNT(pid) AS n, NUNIQUE(command_line), MIN(created), MAX(created), SUM(x_score), AVG(x_score)
b = GROUP procs BY name, binary_ref.name WITH COUNT(pid)
c = GROUP procs BY BIN(pid, 100) WITH COUNT(pid)
ts = TIMESTAMPED(procs)
d = GROUP ts BY BIN(first_observed, 1h), name WITH COUNT(pid) AS n, MAX(last_observed)
DISP d
DISP d ATTR n SORT BY n DESC LIMIT 3
DISP d WHERE n > 1
""",
    "group_auto": _INPUTS + """\
a = GROUP procs BY name
DISP a
DISP a ATTR name
ts = TIMESTAMPED(procs)
b = GROUP ts BY BIN(first_observed, 5 minutes)
""",
    "join": _INPUTS + """\
other = NEW process ["b.exe"]
nt = NEW network-traffic [{"dst_port": 443}]
a = JOIN procs, other
b = JOIN procs, nt BY pid, src_port
c = JOIN procs, nt BY binary_ref.name, dst_ref.value
DISP a
""",

    # -- DISP
    "disp": _INPUTS + """\
DISP procs ATTR name, pid, binary_ref.name, parent_ref.binary_ref.name
DISP procs
DISP procs WHERE pid > 4 ATTR name SORT BY pid ASC LIMIT 10 OFFSET 5
DISP procs ATTR hashes.'SHA-256', x_list[*], x_list[1]
DISP procs ATTR file:name
""",
    "disp_transforms": _INPUTS + """\
DISP TIMESTAMPED(procs) ATTR name, pid
DISP RECORDS(procs)
DISP ADDOBSID(procs) WHERE name = 'x' ATTR name SORT BY first_observed ASC
ts = TIMESTAMPED(procs)
DISP ts
DISP ts ATTR first_observed, name SORT BY first_observed
""",

    # -- statements that compile no query, or run the one of another
    "new_load_save": """\
a = NEW process ["cmd.exe", "net.exe"]
b = NEW [{"type": "ipv4-addr", "value": "192.0.2.1"}]
c = NEW ipv4-addr [{"value": "192.0.2.2"}, {"value": "192.0.2.3"}]
d = LOAD "/tmp/procs.csv" AS process
e = LOAD file:///tmp/objects.jsonl
SAVE a TO /tmp/out.csv
f = a ATTR name
SAVE f TO "/tmp/out.json"
""",
    "info_describe_apply": _INPUTS + """\
INFO procs
a = procs ATTR name, pid
INFO a
g = GROUP procs BY name WITH COUNT(pid)
INFO g
DESCRIBE procs.pid
DESCRIBE procs.binary_ref.name
APPLY docker://domainnamelookup ON procs
APPLY python://plot ON procs, a WITH X=1
APPLY python://plot ON nope
""",
    "unknown_variable": """\
DISP nope
x = nope WHERE pid = 1
y = SORT nope BY pid
INFO nope
""",
}


def snapshot_path(case: str, backend: str) -> Path:
    return SNAPSHOTS / case / backend / SNAPSHOT_FILE[backend]


@pytest.mark.parametrize("case", sorted(CASES))
def test_explain_snapshot(case, backend, make_session):
    text = render_explain(make_session().explain(CASES[case], f"{case}.hf"))
    path = snapshot_path(case, backend)
    old = path.read_text(encoding="utf-8") if path.exists() else None
    if UPDATE:
        if old != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            pytest.skip(f"snapshot {'updated' if old is not None else 'created'}: "
                        f"{path.relative_to(SNAPSHOTS.parent.parent)} (review the diff)")
        return
    if old is None:
        pytest.fail(f"no snapshot {path}; create it with\n  STIXGRAPH_UPDATE_SNAPSHOTS=1 "
                    f".venv/bin/python -m pytest -q tests/test_snapshots.py -k '{case} and {backend}'"
                    f"\nthen review and commit it", pytrace=False)
    if old != text:
        diff = "".join(difflib.unified_diff(old.splitlines(True), text.splitlines(True),
                                            f"{path.name} (snapshot)", f"{path.name} (now)"))
        pytest.fail(f"explain output differs from {path}:\n{diff}\nif the change is intended, "
                    f"rewrite the snapshots with STIXGRAPH_UPDATE_SNAPSHOTS=1 and review the diff",
                    pytrace=False)


def test_no_stale_snapshots():
    """Every snapshot folder belongs to a case (a renamed case leaves none behind)."""
    if not SNAPSHOTS.exists():
        pytest.skip("no snapshots yet")
    stale = sorted(d.name for d in SNAPSHOTS.iterdir() if d.is_dir() and d.name not in CASES)
    assert not stale, f"snapshot folders without a case in tests/test_snapshots.py: {stale}"


def test_every_statement_kind_is_explained(make_session):
    """Each statement kind yields at least one query or comment (no bare '(no query)')."""
    kinds = set()
    for case, hunt in CASES.items():
        for stmt, queries in make_session().explain(hunt):
            kinds.add(stmt.kind)
            assert queries, f"{case}: {stmt.pos.text!r} explains to nothing"
            assert all(q.purpose for q in queries), f"{case}: {stmt.pos.text!r}"
    assert kinds == {"GET", "FIND", "ASSIGN", "SORT", "MERGE", "GROUP", "JOIN", "DISP", "NEW",
                     "LOAD", "SAVE", "INFO", "DESCRIBE", "APPLY"}


# ----------------------------------------------------------------------- pretty SQL rendering

def test_pretty_render_layout():
    from stixgraph.store.sql import Query

    q = Query("SELECT a, b FROM t JOIN u ON u.x = t.x WHERE t.a = :p0 AND (t.b = :p1 OR t.c IN "
              "(SELECT c FROM v JOIN w ON w.id = v.id WHERE v.d = 'it''s (not) AND :p9')) "
              "GROUP BY a ORDER BY b UNION SELECT a, b FROM z",
              {"p1": 2, "p0": "x", "unused": 3}, "what it is\nsecond line")
    assert q.render(pretty=True) == """\
-- what it is
-- second line
SELECT a, b
FROM t
JOIN u ON u.x = t.x
WHERE
  t.a = :p0
  AND (
    t.b = :p1
    OR t.c IN (
      SELECT c
      FROM v
      JOIN w ON w.id = v.id
      WHERE v.d = 'it''s (not) AND :p9'
    )
  )
GROUP BY a
ORDER BY b
UNION
SELECT a, b
FROM z;
-- params:
--   :p0 = 'x'
--   :p1 = 2
--   :unused = 3"""
    # one line without pretty; params in order of first appearance either way
    assert q.render().splitlines()[2].startswith("SELECT a, b FROM t JOIN u")
    assert q.render().splitlines()[-1] == "-- params: :p0='x', :p1=2, :unused=3"
    assert Query("", {}, "comment only").render(pretty=True) == "-- comment only"


def test_pretty_sql_changes_only_whitespace():
    from stixgraph.store.sql import pretty_sql, sql_tokens

    for case, hunt in CASES.items():
        from stixgraph.session import Session

        for _, queries in Session(":memory:").explain(hunt):
            for q in queries:
                before = [t.text for t in sql_tokens(q.sql)]
                assert [t.text for t in sql_tokens(pretty_sql(q.sql))] == before, case


# ----------------------------------------------------------------- user values are bound

HOSTILE = ["' OR 1=1 --", 'say "hi"', "back\\slash", "a; DROP TABLE entities; --",
           "ünïcödé ✓ 中文 🙂", "%'); DELETE FROM var_rows; --", "new\nline", "*/ /*"]


def _quote(value: str) -> str:
    """A hunt string literal holding ``value`` (the grammar's Python-style escapes)."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _hostile_hunts():
    """(hunt, the hostile string it holds) pairs: as values, then as attribute names."""
    for v in HOSTILE:
        q = _quote(v)
        yield pytest.param(f"""\
procs = NEW process ["cmd.exe"]
a = GET process FROM stixshifter://x WHERE name = {q} OR command_line LIKE {q}
b = GET process FROM procs WHERE name IN ({q}, 'x') AND x-oca-asset:hostname = {q}
c = FIND file LOADED BY procs WHERE name MATCHES {q} OR name ISSUBSET {q} LIMIT 3
d = FIND ipv4-addr LINKED procs WHERE value NOT IN ({q}) START 2024-12-01T00:00:00Z STOP 2024-12-02T00:00:00Z
e = procs WHERE binary_ref.name != {q} SORT BY pid LIMIT 2 OFFSET 1
f = TIMESTAMPED(procs) WHERE x_tags[*] = {q}
DISP procs WHERE command_line = {q} ATTR name
DISP RECORDS(procs) WHERE parent_ref.name NOT LIKE {q}
""", v, id=f"value-{HOSTILE.index(v)}")
    # attribute names: a quoted path step may hold anything but its own quote and a newline
    # (a double quote is refused: see the next test)
    for i, n in enumerate(["' OR 1=1 --", "a; DROP TABLE entities; --", "ünïcödé ✓", "back\\slash",
                           "*/ --", ") OR (1=1"]):
        step = f"'{n}'" if "'" not in n else f'"{n}"'
        yield pytest.param(f"""\
procs = NEW process ["cmd.exe"]
nt = NEW network-traffic [{{"dst_port": 1}}]
a = procs WHERE x.{step} = 'v' AND binary_ref.{step} LIKE 'w' SORT BY x.{step}
b = GET process FROM stixshifter://x WHERE x.{step} IS NULL
DISP procs ATTR x.{step}, binary_ref.{step}
c = GROUP procs BY x.{step} WITH COUNT(x.{step}) AS n
d = GROUP procs BY BIN(x.{step}, 10)
e = JOIN procs, nt BY x.{step}, y.{step}
f = SORT procs BY x.{step} ASC
DESCRIBE procs.x.{step}
""", n, id=f"name-{i}")


def _sql_lines(rendered: str) -> str:
    return "\n".join(line for line in rendered.splitlines() if not line.startswith("--"))


def _strings(obj):
    """Every str among an IR statement's values and attribute path steps."""
    from dataclasses import fields, is_dataclass

    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, (tuple, list)):
        for item in obj:
            yield from _strings(item)
    elif is_dataclass(obj):
        for f in fields(obj):
            if f.name not in ("pos", "out", "var", "etype", "source", "relation", "uri", "path",
                              "data"):
                yield from _strings(getattr(obj, f.name))


@pytest.mark.parametrize("hunt, hostile", list(_hostile_hunts()))
def test_user_values_are_bind_parameters(hunt, hostile, make_session):
    compiled = 0
    for stmt, queries in make_session().explain(hunt):
        for q in queries:
            if not q.sql:
                continue
            compiled += 1
            for text in (q.sql, _sql_lines(q.render(pretty=True))):
                assert hostile not in text, f"{hostile!r} in the SQL of {stmt.pos.text!r}:\n{text}"
            assert ";" not in q.sql and "--" not in q.sql and "/*" not in q.sql
        if hostile in _strings(stmt) and stmt.kind != "DESCRIBE":
            # the statement's query gets the value whole, as (part of) a bind parameter
            assert queries and queries[-1].sql, stmt.pos.text
            bound = [str(v) for v in queries[-1].params.values()]
            assert any(hostile in b for b in bound), (stmt.pos.text, queries[-1].params)
    assert compiled >= 8


def test_double_quote_in_an_attribute_name_is_refused_not_spliced(make_session):
    """A quoted path step holding ``"`` cannot be written as a JSON path: explain says the
    statement fails; nothing of it reaches SQL."""
    hunt = 'procs = NEW process ["a"]\na = procs WHERE x.\'say "hi"\' = 1\n'
    (_, _), (_, [q]) = make_session().explain(hunt)
    assert q.sql == "" and "fails at run time" in q.purpose and "double quote" in q.purpose


def test_disp_keeps_quoted_attribute_steps(make_session):
    hunt = "procs = NEW process [\"a\"]\nDISP procs ATTR x.'a.b', y.\"'q'\"\n"
    (_, _), (_, [q]) = make_session().explain(hunt)
    paths = [v for v in q.params.values() if str(v).startswith("$")]
    assert paths == ['$."x"."a.b"', '$."y"."\'q\'"']


# ------------------------------------------------------------------ explain runs nothing

def test_explain_runs_nothing_and_reads_stored_variables(make_session):
    from stixgraph.store.base import Birth

    s = make_session()
    store = s.store
    ids = store.add_objects([{"type": "process", "id": "process--1", "name": "a.exe", "pid": 4}])
    store.get_from_ids("procs", "process", ids, Birth("NEW", 1, "procs = NEW ..."))
    store.group("g", parse("g = GROUP procs BY name WITH COUNT(pid) AS n").statements[0],
                Birth("GROUP", 2, "g = GROUP ..."))
    before = [(v.name, v.entities, v.records) for v in store.variables()]
    hunt = """\
x = NEW process ["b.exe"]
DISP g
DISP procs
t = TIMESTAMPED(procs)
DISP t ATTR name
y = procs ATTR name
DISP y
"""
    out = s.explain(hunt)
    assert [(v.name, v.entities, v.records) for v in store.variables()] == before
    assert store.db.execute("SELECT COUNT(*) FROM entities").fetchone()[0] == 1
    texts = {stmt.pos.text: "\n".join(q.render(pretty=True) for q in qs) for stmt, qs in out}
    assert "g is a table: columns name, n" in texts["DISP g"]
    assert "decided at run time" in texts["DISP procs"]  # NEW gave procs no column list
    assert "LEFT JOIN observations o" in texts["DISP t ATTR name"]  # t holds records
    assert "no ATTR: y's default columns" in texts["DISP y"] and "columns: name" in texts["DISP y"]
