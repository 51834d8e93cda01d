"""Windows Sysmon / Security events -> the Splunk rows stix-shifter's ``splunk`` module reads.

A forwarder with ``renderXml = true`` sends each event as XML (sourcetype ``XmlWinEventLog``,
source ``XmlWinEventLog:<channel>``); at search time the Splunk Add-on for Sysmon (and, for the
Security channel, the Windows add-on) extract the raw ``<Data Name=...>`` fields and add the
CIM aliases and evals.  :func:`sysmon_to_cim` does the same for one *flat* event (the OTRF
"Mordor" shape, or an EVTX record flattened by :func:`iter_evtx`) and returns the row as
Splunk's JSON results API returns it: every value a string (multi-value fields a list of
strings), plus ``_time``, ``_raw``, ``_sourcetype``, ``host``, ``source``, ``sourcetype`` and
``index``.

CIM fields produced (the ones stix-shifter's ``to_stix_map.json`` maps are marked *):

==============  ===============================================================================
every event     ``_time``* ``_raw``* ``_sourcetype``* ``source``* ``host``* ``sourcetype``
                ``index`` ``EventCode``/``EventID`` ``signature_id``* (= EventCode)
                ``signature``* (the event's title) ``action``* (``allowed`` for Sysmon,
                ``success``/``failure`` for Security) ``vendor_product``* ``dest``* ``dvc``
                ``user``* (``User`` without its domain, as the seed's Splunk showed it)
                ``user_domain``
Sysmon 1        ``process``* (CommandLine) ``process_id``* ``process_guid``* ``process_path``*
                ``process_name``* ``process_exec``* ``process_hash``* (Hashes)
                ``original_file_name``* ``process_current_directory``* ``parent_process``*
                ``parent_process_id``* ``parent_process_guid`` ``parent_process_path``
                ``parent_process_name``* ``parent_process_exec``*
Sysmon 3        the process fields + ``src_ip``* ``src_port``* ``dest_ip``* ``dest_port``*
                ``transport``* (Protocol) ``protocol``* (``ip``) ``direction``*
                (Initiated: outbound/inbound) ``src``/``dest`` (host name, else the address)
Sysmon 5        the process fields
Sysmon 11       the process fields + ``file_path``* ``file_name``* ``file_create_time``*
Sysmon 12/13/14 the process fields + ``registry_path``* ``registry_key_name``* (the full key,
                as stix-shifter's ``windows-registry-key.key`` wants it) ``registry_hive``*
                ``registry_value_name``* ``registry_value_data``* (Details) ``object_category``
Sysmon 22       the process fields + ``query``* ``answer``* (addresses of QueryResults,
                ``::ffff:`` stripped; a list when several) ``reply_code_id``* (QueryStatus)
Security 4688   ``process``* (CommandLine, XML entities undone) ``process_id``* (NewProcessId,
                hex -> decimal) ``process_path``/``process_name``* (NewProcessName)
                ``parent_process_id``* (ProcessId) ``parent_process_path``/``_name``*
                ``user`` (SubjectUserName)
Security 4624/  ``user``* (TargetUserName; MemberName for 4732) ``process_id``* ``process_name``*
4634/4720/4732/ ``process_path`` (ProcessId/ProcessName of the caller) ``src_ip``/``src_port``
4798            (IpAddress/IpPort of a logon) ``LogonType``
==============  ===============================================================================

The raw Sysmon / Security names (``Image``, ``CommandLine``, ``ProcessId``, ...) stay in the
row too, as Splunk's automatic XML extraction leaves them.

Time: ``_time`` is the Sysmon ``UtcTime`` (Sysmon's own UTC clock) when there is one, else the
System ``TimeCreated``, else ``@timestamp``.  Some OTRF events disagree by hours between
``UtcTime`` and ``@timestamp``/``TimeCreated`` (their collection pipeline re-stamped them);
``UtcTime`` wins.  ``_raw`` keeps the event's own ``TimeCreated``.

OTRF quirks handled: ``EventID`` as int or string, ``Channel`` in any case (``security``),
Security ``ProcessId``/``NewProcessId`` in hex, 4688 ``CommandLine`` XML-escaped (``&gt;``),
``__MACOSX/`` entries in zips, verbose ``Message`` (dropped).
"""
from __future__ import annotations

