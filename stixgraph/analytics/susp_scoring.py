"""``APPLY susp_scoring ON procs``: a suspiciousness score for processes, explained.

Adds to each process ``x_suspicious_score`` (a float in [0, 1]) and ``x_suspicious_reasons``
(the list of the ids of the rules that fired, in rule-file order; ``[]`` when none did).

The rules are data: :file:`rules/susp_scoring.yaml` (its header documents the format: rules
with an id, a description, a weight and a condition over the frame's columns, made of
``all``/``any``/``not`` and ``equals``/``contains``/``glob``/``regex``/``exists``/``gte``/``lte``
leaves, plus ``outlier`` rules computed over the whole frame: connection counts and forks).

Score: ``1 - prod(1 - w)`` over the weights ``w`` of the rules that fired (a noisy OR), rounded
to 4 decimals: one rule gives its weight, independent evidence adds up towards 1, and the
score stays in [0, 1].

Parameters:

* ``rules=FILE[;FILE...]`` (or env ``STIXGRAPH_SUSP_RULES``): YAML or JSON rule files added to
  the built-in rules; a rule with a built-in rule's id replaces it (``weight: 0`` disables it).
* ``mode=replace``: use only the given files, not the built-in rules.

A malformed rule file raises :class:`AnalyticError` with one line naming the file and the rule.
"""
from __future__ import annotations

import fnmatch
import json
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from .base import AnalyticError, Result

BUILTIN_RULES = Path(__file__).with_name("rules") / "susp_scoring.yaml"
_ID = re.compile(r"^[A-Za-z0-9_.\-]+$")
_OPS = ("equals", "contains", "glob", "regex", "exists", "gte", "lte")
_LEAF_KEYS = {"field", "case", *_OPS}

__all__ = ["analytic", "load_rules", "score", "Rule", "BUILTIN_RULES"]


class _Bad(Exception):
    """A rule-file problem (message without the file/rule prefix)."""


@dataclass
class Rule:
    id: str
    description: str
    weight: float
    test: Callable[[dict], bool] | None = None  # row predicate (a `when` rule)
    outlier: dict | None = None  # an `outlier` rule
    attack: list[str] = field(default_factory=list)
    source: str = ""


# -- loading -----------------------------------------------------------------------------------

