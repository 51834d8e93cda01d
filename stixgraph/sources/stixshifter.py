"""``stixshifter://PROFILE``: a GET answered by a stix-shifter connector (Splunk first).

One GET is one search:

1. **Query.**  The GET's WHERE and time range become one STIX pattern, validated
   (stix2-patterns) before anything is sent, and stix-shifter translates it into the
   connector's query language (:func:`build_queries`).  For Splunk, stixgraph fixes what
   stix-shifter gets wrong (research/stix-shifter.md §2):

   * *values*: stix-shifter pastes pattern literals into SPL between ``"…"`` without escaping,
     so a ``"`` or ``\\`` breaks (or changes) the search.  Each string value goes through the
     translator as an inert placeholder token and is put back as a correctly escaped SPL
     string; a placeholder found anywhere but alone inside quotes stops the GET;
   * *time*: stix-shifter writes START/STOP as ``MM/DD/YYYY:HH:MM:SS`` without a zone, which
     Splunk reads in the search user's zone, and drops the milliseconds.  They are replaced
     by epoch seconds (``earliest=1733011200.000``), which mean the same in every zone;
   * *no time range*: stix-shifter then searches the last 5 minutes (``time_range``); a GET
     without START/STOP/LAST searches all time unless the profile sets ``time_range``;
   * *unmapped attributes* (``process:parent_ref.name``) make stix-shifter refuse the whole
     pattern; they are left out of what is sent (the search gets wider, never narrower) and
     the engine applies the full WHERE to what comes back.

2. **Transmission** (:class:`_Search`), stix-shifter's async API on a thread of its own:
   create the job, poll its status with back-off, page through all results
   (``retrieval_batch_size`` rows a page, two requests in flight), retry 5xx / 429 /
   time-outs / lost connections with exponential back-off, log in again when the session has expired, delete the job at
   the end and when the GET is interrupted (Ctrl-C) or fails.  A result count that reaches
   ``result_limit`` (stix-shifter's ``| head``) is reported: the answer may be cut.

3. **Translation** of result rows to STIX observed-data (stix-shifter's STIX 2.0 output,
   never its lossy 2.1 de-duplication) and normalisation to the graph model, in worker
   processes for large pulls (:meth:`StixShifterSource.query_prepared`).  Each Splunk event
   gets one observed-data id whatever search returns it (its ``_bkt``/``_cd`` address, else
   its content: :func:`stixgraph.splunk.translate.event_key`), so a second GET or a prefetch
   that returns it again adds no second observation.

The source is a search service (``prefetch = True``): after a GET or FIND the session asks it
again for every record of the entities found (:data:`stixgraph.session.PREFETCH_ATTR`);
``connection.options.prefetch = false`` turns that off for a profile.

Errors are one line and name the profile: bad credentials, certificate failure, unreachable
host, invalid query, job failure.  The store is unchanged after any of them (the engine
ingests in one transaction).
"""
from __future__ import annotations

import asyncio
import copy
import logging
import queue
import re
import secrets
import threading
import time
import uuid
from dataclasses import replace
from datetime import datetime, timezone
from typing import Callable, Iterator

from .. import ir
from ..errors import DataSourceError
from ..stix.model import Observation
from ..stix.pattern import object_path, to_stix_pattern
from .base import DataSource, SourceQuery
from .profiles import Profile, load_profile

log = logging.getLogger(__name__)

EPOCH_START = datetime(1970, 1, 1, tzinfo=timezone.utc)
_NS = uuid.UUID("6ba7b811-9dad-11d1-80b4-00c04fd430c8")  # the URL namespace
# stix-shifter error codes that retrying cannot fix
_FINAL_CODES = {"authentication_fail", "certificate_fail", "invalid_query", "invalid_parameter",
                "mapping_error", "translation_error", "no_results", "not_implemented"}


def identity_for(profile: str) -> dict:
    """The identity SDO stix-shifter's results name as their source (stable per profile)."""
    return {"type": "identity", "id": f"identity--{uuid.uuid5(_NS, 'stixshifter://' + profile)}",
            "name": profile, "identity_class": "events"}


# -- query -------------------------------------------------------------------------------

