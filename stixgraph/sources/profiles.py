"""stix-shifter profiles: which connector, where it is, how to log in.

A profile named ``splunk`` comes from, first, Kestrel's environment variables (so existing
Kestrel set-ups work unchanged)::

    STIXSHIFTER_SPLUNK_CONNECTOR=splunk
    STIXSHIFTER_SPLUNK_CONNECTION='{"host": "127.0.0.1", "port": 8089, "selfSignedCert": "-----BEGIN..."}'
    STIXSHIFTER_SPLUNK_CONFIG='{"auth": {"username": "admin", "password": "..."}}'

and otherwise from the config file, ``$STIXGRAPH_CONFIG`` or ``~/.config/stixgraph/config.toml``::

    [stixshifter.splunk]
    connector = "splunk"
    connection = { host = "127.0.0.1", port = 8089, options = { result_limit = 50000 } }
    config = { auth = { username = "admin", password = "..." } }

Kestrel's own ``~/.config/kestrel/stixshifter.yaml`` (``profiles: {name: {connector,
connection, config}}``) is read too when PyYAML is installed.  Profile names are
case-insensitive.  ``connection.options`` holds stix-shifter's options (``result_limit``,
``time_range``, ``index``...) and stixgraph's own retrieval settings, which are taken out
before stix-shifter sees them (:data:`RETRIEVAL_OPTIONS`).  Among them ``publish``, a TAXII
2.1 collection URL (``https://HOST/API_ROOT/collections/ID/`` or ``taxii://HOST/API_ROOT/ID/``):
every GET from the profile then publishes the observations it pulled there (see
:class:`stixgraph.session.Session`), e.g. ``options = { publish = "https://..." }`` in the
TOML table or ``"options": {"publish": "https://..."}`` in the JSON of
``STIXSHIFTER_<NAME>_CONNECTION``.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import DataSourceError

#: stixgraph's retrieval settings in ``connection.options`` (defaults); Kestrel's names where
#: Kestrel has one
RETRIEVAL_OPTIONS = {
    "retrieval_batch_size": 2000,  # rows per results page
    "single_batch_timeout": 60,  # seconds per REST call
    "job_timeout": 3600,  # seconds to wait for a search job to finish
    "retries": 4,  # tries again after a 5xx / 429 / timeout / lost connection
    "retry_backoff": 0.5,  # seconds before the first retry, doubled each time
    "workers": None,  # translation processes (None: one per CPU when the pull is large)
    "fast_translation": True,  # stixgraph's compiled to_stix_map translator
    "prefetch": True,  # GET/FIND ask again for every record of what they found (Kestrel)
    "publish": None,  # a TAXII 2.1 collection URL: each GET's observations are published there
}

_NAME = re.compile(r"[A-Za-z0-9_]+\Z")


@dataclass
class Profile:
    name: str
    connector: str
    connection: dict
    configuration: dict
    origin: str  # where it was found (for messages; never the secrets)
    retrieval: dict = field(default_factory=dict)

    def public(self) -> dict:
        """What can be shown: no ``config`` (credentials), no certificate text."""
        conn = {k: v for k, v in self.connection.items() if k != "selfSignedCert"}
        if "selfSignedCert" in self.connection:
            conn["selfSignedCert"] = "<PEM>"
        return {"name": self.name, "connector": self.connector, "connection": conn,
                "origin": self.origin}


def config_path() -> Path:
    env = os.environ.get("STIXGRAPH_CONFIG")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base) / "stixgraph" / "config.toml"


def _json_env(var: str) -> dict:
    text = os.environ.get(var)
    if text is None or not text.strip():
        return {}
    try:
        val = json.loads(text)
    except json.JSONDecodeError as e:
        raise DataSourceError(f"{var}: not JSON ({e.msg} at character {e.pos})") from None
    if not isinstance(val, dict):
        raise DataSourceError(f"{var}: must be a JSON object")
    return val


def _from_env(name: str) -> tuple[dict, str] | None:
    key = name.upper()
    prefix = f"STIXSHIFTER_{key}_"
    if not any(k.upper().startswith(prefix) for k in os.environ):
        return None
    raw = {"connector": os.environ.get(prefix + "CONNECTOR", ""),
           "connection": _json_env(prefix + "CONNECTION"),
           "config": _json_env(prefix + "CONFIG")}
    return raw, f"environment ({prefix}*)"


def config_table(section: str, error: type[DataSourceError] = DataSourceError) -> dict | None:
    """The ``[section]`` table of the config file (:func:`config_path`); None when the file or
    the table is missing (or the section is not a table).  A file that cannot be read or is
    not TOML raises ``error`` (one line naming the file, never its content)."""
    import tomllib

    path = config_path()
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        return None
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise error(f"{path}: cannot read the config file ({type(e).__name__}: "
                    f"{getattr(e, 'strerror', None) or e})") from None
    t = data.get(section)
    return t if isinstance(t, dict) else None


def _from_toml(name: str) -> tuple[dict, str] | None:
    profiles = {k.lower(): v for k, v in (config_table("stixshifter") or {}).items()}
    raw = profiles.get(name.lower())
    return (raw, f"{config_path()} [stixshifter.{name}]") if raw is not None else None


def _from_kestrel_yaml(name: str) -> tuple[dict, str] | None:
    path = Path(os.environ.get("KESTREL_STIXSHIFTER_CONFIG") or
                Path.home() / ".config" / "kestrel" / "stixshifter.yaml")
    if not path.is_file():
        return None
    try:
        import yaml  # optional: only to read Kestrel's file
    except ImportError:
        return None
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except Exception as e:  # noqa: BLE001 - any YAML error is a config error
        raise DataSourceError(f"{path}: cannot read: {e}") from None
    profiles = {k.lower(): v for k, v in (data.get("profiles") or {}).items()}
    raw = profiles.get(name.lower())
    return (raw, f"{path} profiles.{name}") if raw is not None else None


def _names_in_env() -> set[str]:
    out = set()
    for k in os.environ:
        m = re.match(r"STIXSHIFTER_(.+)_CONNECTOR\Z", k, re.I)
        if m:
            out.add(m.group(1).lower())
    return out


def profile_names() -> list[str]:
    """Every profile this machine knows (for messages and completion)."""
    names = _names_in_env()
    try:
        names |= {k.lower() for k in (config_table("stixshifter") or {})}
    except DataSourceError:  # listing must not fail
        pass
    return sorted(names)


def load_profile(name: str) -> Profile:
    """The profile ``name``: environment first, then the config file, then Kestrel's YAML."""
    if not _NAME.match(name or ""):
        raise DataSourceError(f"bad stix-shifter profile name {name!r} (letters, digits, _)")
    found = _from_env(name) or _from_toml(name) or _from_kestrel_yaml(name)
    if found is None:
        known = profile_names()
        raise DataSourceError(
            f"no stix-shifter profile {name!r}: set STIXSHIFTER_{name.upper()}_CONNECTOR, "
            f"_CONNECTION and _CONFIG, or add [stixshifter.{name}] to {config_path()}"
            + (f" (known: {', '.join(known)})" if known else ""))
    raw, origin = found
    if not isinstance(raw, dict):
        raise DataSourceError(f"{origin}: a profile must be a table/object")
    connector = raw.get("connector") or ""
    connection = raw.get("connection") or {}
    config = raw.get("config") or raw.get("configuration") or {}
    if not isinstance(connector, str) or not connector:
        raise DataSourceError(f"{origin}: connector missing (e.g. \"splunk\")")
    if not isinstance(connection, dict) or not connection:
        raise DataSourceError(f"{origin}: connection missing (host, port, ...)")
    if not isinstance(config, dict) or not config:
        raise DataSourceError(f"{origin}: config missing ({{\"auth\": {{...}}}})")
    connection = json.loads(json.dumps(connection))  # our own copy: stix-shifter mutates it
    options = dict(connection.get("options") or {})
    retrieval = {}
    for k, default in RETRIEVAL_OPTIONS.items():
        retrieval[k] = options.pop(k, default)
    for k in ("verify_cert", "cool_down_after_transmission", "dialects"):  # Kestrel-only
        options.pop(k, None)
    connection["options"] = options
    try:
        retrieval["retrieval_batch_size"] = max(1, int(retrieval["retrieval_batch_size"]))
        retrieval["single_batch_timeout"] = float(retrieval["single_batch_timeout"])
        retrieval["job_timeout"] = float(retrieval["job_timeout"])
        retrieval["retries"] = max(0, int(retrieval["retries"]))
        retrieval["retry_backoff"] = max(0.0, float(retrieval["retry_backoff"]))
        if not isinstance(retrieval["prefetch"], bool):
            raise ValueError(f"prefetch must be true or false, not {retrieval['prefetch']!r}")
        if retrieval["publish"] is not None:
            if not isinstance(retrieval["publish"], str):
                raise ValueError(f"publish must be a TAXII collection URL, not "
                                 f"{retrieval['publish']!r}")
            from ..taxii.client import collection_url

            try:
                collection_url(retrieval["publish"])
            except DataSourceError as e:  # one line, without credentials
                raise ValueError(f"publish: {e}") from None
    except (TypeError, ValueError) as e:
        raise DataSourceError(f"{origin}: bad retrieval option: {e}") from None
    return Profile(name.lower(), connector, connection, json.loads(json.dumps(config)), origin,
                   retrieval)