import gzip
import html
import io
import itertools
import json
import os
import re
import zipfile
from datetime import datetime, timezone
from typing import IO, Iterable, Iterator

SYSMON_CHANNEL = "Microsoft-Windows-Sysmon/Operational"
SECURITY_CHANNEL = "Security"
SYSMON_SOURCE = "XmlWinEventLog:" + SYSMON_CHANNEL
SECURITY_SOURCE = "XmlWinEventLog:" + SECURITY_CHANNEL
SOURCETYPE = "XmlWinEventLog"
SYSMON_PROVIDER = ("Microsoft-Windows-Sysmon", "{5770385f-c22a-43e0-bf4c-06f5698ffbd9}")
SECURITY_PROVIDER = ("Microsoft-Windows-Security-Auditing", "{54849625-5478-4994-a5ba-3e3b0328c30d}")

#: Sysmon event titles (the add-on's ``signature``).
SYSMON_SIGNATURES = {
    1: "Process Create",
    3: "Network connection detected",
    5: "Process terminated",
    11: "File created",
    12: "Registry object added or deleted",
    13: "Registry value set",
    14: "Registry object renamed",
    22: "Dns query",
}
#: Security events covered, with their titles.
SECURITY_SIGNATURES = {
    4624: "An account was successfully logged on",
    4634: "An account was logged off",
    4688: "A new process has been created",
    4720: "A user account was created",
    4732: "A member was added to a security-enabled local group",
    4798: "A user's local group membership was enumerated.",
}
_FRACTION = re.compile(r"\.(\d+)")
_HIVES = {"HKLM": "HKEY_LOCAL_MACHINE", "HKU": "HKEY_USERS", "HKCU": "HKEY_CURRENT_USER",
          "HKCR": "HKEY_CLASSES_ROOT", "HKCC": "HKEY_CURRENT_CONFIG"}

# Flat fields that belong to the XML <System> block (or to the OTRF/collector envelope) and are
# not <EventData>.
_SYSTEM_KEYS = frozenset({
    "SourceName", "ProviderGuid", "Provider", "Level", "Keywords", "Channel", "Hostname",
    "Computer", "TimeCreated", "@timestamp", "EventID", "Task", "Opcode", "Version",
    "EventRecordID", "RecordNumber", "ExecutionProcessID", "ExecutionThreadID", "UserID",
    "Correlation", "ActivityID", "RelatedActivityID", "Message", "EventType_", "@version",
    "EventTime", "EventReceivedTime", "SourceModuleName", "SourceModuleType", "Severity",
    "SeverityValue", "Category", "Qualifiers", "OpcodeValue", "tags", "host", "port",
    "EventTypeOrignal", "AccountName", "AccountType", "Domain", "ThreadID", "ProcessID",
})
# Collector-envelope fields that Splunk's XML extraction would not show (the event's time,
# host and provider are in _time, host/Computer and source).
_ENVELOPE_ONLY = frozenset({"Message", "@version", "@timestamp", "EventReceivedTime",
                            "SourceModuleName", "SourceModuleType", "tags", "host", "port",
                            "EventTime", "Category", "Severity", "SeverityValue", "OpcodeValue",
                            "EventTypeOrignal", "Hostname", "SourceName", "ProviderGuid",
                            "TimeCreated", "RecordNumber", "ExecutionProcessID",
                            "ExecutionThreadID", "UserID", "index", "source", "sourcetype"})


def _s(v) -> str:
    return v if isinstance(v, str) else str(v)


def _present(v) -> bool:
    return v is not None and v != ""


def _basename(path: str) -> str:
    """The file name of a Windows path (``\\`` or ``/`` separated)."""
    return path.replace("/", "\\").rsplit("\\", 1)[-1] if path else path


def _dec(v) -> str | None:
    """A Windows id as Splunk's add-ons show it: hex ``0x1a2c`` -> ``6700``."""
    if v is None or v == "":
        return None
    s = _s(v).strip()
    try:
        return str(int(s, 16)) if s[:2].lower() == "0x" else str(int(s))
    except ValueError:
        return s


