"""Who may read and write which collection of ``stixgraph taxii serve``: users (HTTP Basic
passwords and bearer tokens, stored hashed) and per-collection permissions, from a TOML file
(an annotated example: ``taxii/server.example.toml``).

Without a file the server is open and read-only: anyone reads every collection, nobody
writes; the server then binds to loopback only (:func:`check_bind`).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import os
import threading
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import StixgraphError

ANYONE = "*"  # in read/write lists: every authenticated user
ANONYMOUS = "anonymous"  # in read lists: also callers who send no credentials
PBKDF2_ITERATIONS = 310_000
LOOPBACK = ("127.0.0.1", "::1", "localhost")


class AccessConfigError(StixgraphError):
    """The server's configuration file is wrong (says what and where)."""


def hash_password(password: str, salt: bytes | None = None,
                  iterations: int = PBKDF2_ITERATIONS) -> str:
    """``pbkdf2_sha256$ITERATIONS$SALT$HASH`` (base64): what the config file holds."""
    salt = salt or os.urandom(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    return "$".join(("pbkdf2_sha256", str(iterations), base64.b64encode(salt).decode(),
                     base64.b64encode(digest).decode()))


def hash_token(token: str) -> str:
    """``sha256$HEX``: a bearer token as the config file holds it (tokens are long and random,
    so one unsalted hash suffices)."""
    return "sha256$" + hashlib.sha256(token.encode()).hexdigest()


def _check_password(stored: str, password: str) -> bool:
    try:
        scheme, iterations, salt, digest = stored.split("$")
        if scheme != "pbkdf2_sha256":
            return False
        got = hashlib.pbkdf2_hmac("sha256", password.encode(), base64.b64decode(salt),
                                  int(iterations))
        return hmac.compare_digest(got, base64.b64decode(digest))
    except (ValueError, TypeError):
        return False


@dataclass
class Grant:
    read: frozenset = frozenset()
    write: frozenset = frozenset()


@dataclass
class Access:
    """Users and grants.  ``open``: no file given (everyone reads everything, no writes)."""

    users: dict[str, dict] = field(default_factory=dict)  # name -> {password, token}
    grants: dict[str, Grant] = field(default_factory=dict)  # collection -> Grant
    open: bool = True
    title: str = "stixgraph TAXII server"
    api_root: str = "stixgraph"
    max_content_length: int = 10 * 1024 * 1024
    max_page_size: int = 1000
    _ok: dict = field(default_factory=dict, repr=False)  # verified (user, sha256(password))
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def authenticate(self, scheme: str, value: str) -> str | None:
        """The user a Basic or Bearer credential names, or None when it is wrong.  A correct
        password is remembered (as its SHA-256) so that PBKDF2 runs once per user and
        password, not once per request."""
        if scheme == "basic":
            try:
                user, _, password = base64.b64decode(value).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                return None
            entry = self.users.get(user)
            if not entry or not entry.get("password"):
                return None
            key = (user, hashlib.sha256(password.encode()).digest())
            with self._lock:
                if self._ok.get(key) == entry["password"]:
                    return user
            if _check_password(entry["password"], password):
                with self._lock:
                    self._ok[key] = entry["password"]
                return user
            return None
        if scheme == "bearer":
            h = hash_token(value)
            for user, entry in self.users.items():
                if entry.get("token") and hmac.compare_digest(entry["token"], h):
                    return user
        return None

    def can_read(self, user: str | None, collection: str) -> bool:
        if self.open:
            return True
        g = self.grants.get(collection)
        if g is None:
            return False
        if ANONYMOUS in g.read:
            return True
        return user is not None and (user in g.read or ANYONE in g.read or self.can_write(
            user, collection))

    def can_write(self, user: str | None, collection: str) -> bool:
        if self.open or user is None:
            return False
        g = self.grants.get(collection)
        return g is not None and (user in g.write or ANYONE in g.write)

    def served(self, names: list[str]) -> list[str]:
        """The store collections this server exposes at all."""
        return list(names) if self.open else [n for n in names if n in self.grants]


def load_access(path: str | Path | None) -> Access:
    """The access rules of a TOML file (None: the open, read-only default)."""
    if path is None:
        return Access()
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except OSError as e:
        raise AccessConfigError(f"{p}: cannot read ({e.strerror})") from None
    except tomllib.TOMLDecodeError as e:
        raise AccessConfigError(f"{p}: not valid TOML: {e}") from None
    server = data.get("server", {})
    acc = Access(open=False)
    for key, kind in (("title", str), ("api_root", str), ("max_content_length", int),
                      ("max_page_size", int)):
        if key in server:
            if not isinstance(server[key], kind) or isinstance(server[key], bool):
                raise AccessConfigError(f"{p}: [server] {key} must be a {kind.__name__}")
            setattr(acc, key, server[key])
    if not acc.api_root.replace("-", "").replace("_", "").isalnum() or acc.api_root == "taxii2":
        raise AccessConfigError(f"{p}: [server] api_root {acc.api_root!r}: use letters, digits, "
                                f"- and _ (not 'taxii2')")
    if acc.max_page_size < 1 or acc.max_content_length < 1024:
        raise AccessConfigError(f"{p}: [server] max_page_size must be >= 1 and "
                                f"max_content_length >= 1024")
    for name, entry in (data.get("users") or {}).items():
        if not isinstance(entry, dict) or not (entry.get("password") or entry.get("token")):
            raise AccessConfigError(f"{p}: [users.{name}] needs password (a hash from "
                                    f"'stixgraph taxii hash-password') or token")
        for k in ("password", "token"):
            v = entry.get(k)
            if v is not None and not (isinstance(v, str) and v.startswith(
                    "pbkdf2_sha256$" if k == "password" else "sha256$")):
                raise AccessConfigError(f"{p}: [users.{name}] {k} must be a hash made by "
                                        f"'stixgraph taxii hash-password'/'hash-token', never "
                                        f"the secret itself")
        if name in (ANYONE, ANONYMOUS):
            raise AccessConfigError(f"{p}: [users.{name}]: that name is reserved")
        acc.users[name] = {"password": entry.get("password"), "token": entry.get("token")}
    for coll, entry in (data.get("collections") or {}).items():
        if not isinstance(entry, dict):
            raise AccessConfigError(f"{p}: [collections.{coll}] must be a table")
        lists = {}
        for k in ("read", "write"):
            v = entry.get(k, [])
            if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
                raise AccessConfigError(f"{p}: [collections.{coll}] {k} must be a list of "
                                        f"user names")
            unknown = [x for x in v if x not in acc.users and x not in (ANYONE, ANONYMOUS)]
            if unknown:
                raise AccessConfigError(f"{p}: [collections.{coll}] {k}: unknown user "
                                        f"{unknown[0]!r}")
            if k == "write" and ANONYMOUS in v:
                raise AccessConfigError(f"{p}: [collections.{coll}] write: anonymous "
                                        f"writes are not allowed")
            lists[k] = frozenset(v)
        acc.grants[coll] = Grant(**lists)
    return acc


def check_bind(host: str, access: Access) -> None:
    """Refuse to listen beyond loopback without users and permissions configured."""
    if access.open and host not in LOOPBACK:
        raise AccessConfigError(f"refusing to serve on {host}: without --config every "
                                f"collection is readable by anyone, so only 127.0.0.1 is "
                                f"allowed; give a --config with users and permissions")
