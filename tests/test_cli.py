"""The ``stixgraph`` command through click's CliRunner, on small bundles written in tmp_path."""
from __future__ import annotations

import json

import networkx as nx
import pytest
from click.testing import CliRunner

from stixgraph.cli import main

from bundles import bundle20, proc_obs, write

CMD_GUID = "{aaaaaaaa-0000-4000-8000-000000009416}"
T0 = "START 2024-12-01T00:00:00Z STOP 2024-12-24T00:00:00Z"


@pytest.fixture
def bundle(tmp_path):
    """explorer.exe (4000) → cmd.exe (9416) → SharpShares.exe (9500, connects to 140.82.114.3);
    powershell.exe (3132) on another host, by another user: linked to none of them."""
    return write(tmp_path / "caldera.json", bundle20([
        proc_obs(9416, "cmd.exe", "cmd.exe /c ipconfig /all && netsh interface show interface "
                                  "&& arp -a && nbtstat -n && net config workstation",
                 guid=CMD_GUID, parent=(4000, "explorer.exe", "{eeeeeeee-0000-4000-8000-000000004000}")),
        proc_obs(9500, "SharpShares.exe", "SharpShares.exe /ldap:all", t="2024-12-12T16:44:00.000Z",
                 parent=(9416, "cmd.exe", CMD_GUID), dst="140.82.114.3"),
        proc_obs(3132, "powershell.exe", "powershell.exe -C Get-WmiObject AntiVirusProduct",
                 t="2024-12-13T10:00:00.000Z", host="OtherHost", user="bob"),
    ]))


@pytest.fixture
def run(tmp_path):
    """run(*args, input=None) → click Result; --store defaults to tmp_path/store.db."""
    store = str(tmp_path / "store.db")

    def invoke(*args, input=None, store_path=store):
        args = list(args)
        if store_path and "--store" not in args:
            args += ["--store", store_path]
        return CliRunner().invoke(main, args, input=input, catch_exceptions=False)

    return invoke


def hunt_file(tmp_path, text, name="h.hf"):
    p = tmp_path / name
    p.write_text(text)
    return str(p)


def first_hunt(bundle):
    return (f"procs = GET process FROM {bundle}\n"
            f"        WHERE name LIKE '%.exe' {T0}\n"
            f"DISP procs ATTR pid, name, command_line SORT BY pid ASC\n")


@pytest.fixture
def hunted(run, tmp_path, bundle):
    """A store holding ``procs`` (every process) from a first hunt; returns the run helper."""
    r = run("hunt", hunt_file(tmp_path, first_hunt(bundle)))
    assert r.exit_code == 0, r.output
    return run


def ids_by_pid(run) -> dict[int, str]:
    r = run("disp", "procs", "--attr", "id,pid", "--output", "json")
    assert r.exit_code == 0, r.output
    return {row[1]: row[0] for row in json.loads(r.stdout)["rows"]}


# -- hunt -----------------------------------------------------------------------------------
def test_hunt_prints_table_and_summary(run, tmp_path, bundle):
    r = run("hunt", hunt_file(tmp_path, first_hunt(bundle)), "--full")
    assert r.exit_code == 0, r.output
    out = r.stdout
    assert out.splitlines()[0].split() == ["pid", "name", "command_line"]
    assert "SharpShares.exe /ldap:all" in out and "net config workstation" in out
    assert "VARIABLE" in out and "#(ENTITIES)" in out and "process*" in out
    assert "*Number of related records cached." in out
    assert "[SUMMARY] block executed in" in out
    assert out.index("SharpShares.exe") < out.index("VARIABLE")  # the table comes first


def test_hunt_cuts_long_values_unless_full(run, tmp_path, bundle, monkeypatch):
    monkeypatch.setenv("COLUMNS", "60")
    r = run("hunt", hunt_file(tmp_path, first_hunt(bundle)))
    table = r.stdout.split("\n\n")[0]
    assert "…" in table and "net config workstation" not in table
    assert all(len(line) <= 60 for line in table.splitlines())


def test_hunt_json_one_line_per_display(run, tmp_path, bundle):
    from stixgraph.session import Session

    text = first_hunt(bundle) + "DISP procs ATTR name LIMIT 1\n"
    r = run("hunt", hunt_file(tmp_path, text), "--output", "json", store_path=":memory:")
    assert r.exit_code == 0, r.output
    lines = [json.loads(line) for line in r.stdout.splitlines()]
    assert len(lines) == len(Session(":memory:").run(text)) == 3
    assert [d["display"] for d in lines] == ["table", "table", "summary"]
    assert lines[0]["statement"] == 3 and lines[0]["columns"] == ["pid", "name", "command_line"]
    assert lines[2]["variables"][0]["variable"] == "procs"
    assert lines[2]["variables"][0]["entities"] == 4


