"""The ``stixgraph`` command: a thin skin over the library (:class:`stixgraph.session.Session`,
the graph store and :mod:`stixgraph.output`).

Common options (``--store``, ``--output``...) are accepted before or after the command name:
``stixgraph --store h.db hunt h.hf`` and ``stixgraph hunt h.hf --store h.db`` are the same.
Exit codes: 0 ok, 1 a user-facing error (one line on stderr), 2 bad usage, 70 internal error.
"""
from __future__ import annotations

import functools
import json
import os
import sys
import time
import traceback
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path

import click
import orjson

from .display import Message, Table
from .errors import HuntSyntaxError, StixgraphError, StoreError
from .output import FORMATS, Renderer, label
from .splunk.emulator import cli as splunk_emulator_cli

INTERNAL_ERROR = 70


# -- common options ---------------------------------------------------------------------
def _parse_now(value: str) -> datetime:
    try:
        t = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO 8601 timestamp "
                                 f"(e.g. 2024-12-20T00:00:00Z)") from None
    return t if t.tzinfo else t.replace(tzinfo=timezone.utc)


def _parse_source(value: str) -> tuple[str, str]:
    name, sep, uri = value.partition("=")
    if not sep or not name or not uri:
        raise click.BadParameter(f"{value!r}: expected NAME=URI (e.g. splunk=/tmp/caldera.json)")
    if "://" not in uri:  # a plain path is a bundle file
        uri = "file://" + os.path.abspath(uri)
    return name, uri


def _remember(ctx: click.Context, param: click.Parameter, value):
    """Keep a common option in the root context's settings (a later value wins)."""
    if value in (None, False, ()):
        return
    opts = ctx.find_root().ensure_object(dict)
    if param.name == "source":
        opts.setdefault("source", {}).update(_parse_source(v) for v in value)
    elif param.name == "now":
        opts["now"] = _parse_now(value)
    else:
        opts[param.name] = value


def common(f):
    for opt in reversed(_COMMON):
        f = opt(f)
    return f


def _settings(ctx: click.Context) -> dict:
    return ctx.find_root().ensure_object(dict)


def _opt(*decls, **kw):
    return click.option(*decls, expose_value=False, callback=_remember, **kw)


_COMMON = [
    _opt("--store", metavar="PATH",
         help="Graph store: an SQLite file or :memory: (default: $STIXGRAPH_STORE, else "
              "~/.local/share/stixgraph/store.db)."),
    _opt("--output", type=click.Choice(FORMATS), help="Output format (default: table)."),
    _opt("--full", is_flag=True, help="Show long values whole (wrapped) instead of cut."),
    _opt("--now", metavar="TIMESTAMP", help="Pin the clock (for LAST n DAYS), e.g. 2024-12-20T00:00:00Z."),
    _opt("--source", metavar="NAME=URI", multiple=True,
         help="Map a data-source profile or URI to another URI, e.g. splunk=/tmp/caldera.json "
              "(repeatable)."),
    _opt("--no-prefetch", is_flag=True,
         help="GET and FIND keep what the query returned: no second query to a search "
              "service (Splunk) for the other records of the entities found."),
    _opt("--publish", metavar="COLLECTION_URL",
         help="Publish what each GET pulls from a data source (observed-data and SCOs, STIX "
              "2.1) to this TAXII 2.1 collection, skipping what it holds already; credentials "
              "from STIXGRAPH_TAXII_USER/_PASSWORD, _TOKEN or the config file's [taxii] table.  "
              "A profile's 'publish' option does it per data source."),
    _opt("--display-dir", metavar="DIR",
         help="Where APPLY's maps and plots are written (default: ./stixgraph-displays)."),
    _opt("--open", "open_displays", is_flag=True,
         help="Open each APPLY display in the browser once written."),
    _opt("--debug", is_flag=True, help="Show tracebacks."),
]


