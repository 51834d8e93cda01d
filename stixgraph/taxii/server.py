"""``stixgraph taxii serve``: a TAXII 2.1 server over a store's collections.

A small WSGI application (:class:`TaxiiApp`): it parses and checks each request (media types,
sizes, filters, who may do what: :mod:`.access`), then calls the storage backend
(:class:`~stixgraph.taxii.backends.base.TaxiiBackend`).  Served by werkzeug's threaded
server (HTTPS with ``--cert``/``--key``).  URL layout (``openapi.json`` describes it, and is
served at ``/openapi.json``)::

    /taxii2/                                             discovery
    /{root}/                                             API root
    /{root}/collections/[{id}/]                          collections
    /{root}/collections/{id}/objects/                    GET (filters, paging), POST
    /{root}/collections/{id}/objects/{object_id}/        GET, DELETE
    /{root}/collections/{id}/objects/{object_id}/versions/
    /{root}/collections/{id}/manifest/
    /{root}/status/{status_id}/

A collection is named by its id (a UUID) or by its alias (the store collection's name).
Errors are TAXII error messages.  A caller who may not read a collection gets 404 for it
(its existence is not revealed) — 401 first when they sent no credentials.
"""
from __future__ import annotations

import base64
import hashlib
import re
import threading
import uuid
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path

import orjson

from ..stix.normalize import NON_SCO_TYPES
from .access import Access, check_bind, load_access
from .backends.base import (Collection, Filter, Page, Status, TaxiiBackend,
                            format_us, parse_us)

