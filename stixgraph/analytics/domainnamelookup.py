"""``APPLY domainnamelookup ON nt``: the domain name (PTR) and registrant organisation (RDAP) of
each destination address, as Kestrel's ``docker://domainnamelookup`` adds them.

Input: network-traffic frames (column ``dst_ref.value``) or ipv4-addr / ipv6-addr frames
(column ``value``).  Output: one frame per input with ``id``, ``x_domain_name`` and
``x_domain_organization``.

* ``x_domain_name``: the PTR record(s) of the address (reverse DNS with dnspython), without the
  trailing dot; several PTRs are joined by a space (``dig -x``'s order, as Kestrel's).
* ``x_domain_organization``: the registrant of the address block, from RDAP
  (``GET {rdap}/ip/{address}``): the entity with role ``registrant`` (searched in nested
  entities too) as ``"NAME (HANDLE)"``, NAME being its vCard ``fn``.  ARIN's answer for
  140.82.114.3 gives ``"GitHub, Inc. (GITHU)"``, the ``OrgName (OrgId)`` the seed shows.

Parameters (``WITH``), each with an environment-variable fallback:

=============  =========================  ===================================================
``resolver``   ``STIXGRAPH_DNS``          ``HOST[:PORT]`` (``[v6]:PORT``) of the DNS server;
                                          default: the system's (``/etc/resolv.conf``)
``rdap``       ``STIXGRAPH_RDAP``         RDAP base URL (``{rdap}/ip/{addr}`` is fetched; a
                                          URL already ending in ``/ip`` is used as is);
                                          default ``https://rdap.org`` (redirects to the
                                          registry's server); ``rdap=off`` skips RDAP
``timeout``    ``STIXGRAPH_DNS_TIMEOUT``  seconds per lookup (default 3)
``budget``                                seconds for the whole run (default 30)
``workers``                               parallel lookups (default 16)
=============  =========================  ===================================================

Behaviour:

* Each distinct public address is looked up once per run (PTR and RDAP in parallel, in a
  thread pool).  Private, loopback, link-local and other non-global addresses are not looked
  up: they keep ``""``, are not failures, and a note says how many were skipped.
* Any failure (NXDOMAIN, no answer, timeout, HTTP error, no registrant) leaves ``""``.  One
  note says ``"domainnamelookup: N of M lookups failed (...)"`` with the reasons.
* Time box: every lookup is bounded by ``timeout``; the run by ``budget`` (lookups not done
  by then are abandoned and counted as failed).  Fail fast: when the first
  :data:`FAIL_FAST` lookups of a service (DNS or RDAP) all fail at the transport level
  (timeout, unreachable, connection refused) before it has answered anything (an NXDOMAIN or
  an HTTP 404 is an answer), the service is deemed down and its remaining lookups fail at
  once ("DNS skipped (server unreachable)").  With 1000
  addresses and a dead resolver the run thus takes about two ``timeout``s, not 1000 of them.
"""
from __future__ import annotations

import ipaddress
import os
import threading
import time
from collections import Counter
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

import pandas as pd

from .base import AnalyticError, Result

DEFAULT_RDAP = "https://rdap.org"
DEFAULT_TIMEOUT = 3.0
DEFAULT_BUDGET = 30.0
DEFAULT_WORKERS = 16
#: transport failures, before any success, after which a service is deemed down
FAIL_FAST = 5

__all__ = ["analytic", "parse_resolver", "registrant"]


class _Transport(Exception):
    """The service did not answer (counts towards fail fast)."""


class _Miss(Exception):
    """The service answered, without a usable value."""


class _Down(Exception):
    """The service was deemed down (fail fast): the lookup was not tried."""


# -- parameters ------------------------------------------------------------------------------

def parse_resolver(text: str) -> tuple[str, int]:
    """``"HOST[:PORT]"`` / ``"[V6]:PORT"`` / ``"V6"`` as (ip, port); port 53 by default."""
    s = text.strip()
    host, port = s, 53
    if s.startswith("["):
        host, _, rest = s[1:].partition("]")
        if rest:
            if not rest.startswith(":"):
                raise AnalyticError(f"domainnamelookup: resolver={text!r}: expected HOST[:PORT]")
            port = _port(rest[1:], text)
    elif s.count(":") == 1:
        host, _, p = s.partition(":")
        port = _port(p, text)
    try:
        ipaddress.ip_address(host)
    except ValueError:
        raise AnalyticError(f"domainnamelookup: resolver={text!r}: the server must be an IP "
                            f"address, optionally with :PORT") from None
    return host, port


def _port(p: str, text: str) -> int:
    if not p.isdigit() or not 0 < int(p) < 65536:
        raise AnalyticError(f"domainnamelookup: resolver={text!r}: bad port {p!r}")
    return int(p)