def spl_string(value: str) -> str:
    """``value`` as a double-quoted SPL string: ``\\`` and ``"`` escaped, everything else
    literal (``|``, ``[``, ``]``, newlines are plain characters inside quotes)."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


class _Placeholders:
    """String values swapped for tokens the translator cannot misread, and back."""

    def __init__(self):
        self.nonce = secrets.token_hex(4)
        self.values: dict[str, str] = {}

    def token(self, value: str) -> str:
        tok = f"sgv{len(self.values)}x{self.nonce}"
        self.values[tok] = value
        return tok

    def swap(self, v):
        if isinstance(v, str):
            return self.token(v)
        if isinstance(v, (list, tuple)):
            return type(v)(self.swap(x) for x in v)
        return v

    def restore(self, text: str, where: str) -> str:
        for tok, value in self.values.items():
            quoted = f'"{tok}"'
            text = text.replace(quoted, spl_string(value))
            if tok in text:
                raise DataSourceError(f"{where}: the translated query uses a value outside a "
                                      f"quoted string; not sent (value {value!r})")
        if f"x{self.nonce}" in text:
            raise DataSourceError(f"{where}: the translated query altered a value; not sent")
        return text


def _map_values(e: ir.Expr | None, fn) -> ir.Expr | None:
    if e is None:
        return None
    if isinstance(e, ir.Comparison):
        return replace(e, value=fn(e.value)) if e.op not in ("IS NULL",) else e
    return type(e)(items=tuple(_map_values(x, fn) for x in e.items))


def _drop(e: ir.Expr | None, bad: set[str], centre: str) -> ir.Expr | None:
    """``e`` without the comparisons on ``bad`` paths, made wider: None means no condition."""
    if e is None:
        return None
    if isinstance(e, ir.Comparison):
        return None if object_path(e.path, centre) in bad else e
    items = [_drop(x, bad, centre) for x in e.items]
    if isinstance(e, ir.Or):
        if any(x is None for x in items):
            return None  # one branch unconstrained: the OR is
        return e if items == list(e.items) else ir.Or(items=tuple(items))
    items = [x for x in items if x is not None]
    if not items:
        return None
    if len(items) == 1:
        return items[0]
    return ir.And(items=tuple(items))


def _unmapped(error: str) -> set[str]:
    m = re.search(r"Unable to map the following STIX objects and properties: \[(.*?)\]", error)
    return set(re.findall(r"'([^']+)'", m.group(1))) if m else set()


def _comparisons(e: ir.Expr | None):
    if isinstance(e, ir.Comparison):
        yield e
    elif e is not None:
        for x in e.items:
            yield from _comparisons(x)


def _mapped_paths(connector: str, options: dict) -> set[str] | None:
    """``type:path`` of every STIX property the connector's query mapping knows (None when
    it cannot tell).  stix-shifter refuses an unmapped property inside AND but silently
    DROPS it inside OR, which narrows the search: so they are found before translating."""
    from stix_shifter.stix_translation.stix_translation import StixTranslation

    fs = (options.get("mapping") or {}).get("from_stix_map")
    if fs is None:
        r = StixTranslation().translate(connector, "mapping", None, None, {})
        fs = r.get("from_stix_map") if isinstance(r, dict) else None
    if not isinstance(fs, dict):
        return None
    return {f"{t}:{f}" for t, m in fs.items() if isinstance(m, dict)
            for f in (m.get("fields") or {})}


def _fmt_splunk(t: datetime) -> str:
    return t.astimezone(timezone.utc).strftime("%m/%d/%Y:%H:%M:%S")


def _epoch(t: datetime) -> str:
    return f"{(t - EPOCH_START).total_seconds():.3f}"


def _translate_query(connector: str, pattern: str, options: dict) -> list[str]:
    from stix_shifter.stix_translation.stix_translation import StixTranslation

    r = StixTranslation().translate(connector, "query", "{}", pattern, copy.deepcopy(options))
    if not isinstance(r, dict) or "queries" not in r:
        err = r.get("error", r) if isinstance(r, dict) else r
        code = r.get("code", "error") if isinstance(r, dict) else "error"
        raise _TranslateError(code, str(err))
    return [q if isinstance(q, str) else str(q) for q in r["queries"]]


class _TranslateError(Exception):
    def __init__(self, code: str, error: str):
        super().__init__(error)
        self.code, self.error = code, error


def validate_pattern(pattern: str) -> None:
    from stix2patterns.validator import run_validator

    errors = run_validator(pattern, stix_version="2.1")
    if errors:
        raise DataSourceError(f"invalid STIX pattern {pattern}: {errors[0]}")


def build_queries(profile: Profile, q: SourceQuery) -> tuple[str, list[str], list[str]]:
    """(the STIX pattern sent, the connector's queries, notes for the analyst)."""
    where, centre, notes = q.where, q.etype, []
    splunk = profile.connector.split(":")[0] == "splunk"
    options = profile.connection.get("options") or {}
    span = (q.start, q.stop) if q.start is not None and q.stop is not None else (None, None)
    known = _mapped_paths(profile.connector.split(":")[0], options)
    if known is not None and where is not None:
        bad = {p for p in (object_path(c.path, centre) for c in _comparisons(where))
               if p not in known}
        if bad:
            notes.append(_unmapped_note(profile, bad))
            where = _drop(where, bad, centre)
    for _ in range(8):  # each round drops the attributes the connector cannot map
        if where is None:
            raise DataSourceError(f"stixshifter://{profile.name}: nothing in this WHERE maps to "
                                  f"{profile.connector} fields; add a condition it can search")
        pattern = to_stix_pattern(where, centre, *span)
        validate_pattern(pattern)
        ph = _Placeholders() if splunk else None
        sent = to_stix_pattern(_map_values(where, ph.swap), centre, *span) if ph else pattern
        try:
            queries = _translate_query(profile.connector, sent, options)
        except _TranslateError as e:
            bad = _unmapped(e.error) if e.code == "mapping_error" else set()
            if not bad:
                raise DataSourceError(f"stixshifter://{profile.name}: cannot translate {pattern}:"
                                      f" {_short(e.error)}") from None
            notes.append(_unmapped_note(profile, bad))
            where = _drop(where, bad, centre)
            continue
        if splunk:
            queries = [_fix_splunk_time(ph.restore(x, f"stixshifter://{profile.name}"), span,
                                        "time_range" in options) for x in queries]
        return pattern, queries, notes
    raise DataSourceError(f"stixshifter://{profile.name}: cannot translate the WHERE")


def _unmapped_note(profile: Profile, bad: set[str]) -> str:
    return (f"{profile.connector} has no field for {', '.join(sorted(bad))}: searched without "
            "it, filtered here")


def _fix_splunk_time(spl: str, span, keep_relative: bool) -> str:
    start, stop = span
    if start is None:
        if not keep_relative:  # all time, not stix-shifter's last 5 minutes
            spl = re.sub(r' earliest="-\d+minutes"', "", spl)
        return spl
    a = f'earliest="{_fmt_splunk(start)}"'
    b = f'latest="{_fmt_splunk(stop)}"'
    if a not in spl or b not in spl:
        raise DataSourceError(f"unexpected time terms in the translated SPL: {spl[:200]}")
    return spl.replace(a, f"earliest={_epoch(start)}").replace(b, f"latest={_epoch(stop)}")


def _short(msg: str) -> str:
    msg = " ".join(str(msg).split())
    msg = re.sub(r"^\w+ connector error => ", "", msg)
    return msg[:300]


# -- transmission ------------------------------------------------------------------------

class _Failure(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


class _Search:
    """One search job, run on a thread with its own event loop; pages of result rows go to
    :attr:`pages` as ("rows", list) and end with ("done", total) or ("error", exc)."""

    def __init__(self, profile: Profile, query: str):
        self.p = profile
        self.query = query
        self.r = profile.retrieval
        self.pages: queue.Queue = queue.Queue(maxsize=4)
        self.stop = threading.Event()
        self.sid: str | None = None
        self.tx = None
        self.logins = 0
        self.thread = threading.Thread(target=self._main, daemon=True,
                                       name=f"stixshifter-{profile.name}")

    def where(self) -> str:
        return f"stixshifter://{self.p.name}"

    def start(self):
        self.thread.start()
        return self

    def close(self, wait: float = 15.0) -> None:
        """Stop fetching; the thread deletes the job (also when cut short)."""
        self.stop.set()
        try:
            while True:
                self.pages.get_nowait()
        except queue.Empty:
            pass
        self.thread.join(timeout=wait)

    def _put(self, item) -> bool:
        while not self.stop.is_set():
            try:
                self.pages.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def _main(self) -> None:
        loop = asyncio.new_event_loop()
        try:
            total = loop.run_until_complete(self._run())
            self._put(("done", total))
        except BaseException as e:  # noqa: BLE001 - goes to the consumer
            self._put(("error", e))
        finally:
            try:
                if self.sid is not None:
                    loop.run_until_complete(self._delete())
            finally:
                loop.close()

    def _login(self):
        from stix_shifter.stix_transmission.stix_transmission import StixTransmission

        self.logins += 1
        conn = copy.deepcopy(self.p.connection)
        conn.setdefault("options", {})["timeout"] = int(self.r["single_batch_timeout"])
        self.tx = StixTransmission(self.p.connector, conn, copy.deepcopy(self.p.configuration))
        if self.tx.init_error:
            raise DataSourceError(f"{self.where()}: {_short(self.tx.init_error)}")

    async def _call(self, what: str, fn: Callable, *args):
        """``fn(*args)`` on the current transmission, retried; returns the answer dict."""
        delay = self.r["retry_backoff"]
        relogged = False
        for attempt in range(self.r["retries"] + 1):
            if self.stop.is_set() and what != "delete":
                raise _Cancelled()
            r = await fn(self.tx)(*args)
            if r.get("success"):
                return r
            code, err = r.get("code", "unknown"), _short(r.get("error", r))
            if _is_auth(code, err):
                if _LOGIN_FAILED.search(err):
                    # stix-shifter words every failed login alike: ask the server which
                    status = self._login_status()
                    if status is None or status in (401, 403):
                        who = (self.p.configuration.get("auth") or {}).get("username")
                        raise _Failure("authentication_fail", f"user {who!r}: " + (
                            f"the server refused the login (HTTP {status})" if status else err))
                    self._login()  # the server was busy: a fresh transmission, then retry
                    code = "login_retry"
                elif self.logins and not relogged:
                    # the session expired (stix-shifter never logs in again): a new
                    # transmission, and the call again at once
                    log.info("%s: %s answered %s; logging in again", self.where(), what, err)
                    self._login()
                    relogged = True
                    continue
                else:
                    raise _Failure(code, err)
            if code in _FINAL_CODES or attempt == self.r["retries"]:
                raise _Failure(code, err)
            log.info("%s: %s failed (%s), retry in %.1fs", self.where(), what, err, delay)
            await self._sleep(delay, cancellable=what != "delete")
            delay *= 2
        raise _Failure("unknown", f"{what} failed")

    def _login_status(self) -> int | None:
        """The HTTP status of one login by this profile, asked directly (Splunk's
        ``/services/auth/login``); None when the server cannot be asked."""
        import http.client
        import ssl
        from urllib.parse import urlencode

        if self.p.connector.split(":")[0] != "splunk":
            return None
        conn, auth = self.p.connection, self.p.configuration.get("auth") or {}
        cert = conn.get("selfSignedCert")
        ctx = ssl.create_default_context(cadata=cert) if cert else ssl.create_default_context()
        body = urlencode({"username": auth.get("username", ""),
                          "password": auth.get("password", ""), "output_mode": "json"})
        c = http.client.HTTPSConnection(conn.get("host"), int(conn.get("port") or 8089),
                                        context=ctx, timeout=self.r["single_batch_timeout"])
        try:
            c.request("POST", "/services/auth/login", body,
                      {"Content-Type": "application/x-www-form-urlencoded"})
            resp = c.getresponse()
            resp.read()
            return resp.status
        except (OSError, http.client.HTTPException, ValueError):
            return None
        finally:
            c.close()

    async def _sleep(self, s: float, cancellable: bool = True) -> None:
        end = time.monotonic() + s
        while time.monotonic() < end:
            if cancellable and self.stop.is_set():
                raise _Cancelled()
            await asyncio.sleep(min(0.1, end - time.monotonic()))

    async def _run(self) -> int:
        try:
            self._login()
            r = await self._call("create", lambda t: t.query_async, self.query)
            self.sid = r["search_id"]
            await self._wait()
            return await self._fetch()
        except _Failure as f:
            raise DataSourceError(f"{self.where()}: {_explain(f.code, str(f))}") from None
        except _Cancelled:
            return -1

    async def _wait(self) -> None:
        delay, deadline = 0.05, time.monotonic() + self.r["job_timeout"]
        while True:
            r = await self._call("status", lambda t: t.status_async, self.sid)
            status = r.get("status")
            if status == "COMPLETED":
                return
            if status in ("ERROR", "CANCELED"):
                raise _Failure("job", f"search job {self.sid} ended with {status}")
            if time.monotonic() > deadline:
                raise _Failure("job", f"search job {self.sid} still running after "
                                      f"{self.r['job_timeout']:.0f} s (job_timeout)")
            await self._sleep(delay)
            delay = min(delay * 1.6, 2.0)

    async def _fetch(self) -> int:
        """Pages in order, two requests in flight: the server prepares the next page while
        this side reads the last one."""
        n, size, offset = 0, self.r["retrieval_batch_size"], 0
        inflight: list[asyncio.Future] = []
        done = False
        try:
            while not done:
                while len(inflight) < 2:
                    inflight.append(asyncio.ensure_future(self._call(
                        "results", lambda t: t.results_async, self.sid, offset, size)))
                    offset += size
                r = await inflight.pop(0)
                rows = r.get("data") or []
                if rows and not self._put(("rows", rows)):
                    raise _Cancelled()
                n += len(rows)
                done = len(rows) < size
            return n
        finally:
            if not done:  # stopped early: drop what is in flight
                for f in inflight:
                    f.cancel()
            # at the end, the request past it is let finish (an empty page): cancelling it
            # mid-flight leaks stix-shifter's HTTP client
            await asyncio.gather(*inflight, return_exceptions=True)

    async def _delete(self) -> None:
        sid, self.sid = self.sid, None
        try:
            await asyncio.wait_for(self._call("delete", lambda t: t.delete_async, sid),
                                   timeout=30)
        except Exception as e:  # noqa: BLE001 - clean-up must not hide the real outcome
            log.info("%s: deleting job %s: %s", self.where(), sid, e)


class _Cancelled(Exception):
    pass


_LOGIN_FAILED = re.compile(r"getting auth token", re.I)


def _is_auth(code: str, err: str) -> bool:
    return code == "authentication_fail" or bool(
        re.search(r"\b401\b|not properly authenticated|session (has )?expired|"
                  r"authenticat\w* (error|fail)", err, re.I))


def _explain(code: str, err: str) -> str:
    if code == "authentication_fail" or _is_auth(code, err):
        return f"login failed (check the profile's config.auth): {err}"
    if code == "certificate_fail" or "certificate" in err.lower():
        return ("TLS certificate not trusted (give the server's certificate as "
                f"connection.selfSignedCert, or SSL_CERT_FILE): {err}")
    if code == "service_unavailable" or "cannot connect" in err.lower() or "invalid host" in \
            err.lower():
        return f"cannot reach the server (host, port, network?): {err}"
    if code == "invalid_query":
        return f"the server rejected the query: {err}"
    return err


# -- translation -------------------------------------------------------------------------

class ResultTranslator:
    """Result rows (as the connector's transmission returns them) to observations: STIX 2.0
    observed-data by stix-shifter's mapping, then :func:`normalize_observed_data`.  For
    Splunk, stixgraph's compiled translator of the same ``to_stix_map.json``
    (:mod:`stixgraph.splunk.translate`) does it faster; ``fast_translation = false`` in the
    profile's options uses stix-shifter's own."""

    def __init__(self, profile: Profile):
        self.connector = profile.connector.split(":")[0]
        self.identity = identity_for(profile.name)
        opts = dict(profile.connection.get("options") or {})
        opts["stix_2.1"] = False  # its 2.1 output de-duplicates lossily (research §4)
        self.options = opts
        self.fast = None
        if profile.retrieval.get("fast_translation") and self.connector == "splunk":
            try:
                from ..splunk.translate import Translator
            except ImportError:  # pragma: no cover - shipped with stixgraph
                Translator = None
            if Translator is not None:
                mapping = (opts.get("mapping") or {}).get("to_stix_map")
                # one id per Splunk event, whatever search (GET, prefetch) returns it
                self.fast = Translator(mapping, identity=self.identity, options=opts)
                self.fast.id_factory = self.fast.content_id

    def observed_data(self, rows: list[dict]) -> list[dict]:
        if self.fast is not None:
            return self.fast.translate(rows)
        from stix_shifter.stix_translation.stix_translation import StixTranslation

        r = StixTranslation().translate(self.connector, "results", copy.deepcopy(self.identity),
                                        rows, copy.deepcopy(self.options))
        if not isinstance(r, dict) or "objects" not in r:
            err = r.get("error", r) if isinstance(r, dict) else r
            raise DataSourceError(f"stix-shifter {self.connector}: cannot translate results: "
                                  f"{_short(err)}")
        ods = [o for o in r["objects"] if o.get("type") == "observed-data"]
        if self.connector == "splunk" and len(ods) == len(rows):  # one per row, in order
            from ..splunk.translate import event_id

            for od, row in zip(ods, rows):  # its ids are random: one id per Splunk event
                od["id"] = event_id(self.identity["id"], row)
        return ods

    def observations(self, rows: list[dict]) -> list[Observation]:
        from ..stix.normalize import normalize_observed_data

        return [normalize_observed_data(od) for od in self.observed_data(rows)]


_WORKER: dict = {}


def _worker_init(translator: ResultTranslator, prepare) -> None:
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's business
    _WORKER["tr"], _WORKER["prepare"] = translator, prepare


def _worker_page(rows: list[dict]):
    return _WORKER["prepare"](_WORKER["tr"].observations(rows))


# -- the data source ---------------------------------------------------------------------

class StixShifterSource(DataSource):
    schemes = ("stixshifter",)

    def __init__(self, uri: str, config: dict | None = None):
        super().__init__(uri, config)
        name = uri.split("://", 1)[1].strip("/") if "://" in uri else uri
        self.profile = load_profile(name)
        self.prefetch = self.profile.retrieval["prefetch"]  # a bool (load_profile checks)
        self.publish = self.profile.retrieval["publish"]
        self.notes: list[str] = []  # for the analyst, after the GET
        self.stats: dict = {}

    def query(self, q: SourceQuery, progress: Callable[[int], None] | None = None
              ) -> Iterator[Observation]:
        tr = ResultTranslator(self.profile)
        pages = self._pages(q, progress)
        try:
            for chunk in pages:
                yield from tr.observations(chunk)
        finally:
            pages.close()  # stops the search (and deletes its job) at once

    def query_prepared(self, q: SourceQuery, prepare: Callable[[list], object],
                       progress: Callable[[int], None] | None = None, split: bool = True):
        """The pages as ``prepare(observations)`` chunks, in order.  From the second page on,
        translation runs in worker processes (``workers`` in the profile's options; default
        one per CPU), while this process fetches and the store writes."""
        from .parallel import fork_available, usable_cpus

        workers = self.profile.retrieval.get("workers")
        workers = usable_cpus() if workers is None else int(workers)
        if workers < 1 or not fork_available():
            return None
        return self._prepared(q, prepare, progress, workers)

    def _prepared(self, q, prepare, progress, workers: int):
        import multiprocessing
        from collections import deque
        from concurrent.futures import ProcessPoolExecutor

        tr = ResultTranslator(self.profile)
        pool = None
        first = None  # a one-page answer is not worth the processes
        pending: deque = deque()
        pages = self._pages(q, progress)
        try:
            for rows in pages:
                if pool is None:
                    if first is None:
                        first = rows
                        continue
                    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context(
                        "fork"), initializer=_worker_init, initargs=(tr, prepare))
                    pending.append(pool.submit(_worker_page, first))
                    first = None
                pending.append(pool.submit(_worker_page, rows))
                while len(pending) > 2 * workers or (pending and pending[0].done()):
                    yield pending.popleft().result()
            if first is not None:
                yield prepare(tr.observations(first))
            while pending:
                yield pending.popleft().result()
        finally:
            pages.close()
            if pool is not None:
                for f in pending:
                    f.cancel()
                pool.shutdown(wait=True, cancel_futures=True)

    def _pages(self, q: SourceQuery, progress) -> Iterator[list[dict]]:
        pattern, queries, notes = build_queries(self.profile, q)
        self.notes.extend(notes)
        self.stats.update(pattern=pattern, queries=queries, rows=0)
        limit = (self.profile.connection.get("options") or {}).get("result_limit", 10000)
        for spl in queries:
            log.info("stixshifter://%s: %s", self.profile.name, spl)
            search = _Search(self.profile, spl).start()
            got = 0
            try:
                while True:
                    kind, val = search.pages.get()
                    if kind == "rows":
                        got += len(val)
                        self.stats["rows"] += len(val)
                        if progress:
                            progress(self.stats["rows"])
                        yield val
                    elif kind == "error":
                        raise val
                    else:
                        break
            finally:
                search.close()
            if limit and got >= int(limit):
                self.notes.append(f"the answer reached result_limit ({limit} rows) and may be "
                                  "cut: raise connection.options.result_limit")
