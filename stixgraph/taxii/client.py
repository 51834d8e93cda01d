"""A TAXII 2.1 client for stixgraph, on taxii2-client.

* :func:`publish` sends STIX 2.1 objects to a collection: objects the collection already
  holds (same id, and same ``modified``/``created`` when the object has one) are skipped after
  asking the collection's manifest, so publishing the same objects again adds nothing and
  reports no failure (medallion would keep no second copy either, but answers each duplicate
  with a *failure*); the rest go in envelopes cut by their serialized size to the API root's
  ``max_content_length``; each envelope's status resource is polled with back-off until
  ``complete``; objects that failed are checked against the manifest again and the others are
  sent once more; :class:`PublishReport` tells what succeeded, was already there, failed (with
  the server's message per object) or is still pending.
* :func:`fetch` yields a collection's objects (``added_after`` and ``match[type]`` sent to the
  server), following ``more``/``next``, or ``X-TAXII-Date-Added-Last`` when a server says
  ``more`` without ``next``.
* :func:`observations_to_stix`: stixgraph observations as STIX 2.1 objects (observed-data with
  ``object_refs`` + the SCOs, ids kept).

Collections are named by their TAXII URL (``https://HOST/API_ROOT/collections/ID/``) or by
the data-source form (:func:`collection_url`): ``taxii://HOST[:PORT]/API_ROOT/ID/`` (HTTPS),
``taxii+http://...`` (plain HTTP, for a server on loopback), ``taxii+https://...``.

Credentials (:func:`credentials`): ``STIXGRAPH_TAXII_TOKEN`` (a bearer token), else
``STIXGRAPH_TAXII_USER`` + ``STIXGRAPH_TAXII_PASSWORD`` (HTTP Basic), else the ``[taxii]``
table of the config file (``$STIXGRAPH_CONFIG`` or ``~/.config/stixgraph/config.toml``:
``user``, ``password``, ``token``).  They are never logged, shown or put in an error.

Every failure is a :class:`TaxiiError`: one line naming the URL (without credentials or
query) and what went wrong: unreachable, authentication refused (401), access denied (403),
no such API root or collection (404), envelope too large (413), not a TAXII 2.1 answer.
"""
from __future__ import annotations

import logging
import os
import re
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Iterable, Iterator
from urllib.parse import urljoin, urlsplit, urlunsplit

import orjson
import requests

from ..errors import DataSourceError
from ..stix.model import SPEC_VERSION
from ..stix.normalize import NON_SCO_TYPES

log = logging.getLogger(__name__)

ENV_USER = "STIXGRAPH_TAXII_USER"
ENV_PASSWORD = "STIXGRAPH_TAXII_PASSWORD"
ENV_TOKEN = "STIXGRAPH_TAXII_TOKEN"
TAXII_MEDIA = "application/taxii+json;version=2.1"
DEFAULT_TIMEOUT = 60.0
MANIFEST_BATCH = 40  # ids per manifest query (keeps the URL short)


class TaxiiError(DataSourceError):
    """A TAXII request failed; ``str()`` is one line naming the URL, never a credential."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


# -- credentials -------------------------------------------------------------------------

@dataclass(frozen=True)
class Credentials:
    user: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)
    origin: str = ""  # where they came from (for messages)

    def auth(self) -> requests.auth.AuthBase | None:
        if self.token:
            return _Bearer(self.token)
        if self.user is not None:
            return requests.auth.HTTPBasicAuth(self.user, self.password or "")
        return None

    def __repr__(self) -> str:  # never the values
        kind = "token" if self.token else "basic" if self.user is not None else "none"
        return f"Credentials({kind}, from {self.origin or 'nowhere'})"

    __str__ = __repr__


class _Bearer(requests.auth.AuthBase):
    def __init__(self, token: str):
        self._token = token

    def __call__(self, r):
        r.headers["Authorization"] = f"Bearer {self._token}"
        return r

    def __repr__(self) -> str:
        return "Bearer(<hidden>)"


def credentials(config: dict | None = None) -> Credentials | None:
    """The credentials to use: the environment, else ``config`` (a dict with ``user``,
    ``password``, ``token``), else the config file's ``[taxii]`` table; None when none."""
    env = os.environ
    if env.get(ENV_TOKEN):
        return Credentials(token=env[ENV_TOKEN], origin=ENV_TOKEN)
    if env.get(ENV_USER):
        return Credentials(user=env[ENV_USER], password=env.get(ENV_PASSWORD, ""),
                           origin=f"{ENV_USER}/{ENV_PASSWORD}")
    found = _from_table(config, "source config")
    if found is None:  # the config file is read only when nothing else gave credentials
        found = _from_table(_config_file_table(), "config file")
    return found