def guarded(f):
    """Run a command body: StixgraphError → one line on stderr, exit 1; anything else →
    'internal error' (traceback with --debug), exit 70."""

    @click.pass_context
    @functools.wraps(f)
    def run(ctx, *args, **kw):
        debug = _settings(ctx).get("debug", False)
        try:
            return f(ctx, *args, **kw)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except StixgraphError as e:
            if debug:
                traceback.print_exc()
            msg = e.render() if isinstance(e, HuntSyntaxError) else str(e)
            click.echo(f"stixgraph: {msg}", err=True)
            ctx.exit(1)
        except BrokenPipeError:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            ctx.exit(1)
        except Exception as e:  # a bug: say so in one line
            if debug:
                traceback.print_exc()
            else:
                first = (str(e).splitlines() or [""])[0]
                click.echo(f"stixgraph: internal error: {type(e).__name__}: {first}; run with "
                           f"--debug for the traceback", err=True)
            ctx.exit(INTERNAL_ERROR)

    return run


def _session(ctx: click.Context, progress=None):
    from .session import Session

    opts = _settings(ctx)
    spec = opts.get("store")
    try:
        s = Session(_open_store(spec), now=opts.get("now"), sources=opts.get("source"),
                    progress=progress, prefetch=not opts.get("no_prefetch"),
                    publish=opts.get("publish"))
    except StoreError as e:
        msg = str(e)
        raise StoreError(msg if msg.startswith("store") else f"store {msg}") from e
    except OSError as e:
        raise StoreError(f"store {spec}: {e.strerror or e}") from e
    ctx.call_on_close(s.store.close)
    return s


def _ask_arango_password() -> str:
    """The ArangoDB password, asked on the terminal (never an option: it would show in `ps`
    and in shell history)."""
    if not sys.stdin.isatty():
        raise StoreError("no ArangoDB password: set ARANGO_PASSWORD")
    return click.prompt("ArangoDB password", hide_input=True, err=True)


def _quiet_http_retries() -> None:
    """urllib3 logs each retry of an unreachable ArangoDB as a warning; the one-line error
    that follows says it all."""
    import logging

    logging.getLogger("urllib3.connectionpool").setLevel(logging.ERROR)


def _open_store(spec):
    from .session import open_store

    if str(spec or os.environ.get("STIXGRAPH_STORE", "")).startswith("arango://"):
        _quiet_http_retries()
    return open_store(spec, password=_ask_arango_password)


def _arango_store(ctx, spec: str | None):
    from .store.arangodb import ArangoStore

    spec = spec or _settings(ctx).get("store") or os.environ.get("STIXGRAPH_STORE")
    if not spec or not str(spec).startswith("arango://"):
        raise StoreError("give the ArangoDB store: --store arango://USER@HOST:8529/DB "
                         "(or STIXGRAPH_STORE)")
    _quiet_http_retries()
    store = ArangoStore(spec, _ask_arango_password, init=False)
    ctx.call_on_close(store.close)
    return store


def _renderer(ctx: click.Context) -> Renderer:
    opts = _settings(ctx)
    return Renderer(sys.stdout, opts.get("output", "table"), full=opts.get("full", False),
                    err=sys.stderr, display_dir=opts.get("display_dir"),
                    open_displays=opts.get("open_displays", False))


def _json_line(obj) -> None:
    sys.stdout.write(orjson.dumps(obj, default=str).decode() + "\n")


class _Progress:
    """'GET uri: n MB read' (bundles) or 'GET uri: n rows' (stix-shifter) on stderr, redrawn
    at most 5 times a second."""

    def __init__(self):
        self.last = 0.0
        self.shown = False

    def __call__(self, uri: str, n: int) -> None:
        now = time.monotonic()
        if now - self.last >= 0.2:
            self.last = now
            self.shown = True
            what = (f"{n:,} rows" if uri.startswith("stixshifter://")  # rows pulled
                    else f"{n / 1e6:.1f} MB read")  # bytes of a bundle
            sys.stderr.write(f"\rGET {uri}: {what}\033[K")
            sys.stderr.flush()

    def clear(self) -> None:
        if self.shown:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()
            self.shown = False


# -- commands -----------------------------------------------------------------------------
@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@common
@click.version_option(package_name="stixgraph")
def main():
    """Run Kestrel v1 hunts over a STIX 2.1 graph."""


@main.command()
@click.option("--size", type=int, default=None, show_default="5000",
              help="Scenario size (events of background activity).")
