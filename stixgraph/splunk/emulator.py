"""An emulator of Splunk's REST search API, over HTTPS on loopback, searching an
:class:`~stixgraph.splunk.events.EventStore`.

It serves exactly what stix-shifter's ``splunk`` module calls (see
``shared/research/stix-shifter.md`` section 3), with Splunk's response shapes and status codes:

====== ============================================== =============================================
POST   /services/auth/login                            200 ``{"sessionKey"}``, 401 Login failed
GET    /services/                                      200 (ping), 401 without valid auth
POST   /services/search/jobs                           201 ``{"sid"}``, 400 bad SPL
GET    /services/search/jobs/<sid>                     status: ``entry[0].content`` (dispatchState,
                                                       doneProgress, isFinalized, resultCount...)
GET    /services/search[/v2]/jobs/<sid>/results        200 a page (offset, count), 204 while running
POST   /services/search/jobs/<sid>/control             action=cancel|finalize
DELETE /services/search/jobs/<sid>                     200 with a JSON body
====== ============================================== =============================================

``/servicesNS/<user>/<app>/...`` is the same as ``/services/...``.  Parameters are read from the
query string and from a form body, whatever the method (stix-shifter sends form bodies on GET
and DELETE).  Answers are always JSON (stix-shifter always asks for ``output_mode=json``).

Authentication: ``Authorization: Splunk <sessionKey>`` (or ``Bearer <sessionKey>``) from a login,
or ``Basic`` with the username and password.  Session keys expire after ``session_ttl`` seconds
without use (Splunk's ``sessionTimeout``); unknown and expired keys get 401.

:class:`Faults` injects trouble, settable at run time (``emu.faults.error_rate = 0.3``).
Each request is logged (method, path without query string, status, time) on the
``stixgraph.splunk.emulator`` logger; passwords, session keys and bodies never are.

Event files (``serve --events``, :meth:`.events.EventStore.from_files`), each recognised by its
content: JSON Lines (or one JSON array) of Splunk CIM rows, optionally gzip-compressed; raw
flat Windows events as JSON Lines (the OTRF shape: ``EventID`` with ``Channel``/``SourceName``,
no ``_time``); OTRF ``.zip`` archives read in place (e.g. ``../shared/data/otrf/*.zip``);
``.evtx`` files.  Raw events become the rows the Splunk Add-ons for Sysmon / Windows would show
(:mod:`stixgraph.splunk.cim`: Sysmon 1/3/5/11/12/13/14/22 and Security
4624/4634/4688/4720/4732/4798; other events are dropped).  A directory stands for its event
files, a quoted glob for its matches.  Converting archives costs seconds per file on every
start; to convert once and reuse the rows: ``python -m stixgraph.splunk.cim IN... -o
rows.jsonl.gz``.
"""
from __future__ import annotations

import base64
import errno
import hmac
import http.server
import ipaddress
import itertools
import json
import logging
import os
import random
import re
import secrets
import shlex
import signal
import socket
import ssl
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable
from urllib.parse import parse_qs, unquote, urlsplit

import click
import orjson

from ..errors import StixgraphError

log = logging.getLogger(__name__)

LOOPBACK_NAMES = ("localhost",)
_PROFILE = re.compile(r"[A-Za-z0-9_]+\Z")
_SERVER_VERSION = "9.1.2"


class EmulatorError(StixgraphError):
    """The emulator cannot start (port taken, bad host, bad certificate directory...)."""


# -- certificate --------------------------------------------------------------------------
CERT_FILE = "splunk-emulator-cert.pem"
KEY_FILE = "splunk-emulator-key.pem"
_CERT_DAYS = 825
_CERT_MIN_LEFT = timedelta(days=1)


def _san_names(hosts) -> tuple[set[str], set[str]]:
    dns, ips = {"localhost"}, {"127.0.0.1"}
    for h in hosts:
        if not h:
            continue
        try:
            ip = ipaddress.ip_address(h)
        except ValueError:
            dns.add(h.lower())
        else:
            if not ip.is_unspecified:
                ips.add(str(ip))
    return dns, ips


def _cert_covers(pem: bytes, dns: set[str], ips: set[str]) -> bool:
    from cryptography import x509

    try:
        cert = x509.load_pem_x509_certificate(pem)
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except Exception:  # noqa: BLE001 - an unreadable file is regenerated
        return False
    now = datetime.now(timezone.utc)
    if not (cert.not_valid_before_utc <= now and cert.not_valid_after_utc - now > _CERT_MIN_LEFT):
        return False
    have_dns = {n.lower() for n in san.get_values_for_type(x509.DNSName)}
    have_ips = {str(i) for i in san.get_values_for_type(x509.IPAddress)}
    return dns <= have_dns and ips <= have_ips


