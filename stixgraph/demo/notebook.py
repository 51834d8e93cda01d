"""``examples/caldera-investigation.ipynb``: the seed's hunts (``stixgraph/demo/hunts``) as a
notebook for the stixgraph kernel, one cell per hunt, with the seed's commentary as markdown.
The notebook is generated from the hunt files so the two never drift:

    python -m stixgraph.demo.notebook examples/caldera-investigation.ipynb

To run it against the demo data: serve the scenario (``stixgraph splunk-emulator serve`` with
the demo's events, or run the notebook from ``tests/test_notebook.py``'s set-up), point the
``splunk`` profile at it, pin the clock with ``STIXGRAPH_NOW=2024-12-20T00:00:00Z`` (the hunts
say ``LAST 15 DAYS``), then open it with the stixgraph kernel.
"""
from __future__ import annotations

import sys
from pathlib import Path

from .run import hunt_files

INTRO = """# Caldera investigation (the seed notebook, as stixgraph hunts)

A purple-team exercise (MITRE Caldera) ran on the Windows host *WindowsTarget*; its Sysmon
events are in Splunk. Each cell below is one of the seed's hunts, run by the **stixgraph**
kernel: `GET` pulls STIX observations through stix-shifter's Splunk module, `FIND` walks the
graph, `DISP` shows tables, and the summary under each cell lists the variables it made.

Run `make demo` first for the data; `stixgraph kernel install` registers the kernel.
"""


def notebook() -> dict:
    import nbformat

    nb = nbformat.v4.new_notebook(metadata={
        "kernelspec": {"name": "stixgraph", "display_name": "stixgraph", "language": "stixgraph"},
        "language_info": {"name": "stixgraph", "file_extension": ".hf",
                          "pygments_lexer": "stixgraph", "codemirror_mode": "sql"}})
    cells = [nbformat.v4.new_markdown_cell(INTRO)]
    for path in hunt_files():
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        comment = []
        while lines and (lines[0].startswith("#") or not lines[0].strip()):
            comment.append(lines.pop(0).lstrip("# ").rstrip())
        title = path.stem.split("_", 1)[1].replace("_", " ")
        cells.append(nbformat.v4.new_markdown_cell(
            f"## {title}\n\n" + "\n".join(c for c in comment if c).strip()))
        cells.append(nbformat.v4.new_code_cell("\n".join(lines).strip() + "\n"))
    for i, c in enumerate(cells):  # stable ids: the file does not change between runs
        c["id"] = f"cell-{i:02d}"
    nb.cells = cells
    return nb


def write(path: str | Path) -> None:
    import nbformat

    nbformat.write(nbformat.from_dict(notebook()), str(path))


if __name__ == "__main__":  # pragma: no cover
    write(sys.argv[1] if len(sys.argv) > 1 else "examples/caldera-investigation.ipynb")
