"""Every code cell of the seed notebook (our own product's demo notebook) parses verbatim,
and the lowered IR of each is spot-checked."""
from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path

import pytest

from stixgraph import ir
from stixgraph.lang import parse

# ---------------------------------------------------------------------------- the cells, verbatim
# (trailing blanks on the "empty" lines are part of the notebook and kept on purpose)

CELL_9 = r"""# TTP: System Network Configuration Discovery (T1016)
t1016_instances = GET process
                  FROM stixshifter://splunk
                  WHERE name = 'cmd.exe' AND (command_line LIKE '%netsh%' OR command_line LIKE '%ipconfig%' OR command_line LIKE '%arp%')
                  START 2024-12-01T00:00:00Z STOP 2024-12-24T00:00:00Z
                     
DISP t1016_instances ATTR pid, name, command_line"""

CELL_10 = r"""# TTP: Discover antivirus programs (T1518.001)
# CALDERA command on Windows: `wmic /NAMESPACE:\\root\SecurityCenter2 PATH AntiVirusProduct GET /value`
t1518_instances = GET process
                  FROM stixshifter://splunk
                  WHERE command_line LIKE '%AntiVirusProduct%'
                  START 2024-12-01T00:00:00Z STOP 2024-12-24T00:00:00Z
                     
DISP t1518_instances ATTR pid, name, command_line"""

CELL_222 = r"""nt = GET network-traffic
     FROM stixshifter://splunk
     WHERE dst_ref.value NOT LIKE '10.%' AND dst_port = '443' AND network-traffic:protocols[*] = 'ip'
     LAST 15 DAYS
     
# this command should return an interactive map with IPs pinned on the map
APPLY docker://pinip ON nt"""

CELL_214 = r"""nt = GET network-traffic
     FROM stixshifter://splunk
     WHERE dst_ref.value NOT LIKE '10.%' AND dst_port = '443' AND network-traffic:protocols[*] = 'ip'
     LAST 15 DAYS
     
# A domain name lookup analytics:
# a new attribute "x_domain_name" is added to the input variable for its dest IPs
APPLY docker://domainnamelookup ON nt
#  x_domain_name and x_domain_organization are new attributes added by the analytics, show the new fields
DISP nt ATTR src_ref.value, src_port, dst_ref.value, dst_port, x_domain_name, x_domain_organization

ips = FIND ipv4-addr LINKED nt WHERE value != '10.0.0.5'

procs = FIND process CREATED nt
        WHERE x-oca-asset:hostname = 'WindowsTarget' # the added WHERE clause limits the search to be performed against endpoint 'WindowsTarget' 
        DISP procs ATTR x_original_file_name, command_line
    
users = FIND user-account OWNED procs
        DISP users ATTR user_id

# find malicious executable files
files = FIND file LINKED procs
DISP files ATTR name, parent_directory_ref.path"""

CELL_42 = r"""# A suspicious process scoring analytics. 
#Calculates a "suspicious score" for processes based on activity types (e.g., writing to system directory, network connections, forking processes, and suspicious commands), to help prioritize investigations by ranking processes in Kestrel.
# a new attribute "x_suspiciousness" is added to the input variable
procs = GET process FROM stixshifter://splunk 
WHERE [process:binary_ref.name MATCHES '.+\.(exe|dll|bat)$' AND process:binary_ref.name != 'powershell.exe'] START t'2024-12-01T00:00:00Z' STOP t'2024-12-24T00:00:00Z'

APPLY docker://susp_scoring ON procs

# sort the processes
procs_desc = SORT procs BY x_suspicious_score DESC
# get the most suspicous ones
procs_sus = GET process FROM procs WHERE x_suspicious_score > 0.9
DISP procs_sus ATTR name, command_line, x_suspicious_score"""

CELL_221 = r"""users = GET user-account
FROM stixshifter://splunk
WHERE (user_id != "SYSTEM" AND user_id != "inf808" AND user_id != "WDAGUtilityAccount" AND user_id != "DefaultAccount"  AND user_id != "Guest") 
START 2024-12-01T15:05:00Z STOP 2024-12-24T08:00:00Z
DISP users ATTR account_login, user_id, id"""

