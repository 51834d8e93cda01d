"""Every error a user can see.  Each renders as one clear line (a syntax error adds the
offending source line and a caret).  Anything else escaping the engine is a bug; the CLI
shows its traceback only with ``--debug``."""
from __future__ import annotations


class StixgraphError(Exception):
    """Base class: ``str(err)`` is the one-line message shown to the user."""


class HuntSyntaxError(StixgraphError):
    def __init__(self, message: str, *, filename: str, line: int, column: int,
                 source_line: str = "", expected: tuple[str, ...] = ()):
        self.message = message
        self.filename = filename
        self.line = line
        self.column = column
        self.source_line = source_line
        self.expected = expected
        super().__init__(f"{filename}:{line}:{column}: syntax error: {message}")

    def render(self) -> str:
        """Multi-line form: the message, the source line and a caret under the column."""
        out = [str(self)]
        if self.source_line:
            out.append("    " + self.source_line.rstrip("\n"))
            out.append("    " + " " * (self.column - 1) + "^")
        return "\n".join(out)


class HuntSemanticError(StixgraphError):
    """A statement that parses but cannot run: unknown variable, unknown type, bad relation."""

    def __init__(self, message: str, *, statement: str = "", line: int | None = None,
                 filename: str = "<hunt>"):
        self.message = message
        self.statement = statement
        self.line = line
        self.filename = filename
        where = f"{filename}:{line}: " if line is not None else ""
        what = f"{statement} statement: " if statement else ""
        super().__init__(f"{where}{what}{message}")


class DataSourceError(StixgraphError):
    """A data source could not be read (bad file, truncated bundle, HTTP failure...)."""


class StoreError(StixgraphError):
    """The store could not be opened or is not a stixgraph store."""