@click.option("--seed", type=int, default=None, show_default="808", help="Scenario seed.")
@common
@guarded
def demo(ctx, size, seed):
    """Run the seed's hunts as written against the Splunk emulator serving the Caldera demo
    scenario, through stix-shifter (default store: a fresh in-memory one)."""
    from .demo import caldera, run as demo_run

    opts = _settings(ctx)
    store = opts.get("store") or ":memory:"
    out = _renderer(ctx)
    progress = _Progress() if sys.stderr.isatty() else None

    written: list[str] = []

    def write(d):
        if progress:
            progress.clear()
        out.write(d)
        written.extend(getattr(d, "files", ()))

    # each hunt's maps and plots go to a folder of their own: DIR/<hunt>/line012-<title>.html
    displays = out.display_dir

    def announce(name):
        out.display_dir = displays / Path(name).stem
        if opts.get("output", "table") == "table":
            click.echo(f"\n=== {name}")

    demo_run.run(store, size=size or caldera.DEFAULT_SIZE,
                 seed=caldera.DEFAULT_SEED if seed is None else seed,
                 write=write, announce=announce, progress=progress,
                 prefetch=not opts.get("no_prefetch"))
    if opts.get("output", "table") == "table":
        if written:
            click.echo(f"\nThe APPLY cells' maps and plots ({len(written)} files) are in "
                       f"{displays}/:")
            for f in written:
                click.echo(f"  {Path(f).relative_to(displays)}")
        now = caldera.DEMO_NOW.strftime("%Y-%m-%dT%H:%M:%SZ")
        click.echo("\nThe same hunts as a notebook, examples/caldera-investigation.ipynb:\n"
                   "  python -m stixgraph.demo.caldera build/caldera.jsonl --format cim\n"
                   f"  stixgraph splunk-emulator serve --now {now} build/caldera.jsonl "
                   "> build/splunk.env &\n"
                   f"  . build/splunk.env; export STIXGRAPH_NOW={now}\n"
                   "  stixgraph kernel install; jupyter lab examples/caldera-investigation.ipynb"
                   f"\nor hunt at a prompt: stixgraph shell --store {store}")


@main.command()
@click.argument("file", type=click.File("r", encoding="utf-8"))
@common
@guarded
def hunt(ctx, file):
    """Run the hunt in FILE ('-' for stdin), printing each statement's output as it comes."""

    progress = _Progress() if sys.stderr.isatty() else None
    session = _session(ctx, progress)
    out = _renderer(ctx)
    text, filename = file.read(), file.name
    displays = session.iter_run(text, filename)
    while True:
        try:
            d = next(displays)
        except StopIteration:
            break
        finally:
            if progress:
                progress.clear()
        out.write(d)


@main.command()
@click.argument("file", type=click.File("r", encoding="utf-8"))
@click.option("--backend", type=click.Choice(["sqlite", "arango"]), default="sqlite",
              show_default=True,
              help="The backend whose queries to show: SQL, or AQL with its bind variables.")
@common
@guarded
def explain(ctx, file, backend):
    """Show the queries each statement of FILE compiles to (nothing runs)."""
    session = _session(ctx)
    as_json = _settings(ctx).get("output") == "json"
    for stmt, queries in session.explain(file.read(), file.name, backend=backend):
        if as_json:
            _json_line({"statement": stmt.pos.line, "text": stmt.pos.text, "queries": [
                {"purpose": getattr(q, "purpose", ""),
                 "query": q.sql if hasattr(q, "sql") else getattr(q, "text", str(q)),
                 "params": q.params if hasattr(q, "params") else getattr(q, "bind_vars", {})}
                for q in queries]})
            continue
        for i, line in enumerate(stmt.pos.text.splitlines()):
            click.echo(f"-- {stmt.pos.line + i:>4} | {line}")
        for q in queries:
            click.echo(q.render(pretty=True) if hasattr(q, "render") else str(q))
        if not queries:
            click.echo("-- (no query)")
        click.echo()


@main.command("vars")
@common
@guarded
def vars_(ctx):
    """List the variables kept in the store."""
    session = _session(ctx)
    rows = [[v.name, v.type, v.entities, v.records, v.command, v.line]
            for v in session.store.variables()]
    out = _renderer(ctx)
    if rows:
        out.write(Table(0, ["VARIABLE", "TYPE", "#(ENTITIES)", "#(RECORDS)", "COMMAND", "LINE"], rows))
    else:
        out.write(Message(0, f"no variables in the store ({session.store.collection})", "info"))