def _from_table(table: dict | None, origin: str) -> Credentials | None:
    if table and (table.get("token") or table.get("user")):
        return Credentials(user=table.get("user"), password=table.get("password"),
                           token=table.get("token"), origin=origin)
    return None


def _config_file_table() -> dict | None:
    """The config file's ``[taxii]`` table (:func:`stixgraph.sources.profiles.config_table`)."""
    from ..sources.profiles import config_table

    return config_table("taxii", TaxiiError)


# -- URLs --------------------------------------------------------------------------------

def redact(url: str) -> str:
    """``url`` without user:password@ and without the query."""
    u = urlsplit(url)
    host = u.hostname or ""
    if u.port:
        host = f"{host}:{u.port}"
    return urlunsplit((u.scheme, host, u.path, "", ""))


def collection_url(uri: str) -> str:
    """The TAXII collection URL (ending in ``/``) of ``uri``: ``taxii://HOST[:PORT]/ROOT/ID/``
    (https), ``taxii+http://``, ``taxii+https://``, or ``http(s)://HOST/ROOT/collections/ID/``
    as is.  ``ROOT`` may have several segments; the last segment is the collection id."""
    u = urlsplit(uri.strip())
    scheme = u.scheme.lower()
    if scheme in ("http", "https"):
        return urlunsplit((scheme, u.netloc, u.path.rstrip("/") + "/", "", ""))
    schemes = {"taxii": "https", "taxii+https": "https", "taxii+http": "http"}
    if scheme not in schemes:
        raise TaxiiError(f"{redact(uri)}: not a TAXII collection URI (taxii://HOST/API_ROOT/"
                         "COLLECTION/, taxii+http://..., or https://HOST/API_ROOT/collections/ID/)")
    parts = [p for p in u.path.split("/") if p]
    if not u.hostname or len(parts) < 2:
        raise TaxiiError(f"{redact(uri)}: expected {scheme}://HOST[:PORT]/API_ROOT/COLLECTION/")
    if len(parts) >= 3 and parts[-2] == "collections":
        parts = parts[:-2] + parts[-1:]
    path = "/" + "/".join(parts[:-1]) + "/collections/" + parts[-1] + "/"
    return urlunsplit((schemes[scheme], u.netloc, path, "", ""))


def api_root_url(coll_url: str) -> str:
    return urljoin(coll_url, "../../")


def _ts(v) -> str:
    """A timestamp (datetime or text) as TAXII wants it: RFC 3339 UTC with microseconds."""
    if isinstance(v, str):
        v = datetime.fromisoformat(v.replace("Z", "+00:00"))
    if v.tzinfo is None:
        v = v.replace(tzinfo=timezone.utc)
    return v.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _same_time(a, b) -> bool:
    try:
        return _ts(a) == _ts(b)
    except (TypeError, ValueError):
        return a == b


# -- connection and errors ---------------------------------------------------------------

class _Session(requests.Session):
    timeout = DEFAULT_TIMEOUT

    def request(self, *args, **kwargs):
        kwargs.setdefault("timeout", self.timeout)
        return super().request(*args, **kwargs)


def _connection(creds: Credentials | None, verify: bool, timeout: float):
    from taxii2client.common import _HTTPConnection

    conn = _HTTPConnection(verify=verify, version="2.1", auth=creds.auth() if creds else None)
    s = _Session()
    s.timeout = timeout
    s.verify = verify
    s.auth = conn.session.auth
    conn.session.close()
    conn.session = s
    return conn


def _http_error(url: str, status: int, body: str = "") -> TaxiiError:
    what = {401: "authentication refused (HTTP 401): check STIXGRAPH_TAXII_USER/PASSWORD or "
                 "STIXGRAPH_TAXII_TOKEN",
            403: "access denied (HTTP 403)",
            404: "no such API root, collection or resource (HTTP 404)",
            406: "the server does not speak TAXII 2.1 (HTTP 406)",
            413: "request too large for the server (HTTP 413)",
            415: "the server refused the media type (HTTP 415)"}.get(status)
    if what is None:
        detail = ""
        try:
            j = orjson.loads(body) if body else None
            if isinstance(j, dict):
                detail = str(j.get("description") or j.get("title") or "")
        except orjson.JSONDecodeError:
            pass
        detail = " ".join(detail.split())[:200]
        what = f"HTTP {status}" + (f": {detail}" if detail else "")
    return TaxiiError(f"{redact(url)}: {what}", status)


