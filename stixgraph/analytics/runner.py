"""APPLY: find the analytic a URI names, give it the variables as DataFrames, write back what
it returns (Kestrel v1's contract, research/kestrel.md §5).

``APPLY python://NAME ON v1, v2 WITH k=v``:

* ``python://NAME``: a built-in or plugin registered in the ``stixgraph.analytics``
  entry-point group (a :mod:`.base` analytic), else a Kestrel python analytic from Kestrel's
  profile file (``$KESTREL_PYTHON_ANALYTICS_CONFIG`` or
  ``~/.config/kestrel/pythonanalytics.yaml``: ``profiles: {NAME: {module: FILE.py, func:
  FN}}``), run as Kestrel runs it: the parameters as environment variables, the module's
  folder as working directory and on ``sys.path``, ``FN(df1, ...)`` returning DataFrames and/or
  one display (HTML text or a matplotlib Figure).
* ``docker://NAME``: Kestrel's analytics image ``kestrel-analytics-NAME`` when a Docker engine
  answers; otherwise the built-in of that name, said once per session; otherwise an error.

A process variable's frame also says what each process did (``x_connection_count``,
``x_child_count``, ``x_written_files``: :mod:`.activity`).  The frames' attributes are
upserted by id onto the stored entities in the statement's transaction
(:meth:`~stixgraph.store.base.GraphStore.set_attributes`); an analytic that fails changes
nothing.
"""
from __future__ import annotations

import contextlib
import importlib
import importlib.util
import math
import os
import sys
from importlib.metadata import entry_points
from pathlib import Path
from typing import Callable

from ..environ import environ
from ..store.base import has_process_activity
from . import activity
from .base import AnalyticError, Display, Result

GROUP = "stixgraph.analytics"
#: Kestrel's image names for the built-ins (docker://NAME falls back to these)
DOCKER_NAMES = {"pinip": "pinip", "piniponmap": "pinip", "domainnamelookup": "domainnamelookup",
                "susp_scoring": "susp_scoring", "suspiciousscoring": "susp_scoring",
                "attribute-plot": "attribute-plot", "attributeplot": "attribute-plot"}


def _registered() -> dict:
    return {e.name: e for e in entry_points(group=GROUP)}


def _kestrel_profiles() -> tuple[dict, Path | None]:
    path = Path(os.environ.get("KESTREL_PYTHON_ANALYTICS_CONFIG")
                or Path.home() / ".config" / "kestrel" / "pythonanalytics.yaml")
    if not path.is_file():
        return {}, None
    try:
        import yaml
    except ImportError:
        raise AnalyticError(f"{path}: reading Kestrel's analytics profiles needs PyYAML "
                            f"(pip install pyyaml)") from None
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as e:
        raise AnalyticError(f"{path}: cannot read ({str(e).splitlines()[0]})") from None
    profiles = data.get("profiles") if isinstance(data, dict) else None
    return (profiles if isinstance(profiles, dict) else {}), path


def names() -> list[str]:
    """Every analytic name APPLY python:// knows (completion, error messages)."""
    return sorted(set(_registered()) | set(_kestrel_profiles()[0]))


def docker_available() -> bool:
    try:
        import docker
        docker.from_env(timeout=2).ping()
        return True
    except Exception:  # noqa: BLE001 - no SDK, no daemon: not available
        return False


def resolve(uri: str, notice: Callable[[str], None] | None = None) -> Callable:
    """The callable ``(frames, params) -> Result`` of an APPLY URI."""
    scheme, _, name = uri.partition("://")
    if not name:
        scheme, name = "python", uri
    scheme = scheme.lower()
    if scheme == "docker":
        if docker_available():
            return _docker(name)
        builtin = DOCKER_NAMES.get(name)
        if builtin is None or builtin not in _registered():
            raise AnalyticError(f"docker://{name}: no Docker engine answers here and stixgraph "
                                f"has no built-in {name!r} (built-ins: "
                                f"{', '.join(sorted(set(DOCKER_NAMES.values())))})")
        if notice:
            notice(f"docker://{name}: no Docker engine; running stixgraph's built-in "
                   f"{builtin!r} in-process instead")
        name = builtin
    elif scheme != "python":
        raise AnalyticError(f"{uri}: unknown analytics scheme {scheme!r} (python:// or docker://)")
    reg = _registered()
    if name in reg:
        try:
            return reg[name].load()
        except Exception as e:  # noqa: BLE001 - a broken plugin: one line
            raise AnalyticError(f"python://{name}: cannot load {reg[name].value} "
                                f"({type(e).__name__}: {e})") from None
    profiles, path = _kestrel_profiles()
    if name in profiles:
        return _kestrel_function(name, profiles[name], path)
    known = names()
    raise AnalyticError(f"python://{name}: no such analytic (known: "
                        f"{', '.join(known) or 'none'}; Kestrel profiles are read from "
                        f"$KESTREL_PYTHON_ANALYTICS_CONFIG or ~/.config/kestrel/pythonanalytics.yaml)")