def test_hunt_csv(run, tmp_path, bundle):
    r = run("--output", "csv", "hunt", hunt_file(tmp_path, first_hunt(bundle)))
    table, summary = r.stdout.strip().split("\n\n")
    assert table.splitlines()[0] == "pid,name,command_line"
    assert summary.splitlines()[0].startswith("VARIABLE,TYPE,#(ENTITIES),#(RECORDS),")
    assert summary.splitlines()[1].startswith("procs,process,4,")


def test_hunt_from_stdin_with_source_alias(run, tmp_path, bundle):
    path = bundle[len("file://"):]
    text = f"p = GET process FROM stixshifter://splunk WHERE pid = 9500 {T0}\nDISP p ATTR name\n"
    r = run("hunt", "-", "--source", f"splunk={path}", input=text)
    assert r.exit_code == 0, r.output
    assert "SharpShares.exe" in r.stdout


def test_now_pins_last_days(run, tmp_path, bundle):
    text = f"p = GET process FROM {bundle} WHERE name = 'cmd.exe' LAST 10 DAYS\n"
    inside = run("hunt", hunt_file(tmp_path, text), "--now", "2024-12-20T00:00:00Z",
                 "--output", "json", store_path=":memory:")
    after = run("hunt", hunt_file(tmp_path, text), "--now", "2025-06-01T00:00:00Z",
                "--output", "json", store_path=":memory:")
    assert json.loads(inside.stdout.splitlines()[-1])["variables"][0]["entities"] == 1
    assert json.loads(after.stdout.splitlines()[-1])["variables"][0]["entities"] == 0


def test_syntax_error_shows_line_column_caret(run, tmp_path, bundle):
    text = first_hunt(bundle) + "x = = 3\n"
    r = run("hunt", hunt_file(tmp_path, text))
    assert r.exit_code == 1
    err = r.stderr.splitlines()
    assert err[0].startswith("stixgraph: ") and "h.hf:4:5: syntax error" in err[0]
    assert err[1].strip() == "x = = 3"
    assert err[2].index("^") == err[1].index("= 3")
    assert "Traceback" not in r.output


def test_unknown_variable_keeps_earlier_output(run, tmp_path, bundle):
    text = first_hunt(bundle) + "DISP nope ATTR name\n"
    r = run("hunt", hunt_file(tmp_path, text))
    assert r.exit_code == 1
    assert "SharpShares.exe" in r.stdout  # the first DISP was printed before the failure
    assert r.stderr.count("\n") == 1
    assert "h.hf:4: DISP statement: unknown variable 'nope'" in r.stderr
    assert "Traceback" not in r.output


def test_internal_error_hides_traceback_unless_debug(run, tmp_path, bundle, monkeypatch):
    from stixgraph.session import Session

    def boom(self, stmt):
        raise RuntimeError("kaboom\nsecond line")

    monkeypatch.setattr(Session, "execute", boom)
    path = hunt_file(tmp_path, first_hunt(bundle))
    r = run("hunt", path)
    assert r.exit_code == 70
    assert r.stderr == ("stixgraph: internal error: RuntimeError: kaboom; run with --debug for "
                        "the traceback\n")
    r = run("--debug", "hunt", path)
    assert r.exit_code == 70 and "Traceback" in r.stderr and "kaboom" in r.stderr


def test_bad_store_is_one_line(run, tmp_path):
    bad = tmp_path / "bad.db"
    bad.write_text("this is not a database, just text\n")
    r = run("vars", store_path=str(bad))
    assert r.exit_code == 1
    assert r.stderr.startswith(f"stixgraph: store {bad}: ") and "SQLite" in r.stderr
    assert r.stderr.count("\n") == 1


# -- a store shared by two invocations ------------------------------------------------------
def test_store_persists_across_invocations(hunted, tmp_path):
    r = hunted("hunt", hunt_file(tmp_path, "DISP procs ATTR name SORT BY pid ASC\n", "second.hf"))
    assert r.exit_code == 0, r.output
    names = [line.strip() for line in r.stdout.splitlines()[2:] if line.strip()]
    assert names == ["powershell.exe", "explorer.exe", "cmd.exe", "SharpShares.exe"]
    r = hunted("vars", "--output", "json")
    (table,) = [json.loads(line) for line in r.stdout.splitlines()]
    assert table["columns"][:4] == ["VARIABLE", "TYPE", "#(ENTITIES)", "#(RECORDS)"]
    assert table["rows"][0][:3] == ["procs", "process", 4] and table["rows"][0][-1] == 1


def test_disp_command(hunted):
    r = hunted("disp", "procs", "--attr", "pid,name", "--limit", "2")
    assert r.exit_code == 0, r.output
    assert len(r.stdout.strip().splitlines()) == 4  # header, rule, 2 rows
    r = hunted("disp", "nope")
    assert r.exit_code == 1 and "no variable 'nope'" in r.stderr and "procs" in r.stderr


def test_explain_prints_source_and_sql(run, tmp_path, bundle):
    r = run("explain", hunt_file(tmp_path, first_hunt(bundle)), store_path=":memory:")
    assert r.exit_code == 0, r.output
    out = r.stdout
    assert "--    1 | procs = GET process FROM" in out and "--    3 | DISP procs" in out
    assert out.count("SELECT") >= 2 and "-- params:" in out