@main.command()
@click.argument("var")
@click.option("--attr", metavar="A,B", help="Attributes to show, comma-separated.")
@click.option("--limit", type=click.IntRange(min=0), help="At most N rows.")
@common
@guarded
def disp(ctx, var, attr, limit):
    """Show stored variable VAR (DISP VAR [ATTR ...] [LIMIT N])."""
    from .lang import parse

    session = _session(ctx)
    if session.store.var(var) is None:
        known = ", ".join(v.name for v in session.store.variables()) or "none"
        raise StixgraphError(f"no variable {var!r} in the store (known: {known})")
    text = f"DISP {var}" + (f" ATTR {attr}" if attr else "") + (
        f" LIMIT {limit}" if limit is not None else "")
    out = _renderer(ctx)
    for stmt in parse(text, "<disp>").statements:
        out.write_all(session.execute(stmt))


# -- graph ------------------------------------------------------------------------------------
@main.group()
@common
def graph():
    """Walk the stored STIX graph (objects and their *_ref edges)."""


@graph.command()
@click.argument("stix_id")
@click.option("--relation", metavar="REF", help="Follow only this reference (e.g. parent_ref).")
@click.option("--direction", type=click.Choice(["in", "out", "any"]), default="any",
              show_default=True)
@click.option("--depth", type=click.IntRange(min=1), default=1, show_default=True)
@common
@guarded
def neighbors(ctx, stix_id, relation, direction, depth):
    """Objects within DEPTH edges of STIX_ID, and the edges walked."""
    store = _session(ctx).store
    objs, edges = store.neighbors(stix_id, relation, direction, depth)
    if _settings(ctx).get("output") == "json":
        _json_line({"objects": objs, "edges": [{"source": s, "relation": r, "target": d}
                                               for s, r, d in edges]})
        return
    out = _renderer(ctx)
    out.write(Table(0, ["#", "id", "type", "label"],
                    [[i, o["id"], o["type"], label(o)] for i, o in enumerate(objs, 1)],
                    title="objects"))
    if out.fmt == "table":  # ids are too long for three columns: refer to the objects by #
        num = {o["id"]: f"#{i} {label(o)}".rstrip() for i, o in enumerate(objs, 1)}
        edges = [(num[s], r, num[d]) for s, r, d in edges]
    out.write(Table(0, ["source", "relation", "target"], [list(e) for e in edges], title="edges"))


@graph.command()
@click.argument("process_id")
@click.option("--depth", type=click.IntRange(min=1), default=64, show_default=True,
              help="Generations to follow up and down.")
@common
@guarded
def tree(ctx, process_id, depth):
    """The process tree around PROCESS_ID: its ancestors and descendants (parent_ref)."""
    store = _session(ctx).store
    up_objs, up = store.neighbors(process_id, "parent_ref", "out", depth)
    down_objs, down = store.neighbors(process_id, "parent_ref", "in", depth)
    objs = {o["id"]: o for o in up_objs + down_objs}
    if objs[process_id].get("type") != "process":
        raise StixgraphError(f"{process_id} is a {objs[process_id].get('type')}, not a process")
    parent = {s: d for s, _, d in sorted(up)}
    root = process_id
    while root in parent and parent[root] != process_id:
        root = parent[root]
    children = defaultdict(list)
    for s, _, d in sorted(up) + sorted(down):
        if s not in children[d]:
            children[d].append(s)
    chain = {process_id}
    node = process_id
    while node in parent:
        node = parent[node]
        chain.add(node)

    def kids(n):  # above the target, only the line of ancestors
        return [c for c in children.get(n, []) if n not in chain or n == process_id or c in chain]

    if _settings(ctx).get("output") == "json":
        def tojson(n, seen):
            o = objs[n]
            return {"id": n, "pid": o.get("pid"), "name": o.get("name"),
                    "command_line": o.get("command_line"),
                    "children": [tojson(c, seen | {c}) for c in kids(n) if c not in seen]}
        _json_line(tojson(root, {root}))
        return
    opts = _settings(ctx)
    width = None if opts.get("full") else _renderer(ctx).width

    def show(n, prefix, connector, rest, seen):
        o = objs[n]
        mark = "* " if n == process_id else ""
        pid = o.get("pid", "?")
        text = f"{mark}{pid} {o.get('name') or ''}  {o.get('command_line') or ''}".rstrip()
        line = prefix + connector + text
        if width and len(line) > width:
            line = line[:width - 1] + "…"
        click.echo(line)
        ks = [c for c in kids(n) if c not in seen]
        for i, c in enumerate(ks):
            last = i == len(ks) - 1
            show(c, prefix + rest, "└─ " if last else "├─ ", "   " if last else "│  ", seen | {c})

    show(root, "", "", "", {root})


