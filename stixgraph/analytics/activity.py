"""What processes did, from the graph: the columns APPLY adds to a process variable's frame.

A process variable's rows say what each process *is* (name, command line, parent...).  Rules
such as susp_scoring's "writes into a system directory" and "opens far more connections than
the others" need what it *did*, which lives in other objects of the graph.  Before an analytic
runs, :func:`add_columns` gives every process row:

``x_connection_count``
    how many network-traffic objects the process CREATED: what ``FIND network-traffic
    CREATED BY procs`` returns for it (``opened_connection_refs``), over everything stored.
``x_child_count``
    how many processes it CREATED: what ``FIND process CREATED BY procs`` returns for it
    (the processes whose ``parent_ref`` it is).  A parent known only by pid and name is a
    process object of its own, not this one: stix-shifter's splunk module selects no
    ``parent_process_guid`` by default, so on that data the count is 0 until a profile adds
    it (``options.mapping.select_fields``).
``x_written_files``
    the paths of the files it created, changed or deleted, in event order, each once: the
    file (``file_ref``) of each event (``x-oca-event``) that names the process
    (``process_ref``) and is a file write (:func:`is_write`).  The path is the file's
    directory (``parent_directory_ref.path``) and name; only the name when the data has no
    directory (stix-shifter's splunk module does not select Splunk's ``file_path`` by
    default, so Sysmon 11 files come with their names only).

Each is 0 / empty for a process with no such objects.  A row that already has a value of
that name (an attribute stored on the entity) keeps it.  The columns are inputs: an analytic
that returns them unchanged writes nothing back (:func:`stixgraph.analytics.runner.updates_of`
compares with these rows).  Both backends compute them with the same two queries, the
counts and the file events (:meth:`stixgraph.store.base.GraphStore.process_activity`;
``stixgraph explain`` shows them under APPLY).
"""
from __future__ import annotations

import re

from ..store.base import FileEvent, ProcessActivity

CONNECTIONS = "x_connection_count"
CHILDREN = "x_child_count"
WRITTEN_FILES = "x_written_files"

#: Sysmon event ids whose file (TargetFilename) the process wrote, changed or deleted
SYSMON_FILE_WRITES = {
    "2": "a file's creation time changed",
    "11": "FileCreate",
    "15": "FileCreateStreamHash (an alternate data stream)",
    "23": "FileDelete (archived)",
    "26": "FileDeleteDetected",
    "29": "FileExecutableDetected",
}
#: other sources: the event's action says a file was written (Sysmon's own titles, ECS's
#: file event actions ``creation``, ``modification``, ``deletion``, ``rename``, ``overwrite``)
WRITE_ACTION = re.compile(
    r"\bfile[\s_-]*(creat|writ|modif|renam|delet|overwr)|^\s*(creat(e|ed|ion)|writ(e|ten)|"
    r"modif(y|ied|ication)|renam(e|ed)|delet(e|ed|ion)|overwrit(e|ten))\s*$", re.IGNORECASE)


def is_write(event: FileEvent) -> bool:
    """Whether the process wrote, changed or deleted the event's file (an image load, a read
    or a process start naming another file is not a write)."""
    source = f"{event.module or ''} {event.provider or ''}".casefold()
    if "sysmon" in source and event.code is not None:
        return event.code.strip() in SYSMON_FILE_WRITES
    return bool(event.action and WRITE_ACTION.search(event.action))


def file_path(name: str | None, directory: str | None) -> str:
    """``directory`` + separator + ``name``; a directory that already ends with the name is
    the path (stix-shifter's splunk mapping puts ``file_path``, file name included, in
    ``directory.path``)."""
    name = (name or "").strip()
    d = (directory or "").rstrip("\\/")
    if not d:
        return name
    if not name:
        return d
    folded, tail = d.casefold(), name.casefold()
    if folded.endswith("\\" + tail) or folded.endswith("/" + tail):
        return d
    sep = "/" if "/" in d and "\\" not in d else "\\"
    return d + sep + name


def columns(activity: ProcessActivity | None) -> dict:
    """The three columns for one process."""
    if activity is None:
        return {CONNECTIONS: 0, CHILDREN: 0, WRITTEN_FILES: []}
    paths = dict.fromkeys(file_path(e.name, e.directory) for e in activity.file_events
                          if is_write(e))
    paths.pop("", None)
    return {CONNECTIONS: activity.connections, CHILDREN: activity.children,
            WRITTEN_FILES: list(paths)}


def add_columns(rows: list[dict], activity: dict[str, ProcessActivity]) -> None:
    """Give each row of a process variable (in place) its process's :func:`columns`, worked
    out once per process (a records variable has a row per observation), unless the row has
    a value of that name already.  Each row gets its own list."""
    per_id: dict = {}
    for row in rows:
        sid = row.get("id")
        if sid not in per_id:
            per_id[sid] = columns(activity.get(sid))
        for k, v in per_id[sid].items():
            if row.get(k) is None:
                row[k] = list(v) if isinstance(v, list) else v
