"""Completion for the hunt language, shared by the Jupyter kernel and ``stixgraph shell``.

What is offered depends on the words before the cursor on its statement:

* after ``GET``/``FIND``/``NEW`` (and ``FIND ... X rel``'s result slot): entity types;
* after ``FIND <type>``: the relation words valid between that type and some variable's type
  (after ``FIND <type> <rel>``: the variables of a type the relation joins);
* after ``FROM``: data-source profiles and variables;
* after ``ATTR``, ``BY``, ``WHERE``/``AND``/``OR`` or ``SORT BY`` with a variable in the
  statement: the attributes seen for that variable (``var.`` completes its attributes too);
* after ``APPLY``: ``python://`` and ``docker://`` analytics; after ``ON``/``DISP``/``INFO``
  and at ``x = ``: variable names;
* otherwise: keywords and variable names.
"""
from __future__ import annotations

import re

KEYWORDS = ("GET", "FIND", "FROM", "WHERE", "DISP", "SORT", "BY", "GROUP", "WITH", "TIMESTAMPED",
            "RECORDS", "ADDOBSID", "APPLY", "ON", "ATTR", "LIMIT", "OFFSET", "START", "STOP",
            "LAST", "DAYS", "HOURS", "MINUTES", "SECONDS", "NEW", "LOAD", "SAVE", "TO", "INFO",
            "DESCRIBE", "JOIN", "AND", "OR", "NOT", "IN", "LIKE", "MATCHES", "ISSUBSET",
            "ISSUPERSET", "ASC", "DESC", "AS", "BIN", "TRUE", "FALSE", "NULL")
ENTITY_TYPES = ("artifact", "autonomous-system", "directory", "domain-name", "email-addr",
                "email-message", "file", "ipv4-addr", "ipv6-addr", "mac-addr", "mutex",
                "network-traffic", "process", "software", "url", "user-account",
                "windows-registry-key", "x509-certificate", "x-oca-asset", "x-oca-event")
_WORD = re.compile(r"[A-Za-z0-9_.:/\-\[\]*']*$")


def _statement_before(code: str, pos: int) -> str:
    """The text of the cursor's statement up to the cursor (statements start on lines that
    are not indented continuations)."""
    head = code[:pos]
    lines = head.split("\n")
    out = [lines[-1]]
    for line in reversed(lines[:-1]):
        if out[0][:1] in (" ", "\t") or out[0].lstrip().startswith(("WHERE", "AND", "OR")):
            out.insert(0, line)
        else:
            break
    return "\n".join(out)


def complete(session, code: str, pos: int) -> tuple[int, list[str]]:
    """(where the completed word starts, matches) for the cursor at ``pos`` in ``code``."""
    stmt = _statement_before(code, pos)
    m = _WORD.search(stmt)
    word = m.group(0) if m else ""
    start = pos - len(word)
    before = stmt[: len(stmt) - len(word)]
    tokens = before.split()
    prev = tokens[-1].upper() if tokens else ""
    store = session.store
    vtypes = {v.name: v.type for v in store.variables()}
    variables = list(vtypes)

    def pick(options, case_keywords=False):
        if case_keywords and word and word[0].islower():
            options = [o.lower() if o.isupper() else o for o in options]
        w = word.lower()
        return sorted(dict.fromkeys(o for o in options if o.lower().startswith(w)))

    if "." in word and word.split(".", 1)[0] in vtypes and prev not in ("FROM",):
        var, _, _ = word.partition(".")
        return start, [f"{var}.{a}" for a in pick_attrs(store, var, word.split(".", 1)[1])]
    if prev in ("GET", "NEW") or (prev == "FIND" and len(tokens) >= 1):
        return start, pick(ENTITY_TYPES)
    if len(tokens) >= 2 and tokens[-2].upper() == "FIND":
        from .relations import relations_for

        rtype = tokens[-1]
        words = {w.split()[0].upper() for t in set(vtypes.values())
                 for w in relations_for(rtype, t)}
        return start, pick(sorted(words) or ["LINKED"], True)
    by = prev == "BY" and len(tokens) >= 4 and tokens[-4].upper() == "FIND"
    if len(tokens) >= 3 and tokens[-3].upper() == "FIND" or by:
        from .relations import relations_for

        rtype, rel = (tokens[-3], tokens[-2]) if by else (tokens[-2], tokens[-1])
        fits = [v for v in variables
                if rel.lower() in {w.split()[0] for w in relations_for(rtype, vtypes[v])}]
        return start, pick(fits)
    if prev == "FROM":
        from .sources.profiles import profile_names

        try:
            profiles = [f"stixshifter://{p}" for p in profile_names()]
        except Exception:  # noqa: BLE001 - a broken config file must not break completion
            profiles = []
        return start, pick(profiles + variables)
    if prev == "APPLY":
        from .analytics.runner import DOCKER_NAMES, names

        try:
            py = names()
        except Exception:  # noqa: BLE001
            py = []
        return start, pick([f"python://{n}" for n in py]
                           + [f"docker://{n}" for n in sorted(set(DOCKER_NAMES.values()))])
    if prev in ("ON", "DISP", "INFO", "SAVE", "JOIN", "=", "TIMESTAMPED(", "+") or \
            before.rstrip().endswith(("(", ",")) and "APPLY" in before.upper():
        return start, pick(variables)
    if prev in ("ATTR", "BY", "WHERE", "AND", "OR", ",") or before.rstrip().endswith(","):
        var = _statement_variable(before, vtypes)
        if var is not None:
            return start, pick(pick_attrs(store, var, "") + (list(KEYWORDS) if prev == "," else []),
                               True)
    return start, pick(list(KEYWORDS) + variables, True)


def _statement_variable(before: str, vtypes: dict) -> str | None:
    for tok in reversed(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", before)):
        if tok in vtypes:
            return tok
    return None


def pick_attrs(store, var: str, prefix: str) -> list[str]:
    """The attributes seen for a variable (as DISP names them), starting with ``prefix``."""
    try:
        cols = store.columns(var)
    except Exception:  # noqa: BLE001 - completion never fails
        return []
    return [c for c in cols if c.startswith(prefix)]