@graph.command()
@click.argument("source_id")
@click.argument("target_id")
@click.option("--depth", type=click.IntRange(min=1), default=3, show_default=True,
              help="Edges walked from each end (paths up to twice this long).")
@common
@guarded
def path(ctx, source_id, target_id, depth):
    """The shortest chain of references between two objects (edges in either direction)."""
    import networkx as nx

    store = _session(ctx).store
    objs_a, edges_a = store.neighbors(source_id, None, "any", depth)
    objs_b, edges_b = store.neighbors(target_id, None, "any", depth)
    objs = {o["id"]: o for o in objs_a + objs_b}
    g = nx.Graph()
    g.add_nodes_from(objs)
    for s, r, d in sorted(set(edges_a) | set(edges_b)):
        if not g.has_edge(s, d):
            g.add_edge(s, d, edge=(s, r, d))
    try:
        ids = nx.shortest_path(g, source_id, target_id)
    except nx.NetworkXNoPath:
        ids = None
    as_json = _settings(ctx).get("output") == "json"
    if ids is None:
        if as_json:
            _json_line({"path": None, "edges": []})
        else:
            click.echo(f"no path between {source_id} and {target_id} within {depth} edges of "
                       f"each (try a larger --depth)")
        ctx.exit(1)
    steps = [g.edges[a, b]["edge"] for a, b in zip(ids, ids[1:])]
    if as_json:
        _json_line({"path": [{"id": i, "type": objs[i]["type"], "label": label(objs[i])} for i in ids],
                    "edges": [{"source": s, "relation": r, "target": d} for s, r, d in steps]})
        return

    def name(i):
        lab = label(objs[i])
        return f"{i} ({lab})" if lab else i

    click.echo(name(ids[0]))
    for (s, r, d), nxt in zip(steps, ids[1:]):
        arrow = f"-[{r}]->" if s != nxt else f"<-[{r}]-"
        click.echo(f"  {arrow} {name(nxt)}")


@graph.command()
@click.argument("variable")
@click.option("--format", "fmt", type=click.Choice(["graphml", "gexf", "json"]), default="graphml",
              show_default=True)
@click.option("--depth", type=click.IntRange(min=0), default=1, show_default=True,
              help="Edges walked out from the variable's entities.")
@click.option("-o", "--out", "dest", type=click.File("w", encoding="utf-8", lazy=True),
              default="-", help="Write here (default: stdout).")
@common
@guarded
def export(ctx, variable, fmt, depth, dest):
    """Export VARIABLE's entities and their neighbourhood as a graph file."""
    import networkx as nx

    store = _session(ctx).store
    objs, edges = store.var_subgraph(variable, depth)
    g = to_digraph(objs, edges)
    if fmt == "json":
        dest.write(orjson.dumps(nx.node_link_data(g, edges="edges"), default=str).decode() + "\n")
    else:
        gen = nx.generate_graphml if fmt == "graphml" else nx.generate_gexf
        for line in gen(g):
            dest.write(line + "\n")


def to_digraph(objs: list[dict], edges: list[tuple[str, str, str]]):
    """A networkx DiGraph: nodes are STIX ids with their scalar properties (plus ``label``),
    edges carry ``relationship_type`` (the *_ref name; several are comma-joined)."""
    import networkx as nx

    types = defaultdict(set)
    for o in objs:
        for k, v in o.items():
            if isinstance(v, (str, int, float, bool)):
                types[k].add(type(v))
    g = nx.DiGraph()
    for o in objs:  # an attribute with mixed types becomes a string everywhere (GraphML keys)
        attrs = {k: (v if len(types[k]) == 1 else str(v)) for k, v in o.items()
                 if k != "id" and isinstance(v, (str, int, float, bool))}
        attrs.setdefault("label", label(o) or o["id"])
        g.add_node(o["id"], **attrs)
    for s, r, d in edges:
        if g.has_edge(s, d):
            g.edges[s, d]["relationship_type"] += "," + r
        else:
            g.add_edge(s, d, relationship_type=r)
    return g