def _kestrel_function(name: str, profile, path: Path) -> Callable:
    if not isinstance(profile, dict) or not profile.get("module") or not profile.get("func"):
        raise AnalyticError(f"{path}: profile {name!r} needs module and func")
    module = str(profile["module"])
    where = Path(module).expanduser()
    if not where.is_absolute():
        where = path.parent / where
    if where.suffix == ".py" or where.exists():
        spec = importlib.util.spec_from_file_location(f"kestrel_analytic_{name}", where)
        if spec is None or not where.is_file():
            raise AnalyticError(f"{path}: profile {name!r}: no module file {where}")
        folder = where.parent
    else:
        spec, folder = None, None

    def run(frames, params):
        with _kestrel_call(params, folder):
            if spec is not None:
                mod = importlib.util.module_from_spec(spec)
                spec.loader.exec_module(mod)
            else:
                mod = importlib.import_module(module)
            fn = getattr(mod, str(profile["func"]), None)
            if not callable(fn):
                raise AnalyticError(f"{path}: profile {name!r}: {module} has no function "
                                    f"{profile['func']!r}")
            out = fn(*frames)
        return _adapt(out, len(frames), name)

    return run


@contextlib.contextmanager
def _kestrel_call(params: dict, folder: Path | None):
    """Kestrel's calling convention: parameters in the environment, the module's folder as
    working directory and first on sys.path; all restored afterwards."""
    cwd = os.getcwd()
    try:
        with environ(params):
            if folder is not None:
                os.chdir(folder)
                sys.path.insert(0, str(folder))
            yield
    finally:
        os.chdir(cwd)
        if folder is not None and sys.path and sys.path[0] == str(folder):
            sys.path.pop(0)


def _adapt(out, n_inputs: int, name: str) -> Result:
    """A Kestrel analytic's return value (DataFrames and/or one display, any order) as a
    :class:`Result`."""
    import pandas as pd

    items = list(out) if isinstance(out, (tuple, list)) else [out]
    frames, display = [], None
    for item in items:
        if item is None:
            continue
        if isinstance(item, pd.DataFrame):
            frames.append(item)
        elif isinstance(item, str):
            display = Display(title=name, html=item)
        elif hasattr(item, "savefig"):  # a matplotlib Figure
            import io

            buf = io.BytesIO()
            item.savefig(buf, format="png", bbox_inches="tight")
            display = Display(title=name, png=buf.getvalue())
        elif hasattr(item, "to_html"):
            display = Display(title=name, html=item.to_html())
        else:
            raise AnalyticError(f"python://{name} returned a {type(item).__name__}, not "
                                f"DataFrames or a display")
    if frames and len(frames) != n_inputs:
        raise AnalyticError(f"python://{name} returned {len(frames)} DataFrames for "
                            f"{n_inputs} input variables")
    return Result(frames=frames, display=display)


def _docker(name: str) -> Callable:
    """Kestrel's docker analytics: parquet in, parquet and one HTML display out."""
    def run(frames, params):
        import tempfile

        import docker
        import pandas as pd

        with tempfile.TemporaryDirectory() as d:
            base = Path(d)
            for sub in ("input", "output", "display"):
                (base / sub).mkdir()
            for i, f in enumerate(frames):
                f.to_parquet(base / "input" / f"{i}.parquet.gz", compression="gzip")
            client = docker.from_env()
            try:
                client.containers.run(f"kestrel-analytics-{name}", environment=params,
                                      volumes={str(base): {"bind": "/data", "mode": "rw"}},
                                      remove=True)
            except Exception as e:  # noqa: BLE001
                raise AnalyticError(f"docker://{name}: {type(e).__name__}: "
                                    f"{str(e).splitlines()[0] if str(e) else ''}") from None
            outs = [pd.read_parquet(base / "output" / f"{i}.parquet.gz")
                    for i in range(len(frames))
                    if (base / "output" / f"{i}.parquet.gz").exists()]
            html = sorted((base / "display").glob("*.html"))
            display = Display(title=name, html=html[0].read_text(encoding="utf-8")) if html \
                else None
            return Result(frames=outs, display=display)

    return run


