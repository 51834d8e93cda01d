"""Bundle files and URLs as a data source (Kestrel's stixbundle interface).

URIs: ``file:///abs/b.json``, ``file://rel/b.json``, a bare path, ``http(s)://host/b.json``;
several comma-separated (``file:///a.json,/b.json``) are read in turn.  A query streams each
bundle (:mod:`stixgraph.stix.bundle`), keeps the observed-data that overlap the time range and
match the WHERE at observation level (:mod:`stixgraph.stix.match`), and stops after ``limit``
observations.  HTTP bodies are streamed into a temporary file first (``config["spool"]``,
default on), so that the sound text pre-filter can skip parsing; without spooling the body is
parsed as it arrives.  ``progress(n)`` receives the bytes read so far.

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
from ..stix.bundle import iter_bundle
from ..stix.match import compile_matcher, in_time_range, text_filter, time_bounds
from ..stix.model import Observation
from .base import DataSource, SourceQuery

_HTTP_CHUNK = 1 << 20


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

    def query(self, q: SourceQuery, progress: Callable[[int], None] | None = None
              ) -> Iterator[Observation]:
        matcher = compile_matcher(q.where, q.etype)
        lo, hi = time_bounds(q.start, q.stop)
        if lo is None and hi is None:
            accept = matcher
        else:
            def accept(obs):
                return in_time_range(obs, lo, hi) and matcher(obs)
        tf = text_filter(q.where, q.etype)
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