@contextmanager
def _errors(url: str):
    """Turn what requests and taxii2-client raise into one-line :class:`TaxiiError`."""
    from taxii2client.exceptions import (AccessError, InvalidJSONError, TAXIIServiceException,
                                         ValidationError)
    try:
        yield
    except TaxiiError:
        raise
    except requests.HTTPError as e:
        r = e.response
        raise _http_error(r.url if r is not None else url, r.status_code if r is not None else 0,
                          r.text if r is not None else "") from None
    except requests.ConnectionError as e:
        m = re.search(r"\[Errno -?\d+\] ([^'\")]+)", str(e))
        raise TaxiiError(f"{redact(url)}: unreachable ({m.group(1).strip() if m else type(e).__name__})"
                         ) from None
    except requests.Timeout:
        raise TaxiiError(f"{redact(url)}: no answer (timeout)") from None
    except requests.RequestException as e:
        raise TaxiiError(f"{redact(url)}: {type(e).__name__}") from None
    except AccessError:
        raise TaxiiError(f"{redact(url)}: the collection does not allow this (can_read/can_write "
                         "is false)", 403) from None
    except (InvalidJSONError, TAXIIServiceException, ValidationError, KeyError) as e:
        raise TaxiiError(f"{redact(url)}: not a TAXII 2.1 answer ({type(e).__name__})") from None


def _get_json(conn, url: str, params: dict | None = None) -> tuple[dict, dict]:
    """GET a TAXII resource: (body, headers)."""
    with _errors(url):
        r = conn.session.get(url, params=params, headers={"Accept": TAXII_MEDIA})
    if r.status_code >= 400:
        raise _http_error(url, r.status_code, r.text)
    ctype = r.headers.get("Content-Type", "").replace(" ", "").lower()
    if not ctype.startswith("application/taxii+json"):
        raise TaxiiError(f"{redact(url)}: not a TAXII 2.1 answer (Content-Type "
                         f"{ctype.split(';')[0] or 'none'})")
    try:
        body = orjson.loads(r.content) if r.content.strip() else {}
    except orjson.JSONDecodeError:
        raise TaxiiError(f"{redact(url)}: not a TAXII 2.1 answer (invalid JSON)") from None
    if not isinstance(body, dict):
        raise TaxiiError(f"{redact(url)}: not a TAXII 2.1 answer (not a JSON object)")
    return body, r.headers


def _first_id(items: list):
    return items[0].get("id") if items and isinstance(items[0], dict) else None


def _pages(conn, url: str, params: dict, key: str = "objects", stats: dict | None = None
           ) -> Iterator[list]:
    """The ``key`` lists of a paged TAXII resource, page by page."""
    params = dict(params)
    seen: set = set()
    while True:
        body, headers = _get_json(conn, url, params)
        items = body.get(key) or []
        if not isinstance(items, list):
            raise TaxiiError(f"{redact(url)}: not a TAXII 2.1 answer ('{key}' is not a list)")
        if stats is not None:
            stats["pages"] = stats.get("pages", 0) + 1
        yield items
        if not body.get("more"):
            return
        nxt = body.get("next")
        if nxt:
            token = ("next", str(nxt), _first_id(items))  # medallion keeps one next per query
            params["next"] = str(nxt)
            # medallion 3.0.0 answers 500 to a `next` request without `limit`: send the
            # page size the server chose (as taxii2-client's as_pages does)
            params.setdefault("limit", max(len(items), 1))
        else:  # TAXII 2.1 §3.4: no next, so page on by date_added
            last = headers.get("X-TAXII-Date-Added-Last")
            if not last:
                raise TaxiiError(f"{redact(url)}: the server said 'more' but gave neither "
                                 "'next' nor X-TAXII-Date-Added-Last")
            params.pop("next", None)
            params["added_after"] = last
            token = ("added_after", last, _first_id(items))
        if token in seen or not items:
            raise TaxiiError(f"{redact(url)}: the server repeats the same page ({token[0]})")
        seen.add(token)


# -- fetch -------------------------------------------------------------------------------