def _read(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise AnalyticError(f"susp_scoring: {path}: cannot read ({e.strerror or e})") from None
    try:
        if path.suffix.lower() == ".json":
            return json.loads(text)
        import yaml
        return yaml.safe_load(text)
    except ImportError:
        raise AnalyticError(f"susp_scoring: {path}: reading YAML rules needs PyYAML "
                            f"(pip install pyyaml)") from None
    except Exception as e:  # noqa: BLE001 - yaml/json syntax errors: one line
        msg = " ".join(str(e).split())
        raise AnalyticError(f"susp_scoring: {path}: not valid "
                            f"{'JSON' if path.suffix.lower() == '.json' else 'YAML'} ({msg})"
                            ) from None


def _values(v, op: str) -> list:
    vals = v if isinstance(v, list) else [v]
    if not vals:
        raise _Bad(f"'{op}' has an empty list")
    return vals


def _leaf(node: dict, aliases: dict) -> Callable[[dict], bool]:
    unknown = set(node) - _LEAF_KEYS
    if unknown:
        raise _Bad(f"unknown key(s) {', '.join(sorted(map(str, unknown)))} in a condition")
    fields = node.get("field")
    fields = fields if isinstance(fields, list) else [fields]
    if not fields or not all(isinstance(f, str) and f for f in fields):
        raise _Bad("a condition needs 'field' (a column name or a list of them)")
    ops = [op for op in _OPS if op in node]
    if len(ops) != 1:
        raise _Bad(f"a condition on {fields[0]!r} needs exactly one of {', '.join(_OPS)}")
    op = ops[0]
    case = node.get("case", "insensitive")
    if case not in ("sensitive", "insensitive"):
        raise _Bad(f"case: {case!r} (expected sensitive or insensitive)")
    fold = case == "insensitive"
    get = _getter(fields, aliases)

    if op == "exists":
        want = node[op]
        if not isinstance(want, bool):
            raise _Bad("'exists' takes true or false")
        return lambda row: bool(get(row)) == want

    if op in ("gte", "lte"):
        try:
            bound = float(node[op])
        except (TypeError, ValueError):
            raise _Bad(f"'{op}' takes a number, not {node[op]!r}") from None

        def num(row):
            for v in get(row):
                try:
                    x = float(v)
                except (TypeError, ValueError):
                    continue
                if (x >= bound) if op == "gte" else (x <= bound):
                    return True
            return False
        return num

    vals = [v for v in _values(node[op], op)]
    if not all(isinstance(v, (str, int, float)) and not isinstance(v, bool) for v in vals):
        raise _Bad(f"'{op}' takes a string or a list of strings")
    vals = [str(v) for v in vals]
    flags = re.IGNORECASE if fold else 0
    if op == "regex":
        pats = []
        for v in vals:
            try:
                pats.append(re.compile(v, flags))
            except re.error as e:
                raise _Bad(f"bad regex {v!r}: {e}") from None
        match = lambda s: any(p.search(s) for p in pats)  # noqa: E731
    elif op == "glob":
        pats = [re.compile(fnmatch.translate(v), flags | re.DOTALL) for v in vals]
        match = lambda s: any(p.match(s) for p in pats)  # noqa: E731
    elif op == "contains":
        needles = [v.casefold() for v in vals] if fold else vals
        match = lambda s: any(n in (s.casefold() if fold else s) for n in needles)  # noqa: E731
    else:  # equals
        wanted = {v.casefold() for v in vals} if fold else set(vals)
        match = lambda s: (s.casefold() if fold else s) in wanted  # noqa: E731
    return lambda row: any(match(s) for s in get(row))


def _getter(fields: list[str], aliases: dict) -> Callable[[dict], list[str]]:
    """The row's non-empty string values of ``fields`` (an alias: its first non-empty column;
    a list-valued cell: each element)."""
    def values_of(row, col) -> list[str]:
        v = row.get(col)
        if v is None:
            return []
        if isinstance(v, (list, tuple)) or (hasattr(v, "tolist") and not isinstance(v, str)):
            v = list(v.tolist() if hasattr(v, "tolist") else v)
            return [str(x) for x in v if x is not None and str(x) != ""]
        if isinstance(v, float) and math.isnan(v):
            return []
        s = str(v)
        return [s] if s != "" else []

    def get(row) -> list[str]:
        out: list[str] = []
        for f in fields:
            if f in aliases:
                for col in aliases[f]:
                    got = values_of(row, col)
                    if got:
                        out.extend(got)
                        break
            else:
                out.extend(values_of(row, f))
        return out
    return get


def _cond(node, aliases: dict, depth: int = 0) -> Callable[[dict], bool]:
    if depth > 20:
        raise _Bad("conditions nested too deep")
    if not isinstance(node, dict) or not node:
        raise _Bad(f"a condition must be a mapping, not {type(node).__name__}")
    keys = set(node)
    if keys & {"all", "any", "not"}:
        if len(keys) != 1:
            raise _Bad(f"'{sorted(keys & {'all', 'any', 'not'})[0]}' must be alone in its "
                       f"mapping (found {', '.join(sorted(map(str, keys)))})")
        (k, sub), = node.items()
        if k == "not":
            inner = _cond(sub, aliases, depth + 1)
            return lambda row: not inner(row)
        if not isinstance(sub, list) or not sub:
            raise _Bad(f"'{k}' takes a non-empty list of conditions")
        parts = [_cond(s, aliases, depth + 1) for s in sub]
        if k == "all":
            return lambda row: all(p(row) for p in parts)
        return lambda row: any(p(row) for p in parts)
    return _leaf(node, aliases)


def _outlier(spec) -> dict:
    if not isinstance(spec, dict):
        raise _Bad("'outlier' must be a mapping")
    unknown = set(spec) - {"count", "children", "k", "min"}
    if unknown:
        raise _Bad(f"unknown key(s) {', '.join(sorted(map(str, unknown)))} in 'outlier'")
    cols = spec.get("count", [])
    cols = cols if isinstance(cols, list) else [cols]
    if not all(isinstance(c, str) for c in cols):
        raise _Bad("outlier 'count' takes column names")
    children = spec.get("children", False)
    if not isinstance(children, bool) or (not cols and not children):
        raise _Bad("'outlier' needs 'count' columns and/or 'children: true'")
    try:
        k, lo = float(spec.get("k", 3)), float(spec.get("min", 1))
    except (TypeError, ValueError):
        raise _Bad("outlier 'k' and 'min' take numbers") from None
    return {"count": cols, "children": children, "k": k, "min": lo}


def _parse(data, path: Path, aliases: dict) -> list[Rule]:
    where = f"susp_scoring: {path}"
    if isinstance(data, list):
        data = {"rules": data}
    if not isinstance(data, dict):
        raise AnalyticError(f"{where}: expected a mapping with 'rules' (and optional 'fields')")
    unknown = set(data) - {"rules", "fields", "version"}
    if unknown:
        raise AnalyticError(f"{where}: unknown top-level key(s) "
                            f"{', '.join(sorted(map(str, unknown)))}")
    fields = data.get("fields") or {}
    if not isinstance(fields, dict):
        raise AnalyticError(f"{where}: 'fields' must map an alias to a list of columns")
    for name, cols in fields.items():
        cols = cols if isinstance(cols, list) else [cols]
        if not cols or not all(isinstance(c, str) and c for c in cols):
            raise AnalyticError(f"{where}: field alias {name!r}: expected a list of column names")
        aliases[str(name)] = cols
    rules_in = data.get("rules")
    if not isinstance(rules_in, list):
        raise AnalyticError(f"{where}: 'rules' must be a list")
    out, seen = [], set()
    for i, r in enumerate(rules_in, 1):
        rid = r.get("id") if isinstance(r, dict) else None
        label = f"rule {rid!r}" if isinstance(rid, str) and rid else f"rule #{i}"
        try:
            if not isinstance(r, dict):
                raise _Bad("a rule must be a mapping")
            unknown = set(r) - {"id", "description", "weight", "when", "outlier", "attack"}
            if unknown:
                raise _Bad(f"unknown key(s) {', '.join(sorted(map(str, unknown)))}")
            if not isinstance(rid, str) or not _ID.match(rid):
                raise _Bad("'id' must be a non-empty string of letters, digits, '_', '.', '-'")
            if rid in seen:
                raise _Bad("duplicate id in this file")
            seen.add(rid)
            desc = r.get("description")
            if not isinstance(desc, str) or not desc.strip():
                raise _Bad("'description' is required")
            w = r.get("weight")
            if isinstance(w, bool) or not isinstance(w, (int, float)) or not 0 <= w <= 1:
                raise _Bad(f"'weight' must be a number between 0 and 1, not {w!r}")
            if ("when" in r) == ("outlier" in r):
                raise _Bad("a rule needs exactly one of 'when' or 'outlier'")
            attack = r.get("attack") or []
            attack = attack if isinstance(attack, list) else [attack]
            rule = Rule(rid, desc.strip(), float(w), attack=[str(a) for a in attack],
                        source=str(path))
            if "when" in r:
                rule.test = _cond(r["when"], aliases)
            else:
                rule.outlier = _outlier(r["outlier"])
        except _Bad as e:
            raise AnalyticError(f"{where}: {label}: {e}") from None
        out.append(rule)
    return out


def load_rules(paths: list[str | os.PathLike] | None = None, replace: bool = False) -> list[Rule]:
    """The rules: the built-in file's (unless ``replace``), then each file's; a later rule with
    the same id replaces the earlier one in place."""
    files = ([] if replace else [BUILTIN_RULES]) + [Path(p).expanduser() for p in paths or []]
    if not files:
        raise AnalyticError("susp_scoring: mode=replace needs rules=FILE")
    merged: dict[str, Rule] = {}
    aliases: dict[str, list[str]] = {}
    if replace:  # the built-in field aliases (image, parent_image...) stay available
        data = _read(BUILTIN_RULES)
        _parse({"fields": data.get("fields") or {}, "rules": []}, BUILTIN_RULES, aliases)
    for path in files:
        if not path.is_file():
            raise AnalyticError(f"susp_scoring: {path}: no such rule file")
        for rule in _parse(_read(path), path, aliases):
            merged[rule.id] = rule
    return list(merged.values())


# -- scoring -----------------------------------------------------------------------------------

def _counts(frame: pd.DataFrame, spec: dict) -> pd.Series | None:
    for col in spec["count"]:
        if col in frame.columns:
            s = frame[col]
            if s.map(lambda v: isinstance(v, (list, tuple)) or hasattr(v, "__len__")
                     and not isinstance(v, str)).any():
                return s.map(lambda v: len(v) if hasattr(v, "__len__")
                             and not isinstance(v, str) else 0).astype(float)
            return pd.to_numeric(s, errors="coerce").fillna(0).astype(float)
    if spec["children"]:
        for parent_col, key in (("parent_ref.id", "id"), ("parent_ref.x_unique_id", "x_unique_id"),
                                ("parent_ref.x_guid", "x_guid")):
            if parent_col in frame.columns and key in frame.columns:
                n = frame[parent_col].dropna().astype(str).value_counts()
                return frame[key].astype(str).map(n).fillna(0).astype(float)
    return None


def _outliers(frame: pd.DataFrame, spec: dict) -> pd.Series | None:
    counts = _counts(frame, spec)
    if counts is None or len(counts) < 2:
        return None
    mean, sd = counts.mean(), counts.std(ddof=0)
    return (counts > mean + spec["k"] * sd) & (counts >= spec["min"])


def score(frame: pd.DataFrame, rules: list[Rule]) -> pd.DataFrame:
    """``id``, ``x_suspicious_score``, ``x_suspicious_reasons`` for each row of ``frame``."""
    fired: list[list[str]] = [[] for _ in range(len(frame))]
    rows = frame.to_dict("records")
    for rule in rules:
        if rule.weight <= 0:
            continue
        if rule.outlier is not None:
            mask = _outliers(frame, rule.outlier)
            if mask is None:
                continue
            hits = [bool(x) for x in mask.tolist()]
        else:
            hits = [rule.test(r) for r in rows]
        for i, hit in enumerate(hits):
            if hit:
                fired[i].append(rule.id)
    weight = {r.id: r.weight for r in rules}
    scores = [round(1 - math.prod(1 - weight[r] for r in ids), 4) for ids in fired]
    return pd.DataFrame({"id": list(frame["id"]), "x_suspicious_score": scores,
                         "x_suspicious_reasons": fired})


def analytic(frames, params) -> Result:
    params = dict(params or {})
    spec = params.get("rules") or os.environ.get("STIXGRAPH_SUSP_RULES") or ""
    paths = [p.strip() for p in re.split(r"[;,]", spec) if p.strip()]
    mode = (params.get("mode") or "add").strip().lower()
    if mode not in ("add", "replace"):
        raise AnalyticError(f"susp_scoring: mode={mode!r}: expected add or replace")
    rules = load_rules(paths, replace=mode == "replace")
    out, notes = [], []
    for i, frame in enumerate(frames, 1):
        if "id" not in frame.columns:
            raise AnalyticError(f"susp_scoring: input {i} has no id column")
        if len(frame) and "type" in frame.columns:
            types = set(frame["type"].dropna().astype(str))
            if types and types != {"process"}:
                raise AnalyticError(f"susp_scoring: input {i} holds {', '.join(sorted(types))}, "
                                    f"not process")
        if len(frame) and not {"command_line", "name", "binary_ref.name"} & set(frame.columns):
            notes.append(f"susp_scoring: input {i} has no command_line, name or binary_ref.name:"
                         f" only the computed signals can fire")
        out.append(score(frame, rules))
    return Result(frames=out, notes=notes)
