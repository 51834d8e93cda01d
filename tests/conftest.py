"""Shared fixtures.  Hunt tests run on every backend through the ``backend`` fixture: SQLite
always, ArangoDB when a server is reachable (else its parameters skip, the reason printed
once and in the terminal summary)."""
from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
KESTREL_DATA = SHARED_DATA / "kestrel"


def need_shared(path: Path) -> Path:
    """``path`` (under ../shared/data), or skip, with the reason printed, when it is absent."""
    if not path.exists():
        reason = f"shared data {path} is not present on this machine"
        print(reason)
        pytest.skip(reason)
    return path


def shared_file(*parts: str) -> Path:
    """A file of ../shared/data, or skip (with the reason printed) when it is absent."""
    return need_shared(SHARED_DATA.joinpath(*parts))


BACKENDS = ["sqlite", "arango"]

# ArangoDB: $ARANGO_URL (http://HOST:8529; $ARANGO_USER, default root, and $ARANGO_PASSWORD),
# else a testcontainers ArangoDB 3.12 when a Docker daemon answers, else the arango
# parameters skip (the reason printed once, and in the terminal summary).
_ARANGO: dict = {}
_ARANGO_TALLY = {"ran": 0, "skipped": 0}


def _arango_server():
    """(host URL, user, password), or a str: why there is none (tried once per run)."""
    if "server" in _ARANGO:
        return _ARANGO["server"]
    import os

    if os.environ.get("ARANGO_URL"):
        server = (os.environ["ARANGO_URL"].rstrip("/"), os.environ.get("ARANGO_USER", "root"),
                  os.environ.get("ARANGO_PASSWORD", ""))
    else:
        try:
            import docker
            if not hasattr(docker, "from_env"):  # a docker/ folder, not the SDK
                raise ImportError(name="docker (the SDK)")
            docker.from_env(timeout=3).ping()
            try:
                from testcontainers.community.arangodb import ArangoDbContainer
            except ImportError:
                from testcontainers.arangodb import ArangoDbContainer
            c = ArangoDbContainer("arangodb:3.12", arango_root_password="passwd")
            c.start()
            _ARANGO["container"] = c
            server = (c.get_connection_url().rstrip("/"), "root", "passwd")
        except ImportError as e:
            server = (f"no ArangoDB: ARANGO_URL is unset and {e.name or 'docker'} is not "
                      f"installed (testcontainers[arangodb])")
        except Exception as e:  # noqa: BLE001 - no daemon, no image: skip
            server = (f"no ArangoDB: ARANGO_URL is unset and Docker is not usable "
                      f"({type(e).__name__})")
    _ARANGO["server"] = server
    if isinstance(server, str):
        print(f"\n{server}: the arango tests skip")
    return server


def pytest_runtest_logreport(report):
    if re.search(r"[\[-]arango[\]-]", report.nodeid) and (report.when == "call"
                                                           or report.skipped):
        _ARANGO_TALLY["skipped" if report.skipped else "ran"] += 1


def pytest_terminal_summary(terminalreporter):
    server = _ARANGO.get("server")
    why = f" ({server})" if isinstance(server, str) else ""
    terminalreporter.write_line(f"ArangoDB tests: {_ARANGO_TALLY['ran']} ran, "
                                f"{_ARANGO_TALLY['skipped']} skipped{why}")


def pytest_sessionfinish(session):
    c = _ARANGO.pop("container", None)
    if c is not None:
        c.stop()


@pytest.fixture(params=BACKENDS)
def backend(request):
    if request.param == "arango":
        server = _arango_server()
        if isinstance(server, str):
            pytest.skip(server)
    return request.param


def _arango_store(dbs: dict, key: str):
    """An ArangoStore on this test's database for ``key`` (one database per store path, so a
    second session on the same path sees the first one's data)."""
    import uuid

    from stixgraph.store.arangodb import ArangoStore, ArangoTarget

    host, user, password = _arango_server()
    name = dbs.setdefault(key, f"stixgraph_test_{uuid.uuid4().hex[:12]}")
    return ArangoStore(ArangoTarget(host, user, name), password)


def _drop_arango_dbs(dbs: dict) -> None:
    if not dbs:
        return
    from arango import ArangoClient

    host, user, password = _arango_server()
    client = ArangoClient(hosts=host)
    sys_db = client.db("_system", username=user, password=password)
    for name in dbs.values():
        sys_db.delete_database(name, ignore_missing=True)
    client.close()


@pytest.fixture
def make_session(backend, tmp_path):
    """Factory: a Session on a fresh store of the current backend."""
    from stixgraph.session import Session

    sessions = []

    def make(**kw):
        kw.setdefault("now", datetime(2024, 12, 20, tzinfo=timezone.utc))
        store = kw.pop("store", ":memory:")
        if backend == "arango":
            store = _arango_store(dbs, str(store) if store != ":memory:" else f":{len(sessions)}")
        s = Session(store, **kw)
        sessions.append(s)
        return s

    dbs: dict = {}
    yield make
    for s in sessions:
        s.store.close()
    if backend == "arango":
        _drop_arango_dbs(dbs)
