"""Small STIX bundles written by tests (never copied from elsewhere)."""
from __future__ import annotations

import json
import uuid
from pathlib import Path


def observed(objects: dict, t: str = "2024-12-12T16:43:24.000Z", n: int = 1, oid=None) -> dict:
    """A STIX 2.0 observed-data with embedded objects (index refs)."""
    return {"type": "observed-data", "id": oid or f"observed-data--{uuid.uuid4()}",
            "created": t, "modified": t, "first_observed": t, "last_observed": t,
            "number_observed": n, "objects": objects}


def bundle20(observations: list[dict]) -> dict:
    return {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "spec_version": "2.0",
            "objects": observations}


def write(path: Path, data) -> str:
    path.write_text(json.dumps(data))
    return "file://" + str(path)


def proc_obs(pid, name, cmd, *, t="2024-12-12T16:43:24.000Z", host="WindowsTarget", guid=None,
             user="inf808", parent=None, dst=None, dst_port=443):
    """One Sysmon-like observation: a process (with binary, user, host and optional parent
    process and outbound connection)."""
    objs = {
        "0": {"type": "x-oca-asset", "hostname": host},
        "1": {"type": "user-account", "user_id": user},
        "2": {"type": "file", "name": name},
        "3": {"type": "process", "pid": pid, "name": name, "command_line": cmd, "created": t,
              "binary_ref": "2", "creator_user_ref": "1",
              "x_unique_id": guid or f"{{{uuid.uuid5(uuid.NAMESPACE_OID, f'{host}{pid}{t}')}}}"},
    }
    if parent:
        ppid, pname, pguid = parent
        objs["4"] = {"type": "process", "pid": ppid, "name": pname, "x_unique_id": pguid}
        objs["3"]["parent_ref"] = "4"
    if dst:
        objs["5"] = {"type": "ipv4-addr", "value": "10.0.0.5"}
        objs["6"] = {"type": "ipv4-addr", "value": dst}
        objs["7"] = {"type": "network-traffic", "src_ref": "5", "dst_ref": "6", "src_port": 50000 + pid % 10000,
                     "dst_port": dst_port, "protocols": ["ip", "tcp"]}
        objs["3"]["opened_connection_refs"] = ["7"]
    return observed(objs, t)
