"""The OpenAPI description stixgraph's TAXII server serves (``/openapi.json``), checked as a
document, then used by schemathesis against a running server: no 5xx on any generated
request, and every response matches the description (status code, content type, body schema,
headers)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (content_type_conformance, not_a_server_error,
                                 response_headers_conformance, response_schema_conformance,
                                 status_code_conformance)

from bundles import bundle20, proc_obs, write
from stixgraph.session import Session

SPEC = Path(__file__).resolve().parents[1] / "stixgraph" / "taxii" / "openapi.json"
TAXII = "application/taxii+json;version=2.1"
# no 5xx, and the answer is one the description has: status code, content type, headers
# (WWW-Authenticate on a 401), body.  Not ignored_auth: schemathesis 3 reads the security
# requirement as mandatory (it ignores the anonymous alternative ``{}``).
CHECKS = (not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance)
PAGE = {"added_after", "limit", "next"}
# path -> method -> its query parameters
PATHS = {
    "/taxii2/": {"get": set()},
    "/{api_root}/": {"get": set()},
    "/{api_root}/collections/": {"get": set()},
    "/{api_root}/collections/{collection_id}/": {"get": set()},
    "/{api_root}/collections/{collection_id}/objects/": {
        "get": PAGE | {"match[id]", "match[type]", "match[version]", "match[spec_version]"},
        "post": set()},
    "/{api_root}/collections/{collection_id}/objects/{object_id}/": {
        "get": PAGE | {"match[version]", "match[spec_version]"},
        "delete": {"match[version]", "match[spec_version]"}},
    "/{api_root}/collections/{collection_id}/objects/{object_id}/versions/": {
        "get": PAGE | {"match[spec_version]"}},
    "/{api_root}/collections/{collection_id}/manifest/": {
        "get": PAGE | {"match[id]", "match[type]", "match[version]", "match[spec_version]"}},
    "/{api_root}/status/{status_id}/": {"get": set()},
    "/openapi.json": {"get": set()},
}
# the error answers these operations document beyond those of all (401, 406; 400, 404
# under an API root)
ERRORS = {("/{api_root}/collections/{collection_id}/objects/", "post"):
          {"400", "403", "413", "415", "422"},
          ("/{api_root}/collections/{collection_id}/objects/{object_id}/", "delete"):
          {"400", "403"}}


def _doc() -> dict:
    return json.loads(SPEC.read_text())


def _deref(doc: dict, node):
    """``node`` with its ``$ref`` (a local JSON pointer) followed, if it has one."""
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        assert ref.startswith("#/"), ref
        target = doc
        for part in ref[2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def _refs(node):
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield node["$ref"]
        for v in node.values():
            yield from _refs(v)
    elif isinstance(node, list):
        for v in node:
            yield from _refs(v)


def test_the_description_is_a_valid_openapi_document():
    doc = _doc()
    assert doc["openapi"] == "3.0.3"
    # validated against the OpenAPI 3.0 JSON Schema schemathesis ships (SchemaError if not)
    schema = schemathesis.from_dict(doc, validate_schema=True)
    assert len(list(schema.get_all_operations())) == sum(map(len, PATHS.values()))
    for ref in set(_refs(doc)):  # the validator does not follow references
        _deref(doc, {"$ref": ref})


def test_the_description_covers_every_endpoint():
    doc = _doc()
    assert set(doc["paths"]) == set(PATHS)
    for path, methods in PATHS.items():
        item = doc["paths"][path]
        assert set(item) - {"parameters"} == set(methods), path
        shared = [_deref(doc, p) for p in item.get("parameters", [])]
        assert {p["name"] for p in shared} == {
            s.strip("{}") for s in path.split("/") if s.startswith("{")}, path
        assert all(p["in"] == "path" and p["required"] for p in shared), path
        for method, names in methods.items():
            op = item[method]
            params = [_deref(doc, p) for p in op.get("parameters", [])]
            assert {p["name"] for p in params} == names, (path, method)
            assert all(p["in"] == "query" and not p.get("required") for p in params)
            codes = set(op["responses"])
            if path == "/openapi.json":
                assert codes == {"200"} and op["security"] == [{}]
                assert set(op["responses"]["200"]["content"]) == {"application/json"}
                continue
            ok = "202" if method == "post" else "200"
            assert ok in codes, (path, method)
            assert {"401", "406"} <= codes, (path, method)
            assert path == "/taxii2/" or {"400", "404"} <= codes, (path, method)
            assert ERRORS.get((path, method), set()) <= codes, (path, method)
            for code in codes:
                resp = _deref(doc, op["responses"][code])
                if code in ("200", "202") and method == "delete":
                    assert "content" not in resp
                    continue
                assert set(resp["content"]) == {TAXII}, (path, method, code)
                if code.startswith("4"):
                    assert resp["content"][TAXII]["schema"] == {
                        "$ref": "#/components/schemas/Error"}
                if code == "401":
                    assert resp["headers"]["WWW-Authenticate"]["required"] is True
    params = doc["paths"]["/{api_root}/collections/{collection_id}/objects/"]["get"]["parameters"]
    params = {p["name"]: p["schema"] for p in (_deref(doc, p) for p in params)}
    assert params["added_after"] == {"type": "string", "format": "date-time"}
    assert params["limit"] == {"type": "integer", "minimum": 1}
    assert all(params[n] == {"type": "string"} for n in params if n.startswith("match["))
    assert doc["components"]["securitySchemes"] == {
        "basic": {"type": "http", "scheme": "basic"},
        "bearer": {"type": "http", "scheme": "bearer"}}
    assert doc["security"] == [{"basic": []}, {"bearer": []}, {}]
    schemas = doc["components"]["schemas"]
    assert schemas["StixObject"]["required"] == ["type", "id"]
    assert schemas["StixObject"]["additionalProperties"] is True
    assert schemas["Error"]["required"] == ["title"]
    assert schemas["Error"]["properties"]["http_status"] == {"type": "string"}
    for name in ("Envelope", "Manifest", "Versions", "Collections"):  # {} is an empty page
        assert "required" not in schemas[name], name
    assert schemas["Status"]["properties"]["status"]["enum"] == ["pending", "complete"]


@pytest.fixture(scope="module")
def taxii_server_url(tmp_path_factory):
    """A server without a config (read-only, anonymous, on loopback) over a SQLite store whose
    collection "default" holds two observations (observed-data and their SCOs)."""
    from stixgraph.taxii.server import serve_in_thread

    tmp = tmp_path_factory.mktemp("openapi")
    s = Session(store=str(tmp / "store.db"))
    b = write(tmp / "b.json", bundle20([proc_obs(100, "cmd.exe", "whoami", dst="140.82.114.3"),
                                        proc_obs(200, "ps.exe", "x")]))
    s.run(f'p = GET process FROM "{b}" WHERE pid > 0')
    s.store.close()
    url, stop = serve_in_thread(str(tmp / "store.db"), host="127.0.0.1", port=0, config=None)
    yield url
    stop()


@pytest.fixture(scope="module")
def known_ids(taxii_server_url) -> list[str]:
    """The ids of the objects the server holds (so that some generated requests hit them)."""
    r = requests.get(taxii_server_url + "/stixgraph/collections/default/objects/",
                     headers={"Accept": TAXII}, timeout=10)
    assert r.status_code == 200, r.text
    ids = sorted(o["id"] for o in r.json()["objects"])
    assert ids
    return ids


def _call_and_validate(case, **kw):
    """``case.call_and_validate`` reading the body as UTF-8, as JSON is (RFC 8259): requests
    guesses the encoding of a media type without charset (application/taxii+json), and gets
    it wrong on short bodies with non-ASCII text (generated ids echoed in error messages)."""
    response = case.call(**kw)
    response.encoding = "utf-8"
    case.validate_response(response, checks=CHECKS)
    return response


def test_the_server_serves_its_description(taxii_server_url):
    r = requests.get(taxii_server_url + "/openapi.json", timeout=10)
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/json"
    assert r.json() == _doc()


def test_pages_and_refusals_as_described(taxii_server_url):
    """Answers generated requests may miss: a full page with its X-TAXII-Date-Added headers,
    the empty page ``{}`` without them, credentials the server does not know (401 with
    WWW-Authenticate, even on a server without users), an Accept it does not serve (406)."""
    schema = schemathesis.from_path(str(SPEC), base_url=taxii_server_url)
    op = schema["/{api_root}/collections/{collection_id}/objects/"]["GET"]
    path = {"api_root": "stixgraph", "collection_id": "default"}
    r = _call_and_validate(op.make_case(path_parameters=path, headers={"Accept": TAXII}))
    assert r.status_code == 200 and r.headers["Content-Type"] == TAXII
    assert r.json()["objects"]
    assert r.headers["X-TAXII-Date-Added-First"] <= r.headers["X-TAXII-Date-Added-Last"]
    r = _call_and_validate(op.make_case(path_parameters=path, headers={"Accept": TAXII},
                                        query={"added_after": "2999-01-01T00:00:00Z"}))
    assert r.status_code == 200 and r.json() == {}
    assert "X-TAXII-Date-Added-First" not in r.headers
    discovery = schema["/taxii2/"]["GET"]
    for auth in ("Basic bm9ib2R5Om5vdGhpbmc=", "Bearer not-a-token"):
        r = _call_and_validate(discovery.make_case(headers={"Accept": TAXII,
                                                            "Authorization": auth}))
        assert r.status_code == 401 and r.headers["WWW-Authenticate"]
    r = _call_and_validate(discovery.make_case(headers={"Accept": "application/json"}))
    assert r.status_code == 406 and r.json()["http_status"] == "406"


schema = schemathesis.from_pytest_fixture("openapi_schema")


@pytest.fixture(scope="module")
def openapi_schema(taxii_server_url):
    return schemathesis.from_path(str(SPEC), base_url=taxii_server_url)


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_generated_requests_get_described_answers(case, known_ids):
    """Anonymous requests against a server without users (read-only): every answer is one the
    description allows (status code, content type, headers, body), and none is a 5xx."""
    params = case.path_parameters or {}
    # most generated roots, collections and object ids are replaced by real ones, so that
    # requests reach the handlers behind them, not only the 404s (a fixed rule: runs repeat)
    if "api_root" in params and len(params["api_root"]) % 4:
        params["api_root"] = "stixgraph"
    if "collection_id" in params and len(params["collection_id"]) % 4:
        params["collection_id"] = "default"
    if "object_id" in params and len(params["object_id"]) % 4:
        params["object_id"] = known_ids[len(params["object_id"]) % len(known_ids)]
    # anonymous: schemathesis 3 makes up an Authorization for every operation (it takes the
    # security requirement as mandatory), which the server rightly answers with 401
    headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
    case.headers = {**headers, "Accept": TAXII}
    _call_and_validate(case)
