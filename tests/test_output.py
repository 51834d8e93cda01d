"""Rendering of hand-built displays: terminal tables, JSON Lines, CSV."""
from __future__ import annotations

import csv
import io
import json

import pytest

from stixgraph.display import Message, Summary, Table, VarSummary
from stixgraph.output import FOOTNOTE, Renderer, cell

LONG = ('"C:\\Windows\\system32\\cmd.exe" /c "C:\\Users\\inf808\\AppData\\Local\\inf808\\'
        'SharpShares.exe" /ldap:all')
TABLE = Table(7, ["pid", "name", "command_line", "protocols"],
              [[9636, "cmd.exe", "ipconfig /all", ["ip", "tcp"]], [9416, "cmd.exe", LONG, None]])
SUMMARY = Summary([VarSummary("t1016_instances", "process", 2, 12, {"artifact": 144, "file": 432}),
                   VarSummary("nt", "network-traffic", 15, 914, {"ipv4-addr": 5346})],
                  ["artifact", "directory", "file", "ipv4-addr"], seconds=2.2)
MESSAGE = Message(3, 'unknown entity type "x"')


def render(displays, fmt="table", **kw):
    buf, err = io.StringIO(), io.StringIO()
    Renderer(buf, fmt, err=err if fmt == "csv" else None, **kw).write_all(displays)
    return buf.getvalue(), err.getvalue()


def test_cells():
    assert cell(None) == ""
    assert cell(["ip", "tcp"]) == '["ip","tcp"]'
    assert cell({"SHA-256": "ab"}) == '{"SHA-256":"ab"}'
    assert cell(True) == "true" and cell(443) == "443"


def test_table_aligned_and_cut_to_width():
    out, _ = render([TABLE], width=60)
    lines = out.rstrip("\n").split("\n")
    assert lines[0].split() == ["pid", "name", "command_line", "protocols"]
    assert set(lines[1].replace(" ", "")) == {"-"}
    assert all(len(line) <= 60 for line in lines)
    assert "…" in lines[3] and LONG not in out
    assert '["ip","tcp"]' in lines[2]
    # columns line up: every row starts its name column where the header does
    col = lines[0].index("name")
    assert all(line[col:].startswith("cmd.exe") for line in lines[2:])
    assert lines[2].startswith("9636") and lines[0].startswith(" pid")  # numbers right-aligned


def test_table_full_wraps_whole_value():
    out, _ = render([TABLE], width=60, full=True)
    lines = out.rstrip("\n").split("\n")
    assert "…" not in out
    assert all(len(line) <= 60 for line in lines)
    assert len(lines) > 4  # the long command line took several lines
    col = lines[0].index("command_line")
    text = "".join(line[col:].rstrip().split("  ")[0] for line in lines[3:])
    assert text.replace(" ", "") == LONG.replace(" ", "")


def test_wide_enough_table_is_untouched():
    out, _ = render([TABLE], width=300)
    assert LONG in out and "…" not in out


def test_terminal_summary_and_messages():
    out, _ = render([MESSAGE, SUMMARY], width=40)
    lines = out.split("\n")
    assert lines[0] == 'warning: unknown entity type "x"'
    assert lines[1].split() == ["VARIABLE", "TYPE", "#(ENTITIES)", "#(RECORDS)", "artifact*",
                                "directory*", "file*", "ipv4-addr*"]
    assert lines[3].split() == ["t1016_instances", "process", "2", "12", "144", "0", "432", "0"]
    assert lines[4].split() == ["nt", "network-traffic", "15", "914", "0", "0", "0", "5346"]
    assert FOOTNOTE in lines
    assert lines[-2] == "[SUMMARY] block executed in 3 seconds"


def test_json_lines_shape():
    out, _ = render([TABLE, MESSAGE, SUMMARY], "json")
    objs = [json.loads(line) for line in out.splitlines()]
    assert len(objs) == 3
    assert objs[0] == {"display": "table", "statement": 7,
                       "columns": ["pid", "name", "command_line", "protocols"],
                       "rows": [[9636, "cmd.exe", "ipconfig /all", ["ip", "tcp"]],
                                [9416, "cmd.exe", LONG, None]]}
    assert objs[1] == {"display": "message", "statement": 3, "level": "warning",
                       "text": 'unknown entity type "x"'}
    assert objs[2] == {"display": "summary", "variables": [
        {"variable": "t1016_instances", "type": "process", "entities": 2, "records": 12,
         "cached": {"artifact": 144, "directory": 0, "file": 432, "ipv4-addr": 0}},
        {"variable": "nt", "type": "network-traffic", "entities": 15, "records": 914,
         "cached": {"artifact": 0, "directory": 0, "file": 0, "ipv4-addr": 5346}}]}


def test_csv_tables_and_summary():
    out, err = render([TABLE, MESSAGE, SUMMARY], "csv")
    first, second = out.split("\n\n")
    rows = list(csv.reader(io.StringIO(first)))
    assert rows == [["pid", "name", "command_line", "protocols"],
                    ["9636", "cmd.exe", "ipconfig /all", '["ip","tcp"]'],
                    ["9416", "cmd.exe", LONG, ""]]
    assert list(csv.reader(io.StringIO(second))) == [
        ["VARIABLE", "TYPE", "#(ENTITIES)", "#(RECORDS)", "artifact*", "directory*", "file*",
         "ipv4-addr*"],
        ["t1016_instances", "process", "2", "12", "144", "0", "432", "0"],
        ["nt", "network-traffic", "15", "914", "0", "0", "0", "5346"]]
    assert err == 'warning: unknown entity type "x"\n'  # messages are not CSV


def test_empty_table_and_unknown_format():
    out, _ = render([Table(1, ["a", "b"], [])])
    assert out.split("\n")[0].split() == ["a", "b"]
    with pytest.raises(ValueError):
        Renderer(io.StringIO(), "xml")