def _seconds(params: dict, key: str, env: str | None, default: float) -> float:
    raw = params.get(key) or (os.environ.get(env) if env else None)
    if raw in (None, ""):
        return default
    try:
        v = float(raw)
    except ValueError:
        v = -1.0
    if not v > 0:
        raise AnalyticError(f"domainnamelookup: {key}={raw!r}: expected a positive number of "
                            f"seconds")
    return v


# -- RDAP --------------------------------------------------------------------------------------

def _vcard(entity: dict, prop: str) -> str:
    arr = entity.get("vcardArray")
    if isinstance(arr, list) and len(arr) > 1 and isinstance(arr[1], list):
        for item in arr[1]:
            if isinstance(item, list) and len(item) >= 4 and item[0] == prop:
                v = item[3]
                if isinstance(v, list):
                    v = " ".join(str(x) for x in v if x)
                return str(v).strip()
    return ""


def _entities(obj: dict):
    for e in obj.get("entities") or []:
        if isinstance(e, dict):
            yield e
            yield from _entities(e)


def registrant(rdap: dict) -> str:
    """The registrant of an RDAP ip-network object as ``"NAME (HANDLE)"`` (``""`` if none)."""
    for e in _entities(rdap):
        if "registrant" in (e.get("roles") or []):
            name = _vcard(e, "fn") or _vcard(e, "org")
            handle = str(e.get("handle") or "").strip()
            if name and handle:
                return f"{name} ({handle})"
            return name or handle
    return ""


def _rdap_url(base: str, ip: str) -> str:
    base = base.rstrip("/")
    return f"{base}/{ip}" if base.endswith("/ip") else f"{base}/ip/{ip}"


# -- the run -----------------------------------------------------------------------------------

class _Service:
    """One lookup service with its fail-fast breaker."""

    def __init__(self, name: str):
        self.name = name
        self.lock = threading.Lock()
        self.answered = 0  # answers, good or bad (NXDOMAIN, 404): the server is alive
        self.transport_failures = 0

    @property
    def down(self) -> bool:
        with self.lock:
            return self.answered == 0 and self.transport_failures >= FAIL_FAST

    def record(self, answered: bool) -> None:
        with self.lock:
            if answered:
                self.answered += 1
            else:
                self.transport_failures += 1


def _addresses(frame: pd.DataFrame, i: int) -> pd.Series:
    if "id" not in frame.columns:
        raise AnalyticError(f"domainnamelookup: input {i + 1} has no id column")
    for col in ("dst_ref.value", "value"):
        if col in frame.columns:
            return frame[col]
    if len(frame) == 0:
        return pd.Series([], dtype=object)
    raise AnalyticError(f"domainnamelookup: input {i + 1} has neither dst_ref.value "
                        f"(network-traffic) nor value (ipv4-addr/ipv6-addr)")


def _text(v) -> str:
    if v is None or (isinstance(v, float) and v != v):
        return ""
    return str(v).strip()