# -- the frames ---------------------------------------------------------------------------

def to_frame(records: list[dict]):
    """A variable's rows (the store's ``records``) as a DataFrame with ``id`` and ``type``."""
    import pandas as pd

    return pd.DataFrame.from_records(records)


def updates_of(frames, inputs: list[list[dict]]) -> dict[str, dict]:
    """The attributes to write back: per entity id, the frame's columns that are new or
    changed against the input rows (``ref.attr`` columns, ``id`` and ``type`` left out;
    missing values skipped)."""
    out: dict[str, dict] = {}
    for frame, rows in zip(frames, inputs):
        if "id" not in frame.columns:
            raise AnalyticError("an analytic returned a DataFrame without an id column")
        before = {r.get("id"): r for r in rows}
        cols = [c for c in frame.columns if c not in ("id", "type") and "." not in str(c)]
        for rec in frame[["id", *cols]].to_dict("records"):
            sid = rec.pop("id")
            old = before.get(sid, {})
            attrs = {}
            for k, v in rec.items():
                v = _plain(v)
                if v is None or old.get(k) == v:
                    continue
                attrs[str(k)] = v
            if attrs and isinstance(sid, str):
                out.setdefault(sid, {}).update(attrs)
    return out


def _plain(v):
    """A DataFrame cell as a JSON value (numpy scalars and arrays, NaN/NaT as missing)."""
    if v is None:
        return None
    if hasattr(v, "tolist"):  # numpy scalar or array
        v = v.tolist()
    if isinstance(v, float) and math.isnan(v):
        return None
    if hasattr(v, "isoformat"):  # Timestamp / datetime
        try:
            return v.isoformat().replace("+00:00", "Z")
        except ValueError:
            return None
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    return v


# -- APPLY ---------------------------------------------------------------------------------

def run_apply(store, stmt, params: dict[str, str], notice: Callable[[str], None] | None = None
              ) -> list:
    """Run ``stmt`` (an :class:`~stixgraph.ir.Apply`) over ``store``: the displays it makes
    (:class:`~stixgraph.display.Message` notes, one :class:`~stixgraph.display.Visual`).  The
    caller holds the statement's transaction: a failure leaves the store unchanged."""
    from ..display import Message, Visual

    line = stmt.pos.line
    fn = resolve(stmt.uri, notice)
    inputs = []
    for v in stmt.vars:
        info = store.var(v)
        rows = store.records(v)
        for r in rows:
            r.setdefault("type", info.type)
        if has_process_activity(info.type, info.kind):
            activity.add_columns(rows, store.process_activity(v))
        inputs.append(rows)
    frames = [to_frame(rows) for rows in inputs]
    try:
        result = fn(frames, dict(params))
    except AnalyticError:
        raise
    except Exception as e:  # noqa: BLE001 - the analytic's bug, said in one line
        raise AnalyticError(f"APPLY {stmt.uri} failed: {type(e).__name__}: "
                            f"{(str(e).splitlines() or [''])[0]}; nothing was changed") from None
    if not isinstance(result, Result):
        raise AnalyticError(f"APPLY {stmt.uri}: the analytic returned {type(result).__name__}, "
                            f"not a Result")
    updates = updates_of(result.frames, inputs)
    out = [Message(line, note, "note") for note in result.notes]
    if updates:
        n = store.set_attributes(updates)
        attrs = sorted({k for a in updates.values() for k in a})
        out.append(Message(line, f"APPLY {stmt.uri}: {n} entities updated "
                                 f"({', '.join(attrs)})", "note"))
    if result.display is not None:
        d = result.display
        out.append(Visual(line, d.title or stmt.uri, d.html, d.png))
    return out


def param_text(value) -> str:
    """A WITH value as Kestrel passes it: a string; lists comma-joined."""
    if isinstance(value, (tuple, list)):
        return ",".join(param_text(v) for v in value)
    if hasattr(value, "iso"):
        return value.iso()
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