def fetch(collection: str, added_after=None, types: Iterable[str] | None = None, *,
          ids: Iterable[str] | None = None, page_size: int | None = None,
          creds: Credentials | None = None, verify: bool = True,
          timeout: float = DEFAULT_TIMEOUT, stats: dict | None = None) -> Iterator[dict]:
    """The objects of ``collection`` (a URL or taxii:// URI), oldest first (``date_added``),
    latest version of each.  ``added_after`` (datetime or RFC 3339 text) and ``types`` /
    ``ids`` (``match[type]`` / ``match[id]``) are sent to the server; ``page_size`` is
    ``limit`` per request (the server may lower it)."""
    url = collection_url(collection)
    if creds is None:
        creds = credentials()
    params: dict = {}
    if added_after is not None:
        params["added_after"] = _ts(added_after)
    if types:
        params["match[type]"] = ",".join(sorted(set(types)))
    if ids:
        params["match[id]"] = ",".join(ids)
    if page_size:
        params["limit"] = int(page_size)
    conn = _connection(creds, verify, timeout)
    try:
        for page in _pages(conn, url + "objects/", params, stats=stats):
            for o in page:
                if isinstance(o, dict):
                    yield o
    finally:
        conn.close()


# -- publish -----------------------------------------------------------------------------

@dataclass
class PublishReport:
    collection: str  # URL, without credentials
    total: int = 0  # distinct objects asked to publish
    succeeded: int = 0
    present: int = 0  # already in the collection: not sent
    failed: int = 0
    pending: int = 0  # the server had not finished when polling stopped
    envelopes: int = 0  # POSTs made
    failures: list[tuple[str, str]] = field(default_factory=list)  # (id, message)
    pendings: list[str] = field(default_factory=list)
    status_ids: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.failed == 0 and self.pending == 0

    def summary(self) -> str:
        s = (f"{self.collection}: {self.succeeded} added, {self.present} already there, "
             f"{self.failed} failed, {self.pending} pending ({self.envelopes} envelopes)")
        if self.failures:
            i, m = self.failures[0]
            s += f"; first failure {i}: {m}"
        return s


def _version(o: dict):
    """The version to compare with a manifest's: ``modified``/``created`` of an SDO, SRO or
    observed-data; None for an SCO, which has no versions (its ``created``, a process's start
    time say, is a property, and servers give SCOs their date_added as version)."""
    if o.get("type") not in NON_SCO_TYPES:
        return None
    return o.get("modified") or o.get("created")


def _present(conn, url: str, objs: list[dict]) -> set[str]:
    """Ids of ``objs`` the collection already holds in the same version."""
    out: set[str] = set()
    for i in range(0, len(objs), MANIFEST_BATCH):
        batch = {o["id"]: o for o in objs[i:i + MANIFEST_BATCH]}
        params = {"match[id]": ",".join(batch), "match[version]": "all"}
        try:
            for page in _pages(conn, url + "manifest/", params):
                for rec in page:
                    o = batch.get(rec.get("id")) if isinstance(rec, dict) else None
                    if o is None:
                        continue
                    v = _version(o)
                    if v is None or _same_time(v, rec.get("version")):
                        out.add(o["id"])
        except TaxiiError as e:
            if e.status == 404:  # "no manifest records" on some servers
                continue
            raise
    return out


def _envelopes(objs: list[dict], limit: int, report: PublishReport) -> Iterator[tuple[bytes, list]]:
    """``objs`` as envelope bodies of at most ``limit`` bytes each."""
    head, tail = b'{"objects":[', b"]}"
    parts: list[bytes] = []
    ids: list[str] = []
    size = len(head) + len(tail)
    for o in objs:
        b = orjson.dumps(o)
        if len(head) + len(b) + len(tail) > limit:
            report.failed += 1
            report.failures.append((o["id"], f"{len(b)} bytes, larger than the server's "
                                             f"max_content_length ({limit})"))
            continue
        if parts and size + 1 + len(b) > limit:
            yield head + b",".join(parts) + tail, ids
            parts, ids, size = [], [], len(head) + len(tail)
        size += len(b) + (1 if parts else 0)
        parts.append(b)
        ids.append(o["id"])
    if parts:
        yield head + b",".join(parts) + tail, ids


def _wait(status, url: str, poll: float, poll_max: float, deadline: float):
    delay = poll
    with _errors(url):
        while status.status != "complete" and time.monotonic() < deadline:
            time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
            delay = min(delay * 2, poll_max)
            status.refresh()
    return status