def test_explain_arango_prints_aql_with_bind_variables(run, tmp_path):
    text = ("p = GET process FROM file:///x.json WHERE name = 'x\\' OR 1=1 --'\n"
            "q = FIND process CREATED p\n")
    r = run("explain", "--backend", "arango", hunt_file(tmp_path, text), store_path=":memory:")
    assert r.exit_code == 0, r.output
    out = r.stdout
    assert "OUTBOUND r1.v @@edge" in out and "// bind vars:" in out
    assert '@@edge = "default_edge_collection"' in out and "SELECT" not in out
    aql_lines = [ln for ln in out.splitlines() if not ln.startswith(("//", "--"))]
    assert "OR 1=1" not in "\n".join(aql_lines)  # the value is only a bind variable
    r = run("explain", "--backend", "arango", "--output", "json", hunt_file(tmp_path, text),
            store_path=":memory:")
    q = json.loads(r.stdout.splitlines()[1])["queries"][0]
    assert "OUTBOUND r1.v @@edge" in q["query"] and q["params"]["@edge"] == "default_edge_collection"


# -- graph ---------------------------------------------------------------------------------------
def test_graph_neighbors(hunted):
    ids = ids_by_pid(hunted)
    r = hunted("graph", "neighbors", ids[9416], "--relation", "parent_ref", "--output", "json")
    data = json.loads(r.stdout)
    assert {o["id"] for o in data["objects"]} == {ids[9416], ids[4000], ids[9500]}
    assert {(e["source"], e["target"]) for e in data["edges"]} == {(ids[9416], ids[4000]),
                                                                  (ids[9500], ids[9416])}
    r = hunted("graph", "neighbors", ids[9416], "--direction", "out", "--depth", "2")
    assert r.exit_code == 0 and "explorer.exe" in r.stdout and "SharpShares" not in r.stdout
    r = hunted("graph", "neighbors", "process--00000000-0000-4000-8000-000000000000")
    assert r.exit_code == 1
    assert r.stderr == ("stixgraph: no object 'process--00000000-0000-4000-8000-000000000000' "
                        "in collection 'default'\n")


def test_graph_tree(hunted):
    ids = ids_by_pid(hunted)
    r = hunted("graph", "tree", ids[9416])
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    assert lines[0].startswith("4000 explorer.exe")
    assert lines[1].startswith("└─ * 9416 cmd.exe")
    assert lines[2].startswith("   └─ 9500 SharpShares.exe  SharpShares.exe /ldap:all")
    assert len(lines) == 3
    tree = json.loads(hunted("graph", "tree", ids[9500], "--output", "json").stdout)
    assert tree["pid"] == 4000 and tree["children"][0]["children"][0]["id"] == ids[9500]


def test_graph_path(hunted):
    ids = ids_by_pid(hunted)
    r = hunted("graph", "neighbors", ids[9500], "--relation", "opened_connection_refs",
               "--depth", "1", "--output", "json")
    nt = next(o for o in json.loads(r.stdout)["objects"] if o["type"] == "network-traffic")
    r = hunted("graph", "path", ids[4000], nt["dst_ref"])
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    assert lines[0] == f"{ids[4000]} (4000 explorer.exe)"
    assert [line.split()[0] for line in lines[1:]] == [
        "<-[parent_ref]-", "<-[parent_ref]-", "-[opened_connection_refs]->", "-[dst_ref]->"]
    assert lines[-1].endswith("(140.82.114.3)")
    r = hunted("graph", "path", ids[4000], ids[3132])
    assert r.exit_code == 1 and "no path between" in r.stdout and "within 3" in r.stdout


@pytest.mark.parametrize("fmt", ["graphml", "gexf", "json"])
def test_graph_export(hunted, tmp_path, fmt):
    ids = ids_by_pid(hunted)
    dest = tmp_path / f"procs.{fmt}"
    r = hunted("graph", "export", "procs", "--format", fmt, "-o", str(dest))
    assert r.exit_code == 0, r.output
    if fmt == "graphml":
        g = nx.read_graphml(dest)
    elif fmt == "gexf":
        g = nx.read_gexf(dest)
    else:
        g = nx.node_link_graph(json.loads(dest.read_text()), edges="edges")
    assert g.is_directed()
    assert set(ids.values()) <= set(g.nodes)
    assert g.edges[ids[9500], ids[9416]]["relationship_type"] == "parent_ref"
    assert g.nodes[ids[9416]]["name"] == "cmd.exe"
    assert {g.nodes[n]["type"] for n in g.nodes} >= {"process", "file", "user-account"}


def test_graph_export_unknown_variable(hunted):
    r = hunted("graph", "export", "nope")
    assert r.exit_code == 1 and r.stderr.startswith("stixgraph: ") and "nope" in r.stderr