def _strip_domain(u: str) -> str:
    return u.rsplit("\\", 1)[-1] if "\\" in u else u


def _event_id(ev: dict) -> int | None:
    v = ev.get("EventID", ev.get("EventCode"))
    if isinstance(v, dict):  # EVTX with Qualifiers
        v = v.get("#text")
    try:
        return int(v)
    except (TypeError, ValueError):
        return None


def _splunk_time(s) -> str | None:
    """``2024-12-12 16:43:24.123`` / ``...T...Z`` / ``...+02:00`` -> ``...T...mmm+00:00`` (UTC)."""
    if not s:
        return None
    t = _s(s).strip()
    if len(t) == 23 and t[10] == " " and t[19] == "." and t[:4].isdigit():  # Sysmon UtcTime
        return f"{t[:10]}T{t[11:]}+00:00"
    if t.endswith(" UTC"):
        t = t[:-4]
    t = t.replace(" ", "T", 1)
    if t.endswith(("Z", "z")):
        t = t[:-1] + "+00:00"
    m = _FRACTION.search(t)
    if m:  # fromisoformat (3.11) wants at most 6 fraction digits
        t = t[:m.start()] + "." + m.group(1)[:6].ljust(6, "0") + t[m.end():]
    try:
        d = datetime.fromisoformat(t)
    except ValueError:
        return None
    if d.tzinfo is None:
        d = d.replace(tzinfo=timezone.utc)
    elif d.utcoffset():
        d = d.astimezone(timezone.utc)
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + f"{d.microsecond // 1000:03d}+00:00"


def _xml_text(v: str) -> str:
    return v.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _xml_attr(v: str) -> str:
    return _xml_text(v).replace("'", "&apos;")


def render_xml(ev: dict, channel: str, eid: int) -> str:
    """The event as a forwarder with ``renderXml = true`` sends it (``_raw``)."""
    sysmon = channel == SYSMON_CHANNEL
    pname, pguid = SYSMON_PROVIDER if sysmon else SECURITY_PROVIDER
    pname = _s(ev.get("SourceName") or pname)
    pguid = _s(ev.get("ProviderGuid") or pguid)
    parts = ["<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System>",
             f"<Provider Name='{_xml_attr(pname)}' Guid='{_xml_attr(pguid)}'/>",
             f"<EventID>{eid}</EventID>"]
    for k in ("Version", "Level", "Task", "Opcode", "Keywords"):
        if _present(ev.get(k)):
            parts.append(f"<{k}>{_xml_text(_s(ev[k]))}</{k}>")
    tc = ev.get("TimeCreated") or ev.get("@timestamp")
    if tc:
        parts.append(f"<TimeCreated SystemTime='{_xml_attr(_s(tc))}'/>")
    rec = ev.get("EventRecordID", ev.get("RecordNumber"))
    if _present(rec):
        parts.append(f"<EventRecordID>{_xml_text(_s(rec))}</EventRecordID>")
    if _present(ev.get("ExecutionProcessID")):
        parts.append(f"<Execution ProcessID='{_xml_attr(_s(ev['ExecutionProcessID']))}' "
                     f"ThreadID='{_xml_attr(_s(ev.get('ExecutionThreadID', '0')))}'/>")
    parts.append(f"<Channel>{_xml_text(channel)}</Channel>")
    computer = ev.get("Computer") or ev.get("Hostname") or ""
    parts.append(f"<Computer>{_xml_text(_s(computer))}</Computer>")
    if _present(ev.get("UserID")):
        parts.append(f"<Security UserID='{_xml_attr(_s(ev['UserID']))}'/>")
    else:
        parts.append("<Security/>")
    parts.append("</System><EventData>")
    for k, v in ev.items():
        if k in _SYSTEM_KEYS or v is None or isinstance(v, (dict, list)):
            continue
        parts.append(f"<Data Name='{_xml_attr(k)}'>{_xml_text(_s(v))}</Data>")
    parts.append("</EventData></Event>")
    return "".join(parts)


