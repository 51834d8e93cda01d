"""What processes did, as APPLY gives it to analytics (:mod:`stixgraph.analytics.activity`):
``x_connection_count`` (the network-traffic each process CREATED) and ``x_written_files``
(the files its events wrote), computed from the graph on every backend; susp_scoring's
``system_dir.write`` and ``network.connection_outlier`` rules fire on them."""
from __future__ import annotations

import json

import pytest

from bundles import bundle20, observed, write
from stixgraph.analytics import activity
from stixgraph.display import Table
from stixgraph.store.base import FileEvent, ProcessActivity

SYSMON = {"module": "XmlWinEventLog:Microsoft-Windows-Sysmon/Operational",
          "provider": "Microsoft Sysmon"}
T = "2024-12-12T16:{:02d}:{:02d}.000Z"


def _proc(name: str, image_dir: str, guid: str) -> dict:
    """A Sysmon event's process objects (keys "1".."4"): asset, directory, image, process."""
    return {"1": {"type": "x-oca-asset", "hostname": "WindowsTarget"},
            "2": {"type": "directory", "path": image_dir},
            "3": {"type": "file", "name": name, "parent_directory_ref": "2"},
            "4": {"type": "process", "pid": 4000 + len(guid), "name": name, "binary_ref": "3",
                  "x_unique_id": guid}}


