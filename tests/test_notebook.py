"""``examples/caldera-investigation.ipynb`` runs top to bottom through the stixgraph kernel
(nbclient, as "Run All"), against the Splunk emulator serving the demo scenario, and its
outputs hold the seed's findings."""
from __future__ import annotations

import json
import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from stixgraph.demo import caldera, notebook, run as demo_run
from stixgraph.kernel import kernel_spec

from dns_rdap_servers import DEMO_PTRS, DEMO_RDAP, FakeDNS, FakeRDAP

NB = Path(__file__).resolve().parents[1] / "examples" / "caldera-investigation.ipynb"


def test_the_notebook_is_the_demo_hunts():
    """Regenerate with: python -m stixgraph.demo.notebook examples/caldera-investigation.ipynb"""
    committed = nbformat.read(str(NB), as_version=4)
    fresh = nbformat.from_dict(notebook.notebook())
    assert [c.source for c in committed.cells] == [c.source for c in fresh.cells]


@pytest.fixture
def kernel_env(tmp_path, monkeypatch):
    spec = tmp_path / "jupyter" / "kernels" / "stixgraph"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps(kernel_spec()))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("STIXGRAPH_NOW", caldera.DEMO_NOW.isoformat())
    monkeypatch.setenv("STIXGRAPH_CONFIG", str(tmp_path / "none.toml"))
    monkeypatch.delenv("STIXGRAPH_STORE", raising=False)


def _text(nb) -> str:
    out = []
    for c in nb.cells:
        for o in c.get("outputs", []):
            out.append(o.get("text", ""))
            out.append(o.get("data", {}).get("text/plain", ""))
    return "\n".join(out)


def test_the_notebook_runs_top_to_bottom_against_the_demo(kernel_env, monkeypatch):
    nb = nbformat.read(str(NB), as_version=4)
    with FakeDNS(DEMO_PTRS) as dns, FakeRDAP(DEMO_RDAP) as rdap:
        monkeypatch.setenv("STIXGRAPH_DNS", dns.address)  # the kernel inherits them
        monkeypatch.setenv("STIXGRAPH_RDAP", rdap.url)
        with demo_run.demo_splunk(caldera.DEFAULT_SIZE, caldera.DEFAULT_SEED):
            NotebookClient(nb, timeout=300, kernel_name="stixgraph").execute()
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.outputs for c in code)
    assert not [o for c in code for o in c.outputs if o.output_type == "error"]
    text = _text(nb)
    assert "ipconfig /all && netsh interface show interface && arp -a" in text  # T1016
    assert "SecurityCenter2" in text  # T1518
    assert "LaZagne.exe" in text and "SharpShares.exe" in text  # the GitHub downloads
    assert "140.82.114.3" in text
    assert "[SUMMARY]" in text
    # the APPLY cells: the enriched table, and the map and plots inline
    assert "lb-140-82-114-3-iad.github.com" in text and "GitHub, Inc. (GITHU)" in text
    shown = [o.data for c in code for o in c.outputs if o.output_type == "display_data"]
    assert sum("pinip-data" in d.get("text/html", "") for d in shown) == 1
    assert sum("image/png" in d for d in shown) == 2  # the two attribute-plots


def test_run_all_stops_at_a_failing_cell(kernel_env):
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "stixgraph",
                                                           "display_name": "stixgraph"}})
    nb.cells = [nbformat.v4.new_code_cell('a = NEW process ["cmd.exe"]'),
                nbformat.v4.new_code_cell("b = FIND file LOADED BY nope"),
                nbformat.v4.new_code_cell("DISP a")]
    with pytest.raises(CellExecutionError, match="nope"):
        NotebookClient(nb, timeout=60, kernel_name="stixgraph").execute()
    assert nb.cells[0].outputs and not nb.cells[2].outputs