def make_certificate(directory, *, hosts=()) -> tuple[Path, Path, str]:
    """A self-signed certificate for the emulator in ``directory``: ``(cert_path, key_path,
    pem_text)``.  EC P-256, SAN ``DNS:localhost, IP:127.0.0.1`` (plus ``hosts``), valid from a
    minute ago.  Generated once and reused while it is valid and covers the names; the key file
    is readable by its owner only."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    directory = Path(directory)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise EmulatorError(f"cannot create the certificate directory {directory}: {e}") from None
    cert_path, key_path = directory / CERT_FILE, directory / KEY_FILE
    dns, ips = _san_names(hosts)
    if cert_path.is_file() and key_path.is_file():
        pem = cert_path.read_bytes()
        if _cert_covers(pem, dns, ips):
            return cert_path, key_path, pem.decode("ascii")

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "stixgraph Splunk emulator"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "stixgraph")])
    now = datetime.now(timezone.utc)
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    san = [x509.DNSName(d) for d in sorted(dns)] + \
          [x509.IPAddress(ipaddress.ip_address(i)) for i in sorted(ips)]
    cert = (x509.CertificateBuilder()
            .subject_name(name).issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=1))
            .not_valid_after(now + timedelta(days=_CERT_DAYS))
            .add_extension(x509.SubjectAlternativeName(san), critical=False)
            # a trust anchor for itself: CA, with the key usages strict verifiers ask for
            # (Python 3.13 turns on VERIFY_X509_STRICT by default)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                         key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, key_cert_sign=True, crl_sign=False,
                                         encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(ski, critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski),
                           critical=False)
            .sign(key, hashes.SHA256()))
    pem = cert.public_bytes(serialization.Encoding.PEM)
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    tmp_key = key_path.with_suffix(".tmp")
    fd = os.open(tmp_key, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key_pem)
    os.replace(tmp_key, key_path)
    tmp_cert = cert_path.with_suffix(".tmp")
    tmp_cert.write_bytes(pem)
    os.replace(tmp_cert, cert_path)
    return cert_path, key_path, pem.decode("ascii")


def default_cert_dir() -> Path:
    """Where ``serve`` keeps its certificate, so exported connection lines survive restarts."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "stixgraph" / "splunk-emulator"


# -- faults -------------------------------------------------------------------------------
@dataclass
class Faults:
    """Trouble to inject.  Every field may be changed while the emulator runs.

    * ``latency``: seconds added before each response.
    * ``error_rate``: fraction (0..1) of requests answered ``error_status`` instead, drawn from a
      generator seeded with ``seed`` (the same seed and request order give the same failures).
    * ``error_status``: 500, 503 or 429.
    * ``expire_after`` / ``expire_after_requests``: session keys die this many seconds after
      login / after this many authenticated requests, used or not (then 401).
    * ``running_for`` / ``running_polls``: a job stays RUNNING this many seconds / status polls
      after its search finished; its results answer 204 meanwhile.
    * ``fail_login``: every login fails (401), even with the right password.
    """
    latency: float = 0.0
    error_rate: float = 0.0
    error_status: int = 503
    seed: int = 0
    expire_after: float | None = None
    expire_after_requests: int | None = None
    running_for: float = 0.0
    running_polls: int = 0
    fail_login: bool = False

    def __post_init__(self):
        self.check()

    def check(self) -> None:
        if not 0.0 <= self.error_rate <= 1.0:
            raise ValueError(f"error_rate must be between 0 and 1, not {self.error_rate}")
        if self.error_status not in (429, 500, 503):
            raise ValueError(f"error_status must be 429, 500 or 503, not {self.error_status}")
        if self.latency < 0 or self.running_for < 0 or self.running_polls < 0:
            raise ValueError("latency, running_for and running_polls cannot be negative")


# -- state --------------------------------------------------------------------------------
@dataclass
class _Session:
    user: str
    created: float
    last_used: float
    requests: int = 0


@dataclass
class _Job:
    sid: str
    search: str
    owner: str
    now: datetime
    created: float
    state: str = "QUEUED"          # QUEUED, PARSING, RUNNING, DONE, FAILED (the search itself)
    rows: list | None = None
    error: str | None = None
    finished_at: float | None = None
    polls: int = 0                 # status polls after the search finished
    finalized: bool = False
    cancelled: threading.Event = field(default_factory=threading.Event)
    computed: threading.Event = field(default_factory=threading.Event)
    last_access: float = 0.0
    run_duration: float = 0.0
    error_is_syntax: bool = False  # an SPLError (a 400 at creation), not a failure while running


class _Reply(Exception):
    """Raised by a route to answer at once."""

    def __init__(self, status: int, body: Any = None, headers: dict | None = None):
        self.status, self.body, self.headers = status, body, headers or {}


def _messages(kind: str, text: str) -> dict:
    return {"messages": [{"type": kind, "text": text}]}