def _channel(ev: dict) -> str | None:
    c = ev.get("Channel")
    if isinstance(c, str):
        low = c.lower()
        if low == SYSMON_CHANNEL.lower():
            return SYSMON_CHANNEL
        if low == "security":
            return SECURITY_CHANNEL
        return None
    src = _s(ev.get("SourceName") or "")
    if src == SYSMON_PROVIDER[0]:
        return SYSMON_CHANNEL
    if src == SECURITY_PROVIDER[0]:
        return SECURITY_CHANNEL
    return None


def _process_fields(row: dict, ev: dict) -> None:
    image = ev.get("Image")
    if _present(ev.get("ProcessId")):
        row["process_id"] = _dec(ev["ProcessId"])
    if _present(ev.get("ProcessGuid")):
        row["process_guid"] = _s(ev["ProcessGuid"])
    if _present(image):
        image = _s(image)
        row["process_path"] = image
        row["process_name"] = row["process_exec"] = _basename(image)
    user = ev.get("User")
    if _present(user):
        _user(row, _s(user))


def _user(row: dict, user: str) -> None:
    if user in ("-", ""):
        return
    row["user"] = _strip_domain(user)
    if "\\" in user:
        row["user_domain"] = user.rsplit("\\", 1)[0]


def _sysmon(row: dict, ev: dict, eid: int) -> None:
    _process_fields(row, ev)
    if eid == 1:
        if _present(ev.get("CommandLine")):
            row["process"] = _s(ev["CommandLine"])
        if _present(ev.get("Hashes")):
            row["process_hash"] = _s(ev["Hashes"])
        if _present(ev.get("OriginalFileName")) and ev["OriginalFileName"] != "-":
            row["original_file_name"] = _s(ev["OriginalFileName"])
        if _present(ev.get("CurrentDirectory")):
            row["process_current_directory"] = _s(ev["CurrentDirectory"])
        if _present(ev.get("IntegrityLevel")):
            row["process_integrity_level"] = _s(ev["IntegrityLevel"]).lower()
        if _present(ev.get("ParentCommandLine")):
            row["parent_process"] = _s(ev["ParentCommandLine"])
        if _present(ev.get("ParentProcessId")):
            row["parent_process_id"] = _dec(ev["ParentProcessId"])
        if _present(ev.get("ParentProcessGuid")):
            row["parent_process_guid"] = _s(ev["ParentProcessGuid"])
        pimage = ev.get("ParentImage")
        if _present(pimage):
            pimage = _s(pimage)
            row["parent_process_path"] = pimage
            row["parent_process_name"] = row["parent_process_exec"] = (
                _basename(pimage) if pimage != "-" else pimage)
    elif eid == 3:
        src, dst = ev.get("SourceIp"), ev.get("DestinationIp")
        if _present(src):
            row["src_ip"] = _s(src)
        if _present(ev.get("SourcePort")):
            row["src_port"] = _s(ev["SourcePort"])
        if _present(dst):
            row["dest_ip"] = _s(dst)
        if _present(ev.get("DestinationPort")):
            row["dest_port"] = _s(ev["DestinationPort"])
        if _present(ev.get("Protocol")):
            row["transport"] = _s(ev["Protocol"]).lower()
        row["protocol"] = "ip"
        init = _s(ev.get("Initiated", "")).lower()
        if init in ("true", "false"):
            row["direction"] = "outbound" if init == "true" else "inbound"
        sh, dh = ev.get("SourceHostname"), ev.get("DestinationHostname")
        row["src"] = _s(sh) if _present(sh) and sh != "-" else row.get("src_ip", "")
        row["dest"] = _s(dh) if _present(dh) and dh != "-" else row.get("dest_ip", row["dest"])
        if not row["src"]:
            del row["src"]
    elif eid == 11:
        path = ev.get("TargetFilename")
        if _present(path):
            path = _s(path)
            row["file_path"] = path
            row["file_name"] = _basename(path)
        if _present(ev.get("CreationUtcTime")):
            row["file_create_time"] = _s(ev["CreationUtcTime"])
        row["object_category"] = "file"
    elif eid in (12, 13, 14):
        key = ev.get("TargetObject")
        if _present(key):
            key = _s(key)
            row["registry_path"] = key
            row["registry_key_name"] = key
            hive = key.split("\\", 1)[0]
            row["registry_hive"] = _HIVES.get(hive.upper(), hive)
            name = key.rsplit("\\", 1)[-1]
            if eid != 12 and name:
                row["registry_value_name"] = name
        if eid == 13 and _present(ev.get("Details")):
            row["registry_value_data"] = _s(ev["Details"])
        if eid == 14 and _present(ev.get("NewName")):
            row["registry_value_text"] = _s(ev["NewName"])
        row["object_category"] = "registry"
    elif eid == 22:
        if _present(ev.get("QueryName")):
            row["query"] = _s(ev["QueryName"])
        answers = []
        for a in _s(ev.get("QueryResults") or "").split(";"):
            a = a.strip()
            if not a or a.startswith("type:") or a == "-":
                continue
            if a.lower().startswith("::ffff:"):
                a = a[7:]
            answers.append(a)
        if answers:
            row["answer"] = answers if len(answers) > 1 else answers[0]
        if _present(ev.get("QueryStatus")):
            row["reply_code_id"] = _s(ev["QueryStatus"])


