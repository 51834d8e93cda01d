"""The Splunk REST emulator, driven by the real stix-shifter splunk connector over TLS (and by
plain ``requests`` for what stix-shifter never does).  The SPL comes from stix-shifter's own
translator; the rows are a few Sysmon-like CIM rows."""
from __future__ import annotations

import asyncio
import json
import logging
import os
import shlex
import socket
import ssl
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
import requests
from stix_shifter.stix_translation.stix_translation import StixTranslation
from stix_shifter.stix_transmission.stix_transmission import StixTransmission

from stixgraph.splunk.emulator import Emulator, EmulatorError, Faults, cli, make_certificate
from stixgraph.splunk.events import EventStore

REPO = Path(__file__).resolve().parents[1]
NOW = datetime(2024, 12, 12, 16, 46, 0, tzinfo=timezone.utc)
WINDOW = " START t'2024-12-12T16:00:00.000Z' STOP t'2024-12-12T17:00:00.000Z'"


def _row(t, name, cmd, parent, user="CORP\\alice", host="WS01", **extra):
    raw = f"<Event><System><EventID>1</EventID></System><Image>{name}</Image></Event>"
    row = {"_time": t, "process_name": name, "process": cmd, "parent_process_name": parent,
           "user": user, "host": host, "_raw": raw, "source": "XmlWinEventLog:Microsoft-Windows-"
           "Sysmon/Operational", "sourcetype": "XmlWinEventLog", "signature_id": "1"}
    row.update(extra)
    return row


ROWS = [
    _row("2024-12-12T16:43:01.123+00:00", "cmd.exe", "cmd.exe /c whoami /all", "explorer.exe"),
    _row("2024-12-12T16:44:10.500+00:00", "powershell.exe", "powershell -enc SQBFAFgA",
         "cmd.exe"),
    _row("2024-12-12T16:45:00.000+00:00", "powershell.exe", "powershell -nop", "explorer.exe",
         signature_id="3", dest_ip="203.0.113.50", dest_port="443", src_ip="10.0.0.5",
         src_port="49711"),
    _row("2024-12-11T09:00:00.000+00:00", "cmd.exe", "cmd.exe /c dir", "explorer.exe"),
    _row("2024-12-12T16:50:00.000+00:00", "svchost.exe", "svchost.exe -k netsvcs",
         "services.exe", user="NT AUTHORITY\\SYSTEM"),
]
# many rows with one process name, for paging
PAGING_ROWS = [_row(f"2024-12-12T15:{m:02d}:00.000+00:00", "pager.exe", f"pager.exe {m}",
                    "explorer.exe") for m in range(23)]


def spl(pattern: str, **options) -> str:
    return StixTranslation().translate("splunk", "query", "{}", pattern,
                                       {"result_limit": 100, **options})["queries"][0]


def transmission(emu: Emulator, **auth) -> StixTransmission:
    config = emu.configuration()
    config["auth"].update(auth)
    return StixTransmission("splunk", emu.connection(), config)


@pytest.fixture(scope="module")
def store():
    return EventStore(ROWS + PAGING_ROWS)


@pytest.fixture(scope="module")
def cert_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("cert")


@pytest.fixture(scope="module")
def server(store, cert_dir):
    with Emulator(store, now=NOW, cert_dir=cert_dir) as emu:
        yield emu


@pytest.fixture
def emu(server):
    """The shared emulator, with its faults cleared for each test."""
    server.faults = Faults()
    server.session_ttl = 3600.0
    yield server
    server.faults = Faults()
    server.session_ttl = 3600.0