# -- HTTP ---------------------------------------------------------------------------------
class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, addr, handler, emulator: "Emulator", family):
        self.address_family = family
        self.emulator = emulator
        super().__init__(addr, handler)

    def get_request(self):
        sock, addr = self.socket.accept()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # no 40 ms Nagle stalls
        # the TLS handshake happens in the handler thread (see _Handler.setup), so a client that
        # stalls or fails its handshake cannot hold up the accept loop
        tls = self.emulator._ssl.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return tls, addr

    def handle_error(self, request, client_address):  # noqa: D401 - quiet, to the logger
        log.debug("connection from %s failed", client_address[0], exc_info=True)


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "Splunkd"
    sys_version = ""
    timeout = 60

    def setup(self):
        self.request.settimeout(self.timeout)
        try:
            self.request.do_handshake()
        except (ssl.SSLError, OSError) as e:
            log.debug("TLS handshake with %s failed: %s", self.client_address[0], e)
            self._handshake_failed = True
        else:
            self._handshake_failed = False
        super().setup()

    def handle(self):
        if not self._handshake_failed:
            super().handle()

    def log_message(self, format, *args):  # noqa: A002 - BaseHTTPRequestHandler's signature
        pass  # our own request log is in _dispatch

    def do_GET(self):
        self._dispatch()

    do_POST = do_DELETE = do_PUT = do_HEAD = do_PATCH = do_GET

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            out = bytearray()
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(out)
                out += self.rfile.read(size)
                self.rfile.readline()
        n = int(self.headers.get("Content-Length") or 0)
        if n > 16 * 1024 * 1024:
            raise _Reply(413, _messages("ERROR", "Request body too large"))
        return self.rfile.read(n) if n > 0 else b""

    def _dispatch(self):
        emu: Emulator = self.server.emulator
        t0 = time.monotonic()
        split = urlsplit(self.path)
        path = unquote(split.path)
        status = 500
        try:
            try:
                body = self._read_body()
                params = {k: v[-1] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
                ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
                if body and ctype in ("", "application/x-www-form-urlencoded"):
                    text = body.decode("utf-8", "replace")
                    params.update({k: v[-1] for k, v in
                                   parse_qs(text, keep_blank_values=True).items()})
                emu._inject_faults()
                emu._route(self.command, path, params, self.headers)
                raise _Reply(404, _messages("ERROR", "Not Found"))  # _route always raises
            except _Reply as r:
                reply = r
            except (ValueError, UnicodeError) as e:
                reply = _Reply(400, _messages("ERROR", f"Bad request: {e}"))
        except Exception:  # noqa: BLE001 - a bug in the emulator must still answer
            log.exception("%s %s: internal error", self.command, path)
            reply = _Reply(500, _messages("ERROR", "Internal server error"))
        status = reply.status
        latency = emu.faults.latency
        if latency > 0:
            time.sleep(latency)
        self._send(reply)
        log.info("%s %s %d %.1fms", self.command, path, status, (time.monotonic() - t0) * 1000)

    def _send(self, reply: _Reply):
        if reply.status == 204 or reply.body is None:
            data = b""
        else:
            data = orjson.dumps(reply.body, default=str)
        self.send_response(reply.status)
        if data:
            self.send_header("Content-Type", "application/json; charset=UTF-8")
        for k, v in reply.headers.items():
            self.send_header(k, v)
        if reply.status != 204:
            self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        if data and self.command != "HEAD":
            self.wfile.write(data)


# -- the emulator -------------------------------------------------------------------------
class Emulator:
    """Splunk's REST search API on ``store``, over HTTPS.

    ``store`` is an :class:`~stixgraph.splunk.events.EventStore` (or anything with
    ``search(spl, now=)``), or an iterable of CIM rows (an EventStore is built with ``tz``).
    ``now``: the clock for relative times (``earliest="-5minutes"``), a datetime (pinned) or a
    callable returning one; default the wall clock.  ``cert_dir``: where the certificate lives
    (reused across runs); default a temporary directory removed by :meth:`stop`.
    """

    def __init__(self, store, *, host: str = "127.0.0.1", port: int = 0,
                 username: str = "admin", password: str = "changeme", tz: str = "UTC",
                 faults: Faults | None = None, cert_dir=None,
                 now: datetime | Callable[[], datetime] | None = None,
                 session_ttl: float = 3600.0, job_ttl: float = 600.0, max_workers: int = 4,
                 dispatch_wait: float = 2.0):
        if not hasattr(store, "search"):
            from .events import EventStore

            store = EventStore(store, tz=tz)
        self.store = store
        self.host = host
        self._port = port
        self.username = username
        self._password = password
        self.tz = tz
        self.faults = faults if faults is not None else Faults()
        self.cert_dir = Path(cert_dir) if cert_dir is not None else None
        self._now = now
        self.session_ttl = session_ttl
        self.job_ttl = job_ttl
        self.dispatch_wait = dispatch_wait
        self._max_workers = max_workers
        self._sessions: dict[str, _Session] = {}
        self._jobs: dict[str, _Job] = {}
        self._lock = threading.Lock()
        self._rng = random.Random(self.faults.seed)
        self._rng_key = (id(self.faults), self.faults.seed)
        self._rng_lock = threading.Lock()
        self._sid_counter = itertools.count(1)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._tmpdir: tempfile.TemporaryDirectory | None = None
        self.ca_pem: str | None = None
        self.cert_path: Path | None = None

    # -- lifecycle ----------------------------------------------------------------------
    def start(self) -> "Emulator":
        if self._server is not None:
            return self
        if self.cert_dir is None:
            self._tmpdir = tempfile.TemporaryDirectory(prefix="stixgraph-splunk-emu-")
            cdir = Path(self._tmpdir.name)
        else:
            cdir = self.cert_dir
        names = [self.host]
        if self.host in ("0.0.0.0", "::", ""):  # all interfaces: the machine's names too
            names += [socket.gethostname(), socket.getfqdn()]
        cert_path, key_path, pem = make_certificate(cdir, hosts=names)
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(cert_path, key_path)
        self._ssl = ctx
        self.cert_path, self.ca_pem = cert_path, pem
        try:
            infos = socket.getaddrinfo(self.host, self._port, type=socket.SOCK_STREAM)
        except socket.gaierror as e:
            raise EmulatorError(f"cannot resolve host {self.host!r}: {e.strerror}") from None
        family, _, _, _, addr = infos[0]
        try:
            self._server = _Server(addr[:2], _Handler, self, family)
        except OSError as e:
            if e.errno == errno.EADDRINUSE:
                raise EmulatorError(f"port {self._port} on {self.host} is already in use "
                                    f"(choose another with --port, or 0 for any free port)") from None
            if e.errno == errno.EACCES:
                raise EmulatorError(f"no permission to listen on {self.host}:{self._port} "
                                    f"(ports below 1024 need privileges)") from None
            raise EmulatorError(f"cannot listen on {self.host}:{self._port}: {e.strerror}") from None
        self._pool = ThreadPoolExecutor(max_workers=self._max_workers,
                                        thread_name_prefix="splunk-emu-job")
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.1},
                                        name="splunk-emulator", daemon=True)
        self._thread.start()
        log.info("Splunk emulator listening on %s", self.url)
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
            self._thread.join(5)
        if self._pool is not None:
            with self._lock:
                for job in self._jobs.values():
                    job.cancelled.set()
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
        if self._tmpdir is not None:
            self._tmpdir.cleanup()
            self._tmpdir = None

    def __enter__(self) -> "Emulator":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- what clients need --------------------------------------------------------------
    @property
    def port(self) -> int:
        if self._server is None:
            raise EmulatorError("the emulator is not running")
        return self._server.server_address[1]

    @property
    def client_host(self) -> str:
        """The host name clients use (covered by the certificate)."""
        try:
            ip = ipaddress.ip_address(self.host)
        except ValueError:
            return self.host
        if ip.is_unspecified:
            return "127.0.0.1" if ip.version == 4 else "::1"
        return self.host

    @property
    def url(self) -> str:
        h = self.client_host
        return f"https://{'[' + h + ']' if ':' in h else h}:{self.port}"

    def connection(self, options: dict | None = None) -> dict:
        """stix-shifter's connection dict (a fresh copy each call: stix-shifter mutates it)."""
        return {"host": self.client_host, "port": self.port, "selfSignedCert": self.ca_pem,
                "options": dict(options or {})}

    def configuration(self) -> dict:
        return {"auth": {"username": self.username, "password": self._password}}

    def env_lines(self, profile: str = "splunk", options: dict | None = None) -> list[str]:
        """``STIXSHIFTER_<PROFILE>_CONNECTOR/_CONNECTION/_CONFIG=...`` lines, shell-quoted (for
        ``export``); Kestrel's and stixgraph's profile variables.  They hold the password."""
        if not _PROFILE.match(profile or ""):
            raise ValueError(f"bad profile name {profile!r} (letters, digits, _)")
        p = f"STIXSHIFTER_{profile.upper()}_"
        return [f"{p}CONNECTOR=splunk",
                f"{p}CONNECTION={shlex.quote(json.dumps(self.connection(options)))}",
                f"{p}CONFIG={shlex.quote(json.dumps(self.configuration()))}"]

    # -- inspection (tests, demos) ------------------------------------------------------
    def jobs(self) -> list[str]:
        with self._lock:
            return list(self._jobs)

    def sessions(self) -> int:
        with self._lock:
            return len(self._sessions)

    def now(self) -> datetime:
        n = self._now
        t = n() if callable(n) else n
        if t is None:
            return datetime.now(timezone.utc)
        return t if t.tzinfo else t.replace(tzinfo=timezone.utc)

    # -- request handling (called from handler threads) ---------------------------------
    def _inject_faults(self) -> None:
        f = self.faults
        if f.error_rate <= 0:
            return
        with self._rng_lock:
            # a new Faults object or a new seed restarts the draw: same seed, same failures
            if (id(f), f.seed) != self._rng_key:
                self._rng, self._rng_key = random.Random(f.seed), (id(f), f.seed)
            hit = self._rng.random() < f.error_rate
        if hit:
            status = f.error_status
            text = {429: "Too many requests", 500: "Internal server error",
                    503: "Service Unavailable"}.get(status, "Error")
            raise _Reply(status, _messages("ERROR", text),
                         {"Retry-After": "1"} if status in (429, 503) else None)

    def _route(self, method: str, path: str, params: dict, headers) -> None:
        m = re.match(r"/servicesNS/[^/]+/[^/]+(/.*)?\Z", path)
        if m:
            path = "/services" + (m.group(1) or "/")
        path = path.rstrip("/") or "/"
        if path == "/services/auth/login":
            if method != "POST":
                raise _Reply(405, _messages("ERROR", "Method not allowed"), {"Allow": "POST"})
            self._login(params)
        if not (path == "/services" or path.startswith("/services/")):
            raise _Reply(404, _messages("ERROR", "Not Found"))
        user = self._authenticate(headers)
        if path == "/services":
            if method not in ("GET", "HEAD"):
                raise _Reply(405, _messages("ERROR", "Method not allowed"))
            raise _Reply(200, self._feed("services", [
                self._entry(n, {}) for n in ("alerts", "apps", "authentication", "authorization",
                                             "data", "licenser", "messages", "saved", "search",
                                             "server", "storage")]))
        if path == "/services/server/info":
            raise _Reply(200, self._feed("server-info", [self._entry("server-info", {
                "serverName": "stixgraph-splunk-emulator", "version": _SERVER_VERSION,
                "build": "emulator", "timezone": self.tz, "product_type": "enterprise"})]))
        if path == "/services/search/jobs":
            if method != "POST":
                raise _Reply(405, _messages("ERROR", "Method not allowed"), {"Allow": "POST"})
            self._create_job(user, params)
        m = re.match(r"/services/search/(?:v2/)?jobs/([^/]+)(/results|/control)?\Z", path)
        if m:
            sid, sub = m.group(1), m.group(2)
            if sub == "/results":
                if method not in ("GET", "HEAD"):
                    raise _Reply(405, _messages("ERROR", "Method not allowed"))
                self._results(sid, params)
            if sub == "/control":
                if method != "POST":
                    raise _Reply(405, _messages("ERROR", "Method not allowed"))
                self._control(sid, params)
            if method in ("GET", "HEAD"):
                self._status(sid)
            if method == "DELETE":
                self._delete(sid)
            raise _Reply(405, _messages("ERROR", "Method not allowed"))
        raise _Reply(404, _messages("ERROR", "Not Found"))

    # auth
    def _login(self, params: dict) -> None:
        user, pw = params.get("username", ""), params.get("password", "")
        ok = (hmac.compare_digest(user.encode(), self.username.encode())
              & hmac.compare_digest(pw.encode(), self._password.encode()))
        if not ok or self.faults.fail_login:
            raise _Reply(401, _messages("WARN", "Login failed"))
        key = secrets.token_urlsafe(32)
        t = time.monotonic()
        with self._lock:
            self._expire_sessions(t)
            self._sessions[key] = _Session(user, t, t)
        raise _Reply(200, {"sessionKey": key, "message": "", "code": ""})

    def _expire_sessions(self, t: float) -> None:
        dead = [k for k, s in self._sessions.items() if not self._session_alive(s, t)]
        for k in dead:
            del self._sessions[k]

    def _session_alive(self, s: _Session, t: float) -> bool:
        f = self.faults
        if t - s.last_used > self.session_ttl:
            return False
        if f.expire_after is not None and t - s.created > f.expire_after:
            return False
        if f.expire_after_requests is not None and s.requests >= f.expire_after_requests:
            return False
        return True

    def _authenticate(self, headers) -> str:
        auth = headers.get("Authorization") or ""
        scheme, _, cred = auth.strip().partition(" ")
        scheme, cred = scheme.lower(), cred.strip()
        if scheme in ("splunk", "bearer") and cred:
            t = time.monotonic()
            with self._lock:
                s = self._sessions.get(cred)
                if s is not None and self._session_alive(s, t):
                    s.last_used = t
                    s.requests += 1
                    return s.user
                self._sessions.pop(cred, None)
        elif scheme == "basic" and cred:
            try:
                user, _, pw = base64.b64decode(cred, validate=True).decode("utf-8").partition(":")
            except (ValueError, UnicodeError):
                user, pw = "", ""
            if (hmac.compare_digest(user.encode(), self.username.encode())
                    & hmac.compare_digest(pw.encode(), self._password.encode())):
                return user
        raise _Reply(401, _messages("WARN", "call not properly authenticated"),
                     {"WWW-Authenticate": 'Basic realm="/splunk"'})

    # jobs
    def _create_job(self, user: str, params: dict) -> None:
        spl = params.get("search")
        if spl is None or not spl.strip():
            raise _Reply(400, _messages("FATAL", "Empty search."))
        t = time.monotonic()
        sid = f"{int(time.time())}.{next(self._sid_counter)}"
        job = _Job(sid=sid, search=spl, owner=user, now=self.now(), created=t, last_access=t)
        with self._lock:
            self._purge_jobs(t)
            self._jobs[sid] = job
        pool = self._pool
        if pool is None:
            raise _Reply(503, _messages("ERROR", "Service Unavailable"))
        pool.submit(self._run_job, job)
        # wait a little so that a bad search is a 400 here, as in Splunk, not a failed job
        job.computed.wait(self.dispatch_wait)
        if job.error is not None and job.error_is_syntax:
            with self._lock:
                self._jobs.pop(sid, None)
            raise _Reply(400, _messages("FATAL", f"Error in 'search' command: {job.error}"))
        raise _Reply(201, {"sid": sid})

    def _run_job(self, job: _Job) -> None:
        SPLError = _spl_error()
        t0 = time.monotonic()
        try:
            if job.cancelled.is_set():
                return
            job.state = "PARSING"
            job.state = "RUNNING"
            rows = self.store.search(job.search, now=job.now)
            job.rows = [_jsonable_row(r) for r in rows]
            job.state = "DONE"
        except SPLError as e:
            job.error, job.error_is_syntax, job.state = str(e) or "invalid search", True, "FAILED"
        except Exception as e:  # noqa: BLE001 - the job fails, the server keeps going
            log.exception("search job %s failed", job.sid)
            job.error, job.state = f"{type(e).__name__}: {e}", "FAILED"
        finally:
            job.run_duration = time.monotonic() - t0
            job.finished_at = time.monotonic()
            job.computed.set()

    def _purge_jobs(self, t: float) -> None:
        dead = [sid for sid, j in self._jobs.items() if t - j.last_access > self.job_ttl]
        for sid in dead:
            self._jobs.pop(sid).cancelled.set()

    def _job(self, sid: str) -> _Job:
        with self._lock:
            job = self._jobs.get(sid)
            if job is not None:
                job.last_access = time.monotonic()
        if job is None:
            raise _Reply(404, _messages("FATAL", "Unknown sid."))
        return job

    def _dispatch_state(self, job: _Job, poll: bool) -> tuple[str, float]:
        """(dispatchState, doneProgress) as Splunk reports them, holding a finished job in
        RUNNING while ``Faults.running_for`` / ``running_polls`` say so."""
        if not job.computed.is_set():
            return (job.state if job.state != "DONE" else "RUNNING"), 0.0
        if job.state == "FAILED":
            return "FAILED", 1.0
        if job.finalized:
            return "DONE", 1.0
        f = self.faults
        held, progress = False, []
        if f.running_for > 0:
            elapsed = time.monotonic() - job.created
            if elapsed < f.running_for:
                held = True
                progress.append(elapsed / f.running_for)
        if f.running_polls > 0 and job.polls < f.running_polls:
            held = True
            progress.append(job.polls / f.running_polls)
        if poll and job.polls < 1_000_000:
            job.polls += 1
        if held:
            return "RUNNING", min(0.95, min(progress) if progress else 0.0)
        return "DONE", 1.0

    def _status(self, sid: str) -> None:
        job = self._job(sid)
        state, progress = self._dispatch_state(job, poll=True)
        done = state in ("DONE", "FAILED")
        n = len(job.rows or ()) if state == "DONE" else 0
        content = {
            "sid": sid, "dispatchState": state, "doneProgress": progress,
            "isDone": done, "isFailed": state == "FAILED", "isFinalized": job.finalized,
            "isPaused": False, "isSaved": False, "isZombie": False, "isRealTimeSearch": False,
            "resultCount": n, "eventCount": n, "scanCount": len(self.store) if done else 0,
            "eventAvailableCount": n, "resultIsStreaming": False,
            "runDuration": round(job.run_duration, 3) if done else 0,
            "messages": [{"type": "FATAL", "text": job.error}] if state == "FAILED" else [],
            "request": {"search": job.search}, "eventSearch": job.search,
            "ttl": int(self.job_ttl), "label": "", "provenance": "rest",
        }
        raise _Reply(200, self._feed("search", [self._entry(job.search, content, sid=sid,
                                                            author=job.owner)]))

    def _results(self, sid: str, params: dict) -> None:
        job = self._job(sid)
        state, _ = self._dispatch_state(job, poll=False)
        if state not in ("DONE", "FAILED"):
            raise _Reply(204)
        offset, count = _int_param(params, "offset", 0), _int_param(params, "count", 100)
        if count < 0:
            raise ValueError("count must be 0 or more")
        rows = job.rows or []
        if offset < 0:  # Splunk: a negative offset counts from the end
            offset = max(0, len(rows) + offset)
        page = rows[offset:] if count == 0 else rows[offset:offset + count]
        names: dict[str, None] = {}
        for r in page:
            names.update(dict.fromkeys(r))
        messages = [{"type": "FATAL", "text": job.error}] if state == "FAILED" else []
        raise _Reply(200, {"preview": False, "init_offset": offset, "messages": messages,
                           "fields": [{"name": n} for n in names], "results": page,
                           "highlighted": {}})

    def _delete(self, sid: str) -> None:
        job = self._job(sid)
        job.cancelled.set()
        with self._lock:
            self._jobs.pop(sid, None)
        raise _Reply(200, _messages("INFO", "Search job cancelled."))

    def _control(self, sid: str, params: dict) -> None:
        job = self._job(sid)
        action = params.get("action", "")
        if action == "cancel":
            self._delete(sid)
        if action == "finalize":
            job.finalized = True
            raise _Reply(200, _messages("INFO", "Search job finalized."))
        if action in ("pause", "unpause", "touch", "setttl", "setpriority", "save", "unsave"):
            raise _Reply(200, _messages("INFO", f"Search job {action} acknowledged."))
        raise _Reply(400, _messages("ERROR", f"Unknown action '{action}'."))

    # shapes
    def _feed(self, title: str, entries: list) -> dict:
        return {"links": {}, "origin": f"{self.url}/services/{title}",
                "updated": self.now().isoformat(timespec="seconds"),
                "generator": {"build": "emulator", "version": _SERVER_VERSION},
                "entry": entries,
                "paging": {"total": len(entries), "perPage": 0, "offset": 0}, "messages": []}

    def _entry(self, name: str, content: dict, *, sid: str | None = None,
               author: str = "system") -> dict:
        eid = f"{self.url}/services/search/jobs/{sid}" if sid else f"{self.url}/services/{name}"
        links = ({"alternate": f"/services/search/jobs/{sid}",
                  "results": f"/services/search/v2/jobs/{sid}/results",
                  "control": f"/services/search/jobs/{sid}/control"} if sid else {})
        return {"name": name, "id": eid, "updated": self.now().isoformat(timespec="seconds"),
                "links": links, "author": author, "acl": {}, "content": content}