CELL_223 = r"""conns_all = GET network-traffic
     FROM stixshifter://splunk
     WHERE dst_ref.value NOT LIKE '10.%' AND dst_port = '443' AND network-traffic:protocols[*] = 'ip'
     LAST 15 DAYS
     
# conns_all are network-traffic entities without timestamps. Get records of them with timestamps.
# More info: https://kestrel.readthedocs.io/en/latest/language.html#timestamped
conns_ts = TIMESTAMPED(conns_all)
        
APPLY python://attribute-plot ON conns_ts WITH XPARAM=first_observed, YPARAM=id"""

CELL_224 = r"""# Fetch processes from the last 10 days where the command line contains 'StageDir'
procs_exfil = GET process FROM "stixshifter://splunk" WHERE command_line LIKE '%StageDir%' LAST 10 DAYS

DISP procs_exfil ATTR pid, command_line

# Find parent processes of the processes in procs_exfil
parent_procs_exfil = FIND process CREATED procs_exfil

# Group parent processes by their name and display them
# The result here is the Sandcat agent executable file for the C2 channel with the Caldera server.
# Next, we will investigate further along the kill chain, focusing on the stages leading up to the exfiltration destination.
aggr = GROUP parent_procs_exfil BY name
DISP aggr ATTR unique_name, unique_pid, unique_command_line

# Find network-traffic associated with processes in procs_exfil
nt_exfil = FIND network-traffic CREATED BY procs_exfil

nt_exfil_ts = TIMESTAMPED(nt_exfil)

DISP nt_exfil_ts ATTR protocols, src_ref.value, src_port, dst_ref.value, dst_port

# Bar plot showing traffic direction for malicious download of files from github
APPLY python://attribute-plot ON nt_exfil_ts WITH XPARAM=x_direction"""

CELL_191 = r"""exfil_cmd = GET process FROM stixshifter://splunk
WHERE command_line LIKE '%StagedFiles.7z%'
LAST 15 DAYS
# display the timestamps from observations of those processes
DISP TIMESTAMPED(exfil_cmd) ATTR pid, name, command_line"""

CELLS = {9: CELL_9, 10: CELL_10, 222: CELL_222, 214: CELL_214, 42: CELL_42, 221: CELL_221,
         223: CELL_223, 224: CELL_224, 191: CELL_191}

SEED = Path("/work/shared/seed/000_27288ccf763a0b7f.txt")


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def kinds(hunt: ir.Hunt) -> list[str]:
    return [s.kind for s in hunt.statements]


def cmp(path, op, value=None, etype=None, negated=False) -> ir.Comparison:
    return ir.Comparison(ir.AttrPath(tuple(path.split(".")), etype), op, value, negated)


@pytest.mark.skipif(not SEED.exists(), reason="seed notebook not present")
def test_cells_are_verbatim_copies_of_the_seed():
    text = SEED.read_text(encoding="utf-8")
    found = dict(re.findall(r"^In \[(\d+)\]:\n(.*?)(?=\n\n\n\n)", text, re.S | re.M))
    assert {int(n) for n in found} == set(CELLS)
    for n, code in found.items():
        assert CELLS[int(n)] == code


@pytest.mark.parametrize("number", sorted(CELLS))
def test_cell_parses(number):
    hunt = parse(CELLS[number], filename=f"In [{number}]")
    assert hunt.statements
    assert hunt.source == CELLS[number]
    for stmt in hunt.statements:  # each statement's text is an exact slice of the cell
        assert stmt.pos.text in CELLS[number]
        assert CELLS[number].splitlines()[stmt.pos.line - 1][stmt.pos.column - 1:].startswith(
            stmt.pos.text.splitlines()[0])


