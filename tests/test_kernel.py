"""The Jupyter kernel (started by jupyter_client, as a notebook server starts it), the
``%%hunt`` magic, the lexer and the shell."""
from __future__ import annotations

import io
import json
import sys
import time

import jupyter_client
import pytest

from stixgraph.kernel import install, kernel_spec

CELL = ('procs = NEW process [{"name": "cmd.exe", "pid": 4, "command_line": "cmd /c whoami"}, '
        '{"name": "powershell.exe", "pid": 8}]\nnt = NEW network-traffic [{"dst_port": 443}]\n'
        "DISP procs ATTR name, pid SORT BY pid ASC")


@pytest.fixture(scope="module")
def kernel(tmp_path_factory):
    d = tmp_path_factory.mktemp("jupyter")
    spec = d / "kernels" / "stixgraph"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps(kernel_spec()))
    env_path = str(d)
    import os

    old = os.environ.get("JUPYTER_PATH")
    os.environ["JUPYTER_PATH"] = env_path
    os.environ["STIXSHIFTER_KERNELTEST_CONNECTOR"] = "splunk"
    km, kc = jupyter_client.manager.start_new_kernel(kernel_name="stixgraph", startup_timeout=60)
    yield kc
    kc.stop_channels()
    km.shutdown_kernel(now=True)
    os.environ.pop("STIXSHIFTER_KERNELTEST_CONNECTOR", None)
    if old is None:
        os.environ.pop("JUPYTER_PATH", None)
    else:
        os.environ["JUPYTER_PATH"] = old


def run(kc, code):
    outs = []
    rep = kc.execute_interactive(code, timeout=60, output_hook=outs.append)
    return rep["content"], outs


def test_a_cell_shows_tables_and_the_summary_as_html(kernel):
    rep, outs = run(kernel, CELL)
    assert rep["status"] == "ok"
    shown = [o["content"]["data"] for o in outs if o["msg_type"] == "display_data"]
    table, summary = shown[0], shown[-1]
    assert "<table class=stixgraph>" in table["text/html"]
    assert table["text/html"].index("cmd.exe") < table["text/html"].index("powershell.exe")
    assert "cmd.exe" in table["text/plain"]
    assert "procs" in summary["text/html"] and "network-traffic" in summary["text/html"]
    assert "[SUMMARY]" in summary["text/plain"]


def test_a_failing_statement_fails_the_cell_and_keeps_what_came_before(kernel):
    run(kernel, CELL)
    rep, outs = run(kernel, "kept = procs WHERE pid = 4\nbad = FIND file LOADED BY nope\n"
                            "DISP kept")
    assert rep["status"] == "error" and "nope" in rep["evalue"] and "]:2:" in rep["evalue"]
    assert [o for o in outs if o["msg_type"] == "error"]
    assert not [o for o in outs if o["msg_type"] == "display_data"]  # DISP kept never ran
    rep, outs = run(kernel, "DISP kept ATTR pid")
    assert rep["status"] == "ok"  # the statement before the error kept its effect
    rep, _ = run(kernel, "x = procs WHERE\n\nDISP x")
    assert rep["status"] == "error" and rep["ename"] == "HuntSyntaxError"
    assert ":3:" in rep["evalue"]  # cell line and column


@pytest.mark.parametrize("code, want", [
    ("DI", "DISP"),  # keyword
    ("DISP pr", "procs"),  # variable
    ("x = GET proc", "process"),  # entity type
    ("DISP procs ATTR comm", "command_line"),  # attribute seen for the variable's type
    ("x = FIND network-traffic CR", "CREATED"),  # relation word valid for the pair
    ("x = GET process FROM stixshifter://kern", "stixshifter://kerneltest"),  # profile
])
def test_completion(kernel, code, want):
    run(kernel, CELL)
    reply = kernel.complete(code, len(code), reply=True, timeout=10)["content"]
    assert want in reply["matches"], reply
    word = code.split()[-1]
    assert reply["cursor_start"] == len(code) - len(word) and reply["cursor_end"] == len(code)