def _spl_error() -> type:
    try:
        from .spl import SPLError
    except ImportError:  # the SPL engine is not there: an EventStore stand-in raises ValueError
        return ValueError
    return SPLError


def _int_param(params: dict, name: str, default: int) -> int:
    v = params.get(name)
    if v is None or v == "":
        return default
    try:
        return int(v)
    except ValueError:
        raise ValueError(f"{name} must be an integer, not {v!r}") from None


def _jsonable_row(row: dict) -> dict:
    return {k: v if isinstance(v, (str, list)) or v is None else str(v) for k, v in row.items()}


# -- command line -------------------------------------------------------------------------
def _parse_span(value: str | None, unit_words: tuple[str, ...], what: str):
    """'30', '30s', '2.5s' -> (30.0, None); '3polls' -> (None, 3)."""
    if value is None:
        return None, None
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(s|sec|seconds?|" + "|".join(unit_words) + r")?\s*",
                     value)
    if not m:
        raise click.BadParameter(f"{value!r}: expected seconds (e.g. 30s) or a count "
                                 f"(e.g. 3{unit_words[0]}) for {what}")
    n, unit = m.group(1), m.group(2) or "s"
    if unit in unit_words:
        if "." in n:
            raise click.BadParameter(f"{value!r}: a count must be a whole number")
        return None, int(n)
    return float(n), None


