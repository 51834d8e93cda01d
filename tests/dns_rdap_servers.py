"""Offline stand-ins for reverse DNS and RDAP, on loopback with ephemeral ports.

* :class:`FakeDNS`: a dnslib UDP server answering PTR queries from a table (anything else is
  NXDOMAIN); ``queries`` counts the queries per name.
* :class:`SilentDNS`: a UDP socket that receives and never answers (a dead resolver).
* :class:`FakeRDAP`: an ``http.server`` answering ``GET /ip/{addr}`` with canned RDAP JSON
  (404 for unknown addresses); ``requests`` counts the requests per address.
* :func:`dead_port`: a loopback TCP port nothing listens on (connection refused).

The canned data are what the seed notebook showed (ARIN's GitHub block, RIPE's 185.199.x).
"""
from __future__ import annotations

import json
import socket
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from dnslib import PTR, QTYPE, RCODE, RR
from dnslib.server import BaseResolver, DNSLogger, DNSServer

PTRS = {
    "140.82.114.3": "lb-140-82-114-3-iad.github.com",
    "185.199.111.133": "cdn-185-199-111-133.github.com",
    "140.82.112.4": "lb-140-82-112-4-iad.github.com",
}


def _rdap(start: str, end: str, name: str, handle: str, org: str) -> dict:
    return {
        "objectClassName": "ip network", "handle": f"NET-{start}", "startAddress": start,
        "endAddress": end, "name": name,
        "entities": [
            {"objectClassName": "entity", "handle": handle, "roles": ["registrant"],
             "vcardArray": ["vcard", [["version", {}, "text", "4.0"],
                                      ["fn", {}, "text", org], ["kind", {}, "text", "org"]]],
             # nested contacts, as ARIN returns them: not the registrant
             "entities": [{"objectClassName": "entity", "handle": "GITHU-ARIN",
                           "roles": ["abuse"],
                           "vcardArray": ["vcard", [["fn", {}, "text", "Abuse"]]]}]},
            {"objectClassName": "entity", "handle": "NOC-1", "roles": ["technical"],
             "vcardArray": ["vcard", [["fn", {}, "text", "Network Operations"]]]},
        ],
    }


RDAP = {
    "140.82.114.3": _rdap("140.82.112.0", "140.82.127.255", "GITHU", "GITHU", "GitHub, Inc."),
    "140.82.112.4": _rdap("140.82.112.0", "140.82.127.255", "GITHU", "GITHU", "GitHub, Inc."),
    "185.199.111.133": _rdap("185.199.108.0", "185.199.111.255", "US-GITHUB-20170413",
                             "ORG-GI58-RIPE", "GitHub, Inc"),
}

#: the demo scenario's six GitHub addresses (caldera.GITHUB_IPS): the seed's answers, and
#: GitHub's naming for 185.199.108.133, which the seed's table does not show
DEMO_PTRS = {**PTRS, "185.199.111.154": "cdn-185-199-111-154.github.com",
             "140.82.114.4": "lb-140-82-114-4-iad.github.com",
             "185.199.108.133": "cdn-185-199-108-133.github.com"}
DEMO_RDAP = {**RDAP, "140.82.114.4": RDAP["140.82.114.3"],
             "185.199.111.154": RDAP["185.199.111.133"], "185.199.108.133": RDAP["185.199.111.133"]}


def reverse_name(ip: str) -> str:
    return ".".join(reversed(ip.split("."))) + ".in-addr.arpa."


class _PTRResolver(BaseResolver):
    def __init__(self, table: dict[str, str], counter: Counter, lock: threading.Lock):
        self.table = {reverse_name(ip): name + "." for ip, name in table.items()}
        self.counter, self.lock = counter, lock

    def resolve(self, request, handler):
        reply, q = request.reply(), request.q
        with self.lock:
            self.counter[str(q.qname)] += 1
        if q.qtype == QTYPE.PTR and str(q.qname) in self.table:
            reply.add_answer(RR(q.qname, QTYPE.PTR, rdata=PTR(self.table[str(q.qname)]), ttl=60))
        else:
            reply.header.rcode = RCODE.NXDOMAIN
        return reply


class FakeDNS:
    def __init__(self, table: dict[str, str] = PTRS):
        self.queries: Counter = Counter()
        self._lock = threading.Lock()
        self.server = DNSServer(_PTRResolver(table, self.queries, self._lock), port=0,
                                address="127.0.0.1",
                                logger=DNSLogger("-request,-reply,-truncated,-error,-recv,"
                                                 "-send,-data"))

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.server.server.server_address[1]}"

    def count(self, ip: str) -> int:
        return self.queries[reverse_name(ip)]

    def __enter__(self):
        self.server.start_thread()
        return self

    def __exit__(self, *exc):
        self.server.stop()
        self.server.server.server_close()


class SilentDNS:
    """Receives queries on a UDP socket and never answers."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.sock.getsockname()[1]}"

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.sock.close()


class FakeRDAP:
    def __init__(self, table: dict[str, dict] = RDAP):
        self.requests: Counter = Counter()
        lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's name
                path = self.path.split("?")[0]
                ip = path.rsplit("/", 1)[-1] if path.startswith("/ip/") else None
                with lock:
                    outer.requests[ip or path] += 1
                body = table.get(ip) if ip else None
                if body is None:
                    data = json.dumps({"errorCode": 404, "title": "Not Found"}).encode()
                    self.send_response(404)
                else:
                    data = json.dumps(body).encode()
                    self.send_response(200)
                self.send_header("Content-Type", "application/rdap+json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self):
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def dead_port() -> int:
    """A loopback TCP port that refuses connections (bound, then closed)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port
