"""Bundle files and URLs as a data source (Kestrel's stixbundle interface).

URIs: ``file:///abs/b.json``, ``file://rel/b.json``, a bare path, ``http(s)://host/b.json``;
several comma-separated (``file:///a.json,/b.json``) are read in turn.  A query streams each
bundle (:mod:`stixgraph.stix.bundle`), keeps the observed-data that overlap the time range and
match the WHERE at observation level (:mod:`stixgraph.stix.match`), and stops after ``limit``
observations.  HTTP bodies are streamed into a temporary file first (``config["spool"]``,
default on), so that the sound text pre-filter can skip parsing; without spooling the body is
parsed as it arrives.  ``progress(n)`` receives the bytes read so far.

:meth:`BundleSource.query_prepared` (what a GET uses when the store prepares its writes): a
local file of PARALLEL_MIN bytes or more is read by two forked reader processes, one per half
(:func:`stixgraph.stix.bundle.split_point`), each filtering, normalising and preparing its
observations (``prepare``) and sending them in chunks; this process yields the first half's
chunks as they come, then the second's, so the result is exactly the one-process stream.

Config keys: ``timeout`` (HTTP seconds, default 60), ``spool`` (bool), ``headers`` (dict),
``verify`` (TLS verification, default True).
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Callable, Iterator
from urllib.parse import unquote, urlparse

from ..errors import DataSourceError
from ..stix.bundle import block_cache, iter_bundle, iter_half, remember_blocks, split_point
from ..stix.match import compile_matcher, in_time_range, text_filter, time_bounds
from ..stix.model import Observation
from .base import DataSource, SourceQuery

_HTTP_CHUNK = 1 << 20
#: local files at least this big are read by two child processes, one per half of the file,
#: while this one stores what they send (below, process start-up and the hand-over cost
#: more than they save: measured at 10 MB and 50 MB on 2 CPUs)
PARALLEL_MIN = 16 << 20
SPLIT_MIN = 16 << 20
CHILD_CHUNK = 1000  # observations per message from a reader process
SECOND_NICE = 10  # niceness of the second reader of a split file


def _file_path(part: str) -> Path:
    if part.lower().startswith("file://"):
        u = urlparse(part)
        p = unquote(u.path)
        if u.netloc and u.netloc not in ("localhost",):  # file://rel/x.json
            p = u.netloc + p
        return Path(p)
    return Path(part)


class BundleSource(DataSource):
    schemes = ("file", "http", "https")

    def __init__(self, uri: str, config: dict | None = None):
        super().__init__(uri, config)
        self.parts = self._split(uri)
        self.stats: dict = {}
        self._session = None

    @staticmethod
    def _split(uri: str) -> list[str]:
        if "," not in uri or _file_path(uri).exists():
            return [uri]
        parts, scheme = [], None
        for piece in uri.split(","):
            piece = piece.strip()
            if not piece:
                continue
            if "://" in piece:
                scheme = piece.split("://", 1)[0] + "://"
            elif scheme and scheme.lower() != "file://" and not os.path.isabs(piece):
                piece = scheme + piece  # http://h/a.json,b.json is not meant; keep explicit
            parts.append(piece)
        return parts

    # -- helpers -------------------------------------------------------------

    @staticmethod
    def _is_http(part: str) -> bool:
        return part.lower().startswith(("http://", "https://"))

    def _http(self):
        if self._session is None:
            import requests
            self._session = requests.Session()
        return self._session

    def _get(self, url: str, **kw):
        import requests
        try:
            r = self._http().get(url, stream=True, timeout=self.config.get("timeout", 60),
                                 headers=self.config.get("headers"),
                                 verify=self.config.get("verify", True), **kw)
        except requests.RequestException as e:
            raise DataSourceError(f"{url}: {type(e).__name__}: {e}") from None
        if r.status_code >= 400:
            r.close()
            raise DataSourceError(f"{url}: HTTP {r.status_code} {r.reason or ''}".rstrip())
        return r

    def _scan_part(self, part: str, accept, tf, progress, done: int) -> Iterator[Observation]:
        cb = (lambda n: progress(done + n)) if progress else None
        if not self._is_http(part):
            path = _file_path(part)
            if not path.is_file():
                raise DataSourceError(f"{part}: no such file")
            yield from iter_bundle(path, accept=accept, text_filter=tf, progress=cb,
                                   stats=self.stats, name=str(path))
            return
        import requests
        resp = self._get(part)
        try:
            if not self.config.get("spool", True):
                resp.raw.decode_content = True
                yield from iter_bundle(resp.raw, accept=accept, text_filter=None, progress=cb,
                                       stats=self.stats, name=part)
                return
            with tempfile.TemporaryFile(prefix="stixgraph-") as tmp:
                n = 0
                try:
                    for chunk in resp.iter_content(_HTTP_CHUNK):
                        tmp.write(chunk)
                        n += len(chunk)
                        if cb:
                            cb(n)
                except requests.RequestException as e:
                    raise DataSourceError(f"{part}: download failed after {n} bytes: {e}") \
                        from None
                tmp.seek(0)
                yield from iter_bundle(tmp, accept=accept, text_filter=tf, stats=self.stats,
                                       name=part)
        finally:
            resp.close()

    def _size(self, part: str) -> int:
        if self._is_http(part):
            return 0
        try:
            return _file_path(part).stat().st_size
        except OSError:
            return 0

    # -- DataSource ----------------------------------------------------------

    @staticmethod
    def _filters(q: SourceQuery):
        matcher = compile_matcher(q.where, q.etype)
        lo, hi = time_bounds(q.start, q.stop)
        if lo is None and hi is None:
            accept = matcher
        else:
            def accept(obs):
                return in_time_range(obs, lo, hi) and matcher(obs)
        return accept, text_filter(q.where, q.etype)

    def query(self, q: SourceQuery, progress: Callable[[int], None] | None = None
              ) -> Iterator[Observation]:
        accept, tf = self._filters(q)
        limit = q.limit
        if limit is not None and limit <= 0:
            return
        n, done = 0, 0
        for part in self.parts:
            for obs in self._scan_part(part, accept, tf, progress, done):
                yield obs
                n += 1
                if limit is not None and n >= limit:
                    return
            done += self._size(part)

    def query_prepared(self, q: SourceQuery, prepare: Callable[[list], object],
                       progress: Callable[[int], None] | None = None, split: bool = True):
        """:meth:`query`'s observations as ``prepare(list_of_observations)`` chunks, in order,
        read and prepared by child processes (two, one per part of the file, when ``split``
        and the file is big); None when that does not pay (a small file, a URL, several
        parts, a LIMIT, one CPU) and :meth:`query` should be used.

        Raises :class:`~stixgraph.sources.parallel.SplitFailed` (after having yielded part of
        the chunks) when the second part turns out to need the first (STIX 2.1 refs): the
        caller drops what it stored and reads again with ``split=False``."""
        from .parallel import fork_available, usable_cpus

        if q.limit is not None or len(self.parts) != 1 or self._is_http(self.parts[0]):
            return None
        path = _file_path(self.parts[0])
        try:
            if not path.is_file() or path.stat().st_size < PARALLEL_MIN:
                return None
        except OSError:
            return None
        if usable_cpus() < 2 or not fork_available():
            return None
        return self._parallel(path, q, prepare, progress, split)

    def _parallel(self, path: Path, q: SourceQuery, prepare, progress, split: bool):
        """Two readers: the first from the start to the split point, the second (niced: its
        output is stored after the first's) from there to the end.  The first proves the
        split point a real element boundary by reaching it exactly; when it does not, it
        reads on to the end and the second is dropped."""
        from .parallel import Child, SplitFailed

        accept, tf = self._filters(q)
        name = str(path)
        sp = split_point(path, SPLIT_MIN) if split else None
        x, resume = sp if sp else (None, None)
        a = b = None
        sizes = [0, 0]

        def report(i, n):
            sizes[i] = n
            if progress:
                progress(sizes[0] + sizes[1])

        try:
            a = Child(_read_half, name, accept, tf, prepare, None, x, None, name=f"{name} reader")
            if sp:  # niced: its output is stored after the first reader's, which comes first
                b = Child(_read_half, name, accept, tf, prepare, x, None, resume,
                          name=f"{name} second reader", nice=SECOND_NICE)
            reached = False
            while True:
                m = a.next()
                if m[0] == "chunk":
                    yield m[1]
                elif m[0] == "progress":
                    report(0, m[1])
                elif m[0] == "overshoot":  # the split guess was wrong: the first reads on
                    if b is not None:
                        b.stop()
                        b = None
                elif m[0] == "reached":
                    reached = True
                elif m[0] == "done":
                    self._add_stats(m[1])
                    break
            a.stop()  # reaped now, not at the end
            if not reached or b is None:
                return
            while True:
                try:
                    m = b.next()
                except DataSourceError:
                    if b.status == "died":
                        raise SplitFailed(f"{name}: second reader died") from None
                    raise
                if m[0] == "chunk":
                    yield m[1]
                elif m[0] == "progress":
                    report(1, m[1])
                elif m[0] == "done":
                    if m[1][0] != "ok":  # it needs what the first part holds
                        raise SplitFailed(f"{name}: the second part refers to the first")
                    self._add_stats(m[1])
                    break
        finally:
            for c in (a, b):
                if c is not None:
                    c.stop()

    def _add_stats(self, status: tuple) -> None:
        remember_blocks(status[2])
        for k, v in (status[1] or {}).items():
            if isinstance(v, int):
                self.stats[k] = self.stats.get(k, 0) + v

    def fingerprint(self) -> str | None:
        out = []
        for part in self.parts:
            if self._is_http(part):
                try:
                    r = self._http().head(part, timeout=self.config.get("timeout", 60),
                                          allow_redirects=True, headers=self.config.get("headers"),
                                          verify=self.config.get("verify", True))
                except Exception:
                    return None
                tag = r.headers.get("ETag") or r.headers.get("Last-Modified")
                if r.status_code >= 400 or not tag:
                    return None
                out.append(f"{tag}:{r.headers.get('Content-Length', '')}")
            else:
                try:
                    st = _file_path(part).stat()
                except OSError:
                    return None
                out.append(f"{st.st_size}:{st.st_mtime_ns}")
        return "|".join(out)

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None


class _Unsplittable(Exception):
    pass


def _read_half(ch, path: str, accept, tf, prepare, start, stop_at, resume):
    """A reader process: one half of a split file (``start``: the second, ``stop_at``: the
    first), or the whole file.  Sends ``prepare``d chunks of CHILD_CHUNK observations."""
    from .parallel import Stop

    buf: list = []
    stats: dict = {}

    def flush():
        if buf:
            ch.send("chunk", prepare(buf))
            buf.clear()

    def on_stop(exact: bool):
        flush()
        if not exact:
            ch.send("overshoot")
        else:
            ch.send("reached")
            raise Stop

    def on_refs():
        raise _Unsplittable

    try:
        for ob in iter_half(path, start=start, stop_at=stop_at, on_stop=on_stop,
                            on_refs=on_refs if start is not None else None, resume=resume,
                            accept=accept, text_filter=tf, stats=stats, name=path,
                            progress=lambda n: ch.send("progress", n)):
            buf.append(ob)
            if len(buf) >= CHILD_CHUNK:
                flush()
    except Stop:
        pass
    except _Unsplittable:
        return "unsplittable", stats, None
    flush()
    return "ok", stats, block_cache()