def _security(row: dict, ev: dict, eid: int) -> None:
    if eid == 4688:
        cmd = ev.get("CommandLine")
        if _present(cmd):
            row["process"] = html.unescape(_s(cmd))
        if _present(ev.get("NewProcessId")):
            row["process_id"] = _dec(ev["NewProcessId"])
        new = ev.get("NewProcessName")
        if _present(new):
            row["process_path"] = _s(new)
            row["process_name"] = row["process_exec"] = _basename(_s(new))
        if _present(ev.get("ProcessId")):
            row["parent_process_id"] = _dec(ev["ProcessId"])
        parent = ev.get("ParentProcessName")
        if _present(parent):
            row["parent_process_path"] = _s(parent)
            row["parent_process_name"] = row["parent_process_exec"] = _basename(_s(parent))
        subj = ev.get("SubjectUserName")
        target = ev.get("TargetUserName")
        # the new process runs as the target account when there is one, else the subject's
        who = target if _present(target) and target != "-" else subj
        if _present(who):
            _user(row, _s(who))
        return
    if eid == 4732:
        member = ev.get("MemberName")
        if _present(member) and member != "-":
            m = _s(member)
            if m.upper().startswith("CN="):  # a distinguished name
                m = m[3:].split(",", 1)[0]
            _user(row, m)
        if _present(ev.get("TargetUserName")):
            row["user_group"] = _s(ev["TargetUserName"])
    else:
        target = ev.get("TargetUserName")
        if _present(target):
            _user(row, _s(target))
    if _present(ev.get("ProcessId")) and _dec(ev["ProcessId"]) != "0":
        row["process_id"] = _dec(ev["ProcessId"])
    pname = ev.get("ProcessName")
    if _present(pname) and pname != "-":
        row["process_path"] = _s(pname)
        row["process_name"] = row["process_exec"] = _basename(_s(pname))
    ip = ev.get("IpAddress")
    if _present(ip) and ip not in ("-", "::1", "127.0.0.1"):
        row["src_ip"] = _s(ip)
        if _present(ev.get("IpPort")) and ev["IpPort"] not in ("-", "0"):
            row["src_port"] = _s(ev["IpPort"])
    if _present(ev.get("SubjectUserName")) and ev["SubjectUserName"] != "-":
        row["src_user"] = _s(ev["SubjectUserName"])


