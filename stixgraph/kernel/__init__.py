"""The ``stixgraph`` Jupyter kernel: each cell is a hunt block run by one
:class:`~stixgraph.session.Session` kept for the notebook's life (its store: ``$STIXGRAPH_STORE``,
else in memory; ``$STIXGRAPH_NOW`` pins its clock for ``LAST n DAYS``).  Under a cell: the DISP tables as sortable HTML, the variable summary, the
analytics' displays (maps, plots) inline.  A failing statement marks the cell as failed (status
``error`` with the line and column), so "Run All" and nbclient stop there; earlier statements
of the cell keep their effect, as in ``stixgraph hunt``.

Install with ``stixgraph kernel install [--user|--sys-prefix]`` (:func:`install`).
"""
from __future__ import annotations

import base64
import json
import os
import queue
import re
import sys
import threading
import tempfile
from datetime import datetime
from pathlib import Path

from ipykernel.kernelbase import Kernel

from .. import __version__
from ..complete import complete
from ..display import Message, Visual
from ..errors import StixgraphError
from ..output import html_of

KERNEL_NAME = "stixgraph"
LANGUAGE_INFO = {"name": "stixgraph", "mimetype": "text/x-stixgraph", "file_extension": ".hf",
                 "pygments_lexer": "stixgraph", "codemirror_mode": "sql"}


class StixgraphKernel(Kernel):
    implementation = "stixgraph"
    implementation_version = __version__
    language = "stixgraph"
    language_version = "1"
    language_info = LANGUAGE_INFO
    banner = "stixgraph: hunt through STIX observations (Kestrel v1 syntax)"

    def __init__(self, **kw):
        super().__init__(**kw)
        self._hunt = None

    @property
    def hunt(self):
        if self._hunt is None:
            from ..session import Session

            now = os.environ.get("STIXGRAPH_NOW")  # pin the clock (LAST n DAYS), as --now
            self._hunt = Session(os.environ.get("STIXGRAPH_STORE") or ":memory:",
                                 now=datetime.fromisoformat(now.replace("Z", "+00:00"))
                                 if now else None)
        return self._hunt

    # -- running a cell ------------------------------------------------------------------
    def do_execute(self, code, silent, store_history=True, user_expressions=None,
                   allow_stdin=False, *, cell_meta=None, cell_id=None):
        if not code.strip():
            return self._ok()
        try:
            for d in iter_run_threaded(self.hunt, code, f"cell[{self.execution_count}]"):
                if not silent:
                    self._show(d)
        except StixgraphError as e:
            text = e.render() if hasattr(e, "render") else str(e)
            if not silent:
                self.send_response(self.iopub_socket, "error", {
                    "ename": type(e).__name__, "evalue": str(e), "traceback": [text]})
            return {"status": "error", "execution_count": self.execution_count,
                    "ename": type(e).__name__, "evalue": str(e), "traceback": [text]}
        return self._ok()

    def _ok(self):
        return {"status": "ok", "execution_count": self.execution_count, "payload": [],
                "user_expressions": {}}

    def _show(self, d) -> None:
        if isinstance(d, Message) and d.level == "warning":
            self.send_response(self.iopub_socket, "stream",
                               {"name": "stderr", "text": f"{d.level}: {d.text}\n"})
            return
        html, plain = html_of(d)
        data = {"text/plain": plain}
        if html:
            data["text/html"] = html
        if isinstance(d, Visual) and d.png:
            data["image/png"] = base64.b64encode(d.png).decode()
        self.send_response(self.iopub_socket, "display_data", {"data": data, "metadata": {}})

    # -- completion and inspection ----------------------------------------------------------
    def do_complete(self, code, cursor_pos):
        try:
            start, matches = complete(self.hunt, code, cursor_pos)
        except Exception:  # noqa: BLE001 - completion never breaks the kernel
            start, matches = cursor_pos, []
        return {"status": "ok", "matches": matches, "cursor_start": start,
                "cursor_end": cursor_pos, "metadata": {}}

    def do_inspect(self, code, cursor_pos, detail_level=0, omit_sections=()):
        left = re.search(r"[A-Za-z_][A-Za-z0-9_]*$", code[:cursor_pos])
        right = re.match(r"[A-Za-z0-9_]*", code[cursor_pos:])
        name = (left.group(0) if left else "") + (right.group(0) if right else "")
        if not name or self.hunt.store.var(name) is None:
            return {"status": "ok", "found": False, "data": {}, "metadata": {}}
        try:
            shown = self.hunt.run(f"INFO {name}")
        except StixgraphError as e:
            return {"status": "ok", "found": True, "data": {"text/plain": str(e)},
                    "metadata": {}}
        html = "".join(html_of(t)[0] for t in shown)
        plain = "\n".join(html_of(t)[1] for t in shown)
        return {"status": "ok", "found": True, "data": {"text/plain": plain, "text/html": html},
                "metadata": {}}

    def do_shutdown(self, restart):
        if self._hunt is not None:
            self._hunt.store.close()
            self._hunt = None
        return super().do_shutdown(restart)


def iter_run_threaded(session, text: str, filename: str):
    """``session.iter_run`` on a worker thread, its displays yielded here as they come.  A
    kernel runs cells inside an asyncio event loop; stix-shifter starts its own loop, which
    cannot run inside a running one ("This event loop is already running")."""
    q: queue.Queue = queue.Queue()

    def work():
        try:
            for d in session.iter_run(text, filename):
                q.put((True, d))
            q.put((False, None))
        except BaseException as e:  # noqa: BLE001 - handed to the caller's thread
            q.put((False, e))

    t = threading.Thread(target=work, name="stixgraph-hunt", daemon=True)
    t.start()
    while True:
        more, item = q.get()
        if more:
            yield item
        elif item is None:
            return
        else:
            raise item


def kernel_spec() -> dict:
    return {"argv": [sys.executable, "-m", "stixgraph.kernel", "-f", "{connection_file}"],
            "display_name": "stixgraph", "language": "stixgraph",
            "metadata": {"debugger": False}}


def install(user: bool = False, prefix: str | None = None) -> str:
    """Install the kernelspec (for the interpreter running this); returns its folder."""
    from jupyter_client.kernelspec import KernelSpecManager

    with tempfile.TemporaryDirectory() as d:
        (Path(d) / "kernel.json").write_text(json.dumps(kernel_spec(), indent=1))
        return KernelSpecManager().install_kernel_spec(d, KERNEL_NAME, user=user, prefix=prefix)