def test_cell_9():
    get, disp = parse(CELL_9).statements
    assert isinstance(get, ir.Get) and get.out == "t1016_instances" and get.etype == "process"
    assert get.source == "stixshifter://splunk" and not get.pattern
    assert get.where == ir.And((
        cmp("name", "=", "cmd.exe"),
        ir.Or((cmp("command_line", "LIKE", "%netsh%"), cmp("command_line", "LIKE", "%ipconfig%"),
               cmp("command_line", "LIKE", "%arp%"))),
    ))
    assert get.timespan == ir.TimeRange(utc(2024, 12, 1), utc(2024, 12, 24))
    assert (get.pos.line, get.pos.column, get.pos.end_line) == (2, 1, 5)
    assert get.pos.text.startswith("t1016_instances = GET process\n")
    assert get.pos.text.endswith("STOP 2024-12-24T00:00:00Z")
    assert isinstance(disp, ir.Disp) and disp.expr.var == "t1016_instances"
    assert [a.name for a in disp.expr.attrs] == ["pid", "name", "command_line"]
    assert disp.pos.line == 7


def test_cell_10():
    get, disp = parse(CELL_10).statements
    assert get.where == cmp("command_line", "LIKE", "%AntiVirusProduct%")
    assert get.timespan == ir.TimeRange(utc(2024, 12, 1), utc(2024, 12, 24))
    assert get.pos.line == 3  # after the two comment lines
    assert disp.expr.var == "t1518_instances"


def test_cell_222():
    get, apply = parse(CELL_222).statements
    assert get.etype == "network-traffic" and get.out == "nt"
    assert get.timespan == ir.LastSpan(15, "days")
    assert get.where == ir.And((
        cmp("dst_ref.value", "LIKE", "10.%", negated=True),
        cmp("dst_port", "=", "443"),
        ir.Comparison(ir.AttrPath(("protocols", "*"), "network-traffic"), "=", "ip"),
    ))
    assert get.where.items[0].path.is_ref_path
    assert isinstance(apply, ir.Apply)
    assert apply.uri == "docker://pinip" and apply.vars == ("nt",) and apply.params == ()


def test_cell_214():
    hunt = parse(CELL_214)
    assert kinds(hunt) == ["GET", "APPLY", "DISP", "FIND", "FIND", "DISP", "FIND", "DISP", "FIND", "DISP"]
    get, apply, disp_nt, ips, procs, disp_procs, users, disp_users, files, disp_files = hunt.statements
    assert apply.uri == "docker://domainnamelookup"
    assert [a.name for a in disp_nt.expr.attrs] == [
        "src_ref.value", "src_port", "dst_ref.value", "dst_port", "x_domain_name", "x_domain_organization"]
    assert (ips.out, ips.etype, ips.relation, ips.by, ips.var) == ("ips", "ipv4-addr", "linked", False, "nt")
    assert ips.where == cmp("value", "!=", "10.0.0.5")
    assert (procs.out, procs.etype, procs.relation, procs.by, procs.var) == (
        "procs", "process", "created", False, "nt")
    assert procs.where == ir.Comparison(ir.AttrPath(("hostname",), "x-oca-asset"), "=", "WindowsTarget")
    assert (procs.pos.line, procs.pos.end_line) == (14, 15)
    assert procs.pos.text.endswith("'WindowsTarget'")  # the trailing comment is not part of it
    # the DISP indented under the FIND is a statement of its own
    assert disp_procs.expr.var == "procs" and disp_procs.pos.line == 16 and disp_procs.pos.column == 9
    assert [a.name for a in disp_procs.expr.attrs] == ["x_original_file_name", "command_line"]
    assert (users.relation, users.var, users.etype) == ("owned", "procs", "user-account")
    assert disp_users.expr.attrs == (ir.AttrPath(("user_id",)),)
    assert (files.relation, files.etype) == ("linked", "file")
    assert disp_files.expr.attrs[1] == ir.AttrPath(("parent_directory_ref", "path"))


