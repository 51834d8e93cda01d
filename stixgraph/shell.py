"""``stixgraph shell``: an interactive hunt prompt (prompt_toolkit).

A statement may span lines: while what was typed ends before the statement does ("unexpected
end of input"), the prompt continues (``...``); an empty line gives up on it.  Output is the
same as ``stixgraph hunt``.  History is kept across sessions in
``$XDG_DATA_HOME/stixgraph/shell_history`` (``~/.local/share/...``); completion as in the
kernel (:mod:`stixgraph.complete`).  An error is printed and the session goes on: the failed
statement changed nothing.  ``exit``, ``quit`` or Ctrl-D leave.
"""
from __future__ import annotations

import os
from pathlib import Path

from prompt_toolkit import PromptSession
from prompt_toolkit.completion import Completer, Completion
from prompt_toolkit.history import FileHistory, InMemoryHistory

from .complete import complete
from .errors import HuntSyntaxError, StixgraphError
from .lang.parser import parse

PROMPT, MORE = "stixgraph> ", "...      > "


class HuntCompleter(Completer):
    def __init__(self, session):
        self.session = session

    def get_completions(self, document, complete_event):
        text, pos = document.text, document.cursor_position
        try:
            start, matches = complete(self.session, text, pos)
        except Exception:  # noqa: BLE001 - completion never breaks the prompt
            return
        for m in matches:
            yield Completion(m, start_position=start - pos)


def history_path() -> Path:
    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "stixgraph" / "shell_history"


def incomplete(text: str) -> bool:
    """Whether ``text`` stops before its last statement does (so the prompt continues)."""
    try:
        parse(text)
    except HuntSyntaxError as e:
        return "unexpected end of input" in e.message
    return False


def run_shell(session, renderer, *, input=None, output=None, history: bool = True) -> None:
    """The read-run-print loop.  ``input``/``output``: prompt_toolkit's (tests pass a pipe)."""
    if history:
        path = history_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        hist = FileHistory(str(path))
    else:
        hist = InMemoryHistory()
    prompt = PromptSession(history=hist, completer=HuntCompleter(session), input=input,
                           output=output, complete_while_typing=False)
    lines: list[str] = []
    while True:
        try:
            line = prompt.prompt(MORE if lines else PROMPT)
        except KeyboardInterrupt:
            lines = []
            continue
        except EOFError:
            break
        if not lines and line.strip().lower() in ("exit", "quit"):
            break
        if lines and not line.strip():
            renderer.write_error("statement abandoned")
            lines = []
            continue
        lines.append(line)
        text = "\n".join(lines)
        if not text.strip() or incomplete(text):
            if not text.strip():
                lines = []
            continue
        lines = []
        try:
            for d in session.iter_run(text, "<shell>"):
                renderer.write(d)
        except StixgraphError as e:
            renderer.write_error(e.render() if isinstance(e, HuntSyntaxError) else str(e))