def file_event(name, image_dir, guid, i, code, action, file_name, directory, source=SYSMON):
    """A file event as stix-shifter maps one: x-oca-event naming the process and a file."""
    objs = _proc(name, image_dir, guid)
    objs["0"] = {"type": "x-oca-event", "code": code, "action": action, "process_ref": "4",
                 "file_ref": "6", "created": T.format(i // 60, i % 60), **source}
    objs["6"] = {"type": "file", "name": file_name}
    if directory is not None:
        objs["5"] = {"type": "directory", "path": directory}
        objs["6"]["parent_directory_ref"] = "5"
    return observed(objs, T.format(i // 60, i % 60))


def child_event(name, image_dir, guid, i, child_guid):
    """Sysmon 1: a child process created by the process ``guid``."""
    objs = _proc(name, image_dir, guid)
    objs["0"] = {"type": "x-oca-event", "code": "1", "action": "Process Create",
                 "process_ref": "5", "parent_process_ref": "4", **SYSMON}
    objs["5"] = {"type": "process", "pid": 7000 + i, "name": "conhost.exe",
                 "x_unique_id": child_guid, "parent_ref": "4"}
    return observed(objs, T.format(i // 60, i % 60))


def net_event(name, image_dir, guid, i, dst):
    objs = _proc(name, image_dir, guid)
    objs["0"] = {"type": "x-oca-event", "code": "3", "action": "Network connection detected",
                 "process_ref": "4", "network_ref": "7", **SYSMON}
    objs["5"] = {"type": "ipv4-addr", "value": "10.0.0.5"}
    objs["6"] = {"type": "ipv4-addr", "value": dst}
    objs["7"] = {"type": "network-traffic", "src_ref": "5", "dst_ref": "6",
                 "src_port": 50000 + i, "dst_port": 443, "protocols": ["ip", "tcp"]}
    objs["4"]["opened_connection_refs"] = ["7"]
    return observed(objs, T.format(i // 60, i % 60))


EVIL = ("evil.exe", r"C:\Users\Public", "{e0000000-0000-0000-0000-000000000001}")
MSI = ("msiexec.exe", r"C:\Windows\System32", "{e0000000-0000-0000-0000-000000000002}")
QUIET = [(f"tool{n}.exe", r"C:\Program Files\Tools", f"{{e0000000-0000-0000-0000-1{n:011d}}}")
         for n in range(15)]


def scenario() -> list[dict]:
    """evil.exe writes into System32 (plus a quirk-path, a delete, an ECS-style creation),
    opens 14 connections and starts 12 processes; an installer writes into System32 too; 15
    quiet tools open 0-1 connections and start 0-1 processes."""
    obs = [
        file_event(*EVIL, 1, "11", "File created", "evil.dll", r"C:\Windows\System32"),
        # stix-shifter's file_path quirk: the directory path holds the file name
        file_event(*EVIL, 2, "11", "File created", "x.sys", r"C:\Windows\SysWOW64\x.sys"),
        file_event(*EVIL, 3, "23", "File Delete archived", "log.txt", r"C:\Temp"),
        file_event(*EVIL, 4, "11", "File created", "evil.dll", r"C:\Windows\System32"),  # again
        # not writes: an image load, a process start naming another file, its own image
        file_event(*EVIL, 5, "7", "Image loaded", "kernel32.dll", r"C:\Windows\System32"),
        file_event(*EVIL, 6, "1", "Process Create", "other.exe", r"C:\Windows"),
        file_event(*EVIL, 7, "11", "File created", "evil.exe", r"C:\Users\Public"),
        # another source (ECS actions), a name without directory
        file_event(*EVIL, 8, None, "creation", "note.txt", None, source={"module": "endpoint"}),
        file_event(*EVIL, 9, None, "open", "read.txt", "/tmp", source={"module": "endpoint"}),
        file_event(*MSI, 10, "11", "File created", "update.dll", r"C:\Windows\System32"),
    ]
    obs += [net_event(*EVIL, 100 + i, f"198.51.100.{i}") for i in range(14)]
    obs += [net_event(*q, 200 + n, "192.0.2.1") for n, q in enumerate(QUIET) if n % 2]
    obs += [child_event(*EVIL, 400 + i, f"{{c0000000-0000-0000-0000-{i:012d}}}")
            for i in range(12)]
    obs += [child_event(*q, 500 + n, f"{{c1000000-0000-0000-0000-{n:012d}}}")
            for n, q in enumerate(QUIET) if n % 3 == 0]
    obs += [file_event(*q, 300 + n, "11", "File created", f"t{n}.tmp", r"C:\Temp")
            for n, q in enumerate(QUIET) if not n % 2]
    return obs


SEEN = '''
def seen(df):
    df["x_seen_conns"] = df["x_connection_count"]
    df["x_seen_kids"] = df["x_child_count"]
    df["x_seen_files"] = df["x_written_files"].map(" | ".join)
    return df
'''


@pytest.fixture
def s(make_session, tmp_path, monkeypatch):
    mod = tmp_path / "seen.py"
    mod.write_text(SEEN)
    profiles = tmp_path / "pythonanalytics.yaml"
    profiles.write_text(f"profiles:\n  seen:\n    module: {mod}\n    func: seen\n")
    monkeypatch.setenv("KESTREL_PYTHON_ANALYTICS_CONFIG", str(profiles))
    sess = make_session()
    uri = write(tmp_path / "b.json", bundle20(scenario()))
    sess.run(f'procs = GET process FROM "{uri}" WHERE pid > 0')
    return sess


def rows(s, text) -> list:
    return [d for d in s.run(text) if isinstance(d, Table)][-1].rows


def as_list(cell) -> list:
    """A list attribute as DISP shows it (JSON text, on every backend)."""
    return json.loads(cell) if cell is not None else []


def test_apply_gives_each_process_its_connections_and_written_files(s):
    s.run("APPLY python://seen ON procs")
    got = {r[0]: r[1:] for r in rows(s, "DISP procs ATTR name, x_seen_conns, x_seen_kids, "
                                        "x_seen_files")}
    assert got["evil.exe"] == [14, 12, r"C:\Windows\System32\evil.dll | C:\Windows\SysWOW64"
                                        r"\x.sys | C:\Temp\log.txt | note.txt"]
    assert got["msiexec.exe"] == [0, 0, r"C:\Windows\System32\update.dll"]
    assert got["tool1.exe"] == [1, 0, ""] and got["tool2.exe"] == [0, 0, r"C:\Temp\t2.tmp"]
    assert got["tool3.exe"] == [1, 1, ""] and got["conhost.exe"] == [0, 0, ""]
    # the counts are what FIND walks
    s.run("evil = procs WHERE name = 'evil.exe'\nnt = FIND network-traffic CREATED BY evil\n"
          "kids = FIND process CREATED BY evil")
    assert s.vars["nt"].entities == 14 and s.vars["kids"].entities == 12
    # the activity columns are inputs: returned unchanged, they are not stored
    assert {tuple(r[1:]) for r in rows(s, "DISP procs ATTR name, x_connection_count, "
                                          "x_child_count, x_written_files")} == {(None,) * 3}


def test_susp_scoring_fires_the_system_dir_and_connection_rules(s):
    s.run("APPLY python://susp_scoring ON procs")
    reasons = {r[0]: as_list(r[1])
               for r in rows(s, "DISP procs ATTR name, x_suspicious_reasons")}
    assert reasons["evil.exe"] == ["system_dir.write", "network.connection_outlier",
                                   "process.fork_outlier"]
    assert reasons["msiexec.exe"] == []  # installers write there
    assert all(reasons[q[0]] == [] for q in QUIET)


def test_a_stored_attribute_of_that_name_wins(s):
    s.run("APPLY python://seen ON procs")  # baseline
    sid = rows(s, "DISP procs ATTR id, name")
    evil = next(r[0] for r in sid if r[1] == "evil.exe")
    s.store.set_attributes({evil: {"x_connection_count": 99}})
    s.run("APPLY python://seen ON procs")
    got = {r[0]: r[1] for r in rows(s, "DISP procs ATTR name, x_seen_conns")}
    assert got["evil.exe"] == 99 and got["tool1.exe"] == 1


def test_explain_shows_the_activity_queries(s):
    (_, queries), = s.explain("APPLY python://susp_scoring ON procs")
    texts = [q.render() for q in queries]
    assert len(texts) == 3 and "x_child_count" in texts[1] and "x_written_files" in texts[2]
    (_, queries), = s.explain("ips = NEW ipv4-addr ['10.0.0.1']\nAPPLY python://pinip ON ips")[1:]
    assert len(queries) == 1  # not a process variable: no activity query


# -- which events are writes, and the paths (no store) ----------------------------------------

@pytest.mark.parametrize("event, write", [
    (FileEvent("11", "File created", SYSMON["module"], None, "a", None), True),
    (FileEvent("23", "File Delete archived", None, "Microsoft Sysmon", "a", None), True),
    (FileEvent("7", "Image loaded", SYSMON["module"], None, "a.dll", None), False),
    (FileEvent("1", "Process Create", SYSMON["module"], None, "a.exe", None), False),
    (FileEvent(None, "creation", "endpoint", None, "a", None), True),
    (FileEvent(None, "FileModified", "edr", None, "a", None), True),
    (FileEvent(None, "file_write", "edr", None, "a", None), True),
    (FileEvent(None, "open", "endpoint", None, "a", None), False),
    (FileEvent("4663", "An attempt was made to access an object", "WinEventLog:Security",
               "Microsoft Windows", "a", None), False),
    (FileEvent(None, None, None, None, "a", None), False),
])
def test_is_write(event, write):
    assert activity.is_write(event) is write


@pytest.mark.parametrize("name, directory, path", [
    ("a.dll", r"C:\Windows\System32", r"C:\Windows\System32\a.dll"),
    ("a.dll", "C:\\Windows\\System32\\", r"C:\Windows\System32\a.dll"),
    ("a.dll", r"C:\Windows\System32\A.DLL", r"C:\Windows\System32\A.DLL"),
    ("passwd", "/etc", "/etc/passwd"),
    ("a", None, "a"), (None, "/tmp", "/tmp"), (None, None, ""),
])
def test_file_path(name, directory, path):
    assert activity.file_path(name, directory) == path


def test_columns_keep_event_order_once_each():
    ev = lambda n, d="C:\\x": FileEvent("11", "File created", "Sysmon", None, n, d)  # noqa: E731
    act = ProcessActivity(3, 2, [ev("b"), ev("a"), ev("b"), ev(None, None)])
    assert activity.columns(act) == {"x_connection_count": 3, "x_child_count": 2,
                                     "x_written_files": [r"C:\x\b", r"C:\x\a"]}
    assert activity.columns(None) == {"x_connection_count": 0, "x_child_count": 0,
                                      "x_written_files": []}


# -- on the demo scenario, through stix-shifter and the Splunk emulator -----------------------

def test_demo_processes(tmp_path_factory):
    import stix_shifter_modules.splunk  # noqa: F401 - a dependency: fail loudly when missing

    from stixgraph.demo import caldera, run as demo_run
    from stixgraph.session import Session

    hunt = [p for p in demo_run.hunt_files() if p.name.startswith("05_")]
    with pytest.MonkeyPatch.context() as mp, demo_run.demo_splunk(caldera.DEFAULT_SIZE,
                                                                  caldera.DEFAULT_SEED):
        mp.setenv("STIXGRAPH_CONFIG", str(tmp_path_factory.mktemp("cfg") / "none.toml"))
        s = Session(":memory:", now=caldera.DEMO_NOW)
        try:
            list(s.iter_run(hunt[0].read_text(encoding="utf-8"), "05.hf"))
            acts = s.store.process_activity("procs")
            table = [d for d in s.iter_run("DISP procs ATTR id, name, x_suspicious_reasons",
                                           "d.hf") if isinstance(d, Table)][-1]
            top = max(acts, key=lambda k: acts[k].connections)
            s.run(f"top = GET process FROM procs WHERE id = '{top}'\n"
                  "nt = FIND network-traffic CREATED BY top")
            found = s.vars["nt"].entities
        finally:
            s.store.close()
    assert acts[top].connections == found > 100
    names = {r[0]: r[1] for r in table.rows}
    written = {names[k]: activity.columns(a)["x_written_files"] for k, a in acts.items()
               if activity.columns(a)["x_written_files"]}
    # stix-shifter's splunk module does not select file_path: names only
    assert written["7z.exe"] == ["StagedFiles.7z"] and written["msiexec.exe"] == ["splunkd.exe"]
    outliers = {r[1] for r in table.rows if "network.connection_outlier" in as_list(r[2])}
    assert names[top] in outliers and not outliers & {"whoami.exe", "net.exe", "cmd.exe"}


def test_splunk_profile_selecting_file_path_and_parent_guid():
    """A splunk profile whose options add ``file_path`` and ``parent_process_guid`` to
    stix-shifter's select_fields gets each written file's directory (stix-shifter puts the
    whole path in ``directory.path``) and parents that are the processes themselves, so
    children are counted."""
    from stix_shifter.stix_translation.stix_translation import StixTranslation

    from stixgraph.demo import caldera, run as demo_run
    from stixgraph.session import Session

    fields = StixTranslation().translate("splunk", "mapping", None, None, {})["select_fields"]
    added = ["file_path", "parent_process_guid"]
    assert not set(added) & set(fields["default"])  # else the notes on defaults are stale
    fields = {k: [*v, *added] if k == "default" else v for k, v in fields.items()}
    options = {"result_limit": 10_000_000, "mapping": {"select_fields": fields}}
    with demo_run.demo_splunk(caldera.DEFAULT_SIZE, caldera.DEFAULT_SEED) as emu, \
            demo_run.splunk_profile(emu, "paths", options):
        s = Session(":memory:", now=caldera.DEMO_NOW)
        try:
            s.run("p = GET process FROM stixshifter://paths "
                  "WHERE name = '7z.exe' OR name = 'msiexec.exe' LAST 30 DAYS\n"
                  "par = FIND process CREATED p\nkids = FIND process CREATED BY par")
            written = sorted(f for a in s.store.process_activity("p").values()
                             for f in activity.columns(a)["x_written_files"])
            parents = s.store.process_activity("par")
            kids = s.vars["kids"].entities
            cmds = [r[0] for r in rows(s, "DISP par ATTR command_line")]
        finally:
            s.store.close()
    assert written == [r"C:\Program Files\SplunkUniversalForwarder\bin\splunkd.exe",
                       caldera.STAGE + r"\StagedFiles.7z"]
    # the parents are whole processes (command lines from their own creation events)
    assert any("StagedFiles.7z" in (c or "") for c in cmds)
    assert sum(a.children for a in parents.values()) == kids >= 2