def sysmon_to_cim(event: dict, *, index: str = "main", raw: str | None = None) -> dict | None:
    """One flat Windows event -> the row Splunk returns for it (with the Sysmon/Windows add-ons'
    CIM fields), or None for events not covered (other channels and event ids).  ``raw``: the
    event XML when the caller has it (else it is rendered from the event)."""
    channel = _channel(event)
    if channel is None:
        return None
    eid = _event_id(event)
    if eid is None:
        return None
    sysmon = channel == SYSMON_CHANNEL
    title = (SYSMON_SIGNATURES if sysmon else SECURITY_SIGNATURES).get(eid)
    if title is None:
        return None
    t = None
    if sysmon and event.get("UtcTime"):
        t = _splunk_time(event["UtcTime"])
    if t is None:
        t = _splunk_time(event.get("TimeCreated") or event.get("@timestamp") or "")
    if t is None:
        return None
    computer = _s(event.get("Computer") or event.get("Hostname") or "")
    source = SYSMON_SOURCE if sysmon else SECURITY_SOURCE
    row: dict = {"_time": t, "_raw": raw if raw is not None else render_xml(event, channel, eid), "_sourcetype": SOURCETYPE,
                 "sourcetype": SOURCETYPE, "source": source, "host": computer, "index": index}
    # the raw fields, as Splunk's XML extraction leaves them
    for k, v in event.items():
        if k in _ENVELOPE_ONLY or v is None or k in row:
            continue
        if isinstance(v, (dict, list)):
            continue
        row[k] = _s(v)
    row["Channel"] = channel
    row["Computer"] = computer
    tc = event.get("TimeCreated")
    if tc:
        row["SystemTime"] = _s(tc)
    if _present(event.get("ExecutionProcessID")):  # <Execution ProcessID= ThreadID=>
        row["ProcessID"] = _s(event["ExecutionProcessID"])
        row["ThreadID"] = _s(event.get("ExecutionThreadID", ""))
    if _present(event.get("UserID")):
        row["UserID"] = _s(event["UserID"])
    row["EventCode"] = row["EventID"] = str(eid)
    row["signature_id"] = str(eid)
    row["signature"] = title
    row["dest"] = computer
    row["dvc"] = computer
    if sysmon:
        row["vendor_product"] = "Microsoft Sysmon"
        row["action"] = "allowed"
        _sysmon(row, event, eid)
    else:
        row["vendor_product"] = "Microsoft Windows"
        kw = _s(event.get("Keywords") or "")
        row["action"] = "failure" if kw.lower().startswith("0x8010") else "success"
        _security(row, event, eid)
    return row


# ---------------------------------------------------------------------------------------------
# Readers


def iter_otrf_zip(path) -> Iterator[dict]:
    """The raw flat events of an OTRF zip (JSON Lines inside), streamed; ``__MACOSX/`` and
    non-JSON members are skipped."""
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            base = name.rsplit("/", 1)[-1]
            if name.startswith("__MACOSX/") or "/__MACOSX/" in name or base.startswith("._"):
                continue
            if name.endswith("/") or not base.lower().endswith((".json", ".jsonl", ".log")):
                continue
            with z.open(name) as f:
                yield from _iter_json_lines(f)


def _iter_json_lines(f: IO[bytes]) -> Iterator[dict]:
    for line in f:
        line = line.strip()
        if not line:
            continue
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if isinstance(obj, dict):
            yield obj


def _attrs(v) -> dict:
    return v.get("#attributes", {}) if isinstance(v, dict) else {}


def flatten_evtx_record(rec: dict) -> dict:
    """An ``evtx`` JSON record (``{"Event": {"System": ..., "EventData": ...}}``) -> the flat
    shape (System fields + EventData at top level; ints stay ints)."""
    e = rec.get("Event", rec)
    sys_ = e.get("System") or {}
    out: dict = {}
    prov = _attrs(sys_.get("Provider"))
    if prov.get("Name"):
        out["SourceName"] = prov["Name"]
    if prov.get("Guid"):
        g = prov["Guid"]
        out["ProviderGuid"] = g if g.startswith("{") else "{" + g.lower() + "}"
    eid = sys_.get("EventID")
    if isinstance(eid, dict):
        eid = eid.get("#text")
    out["EventID"] = eid
    for k in ("Version", "Level", "Task", "Opcode", "Keywords", "EventRecordID", "Channel",
              "Computer"):
        if sys_.get(k) is not None:
            out[k] = sys_[k]
    if out.get("Computer") is not None:
        out["Hostname"] = out["Computer"]
    tc = _attrs(sys_.get("TimeCreated")).get("SystemTime")
    if tc:
        out["TimeCreated"] = tc
    ex = _attrs(sys_.get("Execution"))
    if ex:
        out["ExecutionProcessID"] = ex.get("ProcessID")
        out["ExecutionThreadID"] = ex.get("ThreadID")
    sec = _attrs(sys_.get("Security"))
    if sec.get("UserID"):
        out["UserID"] = sec["UserID"]
    data = e.get("EventData") or e.get("UserData") or {}
    if isinstance(data, dict):
        for k, v in data.items():
            if k == "#attributes":
                continue
            if isinstance(v, dict) and "#text" in v:
                v = v["#text"]
            if k not in out:
                out[k] = v
            else:
                out["EventData_" + k] = v
    return out