main.add_command(splunk_emulator_cli, "splunk-emulator")

if __name__ == "__main__":  # pragma: no cover
    main()


_ARANGO_STORE = click.option("--store", "arango_url", metavar="arango://USER@HOST:PORT/DB",
                             help="The ArangoDB store (default: $STIXGRAPH_STORE); the password "
                                  "comes from $ARANGO_PASSWORD or a prompt.")


@main.group("arango")
def arango_cli():
    """Set up, inspect and remove a store collection in ArangoDB."""


@arango_cli.command("init")
@_ARANGO_STORE
@guarded
def arango_init(ctx, arango_url):
    """Create the database (when allowed), collections, analyzer, indexes and named graph
    (nothing already there is changed)."""
    made = _arango_store(ctx, arango_url).init()
    click.echo(json.dumps(made, indent=2))


@arango_cli.command("status")
@_ARANGO_STORE
@guarded
def arango_status(ctx, arango_url):
    """Documents per collection, indexes present, and whether the named graph exists."""
    click.echo(json.dumps(_arango_store(ctx, arango_url).status(), indent=2))


@arango_cli.command("drop")
@_ARANGO_STORE
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@guarded
def arango_drop(ctx, arango_url, yes):
    """Remove the store collection's named graph and collections (the database stays)."""
    store = _arango_store(ctx, arango_url)
    if not yes:
        click.confirm(f"drop store collection {store.collection!r} of {store.target.url()}?",
                      abort=True, err=True)
    store.drop()
    click.echo(f"dropped store collection {store.collection!r}")


@arango_cli.command("install-queries")
@_ARANGO_STORE
@guarded
def arango_install_queries(ctx, arango_url):
    """Save arango/queries/*.aql in the web UI's "Saved Queries" of the connecting user, bound
    to the store collection (a saved query of the same name is replaced)."""
    for name in _arango_store(ctx, arango_url).install_queries():
        click.echo(f"saved query: {name}")


@main.group("taxii")
def taxii_cli():
    """Share over TAXII 2.1: publish STIX to a collection, pull a collection into the store.
    Credentials come from STIXGRAPH_TAXII_USER / STIXGRAPH_TAXII_PASSWORD, STIXGRAPH_TAXII_TOKEN
    or the config file's [taxii] table, never from the command line."""


def _stix_objects_of_file(path: str) -> list[dict]:
    """A STIX bundle file (2.0 or 2.1) as STIX 2.1 objects: observed-data and their SCOs."""
    from .stix.normalize import normalize_bundle
    from .taxii import observations_to_stix

    try:
        with open(path, "rb") as f:
            data = orjson.loads(f.read())
    except OSError as e:
        raise StixgraphError(f"{path}: {e.strerror or e}") from None
    except orjson.JSONDecodeError as e:
        raise StixgraphError(f"{path}: not JSON ({e})") from None
    return observations_to_stix(normalize_bundle(data))


@taxii_cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (beyond loopback only with --config).")
@click.option("--port", default=9443, show_default=True, type=click.IntRange(0, 65535))
@click.option("--config", "config", type=click.Path(dir_okay=False, exists=True),
              help="Users and per-collection permissions (TOML; see taxii/server.example.toml). "
                   "Without it: loopback only, every collection read-only to anyone.")
@click.option("--cert", type=click.Path(dir_okay=False, exists=True),
              help="TLS certificate (PEM) to serve HTTPS.")
@click.option("--key", type=click.Path(dir_okay=False, exists=True),
              help="The certificate's private key (PEM).")
@common
@guarded
def taxii_serve(ctx, host, port, config, cert, key):
    """Serve the store's collections over TAXII 2.1 (discovery at /taxii2/, the OpenAPI
    description at /openapi.json) until interrupted."""
    from .store.sqlite import default_store_path
    from .taxii.server import make_server

    if bool(cert) != bool(key):
        raise StixgraphError("--cert and --key go together")
    store = _settings(ctx).get("store") or os.environ.get("STIXGRAPH_STORE") or \
        str(default_store_path())
    server = make_server(store, host, port, config, cert, key)
    scheme = "https" if cert else "http"
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"TAXII 2.1 at {scheme}://{shown}:{server.server_port}/taxii2/ "
               f"(API root /{server.taxii_app.access.api_root}/; "
               + ("permissions from " + str(config) if config else "read-only, no users")
               + "); Ctrl-C stops", err=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        server.taxii_app.backend.close()