def _is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@click.group("splunk-emulator")
def cli():
    """An emulator of Splunk's REST search API (HTTPS, for stix-shifter's splunk module) on
    local event files."""


@cli.command("serve")
@click.option("--events", "events", multiple=True, metavar="FILE",
              help="Event file(s), each recognised by its content: JSON Lines of Splunk CIM "
                   "rows (.jsonl/.json[.gz]), raw Windows events as JSON Lines (OTRF shape), "
                   "OTRF .zip archives (read in place) or .evtx files; raw events are "
                   "converted to CIM rows as the Sysmon/Windows add-ons would.  A directory "
                   "means its event files; a quoted glob its matches.  May be given several "
                   "times; more files may follow as arguments.")
@click.argument("more", nargs=-1, metavar="[FILE]...")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8089, show_default=True, type=click.IntRange(0, 65535),
              help="Port (0: any free port).")
@click.option("--allow-remote", is_flag=True,
              help="Allow listening on a non-loopback address (the data is then reachable from "
                   "the network, protected only by the password).")
@click.option("--tz", default="UTC", show_default=True,
              help="The search user's time zone (how MM/DD/YYYY:HH:MM:SS times are read).")
@click.option("--username", default="admin", show_default=True,
              envvar="STIXGRAPH_SPLUNK_EMULATOR_USERNAME")