def iter_evtx(path) -> Iterator[dict]:
    """The events of an ``.evtx`` file (PyPI ``evtx``), flattened (:func:`flatten_evtx_record`)."""
    from evtx import PyEvtxParser

    parser = PyEvtxParser(os.fspath(path))
    for rec in parser.records_json():
        try:
            data = json.loads(rec["data"])
        except (KeyError, ValueError):
            continue
        yield flatten_evtx_record(data)


def _open_text(path) -> IO[bytes]:
    p = os.fspath(path)
    if p.endswith(".gz"):
        return gzip.open(p, "rb")
    return open(p, "rb")


def _iter_json_file(path) -> Iterator[dict]:
    with _open_text(path) as f:
        first = b""
        for first in f:
            if first.strip():
                break
        if first.lstrip().startswith(b"["):  # one JSON array of events
            for obj in json.loads(first + f.read()):
                if isinstance(obj, dict):
                    yield obj
            return
        yield from _iter_json_lines(itertools.chain([first], f))


def iter_events(paths) -> Iterator[dict]:
    """Raw flat events from any mix of OTRF ``.zip``, ``.evtx`` and ``.json``/``.jsonl``
    (optionally ``.gz``) files."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    for p in paths:
        name = os.fspath(p).lower()
        if name.endswith(".zip"):
            yield from iter_otrf_zip(p)
        elif name.endswith(".evtx"):
            yield from iter_evtx(p)
        elif name.endswith((".json", ".jsonl", ".json.gz", ".jsonl.gz", ".ndjson", ".ndjson.gz")):
            yield from _iter_json_file(p)
        else:
            raise ValueError(f"unsupported event file (want .zip, .evtx, .json[l][.gz]): {p}")


def iter_cim_rows(paths, *, index: str = "main") -> Iterator[dict]:
    """CIM rows for every covered event of ``paths`` (see :func:`iter_events`)."""
    for ev in iter_events(paths):
        row = sysmon_to_cim(ev, index=index)
        if row is not None:
            yield row


def write_jsonl(rows: Iterable[dict], out) -> int:
    """Write ``rows`` as JSON Lines to ``out`` (a path, ``.gz`` compressed, or a binary/text
    file); returns the number of rows."""
    try:
        import orjson

        def dump(r) -> bytes:
            return orjson.dumps(r)
    except ImportError:  # pragma: no cover
        def dump(r) -> bytes:
            return json.dumps(r, ensure_ascii=False, separators=(",", ":")).encode()

    def run(f, binary: bool) -> int:
        n = 0
        for r in rows:
            b = dump(r) + b"\n"
            f.write(b if binary else b.decode())
            n += 1
        return n

    if hasattr(out, "write"):
        return run(out, not isinstance(out, io.TextIOBase))
    p = os.fspath(out)
    opener = gzip.open if p.endswith(".gz") else open
    with opener(p, "wb") as f:
        return run(f, True)


def main(argv: list[str] | None = None) -> int:
    import argparse
    import sys
    import time

    ap = argparse.ArgumentParser(prog="python -m stixgraph.splunk.cim",
                                 description="Sysmon/Security events -> Splunk CIM rows (JSON Lines)")
    ap.add_argument("inputs", nargs="+", help=".zip (OTRF), .evtx, .json/.jsonl[.gz]")
    ap.add_argument("-o", "--out", required=True, help="output .jsonl[.gz]")
    ap.add_argument("--index", default="main")
    a = ap.parse_args(argv)
    t0 = time.perf_counter()
    n = write_jsonl(iter_cim_rows(a.inputs, index=a.index), a.out)
    print(f"{a.out}: {n} rows in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