def test_inspection_shows_info(kernel):
    run(kernel, CELL)
    reply = kernel.inspect("DISP procs", 7, reply=True, timeout=10)["content"]
    assert reply["found"] and "Number of Entities" in reply["data"]["text/plain"]
    assert kernel.inspect("DISP nothing", 7, reply=True, timeout=10)["content"]["found"] is False


def test_install_writes_a_spec_for_this_interpreter(tmp_path):
    where = install(prefix=str(tmp_path))
    spec = json.loads((tmp_path / "share" / "jupyter" / "kernels" / "stixgraph" /
                       "kernel.json").read_text())
    assert where.endswith("stixgraph") and spec["argv"][0] == sys.executable
    assert spec["argv"][1:3] == ["-m", "stixgraph.kernel"] and spec["language"] == "stixgraph"


def test_the_lexer_colours_hunts():
    from pygments import lex
    from pygments.lexers import get_lexer_by_name
    from pygments.token import Keyword, Name, String

    toks = [(t, v) for t, v in lex("procs = GET process FROM stixshifter://splunk WHERE "
                                   "name = 'cmd.exe'\nnt = FIND network-traffic CREATED BY procs",
                                   get_lexer_by_name("stixgraph")) if v.strip()]
    assert (Keyword, "GET") in toks and (Name.Class, "process") in toks
    assert (String.Single, "'cmd.exe'") in toks and (Keyword.Pseudo, "CREATED") in toks


def test_the_hunt_magic_gives_dataframes():
    from IPython.core.interactiveshell import InteractiveShell

    ip = InteractiveShell.instance()
    try:
        ip.run_line_magic("load_ext", "stixgraph.magic")
        res = ip.run_cell("%%hunt\n" + CELL)
        assert res.success, res.error_in_exec
        df = ip.user_ns["hunt"].vars["procs"]
        assert sorted(df["pid"].tolist()) == [4, 8] and "name" in df.columns
        res = ip.run_cell("%%hunt\nbad = procs WHERE")
        assert not res.success
        assert "procs" in ip.user_ns["hunt"].vars
    finally:
        InteractiveShell.clear_instance()


# ---------------------------------------------------------------- the shell

def test_the_shell_runs_multiline_statements_and_survives_errors(tmp_path):
    from prompt_toolkit.input import create_pipe_input
    from prompt_toolkit.output import DummyOutput

    from stixgraph.output import Renderer
    from stixgraph.session import Session
    from stixgraph.shell import run_shell

    out = io.StringIO()
    with create_pipe_input() as inp:
        inp.send_text('procs = NEW process\n  [{"name": "cmd.exe", "pid": 4}]\n'
                      "DISP procs WHERE\n\n"
                      "DISP nope\n"
                      "DISP procs ATTR name\n"
                      "exit\n")
        session = Session(":memory:")
        run_shell(session, Renderer(out, width=100), input=inp, output=DummyOutput(),
                  history=False)
    text = out.getvalue()
    assert "statement abandoned" in text
    assert "error:" in text and "nope" in text
    assert "cmd.exe" in text  # the statement after the errors ran
    assert session.store.var("procs").entities == 1


def test_the_shell_completes():
    from prompt_toolkit.document import Document

    from stixgraph.session import Session
    from stixgraph.shell import HuntCompleter

    s = Session(":memory:")
    s.run('procs = NEW process ["cmd.exe"]')
    got = [c.text for c in HuntCompleter(s).get_completions(Document("DISP pr"), None)]
    assert got == ["procs"]
    start = time.time()
    assert [c.text for c in HuntCompleter(s).get_completions(Document("x = GET ipv"), None)] == [
        "ipv4-addr", "ipv6-addr"] and time.time() - start < 5