@click.option("--password", default="changeme", show_default=False,
              envvar="STIXGRAPH_SPLUNK_EMULATOR_PASSWORD",
              help="Password (default: changeme; better from $STIXGRAPH_SPLUNK_EMULATOR_PASSWORD).")
@click.option("--now", "now", metavar="TIMESTAMP",
              help="Pin the clock for relative times (earliest=-5minutes), e.g. "
                   "2024-12-12T17:00:00Z.")
@click.option("--profile", default="splunk", show_default=True,
              help="Profile name in the printed STIXSHIFTER_<PROFILE>_* lines.")
@click.option("--cert-dir", type=click.Path(file_okay=False),
              help="Where the certificate is kept (default: ~/.cache/stixgraph/splunk-emulator).")
@click.option("--session-ttl", default=3600.0, show_default=True, type=click.FloatRange(min=0),
              help="Seconds a session key lives without use.")
@click.option("--latency", default=0.0, type=click.FloatRange(min=0),
              help="Fault: seconds added to each response.")
@click.option("--error-rate", default=0.0, type=click.FloatRange(0, 1),
              help="Fault: fraction of requests answered --error-status.")
@click.option("--error-status", default=503, type=click.Choice(["429", "500", "503"]),
              show_default=True, help="Fault: the status of injected errors.")
