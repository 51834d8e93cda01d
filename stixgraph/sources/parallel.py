"""Reading a data source in forked child processes while this process stores the results.

A *reader* is a function run in a child (``fork`` start method: it inherits everything,
nothing is pickled on the way in) with a :class:`Channel`; it sends prepared chunks, progress
and its own messages back through a pipe (``channel.send(kind, ...)``), its return value last
(as ``("done", value)``).  The parent side
(:class:`Child`) receives on a thread, so a child never waits for the parent to finish
storing the previous chunk; messages stay pickled until the parent takes them.

Errors: an exception in a child is re-raised in the parent as the same exception (a
:class:`~stixgraph.errors.DataSourceError` keeps its one-line message); a child that dies
without saying why is a DataSourceError naming its exit code.  Children ignore SIGINT, so a
Ctrl-C lands in the parent only; :meth:`Child.stop` terminates and reaps a child (every
path out of the parent's loop calls it: no zombies, no orphans left reading).
"""
from __future__ import annotations

import gc
import multiprocessing
import os
import pickle
import queue
import signal
import threading
from typing import Callable

from ..errors import DataSourceError

_DONE = object()


class Stop(Exception):
    """Raised in a child to end its reader early."""


class SplitFailed(Exception):
    """Reading a source in parts turned out wrong after some chunks were handed on: drop
    them and read again in one part."""


def usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def fork_available() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


class Channel:
    """The child's end: messages to the parent."""

    def __init__(self, out):
        self._out = out

    def send(self, *msg) -> None:
        self._out.send_bytes(pickle.dumps(msg, protocol=pickle.HIGHEST_PROTOCOL))



def _keep_freed_memory() -> None:
    """glibc: serve big blocks (the 8 MiB read buffers) from the heap and keep what is freed,
    instead of mapping fresh zeroed pages each time (a fifth of a reader's time went to page
    faults).  A reader lives for one GET, so holding on to freed memory costs nothing."""
    try:
        import ctypes

        libc = ctypes.CDLL(None)
        libc.mallopt(-3, 32 << 20)  # M_MMAP_THRESHOLD
        libc.mallopt(-1, 128 << 20)  # M_TRIM_THRESHOLD
    except (OSError, AttributeError):
        pass


def _entry(out, reader: Callable, args: tuple, nice: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's business
    if nice:
        try:
            os.nice(nice)
        except OSError:
            pass
    gc.disable()  # a short-lived process making many dicts and no cycles
    _keep_freed_memory()
    ch = Channel(out)
    try:
        try:
            status = reader(ch, *args)
        except BaseException as e:  # noqa: BLE001 - everything goes back to the parent
            try:
                payload = pickle.dumps(("error", e), protocol=pickle.HIGHEST_PROTOCOL)
                pickle.loads(payload)
            except Exception:  # noqa: BLE001 - an exception that does not pickle
                payload = pickle.dumps(("error", DataSourceError(f"{type(e).__name__}: {e}")))
            out.send_bytes(payload)
        else:
            ch.send("done", status)
    except (BrokenPipeError, OSError):  # the parent is gone or stopped listening
        pass
    finally:
        out.close()


class Child:
    """One reader process, from the parent's side."""

    def __init__(self, reader: Callable, *args, name: str = "reader", nice: int = 0):
        """Start ``reader(channel, *args)`` in a child; ``nice``: its scheduling niceness
        (a child whose output is needed later yields the CPU to the others)."""
        ctx = multiprocessing.get_context("fork")
        r_out, w_out = ctx.Pipe(duplex=False)
        self.name = name
        self.proc = ctx.Process(target=_entry, args=(w_out, reader, args, nice),
                                daemon=True,
                                name=f"stixgraph-{name}")
        self.proc.start()
        w_out.close()
        self._conn = r_out
        self._q: queue.SimpleQueue = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._drain, daemon=True,
                                        name=f"stixgraph-{name}-recv")
        self._thread.start()
        self.status: str | None = None  # "done" / "error" / "died" once the child has ended

    def _drain(self) -> None:
        try:
            while True:
                self._q.put(self._conn.recv_bytes())
        except (EOFError, OSError):
            self._q.put(_DONE)

    def next(self) -> tuple:
        """The next message (blocking): ("chunk", obj), ("progress", n), a reader-defined
        message, or ("done", status) at the end.  Raises the child's error."""
        data = self._q.get()
        if data is _DONE:
            self.proc.join()
            self.status = "died"
            raise DataSourceError(f"{self.name} process ended unexpectedly (exit code "
                                  f"{self.proc.exitcode})")
        msg = pickle.loads(data)
        if msg[0] == "error":
            self.status = "error"
            raise msg[1]
        if msg[0] == "done":
            self.status = "done"
        return msg

    def stop(self) -> None:
        """End the child now (if it still runs) and reap it."""
        if self.proc.is_alive():
            self.proc.terminate()
        self.proc.join()
        self._thread.join(timeout=5)
        try:
            self._conn.close()
        except OSError:
            pass