def test_cell_42():
    hunt = parse(CELL_42)
    assert kinds(hunt) == ["GET", "APPLY", "SORT", "GET", "DISP"]
    get, apply, sort, get_sus, disp = hunt.statements
    assert get.pattern is True and get.source == "stixshifter://splunk"
    regex, not_ps = get.where.items
    assert regex == ir.Comparison(ir.AttrPath(("binary_ref", "name"), "process"), "MATCHES",
                                  r".+\.(exe|dll|bat)$")
    assert regex.value == ".+\\.(exe|dll|bat)$"
    assert re.search(regex.value, "evil.exe") and not re.search(regex.value, "evilxexe")
    assert not_ps == ir.Comparison(ir.AttrPath(("binary_ref", "name"), "process"), "!=", "powershell.exe")
    assert get.timespan == ir.TimeRange(utc(2024, 12, 1), utc(2024, 12, 24))
    assert (get.pos.line, get.pos.end_line) == (4, 5)
    assert apply.uri == "docker://susp_scoring" and apply.vars == ("procs",)
    assert sort.out == "procs_desc" and sort.var == "procs"
    assert sort.sort == ir.SortSpec(ir.AttrPath(("x_suspicious_score",)), descending=True)
    assert get_sus.source == "procs"  # a bare word: the session sees it names a variable
    assert get_sus.where == cmp("x_suspicious_score", ">", 0.9) and not get_sus.pattern
    assert disp.expr.var == "procs_sus"


def test_cell_221():
    get, disp = parse(CELL_221).statements
    assert get.etype == "user-account" and get.out == "users"
    assert get.where == ir.And(tuple(cmp("user_id", "!=", v) for v in (
        "SYSTEM", "inf808", "WDAGUtilityAccount", "DefaultAccount", "Guest")))
    assert get.timespan == ir.TimeRange(utc(2024, 12, 1, 15, 5), utc(2024, 12, 24, 8))
    assert [a.name for a in disp.expr.attrs] == ["account_login", "user_id", "id"]


def test_cell_223():
    get, assign, apply = parse(CELL_223).statements
    assert get.out == "conns_all" and get.timespan == ir.LastSpan(15, "days")
    assert isinstance(assign, ir.Assign) and assign.out == "conns_ts"
    assert assign.expr == ir.VarExpr("conns_all", transform="TIMESTAMPED")
    assert assign.pos.text == "conns_ts = TIMESTAMPED(conns_all)"
    assert apply.uri == "python://attribute-plot" and apply.vars == ("conns_ts",)
    assert apply.params == (("XPARAM", "first_observed"), ("YPARAM", "id"))


def test_cell_224():
    hunt = parse(CELL_224)
    assert kinds(hunt) == ["GET", "DISP", "FIND", "GROUP", "DISP", "FIND", "ASSIGN", "DISP", "APPLY"]
    get, disp, parents, aggr, disp_aggr, nt_exfil, nt_ts, disp_ts, apply = hunt.statements
    assert get.source == "stixshifter://splunk"  # written "stixshifter://splunk", quotes removed
    assert get.where == cmp("command_line", "LIKE", "%StageDir%")
    assert get.timespan == ir.LastSpan(10, "days")
    assert (parents.relation, parents.by, parents.var) == ("created", False, "procs_exfil")
    assert aggr.out == "aggr" and aggr.var == "parent_procs_exfil"
    assert aggr.by == (ir.AttrPath(("name",)),) and aggr.aggregates == ()
    assert [a.name for a in disp_aggr.expr.attrs] == ["unique_name", "unique_pid", "unique_command_line"]
    assert (nt_exfil.etype, nt_exfil.relation, nt_exfil.by, nt_exfil.var) == (
        "network-traffic", "created", True, "procs_exfil")
    assert nt_ts.expr == ir.VarExpr("nt_exfil", transform="TIMESTAMPED")
    assert disp_ts.expr.attrs[0] == ir.AttrPath(("protocols",))
    assert apply.params == (("XPARAM", "x_direction"),)


def test_cell_191():
    get, disp = parse(CELL_191).statements
    assert get.out == "exfil_cmd" and get.timespan == ir.LastSpan(15, "days")
    assert get.where == cmp("command_line", "LIKE", "%StagedFiles.7z%")
    assert (get.pos.line, get.pos.end_line) == (1, 3)
    assert disp.expr.var == "exfil_cmd" and disp.expr.transform == "TIMESTAMPED"
    assert [a.name for a in disp.expr.attrs] == ["pid", "name", "command_line"]
    assert disp.pos.text == "DISP TIMESTAMPED(exfil_cmd) ATTR pid, name, command_line"