def analytic(frames, params) -> Result:
    import dns.exception
    import dns.resolver
    import requests

    params = dict(params or {})
    timeout = _seconds(params, "timeout", "STIXGRAPH_DNS_TIMEOUT", DEFAULT_TIMEOUT)
    budget = _seconds(params, "budget", None, DEFAULT_BUDGET)
    try:
        workers = int(params.get("workers") or DEFAULT_WORKERS)
    except ValueError:
        workers = 0
    if workers < 1:
        raise AnalyticError(f"domainnamelookup: workers={params.get('workers')!r}: expected a "
                            f"positive integer")
    server = params.get("resolver") or os.environ.get("STIXGRAPH_DNS") or ""
    rdap_base = (params.get("rdap") or os.environ.get("STIXGRAPH_RDAP") or DEFAULT_RDAP).strip()
    if rdap_base.lower() in ("off", "none", "no", "false"):
        rdap_base = ""
    elif not rdap_base.lower().startswith(("http://", "https://")):
        raise AnalyticError(f"domainnamelookup: rdap={rdap_base!r}: expected an http(s) URL")

    columns = [_addresses(f, i) for i, f in enumerate(frames)]

    # distinct addresses: the public ones are looked up, the rest skipped
    public: list[str] = []
    skipped: set[str] = set()
    invalid: set[str] = set()
    seen: set[str] = set()
    for col in columns:
        for v in col:
            a = _text(v)
            if not a or a in seen:
                continue
            seen.add(a)
            try:
                ip = ipaddress.ip_address(a)
            except ValueError:
                invalid.add(a)
                continue
            (public.append(a) if ip.is_global else skipped.add(a))

    names: dict[str, str] = {}
    orgs: dict[str, str] = {}
    reasons: Counter = Counter()
    notes: list[str] = []

    base_resolver = None
    if public:
        if server:
            host, port = parse_resolver(server)
            base_resolver = dns.resolver.Resolver(configure=False)
            base_resolver.nameservers = [host]
            base_resolver.port = port
        else:
            try:
                base_resolver = dns.resolver.Resolver()
            except Exception as e:  # noqa: BLE001 - no resolv.conf: every PTR fails
                notes.append(f"domainnamelookup: no DNS resolver configured ({type(e).__name__}); "
                             f"set resolver=HOST[:PORT] or STIXGRAPH_DNS")
    dns_svc, rdap_svc = _Service("DNS"), _Service("RDAP")
    session = requests.Session()
    session.headers["Accept"] = "application/rdap+json, application/json"

    def ptr(a: str) -> str:
        if base_resolver is None:
            raise _Miss("no resolver")
        if dns_svc.down:
            raise _Down("DNS skipped (server unreachable)")
        r = dns.resolver.Resolver(configure=False)
        r.nameservers = list(base_resolver.nameservers)
        r.port = base_resolver.port
        r.timeout = r.lifetime = timeout
        try:
            ans = r.resolve_address(a)
        except dns.resolver.NXDOMAIN:
            raise _Miss("NXDOMAIN") from None
        except dns.resolver.NoAnswer:
            raise _Miss("no PTR") from None
        except (dns.resolver.NoNameservers, dns.resolver.LifetimeTimeout,
                dns.exception.Timeout, OSError) as e:
            raise _Transport("DNS timeout" if isinstance(e, dns.exception.Timeout)
                             else "DNS unreachable") from None
        except dns.exception.DNSException as e:
            raise _Miss(f"DNS {type(e).__name__}") from None
        out = " ".join(str(rr.target).rstrip(".") for rr in ans)
        if not out:
            raise _Miss("no PTR")
        return out

    def org(a: str) -> str:
        if rdap_svc.down:
            raise _Down("RDAP skipped (server unreachable)")
        try:
            resp = session.get(_rdap_url(rdap_base, a), timeout=(timeout, timeout))
        except requests.Timeout:
            raise _Transport("RDAP timeout") from None
        except requests.RequestException:
            raise _Transport("RDAP unreachable") from None
        if resp.status_code != 200:
            raise _Miss(f"RDAP HTTP {resp.status_code}")
        try:
            data = resp.json()
        except ValueError:
            raise _Miss("RDAP bad JSON") from None
        out = registrant(data) if isinstance(data, dict) else ""
        if not out:
            raise _Miss("RDAP no registrant")
        return out

    def job(kind: str, a: str):
        svc, fn = (dns_svc, ptr) if kind == "ptr" else (rdap_svc, org)
        try:
            v = fn(a)
        except _Down as e:
            return kind, a, "", str(e)
        except _Transport as e:
            svc.record(False)
            return kind, a, "", str(e)
        except _Miss as e:
            svc.record(True)
            return kind, a, "", str(e)
        except Exception as e:  # noqa: BLE001 - one lookup's bug is one failure
            return kind, a, "", type(e).__name__
        svc.record(True)
        return kind, a, v, ""

    tasks = [("ptr", a) for a in public] + ([("rdap", a) for a in public] if rdap_base else [])
    if tasks:
        deadline = time.monotonic() + budget
        pool = ThreadPoolExecutor(max_workers=min(workers, len(tasks)),
                                  thread_name_prefix="domainnamelookup")
        # interleave PTR and RDAP so both services get probed early (fail fast needs that)
        order = ([t for pair in zip(tasks[: len(public)], tasks[len(public):]) for t in pair]
                 if rdap_base else tasks)
        pending = {pool.submit(job, k, a): (k, a) for k, a in order}
        try:
            while pending:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                done, _ = wait(pending, timeout=left, return_when=FIRST_COMPLETED)
                for f in done:
                    kind, a, v, why = f.result()
                    del pending[f]
                    (names if kind == "ptr" else orgs)[a] = v
                    if why:
                        reasons[why] += 1
        finally:
            for f, (kind, a) in pending.items():
                f.cancel()
                reasons["time budget exhausted"] += 1
            pool.shutdown(wait=False, cancel_futures=True)
            session.close()

    failed = sum(reasons.values())
    if tasks and failed:
        why = ", ".join(f"{n} {r}" for r, n in sorted(reasons.items(), key=lambda x: (-x[1], x[0])))
        notes.append(f"domainnamelookup: {failed} of {len(tasks)} lookups failed ({why})")
    if skipped:
        shown = ", ".join(sorted(skipped)[:5]) + (", ..." if len(skipped) > 5 else "")
        notes.append(f"domainnamelookup: {len(skipped)} private or non-global addresses not "
                     f"looked up ({shown})")
    if invalid:
        shown = ", ".join(sorted(invalid)[:5]) + (", ..." if len(invalid) > 5 else "")
        notes.append(f"domainnamelookup: {len(invalid)} values are not IP addresses ({shown})")

    out = []
    for frame, col in zip(frames, columns):
        keys = [_text(v) for v in col]
        out.append(pd.DataFrame({
            "id": list(frame["id"]),
            "x_domain_name": [names.get(k, "") for k in keys],
            "x_domain_organization": [orgs.get(k, "") for k in keys],
        }))
    return Result(frames=out, notes=notes)
