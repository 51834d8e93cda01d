"""``stixgraph demo``: the seed notebook's hunts, as written, against Splunk: the emulator
serving the demo scenario's Sysmon events as Splunk CIM rows, reached through the real
stix-shifter ``splunk`` module over TLS.

1. The Caldera scenario (:mod:`stixgraph.demo.caldera`) is generated as CIM rows (the same
   seed and size give the same rows);
2. the Splunk emulator (:mod:`stixgraph.splunk.emulator`) serves them on 127.0.0.1 with a
   certificate made for the run, its clock pinned to :data:`~stixgraph.demo.caldera.DEMO_NOW`;
3. the ``splunk`` stix-shifter profile is pointed at it (``STIXSHIFTER_SPLUNK_*`` in this
   process only), so ``GET ... FROM stixshifter://splunk`` works as written;
4. each hunt of ``stixgraph/demo/hunts/`` runs in order on one store, with the hunt clock
   pinned too, so the seed's ``LAST 15 DAYS`` covers the scenario.
"""
from __future__ import annotations

import json
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from ..environ import environ

HUNTS_DIR = Path(__file__).resolve().parent / "hunts"


def hunt_files() -> list[Path]:
    return sorted(HUNTS_DIR.glob("*.hf"))


@contextmanager
def splunk_profile(emulator, profile: str = "splunk", options: dict | None = None) -> Iterator[None]:
    """``STIXSHIFTER_<PROFILE>_*`` pointing at ``emulator`` for the duration (then restored)."""
    p = f"STIXSHIFTER_{profile.upper()}_"
    values = {p + "CONNECTOR": "splunk",
              p + "CONNECTION": json.dumps(emulator.connection(options)),
              p + "CONFIG": json.dumps(emulator.configuration())}
    with environ(values):
        yield


@contextmanager
def demo_splunk(size: int, seed: int, *, rows: list[dict] | None = None) -> Iterator[object]:
    """The emulator serving the demo scenario (``rows`` if given), with the ``splunk`` profile
    pointed at it."""
    from ..splunk.emulator import Emulator
    from ..splunk.events import EventStore
    from .caldera import DEMO_NOW, iter_cim_rows

    store = EventStore(rows if rows is not None else iter_cim_rows(size, seed))
    with Emulator(store, now=DEMO_NOW) as emu:
        # a result limit above the scenario's size: nothing is cut
        with splunk_profile(emu, options={"result_limit": 10_000_000}):
            yield emu


def run(store: str, *, size: int, seed: int, write: Callable[[object], None],
        announce: Callable[[str], None], hunts: list[Path] | None = None,
        progress=None, prefetch: bool = True) -> None:
    """Run the demo hunts on ``store`` (a path, or an open store: then left open); ``write``
    gets each display, ``announce`` each hunt's name."""
    from ..session import Session
    from .caldera import DEMO_NOW

    with demo_splunk(size, seed):
        session = Session(store, now=DEMO_NOW, progress=progress, prefetch=prefetch)
        try:
            for path in hunts or hunt_files():
                announce(str(path.name))
                text = path.read_text(encoding="utf-8")
                for d in session.iter_run(text, str(path)):
                    write(d)
        finally:
            if session.store is not store:
                session.store.close()
