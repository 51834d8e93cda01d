"""A medallion TAXII 2.1 server for the tests: memory backend, plain HTTP on 127.0.0.1 on a
free port, in a subprocess (``python -m medallion.scripts.run``), started once per session.

API roots: ``api1`` (max_content_length 10 MB) with a writable and a read-only collection,
``small`` (max_content_length :data:`SMALL_LIMIT` bytes) with one writable collection, for
envelope cutting.  Users: :data:`USER` / :data:`PASSWORD`.  ``max_page_size`` is 1000 (medallion re-reads the whole collection per page).
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

USER, PASSWORD = "admin", "Password0"
WRITABLE = "365fed99-08fa-fdcd-a1b3-fb247eb41d01"
READONLY = "91a7b528-80eb-42ed-a74d-c6fbd5a26116"
PULL = "b4c5d6e7-0000-4000-8000-000000000001"  # writable, for the pull tests
SMALL = "0f4b1a2c-3d4e-4f50-8a6b-7c8d9e0f1a2b"
CLI = "c1100000-0000-4000-8000-000000000001"  # writable, for the CLI tests
SMALL_LIMIT = 4000


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _collection(cid: str, title: str, write: bool = True) -> dict:
    return {"id": cid, "title": title, "can_read": True, "can_write": write,
            "media_types": ["application/stix+json;version=2.1"], "objects": [], "manifest": []}


def _root(title: str, limit: int, collections: list[dict]) -> dict:
    return {"information": {"title": title, "description": "stixgraph tests",
                            "versions": ["application/taxii+json;version=2.1"],
                            "max_content_length": limit},
            "status": [], "collections": collections}


class Medallion:
    def __init__(self, port: int, proc: subprocess.Popen, log: Path):
        self.port = port
        self.proc = proc
        self.log = log
        self.base = f"http://127.0.0.1:{port}"

    def collection_url(self, cid: str, root: str = "api1") -> str:
        return f"{self.base}/{root}/collections/{cid}/"

    def uri(self, cid: str, root: str = "api1") -> str:
        """The data-source form."""
        return f"taxii+http://127.0.0.1:{self.port}/{root}/{cid}/"

    def count(self, cid: str, root: str = "api1") -> int:
        """Objects the collection holds (latest versions: medallion answers 500 when paging
        with match[version]=all), asked directly over HTTP."""
        params: dict = {"limit": 1000}  # medallion needs limit with next
        n = 0
        while True:
            r = requests.get(self.collection_url(cid, root) + "objects/", params=params,
                             auth=(USER, PASSWORD), timeout=10,
                             headers={"Accept": "application/taxii+json;version=2.1"})
            r.raise_for_status()
            body = r.json() or {}
            n += len(body.get("objects") or [])
            if not body.get("more"):
                return n
            params["next"] = body["next"]


@contextmanager
def medallion_server(workdir: Path):
    """A running medallion; stopped (its process only) on exit."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    data = {"/discovery": {"title": "stixgraph test TAXII server", "description": "tests",
                           "contact": "nobody", "default": f"{base}/api1/",
                           "api_roots": [f"{base}/api1/", f"{base}/small/"]},
            "api1": _root("api1", 10_000_000, [_collection(WRITABLE, "writable"),
                                               _collection(READONLY, "read-only", False),
                                               _collection(PULL, "pull"),
                                               _collection(CLI, "cli")]),
            "small": _root("small", SMALL_LIMIT, [_collection(SMALL, "small envelopes")])}
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "data.json").write_text(json.dumps(data))
    conf = {"backend": {"module": "medallion.backends.memory_backend",
                        "module_class": "MemoryBackend",
                        "filename": str(workdir / "data.json")},
            "users": {USER: PASSWORD, "reader": "Password1"},
            "taxii": {"max_page_size": 1000}}
    (workdir / "config.json").write_text(json.dumps(conf))
    log = workdir / "medallion.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("STIXGRAPH_TAXII_")}
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "medallion.scripts.run", "--host",
                                 "127.0.0.1", "--port", str(port), "--log-level", "WARN",
                                 str(workdir / "config.json")],
                                stdout=out, stderr=subprocess.STDOUT, cwd=workdir, env=env)
    srv = Medallion(port, proc, log)
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"medallion exited ({proc.returncode}): "
                                   f"{log.read_text()[-2000:]}")
            try:
                r = requests.get(f"{base}/taxii2/", auth=(USER, PASSWORD), timeout=2,
                                 headers={"Accept": "application/taxii+json;version=2.1"})
                if r.status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"medallion did not answer on {base}: "
                                   f"{log.read_text()[-2000:]}")
            time.sleep(0.1)
        yield srv
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


@pytest.fixture
def medallion_credentials(monkeypatch, tmp_path):
    """The tests' medallion user in the environment, and no config file."""
    monkeypatch.delenv("STIXGRAPH_TAXII_TOKEN", raising=False)
    monkeypatch.setenv("STIXGRAPH_TAXII_USER", USER)
    monkeypatch.setenv("STIXGRAPH_TAXII_PASSWORD", PASSWORD)
    monkeypatch.setenv("STIXGRAPH_CONFIG", str(tmp_path / "none.toml"))
