"""Shared fixtures.  Hunt tests run on every backend through the ``backend`` fixture: SQLite
always; ArangoDB joins the parameter list when its backend lands (skipping, with the reason
printed, when no server is reachable)."""
from __future__ import annotations

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


BACKENDS = ["sqlite"]


@pytest.fixture(params=BACKENDS)
def backend(request):
    return request.param


@pytest.fixture
def make_session(backend, tmp_path):
    """Factory: a Session on a fresh store of the current backend."""
    from stixgraph.session import Session

    sessions = []

    def make(**kw):
        kw.setdefault("now", datetime(2024, 12, 20, tzinfo=timezone.utc))
        store = kw.pop("store", ":memory:")
        s = Session(store, **kw)
        sessions.append(s)
        return s

    yield make
    for s in sessions:
        s.store.close()