class Raw:
    """A plain HTTPS client that logs in the way stix-shifter does."""

    def __init__(self, emu: Emulator, login=True):
        self.emu = emu
        self.s = requests.Session()
        if login:
            r = self.post("/services/auth/login", data={"username": emu.username,
                                                        "password": emu.configuration()["auth"]
                                                        ["password"], "output_mode": "json"})
            assert r.status_code == 200, r.text
            self.key = r.json()["sessionKey"]
            self.s.headers["Authorization"] = f"Splunk {self.key}"

    def request(self, method, path, **kw):
        # verify per request: a session's verify loses to $REQUESTS_CA_BUNDLE
        kw.setdefault("verify", str(self.emu.cert_path))
        return self.s.request(method, self.emu.url + path, timeout=10, **kw)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, **kw):
        return self.request("POST", path, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def create(self, search):
        r = self.post("/services/search/jobs", data={"search": search, "output_mode": "json"})
        assert r.status_code == 201, r.text
        return r.json()["sid"]

    def content(self, sid):
        r = self.get(f"/services/search/jobs/{sid}", data={"output_mode": "json"})
        assert r.status_code == 200, r.text
        return r.json()["entry"][0]["content"]

    def wait_done(self, sid):
        for _ in range(200):
            c = self.content(sid)
            if c["dispatchState"] in ("DONE", "FAILED"):
                return c
            time.sleep(0.01)
        raise AssertionError(f"job {sid} never finished: {c}")


# -- certificate ----------------------------------------------------------------------------
def test_certificate_is_reused_covers_loopback_and_verifies_strictly(tmp_path):
    from cryptography import x509

    cert_path, key_path, pem = make_certificate(tmp_path)
    assert make_certificate(tmp_path) == (cert_path, key_path, pem)  # reused, not regenerated
    assert key_path.stat().st_mode & 0o077 == 0
    cert = x509.load_pem_x509_certificate(pem.encode())
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "localhost" in san.get_values_for_type(x509.DNSName)
    assert "127.0.0.1" in [str(i) for i in san.get_values_for_type(x509.IPAddress)]
    assert cert.not_valid_before_utc <= datetime.now(timezone.utc) < cert.not_valid_after_utc
    # a host it does not cover yet: regenerated to cover it
    _, _, pem2 = make_certificate(tmp_path, hosts=["stixgraph.test"])
    assert pem2 != pem and make_certificate(tmp_path)[2] == pem2


def test_tls_verifies_under_x509_strict_for_both_names(emu):
    ctx = ssl.create_default_context(cadata=emu.ca_pem)
    ctx.verify_flags |= ssl.VERIFY_X509_STRICT  # Python 3.13's default
    for name in ("127.0.0.1", "localhost"):
        with socket.create_connection(("127.0.0.1", emu.port), timeout=5) as sock:
            with ctx.wrap_socket(sock, server_hostname=name) as tls:
                assert tls.version() in ("TLSv1.2", "TLSv1.3")
    # plain HTTP on the TLS port gets nothing useful back, and the server survives it
    with socket.create_connection(("127.0.0.1", emu.port), timeout=5) as sock:
        sock.sendall(b"GET /services/ HTTP/1.1\r\nHost: x\r\n\r\n")
        sock.settimeout(5)
        try:
            data = sock.recv(100)
        except (ConnectionResetError, socket.timeout):
            data = b""
        assert not data.startswith(b"HTTP/1.1 200")
    assert transmission(emu).ping() == {"success": True}


# -- stix-shifter end to end ----------------------------------------------------------------
def test_stix_shifter_ping_query_status_results_delete(emu):
    t = transmission(emu)
    assert t.ping() == {"success": True}
    q = t.query(spl("[process:name = 'cmd.exe']" + WINDOW))
    assert q["success"], q
    sid = q["search_id"]
    status = t.status(sid)
    assert status == {"success": True, "status": "COMPLETED", "progress": 100}
    res = t.results(sid, 0, 100)
    assert res["success"], res
    # process_name OR parent_process_name = cmd.exe, inside the window, newest first
    assert [(r["process_name"], r["_time"]) for r in res["data"]] == [
        ("powershell.exe", "2024-12-12T16:44:10.500+00:00"),
        ("cmd.exe", "2024-12-12T16:43:01.123+00:00")]
    assert res["data"][1]["_raw"] == ROWS[0]["_raw"]
    identity = {"type": "identity", "id": "identity--f431f809-377b-45e0-aa1c-6a4751cae5ff",
                "name": "splunk", "identity_class": "events"}
    bundle = t.results_stix(sid, 0, 100, identity)  # the bundle itself, not a success dict
    observed = [o for o in bundle["objects"] if o["type"] == "observed-data"]
    assert sorted(o["first_observed"] for o in observed) == [
        "2024-12-12T16:43:01.123Z", "2024-12-12T16:44:10.500Z"]
    assert t.delete(sid) == {"success": True}
    gone = t.status(sid)
    assert gone["success"] is False and gone["code"] == "no_results"
    assert sid not in emu.jobs()


def test_stix_shifter_network_pattern_with_the_pinned_clock(emu):
    # no START/STOP: earliest="-5minutes" from the pinned clock (16:46), so the 16:45 flow is in
    t = transmission(emu)
    q = t.query(spl("[network-traffic:dst_ref.value = '203.0.113.50' AND "
                    "network-traffic:dst_port = 443]"))
    assert 'earliest="-5minutes"' in spl("[network-traffic:dst_port = 443]")
    res = t.results(q["search_id"], 0, 100)
    assert [r["_time"] for r in res["data"]] == ["2024-12-12T16:45:00.000+00:00"]
    # check_data built the nested network data from the emulator's flat string fields
    assert res["data"][0]["networkdata"]["dest_port"] == "443"


def test_clock_can_be_a_callable_and_moves_relative_windows(store, cert_dir):
    clock = {"now": NOW}
    with Emulator(store, now=lambda: clock["now"], cert_dir=cert_dir) as emu:
        raw = Raw(emu)
        search = spl("[process:name = 'cmd.exe']")  # earliest="-5minutes": 16:41 at 16:46
        assert raw.wait_done(raw.create(search))["resultCount"] == 2
        clock["now"] = datetime(2024, 12, 12, 17, 30, tzinfo=timezone.utc)  # 16:43/16:44 too old
        sid = raw.create(search)
        assert raw.wait_done(sid)["resultCount"] == 0
        assert raw.get(f"/services/search/v2/jobs/{sid}/results").json()["results"] == []


def test_async_methods_inside_a_running_loop(emu):
    search = spl("[process:name = 'svchost.exe']" + WINDOW)  # translate's sync API: no loop yet

    async def flow():
        t = transmission(emu)
        assert await t.ping_async() == {"success": True}
        q = await t.query_async(search)
        sid = q["search_id"]
        assert (await t.status_async(sid))["status"] == "COMPLETED"
        res = await t.results_async(sid, 0, 10)
        assert [r["process_name"] for r in res["data"]] == ["svchost.exe"]
        assert (await t.delete_async(sid))["success"]

    asyncio.run(flow())


# -- errors as stix-shifter sees them -------------------------------------------------------
def test_bad_password_and_fail_login_give_authentication_fail(emu):
    r = transmission(emu, password="wrong").ping()
    assert r["success"] is False and r["code"] == "authentication_fail", r
    raw = Raw(emu, login=False)
    bad = raw.post("/services/auth/login", data={"username": "admin", "password": "wrong"})
    assert bad.status_code == 401
    assert bad.json() == {"messages": [{"type": "WARN", "text": "Login failed"}]}
    emu.faults.fail_login = True
    r = transmission(emu).query(spl("[process:name = 'cmd.exe']"))
    assert r["success"] is False and r["code"] == "authentication_fail", r
    emu.faults.fail_login = False
    assert transmission(emu).ping() == {"success": True}


def test_wrong_ca_gives_certificate_fail(emu, tmp_path):
    other_cert, _, other_pem = make_certificate(tmp_path)  # another emulator's certificate
    conn = emu.connection()
    conn["selfSignedCert"] = other_pem
    r = StixTransmission("splunk", conn, emu.configuration()).ping()
    assert r["success"] is False and r["code"] == "certificate_fail", r
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(emu.url + "/services/", verify=str(other_cert), timeout=5)
    assert transmission(emu).ping() == {"success": True}  # the server shrugged it off


def test_invalid_spl_is_a_400_with_splunks_message(emu):
    # stix-shifter puts the value in "..." without escaping: a " in it unbalances the quotes
    bad = spl("[user-account:user_id = 'a\"b']" + WINDOW)
    assert bad.count('"') % 2 == 1
    r = transmission(emu).query(bad)
    assert r["success"] is False and r["code"] == "invalid_query", r
    assert "Error in 'search' command" in r["error"]
    raw = Raw(emu)
    resp = raw.post("/services/search/jobs", data={"search": bad})
    assert resp.status_code == 400
    (msg,) = resp.json()["messages"]
    assert msg["type"] == "FATAL" and msg["text"].startswith("Error in 'search' command: ")
    assert len(msg["text"]) > len("Error in 'search' command: ") and "\n" not in msg["text"]
    empty = raw.post("/services/search/jobs", data={"search": " "})
    assert empty.status_code == 400


def test_a_search_that_breaks_fails_the_job(cert_dir):
    class Broken(EventStore):
        def search(self, spl, *, now):
            raise RuntimeError("disk on fire")

    with Emulator(Broken(ROWS), cert_dir=cert_dir) as emu:
        t = transmission(emu)
        sid = t.query(spl("[process:name = 'cmd.exe']"))["search_id"]  # created: 201
        assert t.status(sid) == {"success": True, "status": "ERROR", "progress": 100}
        raw = Raw(emu)
        c = raw.content(sid)
        assert c["dispatchState"] == "FAILED" and c["isFailed"] is True
        assert "disk on fire" in c["messages"][0]["text"]
        r = raw.get(f"/services/search/v2/jobs/{sid}/results")
        assert r.status_code == 200 and r.json()["results"] == []
        assert r.json()["messages"][0]["type"] == "FATAL"


def test_unknown_sid_is_404(emu):
    t = transmission(emu)
    for call in (t.status, t.delete):
        r = call("1700000000.999")
        assert r["success"] is False and r["code"] == "no_results", r
    raw = Raw(emu)
    for method, path in [("GET", "/services/search/jobs/nope"),
                         ("GET", "/services/search/v2/jobs/nope/results"),
                         ("DELETE", "/services/search/jobs/nope")]:
        resp = raw.request(method, path)
        assert resp.status_code == 404
        assert resp.json()["messages"][0]["text"] == "Unknown sid."


# -- jobs: running, paging, cancelling ------------------------------------------------------
def test_running_job_answers_204_until_done(emu):
    emu.faults.running_polls = 3
    t = transmission(emu)
    sid = t.query(spl("[process:name = 'cmd.exe']" + WINDOW))["search_id"]
    raw = Raw(emu)
    r = raw.get(f"/services/search/v2/jobs/{sid}/results",
                params={"output_mode": "json", "offset": 0, "count": 10})
    assert r.status_code == 204 and r.content == b""
    # stix-shifter turns that 204 into a JSON error: it must wait for COMPLETED
    assert t.results(sid, 0, 10)["success"] is False
    seen = [t.status(sid) for _ in range(3)]
    assert [s["status"] for s in seen] == ["RUNNING"] * 3
    assert [s["progress"] for s in seen] == [0, 34, 67]  # ceil(doneProgress * 100)
    c = raw.content(sid)
    assert c["dispatchState"] == "DONE" and c["isDone"] is True and c["isFinalized"] is False
    assert c["doneProgress"] == 1.0 and c["resultCount"] == 2 and c["eventCount"] == 2
    assert len(t.results(sid, 0, 10)["data"]) == 2


def test_running_for_seconds(emu):
    emu.faults.running_for = 0.3
    raw = Raw(emu)
    sid = raw.create(spl("[process:name = 'cmd.exe']" + WINDOW))
    c = raw.content(sid)
    assert c["dispatchState"] == "RUNNING" and c["isFinalized"] is False
    assert 0 <= c["doneProgress"] < 1 and c["resultCount"] == 0
    assert raw.get(f"/services/search/v2/jobs/{sid}/results").status_code == 204
    time.sleep(0.35)
    assert raw.content(sid)["dispatchState"] == "DONE"
    assert len(raw.get(f"/services/search/v2/jobs/{sid}/results").json()["results"]) == 2


def test_results_paging_is_exact(emu):
    raw = Raw(emu)
    sid = raw.create(spl("[process:name = 'pager.exe']"
                         " START t'2024-12-12T15:00:00.000Z' STOP t'2024-12-12T16:00:00.000Z'"))
    assert raw.wait_done(sid)["resultCount"] == 23

    def page(offset, count):
        r = raw.get(f"/services/search/v2/jobs/{sid}/results",
                    params={"output_mode": "json", "offset": offset, "count": count})
        assert r.status_code == 200
        body = r.json()
        assert body["preview"] is False and body["init_offset"] == offset
        assert body["messages"] == []
        names = {f["name"] for f in body["fields"]}
        assert all(set(row) <= names for row in body["results"])
        return [row["process"] for row in body["results"]]

    whole = page(0, 0)  # count=0: everything, as Splunk
    assert whole == [f"pager.exe {m}" for m in range(22, -1, -1)]  # newest first
    pages = [page(o, 5) for o in range(0, 25, 5)]
    assert [len(p) for p in pages] == [5, 5, 5, 5, 3]
    assert sum(pages, []) == whole
    assert page(7, 3) == whole[7:10]
    assert page(23, 5) == [] and page(40, 5) == []
    assert page(0, 100) == whole
    # default count is 100, the body form of the parameters works too
    r = raw.get(f"/services/search/v2/jobs/{sid}/results", data={"offset": "20"})
    assert [x["process"] for x in r.json()["results"]] == whole[20:]
    bad = raw.get(f"/services/search/v2/jobs/{sid}/results", params={"count": "x"})
    assert bad.status_code == 400
    # stix-shifter's own paging
    t = transmission(emu)
    assert [x["process"] for x in t.results(sid, 20, 10)["data"]] == whole[20:]


def test_delete_cancels_a_running_job(emu):
    emu.faults.running_polls = 1000
    raw = Raw(emu)
    sid = raw.create(spl("[process:name = 'cmd.exe']" + WINDOW))
    assert raw.content(sid)["dispatchState"] == "RUNNING"
    assert transmission(emu).status(sid)["status"] == "RUNNING"
    r = raw.delete(f"/services/search/jobs/{sid}", data={"output_mode": "json"})
    assert r.status_code == 200 and r.json()["messages"][0]["type"] == "INFO"
    assert sid not in emu.jobs()
    assert raw.get(f"/services/search/jobs/{sid}").status_code == 404
    assert raw.get(f"/services/search/v2/jobs/{sid}/results").status_code == 404


def test_finalize_stops_a_running_job_with_its_results(emu):
    emu.faults.running_polls = 1000
    raw = Raw(emu)
    sid = raw.create(spl("[process:name = 'cmd.exe']" + WINDOW))
    r = raw.post(f"/services/search/jobs/{sid}/control", data={"action": "finalize"})
    assert r.status_code == 200
    c = raw.content(sid)
    assert c["dispatchState"] == "DONE" and c["isFinalized"] is True
    assert len(raw.get(f"/services/search/v2/jobs/{sid}/results").json()["results"]) == 2
    r = raw.post(f"/services/search/jobs/{sid}/control", data={"action": "cancel"})
    assert r.status_code == 200 and sid not in emu.jobs()


# -- sessions and auth ----------------------------------------------------------------------
def test_session_expires_after_n_requests(emu):
    emu.faults.expire_after_requests = 2
    raw = Raw(emu)
    assert [raw.get("/services/").status_code for _ in range(3)] == [200, 200, 401]
    r = raw.get("/services/")
    assert r.status_code == 401
    assert r.json() == {"messages": [{"type": "WARN", "text": "call not properly authenticated"}]}
    # stix-shifter logs in once per StixTransmission and never again: its calls fail
    t = transmission(emu)
    assert t.ping() == {"success": True}
    q = t.query(spl("[process:name = 'cmd.exe']" + WINDOW))
    assert q["success"]
    assert t.status(q["search_id"])["success"] is False
    emu.faults.expire_after_requests = None
    assert Raw(emu).get("/services/").status_code == 200


def test_session_expires_after_seconds_and_idle_ttl(emu):
    raw = Raw(emu)
    emu.faults.expire_after = 0.15
    assert raw.get("/services/").status_code == 200
    time.sleep(0.2)
    assert raw.get("/services/").status_code == 401
    emu.faults.expire_after = None
    emu.session_ttl = 0.15
    raw = Raw(emu)
    for _ in range(3):  # use keeps it alive
        time.sleep(0.08)
        assert raw.get("/services/").status_code == 200
    time.sleep(0.2)
    assert raw.get("/services/").status_code == 401


def test_auth_schemes(emu):
    raw = Raw(emu, login=False)
    r = raw.get("/services/")
    assert r.status_code == 401 and "WWW-Authenticate" in r.headers
    assert raw.get("/services/", headers={"Authorization": "Splunk not-a-key"}).status_code == 401
    assert raw.get("/services/", auth=("admin", "changeme")).status_code == 200
    assert raw.get("/services/", auth=("admin", "nope")).status_code == 401
    key = Raw(emu).key
    r = raw.get("/services/", headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 200 and r.json()["entry"]
    # the namespaced form of the same endpoints
    raw.s.headers["Authorization"] = f"Splunk {key}"
    r = raw.post("/servicesNS/admin/search/search/jobs",
                 data={"search": spl("[process:name = 'svchost.exe']" + WINDOW)})
    assert r.status_code == 201
    assert raw.wait_done(r.json()["sid"])["resultCount"] == 1


# -- faults ---------------------------------------------------------------------------------
def test_error_rate_is_deterministic_with_a_seed(emu):
    raw = Raw(emu)
    emu.faults.error_rate = 1.0
    r = raw.get("/services/")
    assert r.status_code == 503 and r.json()["messages"][0]["text"] == "Service Unavailable"
    p = transmission(emu).ping()
    assert p["success"] is False
    emu.faults.error_status = 429
    assert raw.get("/services/").status_code == 429

    def statuses(seed):
        emu.faults = Faults(error_rate=0.5, seed=seed)
        return [raw.get("/services/").status_code for _ in range(16)]

    first = statuses(7)
    assert set(first) == {200, 503}
    assert statuses(8) != first
    assert statuses(7) == first
    with pytest.raises(ValueError):
        Faults(error_rate=1.5)


def test_latency_is_added_and_settable_at_run_time(emu):
    raw = Raw(emu)
    t0 = time.monotonic()
    raw.get("/services/")
    fast = time.monotonic() - t0
    emu.faults.latency = 0.25
    t0 = time.monotonic()
    assert raw.get("/services/").status_code == 200
    assert time.monotonic() - t0 >= 0.25 > fast


def test_requests_are_logged_without_secrets(emu, caplog):
    with caplog.at_level(logging.INFO, logger="stixgraph.splunk.emulator"):
        raw = Raw(emu)
        raw.get("/services/", params={"password": "changeme"})
        transmission(emu, password="s3cret-wrong").ping()
    text = caplog.text
    assert "POST /services/auth/login 200" in text and "GET /services/ 200" in text
    assert "POST /services/auth/login 401" in text
    assert raw.key not in text and "changeme" not in text and "s3cret-wrong" not in text


# -- lifecycle, environment lines, CLI ------------------------------------------------------
def test_port_in_use_is_a_clear_error(emu, store):
    with pytest.raises(EmulatorError, match=f"port {emu.port} .*already in use"):
        Emulator(store, port=emu.port).start()


def test_env_lines_round_trip_through_the_shell(emu):
    lines = emu.env_lines("hunt_1")
    assert lines[0] == "STIXSHIFTER_HUNT_1_CONNECTOR=splunk"
    script = "".join(f"export {line}\n" for line in lines) + \
        'printf "%s\\0%s\\0%s" "$STIXSHIFTER_HUNT_1_CONNECTOR" ' \
        '"$STIXSHIFTER_HUNT_1_CONNECTION" "$STIXSHIFTER_HUNT_1_CONFIG"'
    out = subprocess.run(["bash", "-c", script], capture_output=True, check=True).stdout
    connector, connection, config = out.decode().split("\0")
    assert connector == "splunk"
    assert json.loads(connection) == emu.connection()
    assert json.loads(config) == {"auth": {"username": "admin", "password": "changeme"}}
    assert json.loads(connection)["selfSignedCert"].startswith("-----BEGIN CERTIFICATE-----")
    with pytest.raises(ValueError):
        emu.env_lines("bad name")


def test_cli_refuses_remote_hosts_and_needs_files(tmp_path):
    from click.testing import CliRunner

    f = tmp_path / "ev.jsonl"
    f.write_text(json.dumps(ROWS[0]) + "\n")
    r = CliRunner().invoke(cli, ["serve", "--events", str(f), "--host", "0.0.0.0"])
    assert r.exit_code == 2 and "--allow-remote" in r.output
    r = CliRunner().invoke(cli, ["serve"])
    assert r.exit_code == 2 and "event file" in r.output


def test_cli_serve_prints_export_lines_and_serves(tmp_path):
    events = tmp_path / "ev.jsonl"
    events.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    env = {**os.environ, "STIXGRAPH_SPLUNK_EMULATOR_PASSWORD": "pw-from-env",
           "XDG_CACHE_HOME": str(tmp_path / "cache")}
    proc = subprocess.Popen(
        [sys.executable, "-c", "from stixgraph.splunk.emulator import cli; cli()", "serve",
         "--events", str(events), "--port", "0", "--now", "2024-12-12T16:46:00Z", "-v",
         "--env-file", str(tmp_path / "splunk.env")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=REPO, text=True)
    try:
        lines = [proc.stdout.readline() for _ in range(3)]
        assert all(line.startswith("export STIXSHIFTER_SPLUNK_") for line in lines), lines
        env_file = tmp_path / "splunk.env"
        assert env_file.read_text() == "".join(lines)
        assert env_file.stat().st_mode & 0o077 == 0
        vals = dict(shlex.split(line)[1].split("=", 1) for line in lines)
        connection = json.loads(vals["STIXSHIFTER_SPLUNK_CONNECTION"])
        config = json.loads(vals["STIXSHIFTER_SPLUNK_CONFIG"])
        assert config["auth"]["password"] == "pw-from-env"
        assert (tmp_path / "cache" / "stixgraph" / "splunk-emulator").is_dir()
        t = StixTransmission("splunk", connection, config)
        sid = t.query(spl("[process:name = 'cmd.exe']"))["search_id"]  # -5 min of pinned 16:46
        assert [r["_time"] for r in t.results(sid, 0, 10)["data"]] == [
            "2024-12-12T16:44:10.500+00:00", "2024-12-12T16:43:01.123+00:00"]
    finally:
        proc.send_signal(2)
        out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    assert out == ""  # nothing but the export lines on stdout
    assert "loaded 5 events" in err and "POST /services/search/jobs 201" in err
    assert "pw-from-env" not in err