TAXII_MEDIA_TYPE = "application/taxii+json;version=2.1"
_ROUTES = [
    ("discovery", r"/taxii2/"),
    ("openapi", r"/openapi\.json"),
    ("api_root", r"/(?P<root>[^/]+)/"),
    ("collections", r"/(?P<root>[^/]+)/collections/"),
    ("collection", r"/(?P<root>[^/]+)/collections/(?P<coll>[^/]+)/"),
    ("objects", r"/(?P<root>[^/]+)/collections/(?P<coll>[^/]+)/objects/"),
    ("object", r"/(?P<root>[^/]+)/collections/(?P<coll>[^/]+)/objects/(?P<obj>[^/]+)/"),
    ("versions", r"/(?P<root>[^/]+)/collections/(?P<coll>[^/]+)/objects/(?P<obj>[^/]+)/versions/"),
    ("manifest", r"/(?P<root>[^/]+)/collections/(?P<coll>[^/]+)/manifest/"),
    ("status", r"/(?P<root>[^/]+)/status/(?P<status>[^/]+)/"),
]
_ROUTES = [(name, re.compile(pattern + "$")) for name, pattern in _ROUTES]
_METHODS = {"objects": ("GET", "POST"), "object": ("GET", "DELETE")}
_STIX_ID = re.compile(r"^([a-z][a-z0-9-]*[a-z0-9])--[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                      r"[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_FILTERS = {"objects": {"added_after", "limit", "next", "match[id]", "match[type]",
                        "match[version]", "match[spec_version]"},
            "object": {"added_after", "limit", "next", "match[version]", "match[spec_version]"},
            "versions": {"added_after", "limit", "next", "match[spec_version]"}}
_FILTERS["manifest"] = _FILTERS["objects"]
_DELETE_FILTERS = {"match[version]", "match[spec_version]"}


class HTTPError(Exception):
    def __init__(self, status: int, title: str, description: str = "", headers=()):
        super().__init__(description or title)
        self.status, self.title, self.description = status, title, description
        self.headers = list(headers)


_REASONS = {200: "OK", 202: "Accepted", 308: "Permanent Redirect", 400: "Bad Request",
            401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
            405: "Method Not Allowed", 406: "Not Acceptable", 413: "Payload Too Large",
            415: "Unsupported Media Type", 422: "Unprocessable Content",
            500: "Internal Server Error"}


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _media_ok(value: str, star: bool) -> bool:
    """Whether a media type (or, with ``star``, an Accept range) admits TAXII 2.1 JSON."""
    for part in value.split(","):
        head, *params = [x.strip() for x in part.split(";")]
        head = head.lower()
        if star and head in ("*/*", "application/*"):
            return True
        if head == "application/taxii+json":
            version = [x.split("=", 1)[1].strip().strip('"') for x in params
                       if x.lower().startswith("version=")]
            if not version or version[0] == "2.1":
                return True
    return False


class TaxiiApp:
    """The WSGI application."""

    def __init__(self, backend: TaxiiBackend, access: Access | None = None):
        self.backend = backend
        self.access = access or Access()
        self._openapi = resources.files("stixgraph.taxii").joinpath("openapi.json")

    # -- WSGI ------------------------------------------------------------------------
    def __call__(self, environ, start_response):
        try:
            status, body, headers = self._dispatch(environ)
        except HTTPError as e:
            status, headers = e.status, e.headers
            body = {"title": e.title, "description": e.description, "http_status": str(e.status)}
        except Exception as e:  # noqa: BLE001 - a TAXII error, never a stack trace
            status, headers = 500, []
            body = {"title": "Internal server error", "http_status": "500",
                    "description": f"{type(e).__name__}: the server could not answer; see its log"}
            environ["wsgi.errors"].write(f"stixgraph taxii: {type(e).__name__}: {e}\n")
        if body is None:
            data, ctype = b"", None
        elif isinstance(body, bytes):
            data, ctype = body, "application/json"
        else:
            data, ctype = orjson.dumps(body), TAXII_MEDIA_TYPE
        out = [("Content-Length", str(len(data)))] + headers
        if ctype:
            out.append(("Content-Type", ctype))
        start_response(f"{status} {_REASONS.get(status, '')}", out)
        return [data]

    def _dispatch(self, environ):
        path = environ.get("PATH_INFO") or "/"
        method = environ.get("REQUEST_METHOD", "GET").upper()
        for name, rx in _ROUTES:
            m = rx.match(path)
            if m:
                break
        else:
            if not path.endswith("/") and any(rx.match(path + "/") for _, rx in _ROUTES):
                raise HTTPError(308, "Permanent redirect", "TAXII URLs end with /",
                                [("Location", path + "/")])
            raise HTTPError(404, "Not found", f"no TAXII resource at {path}")
        if name == "openapi":
            if method != "GET":
                raise HTTPError(405, "Method not allowed", "GET only",
                                [("Allow", "GET")])
            return 200, self._openapi.read_bytes(), []
        allowed = _METHODS.get(name, ("GET",))
        if method not in allowed:
            raise HTTPError(405, "Method not allowed", f"{path} takes {', '.join(allowed)}",
                            [("Allow", ", ".join(allowed))])
        accept = environ.get("HTTP_ACCEPT")
        if accept and not _media_ok(accept, star=True):
            raise HTTPError(406, "Not acceptable",
                            f"the server answers {TAXII_MEDIA_TYPE}; Accept was {accept!r}")
        user = self._user(environ)
        args = m.groupdict()
        if name == "discovery":
            return 200, self._discovery(environ), []
        if args["root"] != self.access.api_root:
            raise HTTPError(404, "Not found", f"no API root {args['root']!r}")
        query = self._query(environ)
        if name == "api_root":
            return 200, {"title": f"{self.access.title}: {self.access.api_root}",
                         "description": "the collections of one stixgraph store",
                         "versions": [TAXII_MEDIA_TYPE],
                         "max_content_length": self.access.max_content_length}, []
        if name == "collections":
            cs = [self._collection_resource(c, user) for c in self._visible(user)]
            return 200, ({"collections": cs} if cs else {}), []
        if name == "status":
            return 200, self._status(args["status"], user), []
        coll = self._collection(args["coll"], user)
        if name == "collection":
            return 200, self._collection_resource(coll, user), []
        if method == "POST":
            return self._post(environ, coll, user)
        if method == "DELETE":
            return self._delete(coll, user, args["obj"], query)
        return self._read(name, coll, args.get("obj"), query)

    # -- who is asking -----------------------------------------------------------------
    def _user(self, environ) -> str | None:
        header = environ.get("HTTP_AUTHORIZATION")
        if not header:
            return None  # credentials that do not check out are refused, even when open
        scheme, _, value = header.partition(" ")
        user = self.access.authenticate(scheme.lower(), value.strip())
        if user is None:
            raise HTTPError(401, "Unauthorized", "wrong or unknown credentials",
                            [("WWW-Authenticate", 'Basic realm="stixgraph", Bearer')])
        return user

    def _served(self) -> list[Collection]:
        """The store's collections this server exposes (one read of the store)."""
        every = self.backend.collections()
        names = set(self.access.served([c.name for c in every]))
        return [c for c in every if c.name in names]

    def _visible(self, user) -> list[Collection]:
        return [c for c in self._served() if self.access.can_read(user, c.name)]

    def _collection(self, key: str, user) -> Collection:
        for c in self._served():
            if key in (c.id, c.name):
                if self.access.can_read(user, c.name):
                    return c
                break
        if user is None and not self.access.open:
            raise HTTPError(401, "Unauthorized", "this collection needs credentials",
                            [("WWW-Authenticate", 'Basic realm="stixgraph", Bearer')])
        raise HTTPError(404, "Not found", f"no collection {key!r}")

    def _collection_resource(self, c: Collection, user) -> dict:
        return {"id": c.id, "title": c.title, "description": c.description, "alias": c.name,
                "can_read": self.access.can_read(user, c.name),
                "can_write": self.access.can_write(user, c.name),
                "media_types": ["application/stix+json;version=2.1"]}

    def _discovery(self, environ) -> dict:
        base = self._base_url(environ)
        root = f"{base}/{self.access.api_root}/"
        return {"title": self.access.title,
                "description": "TAXII 2.1 over a stixgraph store: one API root, one collection "
                               "per store collection",
                "default": root, "api_roots": [root]}

    @staticmethod
    def _base_url(environ) -> str:
        scheme = environ.get("wsgi.url_scheme", "http")
        host = environ.get("HTTP_HOST") or \
            f"{environ.get('SERVER_NAME', '127.0.0.1')}:{environ.get('SERVER_PORT', '80')}"
        return f"{scheme}://{host}"

    # -- filters and paging --------------------------------------------------------------
    @staticmethod
    def _query(environ) -> dict[str, str]:
        from urllib.parse import parse_qsl

        out: dict[str, str] = {}
        try:
            pairs = parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True,
                              strict_parsing=False, errors="strict")
        except UnicodeDecodeError:
            raise HTTPError(400, "Bad request", "the query string is not UTF-8") from None
        for k, v in pairs:
            if k in out:
                raise HTTPError(400, "Bad request", f"{k} given twice (use a comma list)")
            out[k] = v
        return out

    def _filter(self, name: str, query: dict, obj_id: str | None) -> tuple[Filter, int, tuple | None]:
        allowed = _FILTERS[name]
        unknown = sorted(k for k in query if k not in allowed)
        if unknown:
            raise HTTPError(400, "Bad request", f"unknown parameter {unknown[0]!r} here; "
                                                f"allowed: {', '.join(sorted(allowed))}")

        def items(key):
            v = query.get(key)
            if v is None:
                return ()
            parts = tuple(x.strip() for x in v.split(","))
            if not all(parts):
                raise HTTPError(400, "Bad request", f"{key}: empty value in {v!r}")
            return parts

        added_after = None
        if "added_after" in query:
            try:
                added_after = parse_us(query["added_after"])
            except ValueError:
                raise HTTPError(400, "Bad request", f"added_after: {query['added_after']!r} is "
                                                    f"not a timestamp") from None
        versions = items("match[version]") or (("all",) if name == "versions" else ("last",))
        for v in versions:
            if v not in ("first", "last", "all"):
                try:
                    parse_us(v)
                except ValueError:
                    raise HTTPError(400, "Bad request", f"match[version]: {v!r} is not first, "
                                                        f"last, all or a timestamp") from None
        ids = items("match[id]") if obj_id is None else (obj_id,)
        flt = Filter(added_after=added_after, ids=ids, types=items("match[type]"),
                     versions=versions, spec_versions=items("match[spec_version]"))
        limit = self.access.max_page_size
        if "limit" in query:
            try:
                limit = int(query["limit"])
            except ValueError:
                limit = 0
            if limit < 1:
                raise HTTPError(400, "Bad request", f"limit: {query['limit']!r} is not a "
                                                    f"positive integer")
            limit = min(limit, self.access.max_page_size)
        after = self._cursor(query.get("next"), flt, name) if "next" in query else None
        return flt, limit, after

    @staticmethod
    def _bind(flt: Filter, name: str) -> str:
        return hashlib.sha256(f"{name}|{flt.key()}".encode()).hexdigest()[:16]

    def _cursor(self, token: str, flt: Filter, name: str) -> tuple:
        try:
            a, k, r, bound = orjson.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
            if bound != self._bind(flt, name) or not all(
                    isinstance(x, (int, str)) and not isinstance(x, bool) for x in (a, k, r)):
                raise ValueError
            return a, k, r
        except (ValueError, TypeError, orjson.JSONDecodeError):
            raise HTTPError(400, "Bad request", "next: not a token this server gave for these "
                                                "filters (repeat the same query with it)") from None

    def _next(self, page: Page, flt: Filter, name: str) -> str:
        a, k, r = page.records[-1].cursor
        raw = orjson.dumps([a, k, r, self._bind(flt, name)])
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    def _read(self, name: str, coll: Collection, obj_id: str | None, query: dict):
        flt, limit, after = self._filter(name, query, obj_id)
        page = self.backend.page(coll.name, flt, limit, after, objects=name in ("objects", "object"))
        if not page.records and obj_id is not None and after is None and not self._exists(
                coll, obj_id):
            raise HTTPError(404, "Not found", f"no object {obj_id!r} in collection {coll.name!r}")
        if not page.records:
            return 200, {}, []
        body: dict = {"more": page.more}
        if page.more:
            body["next"] = self._next(page, flt, name)
        if name == "versions":
            body["versions"] = [r.version for r in page.records]
        elif name == "manifest":
            body["objects"] = [r.manifest() for r in page.records]
        else:
            body["objects"] = [r.object for r in page.records]
        headers = [("X-TAXII-Date-Added-First", format_us(page.records[0].added)),
                   ("X-TAXII-Date-Added-Last", format_us(page.records[-1].added))]
        return 200, body, headers

    def _exists(self, coll: Collection, obj_id: str) -> bool:
        return bool(self.backend.page(coll.name, Filter(ids=(obj_id,), versions=("all",)), 1,
                                      None, objects=False).records)

    # -- writing ---------------------------------------------------------------------
    def _post(self, environ, coll: Collection, user):
        if not self.access.can_write(user, coll.name):
            if user is None and not self.access.open:
                raise HTTPError(401, "Unauthorized", "writing needs credentials",
                                [("WWW-Authenticate", 'Basic realm="stixgraph", Bearer')])
            raise HTTPError(403, "Forbidden", f"no write permission on collection {coll.name!r}"
                            + (" (the server runs without --config: read-only)"
                               if self.access.open else ""))
        ctype = environ.get("CONTENT_TYPE") or ""
        if not _media_ok(ctype, star=False):
            raise HTTPError(415, "Unsupported media type",
                            f"POST a {TAXII_MEDIA_TYPE} envelope, not {ctype or 'no type'!r}")
        body = self._body(environ)
        try:
            envelope = orjson.loads(body)
        except orjson.JSONDecodeError as e:
            raise HTTPError(400, "Bad request", f"the body is not JSON: {e}") from None
        objects = _check_envelope(envelope)
        status = Status(id=str(uuid.uuid4()), request_timestamp=_now())
        self.backend.add(coll.name, objects, status)
        self.backend.save_status(coll.name, status)
        return 202, status.resource(), []

    def _body(self, environ) -> bytes:
        limit = self.access.max_content_length
        stream = environ["wsgi.input"]
        length = environ.get("CONTENT_LENGTH")
        if length:
            try:
                n = int(length)
            except ValueError:
                raise HTTPError(400, "Bad request", "Content-Length is not a number") from None
            if n > limit:
                raise HTTPError(413, "Payload too large",
                                f"{n} bytes; this API root takes at most {limit}")
            return stream.read(n)
        data = stream.read(limit + 1)  # chunked: read no more than the limit allows
        if len(data) > limit:
            raise HTTPError(413, "Payload too large", f"more than {limit} bytes")
        return data

    def _delete(self, coll: Collection, user, obj_id: str, query: dict):
        if not self.access.can_write(user, coll.name):
            if user is None and not self.access.open:
                raise HTTPError(401, "Unauthorized", "deleting needs credentials",
                                [("WWW-Authenticate", 'Basic realm="stixgraph", Bearer')])
            raise HTTPError(403, "Forbidden", f"no write permission on collection {coll.name!r}")
        unknown = sorted(k for k in query if k not in _DELETE_FILTERS)
        if unknown:
            raise HTTPError(400, "Bad request", f"unknown parameter {unknown[0]!r} for DELETE")
        flt, _, _ = self._filter("object", query, obj_id)
        if "match[version]" not in query:
            flt = Filter(ids=flt.ids, versions=("all",), spec_versions=flt.spec_versions)
        if not self.backend.delete(coll.name, flt):
            raise HTTPError(404, "Not found", f"no object {obj_id!r} (with those versions) in "
                                              f"collection {coll.name!r}")
        return 200, None, []

    def _status(self, status_id: str, user) -> dict:
        found = self.backend.status(status_id)
        if found is None or not self.access.can_read(user, found[0]):
            if found is not None and user is None and not self.access.open:
                raise HTTPError(401, "Unauthorized", "this status needs credentials",
                                [("WWW-Authenticate", 'Basic realm="stixgraph", Bearer')])
            raise HTTPError(404, "Not found", f"no status {status_id!r}")
        return found[1].resource()


def _check_envelope(envelope) -> list[dict]:
    """The envelope's objects, or 422 naming the first problems (nothing is stored then)."""
    if not isinstance(envelope, dict) or not isinstance(envelope.get("objects"), list):
        raise HTTPError(422, "Unprocessable", 'the body must be an envelope {"objects": [...]}')
    problems = []
    for i, o in enumerate(envelope["objects"]):
        why = _check_object(o)
        if why:
            problems.append(f"objects[{i}]: {why}")
        if len(problems) >= 5:
            break
    if problems:
        raise HTTPError(422, "Invalid STIX", "; ".join(problems) + " (nothing was stored)")
    return envelope["objects"]


def _check_object(o) -> str | None:
    if not isinstance(o, dict):
        return "not a JSON object"
    oid, otype = o.get("id"), o.get("type")
    if not isinstance(otype, str) or not isinstance(oid, str):
        return "needs string 'type' and 'id'"
    m = _STIX_ID.match(oid)
    if not m:
        return f"id {oid!r} is not TYPE--UUID"
    if m[1] != otype:
        return f"id {oid!r} does not start with its type {otype!r}"
    sv = o.get("spec_version")
    if sv is None and otype in NON_SCO_TYPES:
        return f"{otype} needs spec_version 2.1 (this collection takes STIX 2.1)"
    if sv is not None and sv != "2.1":
        return f"spec_version {sv!r}: this collection takes STIX 2.1"
    for k in ("created", "modified", "first_observed", "last_observed"):
        if k in o:
            try:
                if not isinstance(o[k], str):
                    raise ValueError
                parse_us(o[k])
            except ValueError:
                return f"{k} {o[k]!r} is not a timestamp"
    if otype == "observed-data":
        if "objects" in o:
            return "observed-data with 'objects' is STIX 2.0; use object_refs (2.1)"
        if not isinstance(o.get("object_refs"), list) or not o["object_refs"]:
            return "observed-data needs a non-empty object_refs list"
        if not isinstance(o.get("number_observed"), int) or isinstance(o["number_observed"], bool):
            return "observed-data needs an integer number_observed"
        for k in ("first_observed", "last_observed"):
            if k not in o:
                return f"observed-data needs {k}"
    return None


# -- running it ---------------------------------------------------------------------------
def open_backend(store: str) -> TaxiiBackend:
    """The TAXII backend of a store URL or path (``arango://...`` or a SQLite file)."""
    if store.startswith("arango://"):
        from .backends.arango import ArangoTaxiiBackend

        return ArangoTaxiiBackend(store)
    from .backends.sqlite import SQLiteTaxiiBackend

    return SQLiteTaxiiBackend(store)


def make_server(store: str, host: str = "127.0.0.1", port: int = 0,
                config: str | Path | None = None, cert: str | None = None,
                key: str | None = None, quiet: bool = False):
    """A werkzeug server (threaded) for ``store``; call ``serve_forever()``.  ``quiet``: no
    request log lines."""
    from werkzeug.serving import WSGIRequestHandler, make_server as _make

    class Handler(WSGIRequestHandler):
        def log_request(self, *args, **kw):
            if not quiet:
                super().log_request(*args, **kw)

    access = load_access(config)
    check_bind(host, access)
    app = TaxiiApp(open_backend(store), access)
    ssl = (cert, key) if cert else None
    server = _make(host, port, app, threaded=True, ssl_context=ssl, request_handler=Handler)
    server.taxii_app = app
    return server


def serve_in_thread(store_path: str, host: str = "127.0.0.1", port: int = 0,
                    config: str | Path | None = None):
    """Start a server on a thread: (base URL, stop())."""
    server = make_server(str(store_path), host, port, config, quiet=True)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()

    def stop():
        server.shutdown()
        t.join(10)
        server.taxii_app.backend.close()

    return f"http://{host}:{server.server_port}", stop