def _send(coll, objs: list[dict], limit: int, report: PublishReport, poll: float,
          poll_max: float, wait: float) -> tuple[dict[str, str], list[str]]:
    """Send ``objs``; (failed id → message, pending ids)."""
    failed: dict[str, str] = {}
    pending: list[str] = []
    for body, ids in _envelopes(objs, limit, report):
        with _errors(coll.url):
            status = coll.add_objects(body, wait_for_completion=False)
        report.envelopes += 1
        report.status_ids.append(status.id)
        status = _wait(status, coll.url, poll, poll_max, time.monotonic() + wait)
        good = {d.get("id") for d in (status.successes or []) if isinstance(d, dict)}
        for d in status.failures or []:
            if isinstance(d, dict) and d.get("id"):
                failed[d["id"]] = str(d.get("message") or "failed")
        if status.status != "complete":
            pending.extend(i for i in ids if i not in good and i not in failed)
        if good or status.failures:
            report.succeeded += len(good & set(ids))
        elif status.status == "complete":  # some servers leave the lists out: the count
            report.succeeded += max(0, int(status.success_count or 0))
    return failed, pending


def _not_there(conn, url: str, failed: dict[str, str], uniq: dict, report: PublishReport
               ) -> dict[str, str]:
    """``failed`` less the objects the collection holds after all (a duplicate the server
    refused, a concurrent publisher): those count as present."""
    if not failed:
        return failed
    there = _present(conn, url, [uniq[i] for i in failed if i in uniq])
    report.present += len(there)
    return {i: m for i, m in failed.items() if i not in there}


def publish(objects: Iterable[dict], collection: str, *, creds: Credentials | None = None,
            max_content_length: int | None = None, dedupe: bool = True, retry: bool = True,
            verify: bool = True, timeout: float = DEFAULT_TIMEOUT, poll: float = 0.2,
            poll_max: float = 5.0, wait: float = 120.0) -> PublishReport:
    """Publish STIX 2.1 ``objects`` (dicts with ``id``) to ``collection`` (a URL or taxii://
    URI).  ``max_content_length`` lowers the API root's limit (never raises it); ``wait`` is
    how long each envelope's status is polled (back-off from ``poll`` to ``poll_max``
    seconds) before its objects count as pending."""
    from taxii2client.v21 import ApiRoot, Collection

    url = collection_url(collection)
    report = PublishReport(redact(url))
    uniq: dict[str, dict] = {}
    for o in objects:
        if not isinstance(o, dict) or not isinstance(o.get("id"), str):
            raise TaxiiError(f"{report.collection}: cannot publish an object without an id")
        uniq.setdefault(o["id"], o)
    objs = list(uniq.values())
    report.total = len(objs)
    if not objs:
        return report
    if creds is None:
        creds = credentials()
    conn = _connection(creds, verify, timeout)
    try:
        root_url = api_root_url(url)
        with _errors(root_url):
            limit = int(ApiRoot(root_url, conn=conn).max_content_length)
        if max_content_length:
            limit = min(limit, int(max_content_length))
        coll = Collection(url, conn=conn)
        with _errors(url):
            if not coll.can_write:
                raise TaxiiError(f"{report.collection}: the collection is read-only "
                                 "(can_write is false)", 403)
        if dedupe:
            there = _present(conn, url, objs)
            report.present += len(there)
            objs = [o for o in objs if o["id"] not in there]
        failed, pending = _send(coll, objs, limit, report, poll, poll_max, wait)
        failed = _not_there(conn, url, failed, uniq, report)
        if failed and retry:
            log.info("%s: retrying %d failed objects", report.collection, len(failed))
            failed, more = _send(coll, [uniq[i] for i in failed if i in uniq], limit, report,
                                 poll, poll_max, wait)
            pending.extend(more)
            failed = _not_there(conn, url, failed, uniq, report)
        report.failed += len(failed)
        report.failures.extend(failed.items())
        report.pending = len(pending)
        report.pendings = pending
    finally:
        conn.close()
    return report


# -- observations ------------------------------------------------------------------------

def observations_to_stix(observations) -> list[dict]:
    """STIX 2.1 objects for stixgraph :class:`~stixgraph.stix.model.Observation` objects: per
    observation one observed-data (:meth:`~stixgraph.stix.model.Observation.to_stix`), then
    its SCOs (each id once)."""
    out: list[dict] = []
    scos: dict[str, dict] = {}
    for obs in observations:
        out.append(obs.to_stix())
        for sid, o in obs.objects.items():
            if sid not in scos:
                scos[sid] = {"spec_version": SPEC_VERSION, **o, "id": sid}
    return out + list(scos.values())
