"""``%%hunt``: hunt cells in an IPython/Jupyter Python kernel (``%load_ext stixgraph.magic``).

Each ``%%hunt`` cell runs in one session per IPython shell (``%%hunt --store PATH`` on the
first cell picks its store; default ``$STIXGRAPH_STORE``, else in memory).  Tables, the
summary and analytics' displays show as in the stixgraph kernel.  The variables come back as
pandas DataFrames: ``hunt.vars["procs"]`` (the rows DISP shows without ATTR), and
``hunt.session`` is the library session itself.  A failing statement raises, so the cell
fails.
"""
from __future__ import annotations

import os
import shlex

from IPython.core.magic import Magics, cell_magic, magics_class
from IPython.display import HTML, Image, display

from .display import Message, Visual
from .output import html_of


class HuntVariables:
    """``hunt.vars[name]``: a variable's rows as a DataFrame (read when asked)."""

    def __init__(self, session):
        self._session = session

    def __getitem__(self, name: str):
        import pandas as pd

        if self._session.store.var(name) is None:
            raise KeyError(name)
        return pd.DataFrame.from_records(self._session.store.records(name))

    def __contains__(self, name) -> bool:
        return self._session.store.var(name) is not None

    def keys(self) -> list[str]:
        return [v.name for v in self._session.store.variables()]

    def __iter__(self):
        return iter(self.keys())

    def __repr__(self) -> str:
        return f"<hunt variables: {', '.join(self.keys()) or 'none'}>"


class Hunt:
    """What ``hunt`` names in the user's namespace."""

    def __init__(self, session):
        self.session = session
        self.vars = HuntVariables(session)


@magics_class
class HuntMagics(Magics):
    def __init__(self, shell):
        super().__init__(shell)
        self.handle: Hunt | None = None

    @cell_magic
    def hunt(self, line: str, cell: str):
        """Run the cell as a hunt block (``%%hunt [--store PATH]``)."""
        args = shlex.split(line)
        store = None
        if args[:1] == ["--store"] and len(args) > 1:
            store = args[1]
        if self.handle is None:
            from .session import Session

            self.handle = Hunt(Session(store or os.environ.get("STIXGRAPH_STORE") or ":memory:"))
            self.shell.user_ns["hunt"] = self.handle
        from .kernel import iter_run_threaded

        for d in iter_run_threaded(self.handle.session, cell, "%%hunt"):
            if isinstance(d, Message) and d.level == "warning":
                print(f"{d.level}: {d.text}")
                continue
            html, plain = html_of(d)
            if isinstance(d, Visual) and d.png and not d.html:
                display(Image(data=d.png))
            elif html:
                display(HTML(html))
            else:
                print(plain)


def load_ipython_extension(ipython) -> None:
    ipython.register_magics(HuntMagics)