@click.option("--seed", default=0, show_default=True, type=int,
              help="Fault: seed of the error draw (same seed, same failures).")
@click.option("--expire-after", metavar="SPAN",
              help="Fault: session keys die after SPAN seconds (30s) or requests (10requests).")
@click.option("--running-for", metavar="SPAN",
              help="Fault: jobs stay RUNNING for SPAN seconds (5s) or status polls (3polls).")
@click.option("--fail-login", is_flag=True, help="Fault: every login fails.")
@click.option("--env-file", type=click.Path(dir_okay=False),
              help="Also write the export lines to this file (mode 0600: it holds the password), "
                   "for `. FILE` from another shell.")
@click.option("-v", "--verbose", is_flag=True, help="Log each request on stderr.")
def serve(events, more, host, port, allow_remote, tz, username, password, now, profile, cert_dir,
          session_ttl, latency, error_rate, error_status, seed, expire_after, running_for,
          fail_login, env_file, verbose):
    """Serve event files as Splunk.  The STIXSHIFTER_<PROFILE>_* export lines go to stdout
    (everything else to stderr), e.g. ``... serve --events ev.jsonl > splunk.env &`` then
    ``. ./splunk.env``.  Runs until Ctrl-C."""
    files = list(events) + list(more)
    if not files:
        raise click.UsageError("give at least one event file (--events FILE)")
    if not _is_loopback(host) and not allow_remote:
        raise click.UsageError(f"{host} is not a loopback address: add --allow-remote to serve "
                               f"events to the network")
    if not _PROFILE.match(profile):
        raise click.BadParameter(f"{profile!r}: letters, digits and _ only", param_hint="--profile")
    pinned = None
    if now:
        try:
            pinned = datetime.fromisoformat(now.replace("Z", "+00:00"))
        except ValueError:
            raise click.BadParameter(f"{now!r} is not an ISO 8601 timestamp",
                                     param_hint="--now") from None
        if pinned.tzinfo is None:
            pinned = pinned.replace(tzinfo=timezone.utc)
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise click.BadParameter(f"{tz!r} is not a time zone (e.g. UTC, Europe/Paris)",
                                 param_hint="--tz") from None

    exp_s, exp_n = _parse_span(expire_after, ("requests", "request"), "--expire-after")
    run_s, run_n = _parse_span(running_for, ("polls", "poll"), "--running-for")
    faults = Faults(latency=latency, error_rate=error_rate, error_status=int(error_status),
                    seed=seed, expire_after=exp_s, expire_after_requests=exp_n,
                    running_for=run_s or 0.0, running_polls=run_n or 0, fail_login=fail_login)

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    saved = log.level, log.propagate
    log.addHandler(handler)
    log.setLevel(logging.INFO if verbose else logging.WARNING)
    log.propagate = False

    def restore():  # the logger is the module's: as it was once the command ends, however
        log.removeHandler(handler)
        log.setLevel(saved[0])
        log.propagate = saved[1]

    click.get_current_context().call_on_close(restore)

    from .events import EventStore

    def err(msg):
        click.echo(msg, err=True)

    t0 = time.monotonic()
    try:
        store = EventStore.from_files(files, tz=tz, on_file=lambda st: err(f"  {st}"))
    except (OSError, ValueError, StixgraphError) as e:
        raise click.ClickException(f"cannot load events: {e}") from None
    err(f"loaded {len(store)} events from {len(store.sources)} file(s) in "
        f"{time.monotonic() - t0:.1f}s")
    if not len(store):
        err("warning: no events loaded: every search will come back empty")
    emu = Emulator(store, host=host, port=port, username=username, password=password, tz=tz,
                   faults=faults, cert_dir=cert_dir or default_cert_dir(), now=pinned,
                   session_ttl=session_ttl)
    try:
        emu.start()
    except EmulatorError as e:
        raise click.ClickException(str(e)) from None
    def on_term(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    try:
        exports = [f"export {line}" for line in emu.env_lines(profile)]
        if env_file:
            fd = os.open(env_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write("\n".join(exports) + "\n")
        for line in exports:
            click.echo(line)
        sys.stdout.flush()
        err(f"Splunk emulator on {emu.url} (user {username}); certificate {emu.cert_path}"
            + (f"; clock pinned at {pinned.isoformat()}" if pinned else ""))
        err("Ctrl-C to stop")
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        err("stopping")
    finally:
        emu.stop()


if __name__ == "__main__":  # pragma: no cover
    cli()