@taxii_cli.command("hash-password")
@click.option("--token", is_flag=True, help="Hash a bearer token instead of a password.")
@guarded
def taxii_hash_password(ctx, token):
    """Read a password (or token) without echo and print the hash the server config holds."""
    from .taxii.access import hash_password, hash_token

    secret = click.prompt("token" if token else "password", hide_input=True,
                          confirmation_prompt=not token, err=True)
    click.echo(hash_token(secret) if token else hash_password(secret))


@taxii_cli.command("push")
@click.argument("what", metavar="VARIABLE|FILE")
@click.option("--collection", "collection", required=True, metavar="URL",
              help="The collection: https://HOST/API_ROOT/collections/ID/ or taxii://HOST/API_ROOT/ID/.")
@click.option("--max-content-length", type=click.IntRange(min=1000),
              help="Cut envelopes below this many bytes (never above the API root's limit).")
@common
@guarded
def taxii_push(ctx, what, collection, max_content_length):
    """Publish observed-data and their SCOs to a collection: every observation holding an
    entity of VARIABLE (in --store), or those of a STIX bundle FILE.  Objects the collection
    already holds are not sent again."""
    from .taxii import observations_to_stix, publish

    if os.path.exists(what):
        objects = _stix_objects_of_file(what)
    else:
        store = _session(ctx).store
        if store.var(what) is None:
            raise StixgraphError(f"{what}: neither a file nor a variable of the store")
        objects = observations_to_stix(store.observations_of(what))
    report = publish(objects, collection, max_content_length=max_content_length)
    click.echo(report.summary())
    for oid, why in report.failures[:20]:
        click.echo(f"  failed {oid}: {why}", err=True)
    if not report.ok:
        ctx.exit(1)


@taxii_cli.command("pull")
@click.argument("collection", metavar="COLLECTION_URL")
@click.option("--added-after", metavar="TIMESTAMP", help="Only objects added after this time.")
@click.option("--type", "types", multiple=True, metavar="TYPE",
              help="Only observed-data and these SCO types (repeatable; default: all).")
@common
@guarded
def taxii_pull(ctx, collection, added_after, types):
    """Store a collection's observed-data and SCOs (STIX 2.0 or 2.1) in the graph store."""
    from .stix.normalize import normalize_bundle
    from .taxii import collection_url, fetch

    session = _session(ctx)
    url = collection_url(collection)
    objects = list(fetch(url, added_after=added_after,
                         types=({"observed-data", *types} if types else None)))
    observations = normalize_bundle(objects)
    with session.store.atomic():
        qid = session.store.begin_query(url, "[taxii pull]")
        stats = session.store.ingest(observations, qid)
    click.echo(f"{url}: {len(objects)} objects, {stats.get('observations', len(observations))} "
               f"observations stored")


@main.group("kernel")
def kernel_cli():
    """The stixgraph Jupyter kernel."""


@kernel_cli.command("install")
@click.option("--user", "where", flag_value="user", help="For this user (~/.local/share/jupyter).")
@click.option("--sys-prefix", "where", flag_value="sys-prefix", default=True,
              help="Into this environment (default): the interpreter running stixgraph.")
@guarded
def kernel_install(ctx, where):
    """Install the kernelspec "stixgraph"; it starts the kernel with this interpreter."""
    from .kernel import install

    path = install(user=where == "user", prefix=None if where == "user" else sys.prefix)
    click.echo(f"installed kernel 'stixgraph' in {path} (runs {sys.executable}); open a "
               f"notebook and pick the stixgraph kernel, e.g. jupyter lab "
               f"examples/caldera-investigation.ipynb")


@main.command("shell")
@common
@guarded
def shell(ctx):
    """An interactive hunt prompt: statements may span lines, history is kept, Tab
    completes; --store resumes a store's variables."""
    from .shell import run_shell

    run_shell(_session(ctx), _renderer(ctx))
