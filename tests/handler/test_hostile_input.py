"""Hostile input at the handlers (issue: reliability and security under hostile input).

Hypothesis generates methods, paths, headers and bodies that no client would send: random and
percent-encoded path segments, very long IDs, header names and values with control characters,
unicode and megabytes of text, the ``X-*`` headers and both key headers with garbage, bodies of
random bytes, invalid UTF-8, deeply nested or unbalanced JSON, huge numbers, JSON scalars and big
strings, with and without a valid master key (then aimed at real resources too). Each request
becomes an API Gateway v2 event for the function ``template.yaml`` routes it to (the $default
route for everything else), run under moto exactly as on Lambda.

Whatever comes in, the answer is a proper one:

- never a 5xx; the status is an HTTP status below 500;
- ``Content-Type: application/json; charset=utf-8``; the body is text (not base64) that encodes
  as UTF-8 and parses as JSON;
- every non-200 body is an object with a string ``message``;
- no body carries a traceback or a source path.

The suite is derandomized and bounded (``MAX_EXAMPLES`` per property). The bugs it found have
their own regression tests at the end of this file.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openbin_local.events import event_for
from openbin_local.runtime import IntegrationFailed
from openbin_local.template import Template
from tests.support import HandlerApi

JSON_TYPE = "application/json; charset=utf-8"
MAX_EXAMPLES = 200
LEAK = re.compile(
    r"Traceback \(most recent call last\)|File \"[^\"]*\"|\.py\", line \d+|"
    r"site-packages|/var/task/|/opt/python/|/work/|/home/|/usr/lib/"
)

SETTINGS = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=False,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,  # one moto world per test function, on purpose
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)


# -- the world the requests are aimed at -------------------------------------------------------------
@dataclass(frozen=True)
class Real:
    """Stands for a real resource (or key) of the test's account, resolved when sent."""

    kind: str


STRICT_SCHEMA = {"type": "object", "required": ["n"], "properties": {"n": {"type": "integer"}}}


class World:
    """The test's account and, made on first use, its resources (``Real`` kinds): a private bin
    in a collection whose schema doc wants ``{"n": <integer>}``, a public bin, both with
    versions, a second collection, and an access key with every permission."""

    def __init__(self, api: HandlerApi) -> None:
        self.api = api
        self.account = api.account(plan="pro", requests=10_000_000)
        self.ids: dict[str, str] = {"master": self.account.key}

    def id(self, kind: str) -> str:
        if kind not in self.ids:
            self._make(kind)
        return self.ids[kind]

    def resolve(self, value):
        return self.id(value.kind) if isinstance(value, Real) else value

    def _send(self, method: str, path: str, headers: dict, body=None):
        headers = {"X-Master-Key": self.ids["master"], **headers}
        return self.api.request(method, path, headers, body)

    def _make(self, kind: str) -> None:
        if kind in ("collection", "schema"):
            made = self.api.collection(self.account, "strict", schema=STRICT_SCHEMA)
            self.ids["collection"] = made["collectionId"]
            self.ids["schema"] = made["schemaDocId"]
        elif kind == "play_collection":
            self.ids[kind] = self.api.collection(self.account, "play")["collectionId"]
        elif kind in ("bin", "public_bin"):
            headers = (
                {"X-Collection-Id": self.id("collection")}
                if kind == "bin"
                else {"X-Bin-Private": "false"}
            )
            reply = self._send("POST", "/v3/b", headers, {"n": 1})
            assert reply.status == 200, reply.body
            bin_id = reply.json()["metadata"]["id"]
            for n in (2, 3):
                self._send("PUT", f"/v3/b/{bin_id}", {"X-Bin-Versioning": "true"}, {"n": n})
            self.ids[kind] = bin_id
        elif kind in ("access_key", "access_key_id"):
            try:
                made = self.api.op(
                    "key.create-access",
                    account_id=self.account.account_id,
                    name="hostile",
                    permissions=["create", "read", "update", "delete"],
                )
            except Exception:  # at the access key limit: a key that matches nothing
                made = {"accessKey": "$2a$10$" + "A" * 53, "accessKeyId": "0" * 24}
            self.ids["access_key"] = made["accessKey"]
            self.ids["access_key_id"] = made["accessKeyId"]
        else:
            raise KeyError(kind)

    def forget_deleted(self) -> None:
        """After a successful DELETE: make the bins and the access key again on next use."""
        for kind in ("bin", "public_bin", "access_key", "access_key_id"):
            self.ids.pop(kind, None)


def world_of(api: HandlerApi) -> World:
    """One account and its resources per test function (the moto fixture is per function,
    and hypothesis runs every example inside that one fixture)."""
    world = getattr(api, "_hostile_world", None)
    if world is None:
        world = World(api)
        api._hostile_world = world
    return world


# -- strategies -------------------------------------------------------------------------------------
METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]
X_HEADERS = [
    "X-Bin-Private",
    "X-Bin-Name",
    "X-Collection-Id",
    "X-Bin-Meta",
    "X-JSON-Path",
    "X-Bin-Versioning",
    "X-Preserve-Latest",
    "X-Collection-Name",
    "X-Sort-Order",
    "X-Schema-Doc-Id",
    "X-Schema-Doc-Name",
    "X-Key-Name",
]
KEY_HEADERS = ["X-Master-Key", "X-Access-Key"]
KEY_ALPHABET = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

# Lone surrogates cannot arrive in a header or a path from HTTP (the bytes are not UTF-8); they
# are sent where they can arrive: as \ud800 escapes inside JSON bodies.
CHARS = st.characters(exclude_categories=("Cs",))
TEXT = st.text(CHARS, max_size=64)
CONTROL = st.text(
    st.one_of(st.characters(max_codepoint=0x1F), st.sampled_from("\x7f\x85\u2028\u2029\ufeff")),
    min_size=1,
    max_size=16,
)
HUGE = st.builds(
    lambda char, n: char * n,
    st.sampled_from(["A", "é", "\x00", "漢", "😀", "$", "[", "%", " ", "9"]),
    st.sampled_from([300, 4_096, 70_000, 1_100_000]),
)
HEX24 = st.text("0123456789abcdef", min_size=24, max_size=24)
ODD_IDS = st.one_of(
    HEX24.map(str.upper),
    st.text("0123456789abcdef", min_size=23, max_size=23),
    st.text("0123456789abcdef", min_size=25, max_size=25),
    st.sampled_from([4_096, 100_000]).map(lambda n: "a" * n),
    HEX24.map(lambda h: h[:12] + "%" + h[13:]),
    HEX24.map(lambda h: h[:23] + "\x00"),
)
WELL_FORMED_UNKNOWN_KEY = st.text(KEY_ALPHABET, min_size=53, max_size=53).map(
    lambda tail: "$2a$10$" + tail
)
BROKEN_KEYS = st.one_of(
    WELL_FORMED_UNKNOWN_KEY.map(lambda key: key[:-1]),
    WELL_FORMED_UNKNOWN_KEY.map(lambda key: key + "A"),
    WELL_FORMED_UNKNOWN_KEY.map(lambda key: key[:30] + "é" + key[31:]),
    WELL_FORMED_UNKNOWN_KEY.map(lambda key: key.replace("$2a", "$2b")),
    WELL_FORMED_UNKNOWN_KEY.map(lambda key: " " + key),
    st.sampled_from(["", " ", "null", "undefined", "Bearer x", "$2a$10$", "*", "%00"]),
)
SPECIAL_VALUES = st.sampled_from(
    [
        "true", "false", "TRUE", "False", " true ", "yes", "1", "0", "-1", "", " ", "null",
        "ascending", "DESCENDING", "latest", "uncategorized", "1e309", "NaN", "Infinity",
        "application/json", "application/json; charset=utf-8", "text/plain", "*/*",
        "application/json;;", "application/json, text/plain", "multipart/form-data; boundary=x",
    ]
)  # fmt: skip
JSON_PATHS = st.sampled_from(
    [
        "$", "$..*", "$..*..*..*..*", "$[*]", "$.a.b.c", "$['a']", "$[?(@.n > 1)]",
        "$[?(@.n == $..n)]", "$[0:100000000:1]", "$[::-1]", "$[-1]", "$[(@.length-1)]",
        "$" + "[0]" * 300, "$" + "..a" * 200, "$[" + ",".join(["0"] * 500) + "]",
        "$[?(@.n ** 99999999)]", "$[?(@.n =~ /(a+)+$/)]", "users[0].firstName", "@", "$$",
        "$[", "$.", "$.'", "\\", "$[?(", "$.a[?(@.b=='\x00')]", "$.`", "$[9" + "9" * 400 + "]",
    ]
)  # fmt: skip
REAL_KEYS = st.sampled_from([Real("master"), Real("access_key")])
REAL_IDS = st.sampled_from(
    [
        Real("bin"),
        Real("public_bin"),
        Real("collection"),
        Real("play_collection"),
        Real("schema"),
        Real("access_key_id"),
    ]
)


def header_values(real: bool) -> st.SearchStrategy:
    options = [TEXT, CONTROL, HUGE, SPECIAL_VALUES, HEX24, ODD_IDS, JSON_PATHS, BROKEN_KEYS]
    options.append(WELL_FORMED_UNKNOWN_KEY)
    if real:
        options += [REAL_IDS, REAL_KEYS]
    return st.one_of(options)


def _random_case(name: str) -> st.SearchStrategy[str]:
    return st.lists(st.booleans(), min_size=len(name), max_size=len(name)).map(
        lambda upper: "".join(
            c.upper() if u else c.lower() for c, u in zip(name, upper, strict=True)
        )
    )


TOKEN_CHARS = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
HEADER_NAMES = st.one_of(
    st.sampled_from(X_HEADERS + KEY_HEADERS + ["Content-Type"]),
    st.sampled_from(X_HEADERS + KEY_HEADERS + ["Content-Type"]).flatmap(_random_case),
    st.text(TOKEN_CHARS, min_size=1, max_size=40),
    st.text(CHARS, min_size=1, max_size=20),
    st.sampled_from(["Cookie", "Host", "Content-Length", "Transfer-Encoding", "X-Forwarded-For"]),
)


def headers_strategy(real: bool) -> st.SearchStrategy[list[tuple[str, object]]]:
    """Header pairs as sent: names may repeat (the event joins repeated values with commas)."""
    return st.lists(st.tuples(HEADER_NAMES, header_values(real)), max_size=8)


SEGMENTS_PLAIN = st.one_of(
    st.sampled_from(
        [
            "latest",
            "versions",
            "count",
            "meta",
            "name",
            "privacy",
            "bins",
            "schemadoc",
            "add",
            "remove",
            "uncategorized",
            "",
            ".",
            "..",
            "%2F",
            "%2e%2e",
            "%00",
            "%ff",
            "%",
            "%zz",
            "0",
            "-1",
            "007",
            "1" * 30,
            "b",
            "c",
            "s",
            "a",
            "usage",
            "v3",
            " ",
            "~",
        ]
    ),  # fmt: skip
    HEX24,
    ODD_IDS,
    TEXT.map(lambda text: text.replace("/", "").replace("?", "").replace("#", "")),
    TEXT.map(lambda text: urllib.parse.quote(text, safe="")),
)


def segments(real: bool) -> st.SearchStrategy:
    return st.one_of(SEGMENTS_PLAIN, REAL_IDS) if real else SEGMENTS_PLAIN


PREFIXES = st.sampled_from(
    ["/v3/b", "/v3/c", "/v3/s", "/v3/a", "/v3/usage", "/v3", "", "/v2/b", "/V3/B", "/v3//b"]
)
QUERIES = st.one_of(
    st.just(""),
    st.sampled_from(["meta=false", "meta=FALSE", "meta=maybe", "meta=", "meta", "meta=%ff"]),
    st.sampled_from(["meta=true&meta=false", "a=1&&&=&", "%zz=%zz", "meta=%00"]),
    TEXT.map(lambda text: "meta=" + urllib.parse.quote(text)),
    TEXT.map(lambda text: text.replace("#", "")),
)


ROUTES = [(route.method, route.path) for route in Template().routes if route.path != "$default"]


def _templated(real: bool) -> st.SearchStrategy[tuple[str, list]]:
    """A route of template.yaml with its parameters filled with hostile segments (and, now and
    then, another method or an extra segment)."""

    def fill(route: tuple[str, str]) -> st.SearchStrategy[tuple[str, list]]:
        method, path = route
        parts = path.strip("/").split("/")
        drawn = [segments(real) if part.startswith("{") else st.just(part) for part in parts]
        return st.tuples(
            st.one_of(st.just(method), st.just(method), st.just(method), st.sampled_from(METHODS)),
            st.tuples(*drawn).map(lambda filled: ["", *filled]),
            st.lists(segments(real), max_size=1),
        ).map(lambda drawn_route: (drawn_route[0], drawn_route[1] + drawn_route[2]))

    return st.sampled_from(ROUTES).flatmap(fill)


def _random(real: bool) -> st.SearchStrategy[tuple[str, list]]:
    return st.tuples(
        st.sampled_from(METHODS),
        st.builds(
            lambda prefix, rest: [prefix, *rest], PREFIXES, st.lists(segments(real), max_size=4)
        ),
    )


def requests(real: bool) -> st.SearchStrategy[tuple[str, tuple[list, str]]]:
    """(method, (path parts, query)): mostly the API's own routes, sometimes anything."""
    routes = st.one_of(_templated(real), _templated(real), _templated(real), _random(real))
    return st.tuples(routes, QUERIES).map(lambda drawn: (drawn[0][0], (drawn[0][1], drawn[1])))


def _nested(kind: str, depth: int) -> bytes:
    if kind == "array":
        return b"[" * depth + b"]" * depth
    if kind == "object":
        return b'{"a":' * depth + b"1" + b"}" * depth
    if kind == "mixed":
        return b'[{"a":' * depth + b"1" + b"}]" * depth
    return b"[" * depth  # unbalanced


JSON_LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    TEXT,
)
JSON_VALUES = st.recursive(
    JSON_LEAVES,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(TEXT, children, max_size=5),
    max_leaves=25,
)
BODY_SAMPLES = st.sampled_from(
    [
        b"1e400", b"-1e400", b'{"a":1e400}', b"[1e400]", b'{"a":' + b"9" * 5_000 + b"}",
        b"[" + b"9" * 100_000 + b"]", b"[-" + b"1" * 4_301 + b"]", b'{"a":NaN}', b"[Infinity]",
        b"[-Infinity]", b"[-0]", b"[1.7976931348623157e309]", b"[0.0000000000000000000001e-400]",
        b'{"a":"\\ud800"}', b'["\\udfff"]', b'{"\\ud800":1}', b'{"a":"\\u0000"}',
        b'{"pattern":"\\ud800"}', b'{"type":"string","pattern":"\\udc00x"}',
        b"\xef\xbb\xbf{\"a\":1}", b"{\"a\":1}\x00", b"\x00", b"{}", b"[]", b"  \t\r\n ", b"null",
        b"true", b"0", b'"str"', b"{", b"}", b"[", b'{"a":1,}', b'{"a" 1}', b"{'a':1}",
        b'{"a":1}{"b":2}', b'{"a":1} trailing', b'{"bins":{"create":true,"read":1}}',
        b'{"bins":{"create":true,"read":true,"update":true,"delete":true}}',
        b'{"bins":[]}', b'{"bins":{"nope":true}}', b'{"type":"object","required":["n"]}',
        b'{"$schema":"http://json-schema.org/draft-07/schema#","type":"array"}',
        b'{"$schema":5}', b'{"$ref":"http://example.com/x"}', b'{"pattern":"(a+)+$"}',
        b'{"pattern":"(?=a)"}', b'{"multipleOf":1e-400}', b'{"minimum":1e400}',
        b'{"n":1}', b'{"n":"x"}', b"[" + b"1," * 50_000 + b"1]",
    ]
)  # fmt: skip
BODIES = st.one_of(
    st.none(),
    st.binary(max_size=64),
    st.binary(max_size=32).map(lambda raw: raw + b"\xff\xfe\xc3\x28\xed\xa0\x80"),
    st.builds(
        _nested,
        st.sampled_from(["array", "object", "mixed", "unbalanced"]),
        st.sampled_from([50, 101, 999, 1_001, 10_000, 100_000]),
    ),
    BODY_SAMPLES,
    JSON_VALUES.map(lambda value: json.dumps(value).encode()),
    st.builds(  # past the inline limit (to S3), past the free and the pro plan limits
        lambda size, char: b'{"a":"' + char * (size // len(char)) + b'"}',
        st.sampled_from([16_385, 102_401, 1_048_577]),
        st.sampled_from([b"x", b"\\u00e9", "é".encode()]),
    ),
)
CONTENT_TYPES = st.one_of(
    st.just("application/json"),
    st.just("application/json; charset=utf-8"),
    st.just(None),
    SPECIAL_VALUES,
    TEXT,
)


# -- sending and the properties ---------------------------------------------------------------------
@dataclass
class Sent:
    method: str
    path: str
    headers: list[tuple[str, str]]
    body: bytes


def send(api: HandlerApi, sent: Sent) -> dict:
    """The real handler for the route, with the raw Lambda result (no decoding by the harness)."""
    function, event = event_for(api.template, sent.method, sent.path, sent.headers, sent.body)
    try:
        return api.runner.invoke(function, event)
    except IntegrationFailed as failed:  # what API Gateway answers past Lambda's limits
        return {
            "statusCode": failed.status,
            "headers": {"Content-Type": JSON_TYPE},
            "body": json.dumps({"message": failed.message}),
        }


def check(sent: Sent, result: dict) -> None:
    __tracebackhide__ = True
    status = result.get("statusCode")
    assert isinstance(status, int) and 200 <= status < 500, f"status {status}"
    headers = {str(k).lower(): v for k, v in (result.get("headers") or {}).items()}
    if sent.method == "OPTIONS" and status == 204:  # a CORS preflight, answered bodiless
        assert result.get("body") == "", result
        assert headers.get("access-control-allow-origin") == "*", headers
        return
    if (
        status == 200
        and sent.method == "GET"
        and (sent.path.split("?")[0] == "/" or sent.path.startswith("/console/"))
    ):  # the web console's files: served as what they are, under its policy
        assert "default-src 'none'" in headers.get("content-security-policy", ""), headers
        return
    assert headers.get("content-type") == JSON_TYPE, headers
    assert not result.get("isBase64Encoded"), "the body must be JSON text, not base64"
    body = result.get("body")
    assert isinstance(body, str), type(body)
    try:
        body.encode("utf-8")
    except UnicodeEncodeError as error:
        raise AssertionError(f"the body is not UTF-8 text: {error}") from None
    data = json.loads(body, parse_int=str, parse_float=str, parse_constant=_not_json)
    if status != 200:
        assert isinstance(data, dict), data
        assert isinstance(data.get("message"), str), data
        leaked = [text for text in _strings(data) if LEAK.search(text)]
        assert not leaked, f"the answer leaks internals: {leaked[0][:500]}"


def _not_json(name: str):
    raise AssertionError(f"the answer holds {name}, which is not JSON")


def _strings(value) -> list[str]:
    """Every string (keys too) of a decoded JSON value: a traceback is searched as text, not as
    its JSON escape."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [*value, *(text for item in value.values() for text in _strings(item))]
    if isinstance(value, list):
        return [text for item in value for text in _strings(item)]
    return []


def run(world: World, method: str, path: tuple[list, str], headers, body, content_type=None):
    parts, query = path
    raw = "/".join(str(world.resolve(part)) for part in parts) or "/"
    if not raw.startswith("/"):
        raw = "/" + raw
    if query:
        raw = f"{raw}?{query}"
    pairs = [(name, str(world.resolve(value))) for name, value in headers]
    if content_type is not None:
        pairs.append(("Content-Type", content_type))
    sent = Sent(method, raw, pairs, body or b"")
    result = send(world.api, sent)
    check(sent, result)
    if method == "DELETE" and result.get("statusCode") == 200:
        world.forget_deleted()
    return result


# -- properties -------------------------------------------------------------------------------------
@SETTINGS
@given(request=requests(real=False), headers=headers_strategy(real=False), body=BODIES)
def test_anything_without_a_valid_key(handler_api, request, headers, body):
    method, path = request
    run(world_of(handler_api), method, path, headers, body)


@SETTINGS
@given(
    request=requests(real=True),
    headers=headers_strategy(real=True),
    body=BODIES,
    content_type=CONTENT_TYPES,
)
def test_anything_with_the_master_key(handler_api, request, headers, body, content_type):
    method, path = request
    master = [("X-Master-Key", Real("master"))]
    run(world_of(handler_api), method, path, master + headers, body, content_type)


BODY_ROUTES = st.sampled_from(
    [
        ("POST", ["/v3/b"]),
        ("PUT", ["/v3/b", Real("bin")]),
        ("PUT", ["/v3/b", Real("public_bin")]),
        ("POST", ["/v3/s"]),
        ("PUT", ["/v3/s", Real("schema")]),
        ("POST", ["/v3/a"]),
    ]
)
BODY_ROUTE_HEADERS = st.lists(
    st.sampled_from(
        [
            ("X-Schema-Doc-Name", "hostile"),
            ("X-Key-Name", "hostile"),
            ("X-Collection-Id", Real("collection")),
            ("X-Collection-Id", Real("play_collection")),
            ("X-Bin-Versioning", "true"),
            ("X-Bin-Private", "false"),
        ]
    ),
    unique=True,
)


@SETTINGS
@given(
    route=BODY_ROUTES,
    extra=BODY_ROUTE_HEADERS,
    key=st.sampled_from(["X-Master-Key", "X-Access-Key"]),
    body=BODIES,
    content_type=st.one_of(st.just("application/json"), CONTENT_TYPES),
)
def test_hostile_bodies_where_bodies_are_parsed(handler_api, route, extra, key, body, content_type):
    """Every route that parses a body, on real resources, with the master or an access key."""
    method, parts = route
    credentials = Real("master") if key == "X-Master-Key" else Real("access_key")
    headers = [(key, credentials), *extra]
    run(world_of(handler_api), method, (parts, ""), headers, body, content_type)


ROUTES_ON_REAL_RESOURCES = st.sampled_from(
    [
        ("POST", ["/v3/b"]),
        ("GET", ["/v3/b", Real("bin")]),
        ("GET", ["/v3/b", Real("public_bin"), "latest"]),
        ("GET", ["/v3/b", Real("bin"), "1"]),
        ("PUT", ["/v3/b", Real("public_bin")]),
        ("DELETE", ["/v3/b", Real("bin")]),
        ("GET", ["/v3/b", Real("bin"), "versions", "count"]),
        ("DELETE", ["/v3/b", Real("public_bin"), "versions"]),
        ("PUT", ["/v3/b", Real("bin"), "meta", "name"]),
        ("PUT", ["/v3/b", Real("public_bin"), "meta", "privacy"]),
        ("POST", ["/v3/c"]),
        ("GET", ["/v3/c"]),
        ("GET", ["/v3/c", Real("collection"), "bins"]),
        ("GET", ["/v3/c", "uncategorized", "bins", Real("public_bin")]),
        ("PUT", ["/v3/c", Real("play_collection"), "meta", "name"]),
        ("PUT", ["/v3/c", Real("play_collection"), "schemadoc", "add"]),
        ("PUT", ["/v3/c", Real("play_collection"), "schemadoc", "remove"]),
        ("POST", ["/v3/s"]),
        ("GET", ["/v3/s", Real("schema")]),
        ("PUT", ["/v3/s", Real("schema"), "meta", "name"]),
        ("POST", ["/v3/a"]),
        ("GET", ["/v3/a"]),
        ("DELETE", ["/v3/a", Real("access_key_id")]),
        ("GET", ["/v3/usage"]),
    ]
)
X_HEADER_VALUES = st.lists(
    st.tuples(st.sampled_from(X_HEADERS).flatmap(_random_case), header_values(real=True)),
    min_size=1,
    max_size=6,
)


@SETTINGS
@given(
    route=ROUTES_ON_REAL_RESOURCES,
    headers=X_HEADER_VALUES,
    query=QUERIES,
    body=st.one_of(st.none(), st.just(b'{"n":2}'), BODY_SAMPLES),
)
def test_garbage_x_headers_on_real_resources(handler_api, route, headers, query, body):
    """The documented headers, with garbage values, on every route and the account's own
    resources (so each header is read past the key and existence checks)."""
    method, parts = route
    sent = [("X-Master-Key", Real("master")), ("Content-Type", "application/json"), *headers]
    run(world_of(handler_api), method, (parts, query), sent, body)


@SETTINGS
@given(
    route=ROUTES_ON_REAL_RESOURCES,
    keys=st.lists(
        st.tuples(
            st.sampled_from(KEY_HEADERS).flatmap(_random_case),
            st.one_of(BROKEN_KEYS, WELL_FORMED_UNKNOWN_KEY, HUGE, CONTROL, TEXT, REAL_KEYS),
        ),
        min_size=1,
        max_size=3,
    ),
)
def test_garbage_keys_on_every_route(handler_api, route, keys):
    """Both key headers with garbage (repeated, mixed with a real key, in any case)."""
    method, parts = route
    headers = [("Content-Type", "application/json"), *keys]
    run(world_of(handler_api), method, (parts, ""), headers, b'{"n":2}')


# -- hostile inputs chosen by hand, and the bugs they found ------------------------------------------
HAND_PICKED = {
    "bin-deep-array": ("POST", "/v3/b", {}, _nested("array", 100_000)),
    "bin-deep-object": ("POST", "/v3/b", {}, _nested("object", 100_000)),
    "schema-deep-array": ("POST", "/v3/s", {"X-Schema-Doc-Name": "deep"}, _nested("array", 100_000)),
    "schema-deep-object": ("POST", "/v3/s", {"X-Schema-Doc-Name": "deep"}, _nested("object", 100_000)),
    "bin-100k-digit-number": ("POST", "/v3/b", {}, b'{"a":' + b"9" * 100_000 + b"}"),
    "schema-5k-digit-number": ("POST", "/v3/s", {"X-Schema-Doc-Name": "big"}, b'{"minimum":' + b"9" * 5_000 + b"}"),
    "access-key-5k-digit-number": ("POST", "/v3/a", {"X-Key-Name": "big"}, b'{"bins":' + b"9" * 5_000 + b"}"),
    "access-key-nested-5000": ("POST", "/v3/a", {"X-Key-Name": "deep"}, _nested("array", 5_000)),
    "schema-surrogate-pair-pattern": ("POST", "/v3/s", {"X-Schema-Doc-Name": "ok"}, b'{"pattern":"\\ud83d\\ude00"}'),
    "bin-lone-surrogates": ("POST", "/v3/b", {}, b'{"a":"\\ud800","\\udfff":["\\udc00"]}'),
    "schema-catastrophic-pattern": ("POST", "/v3/s", {"X-Schema-Doc-Name": "ok"}, b'{"pattern":"(a+)+$"}'),
    "bin-json-path-catastrophic": ("GET", "/v3/b/{bin}", {"X-JSON-Path": "$..*..*..*..*..*..*"}, b""),
    "bin-json-path-long": ("GET", "/v3/b/{bin}", {"X-JSON-Path": "$" + "[0]" * 4_000}, b""),
}  # fmt: skip

SELF_REFERENCING_SCHEMAS = {
    "ref-to-root": {"$ref": "#"},
    "defs-cycle": {"$ref": "#/$defs/x", "$defs": {"x": {"$ref": "#/$defs/x"}}},
    "definitions-cycle": {"definitions": {"x": {"$ref": "#/definitions/x"}}, "$ref": "#/definitions/x"},
    "dynamic-ref-2020-12": {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$dynamicAnchor": "m",
        "$dynamicRef": "#m",
    },
    "recursive-ref-2019-09": {
        "$schema": "https://json-schema.org/draft/2019-09/schema",
        "$recursiveAnchor": True,
        "$recursiveRef": "#",
    },
}  # fmt: skip


def _request(world: World, method: str, path: str, headers: dict, body: bytes) -> tuple[Sent, dict]:
    pairs = [("X-Master-Key", world.id("master")), *headers.items()]
    sent = Sent(method, path, pairs, body)
    return sent, send(world.api, sent)


def _problem(sent: Sent, result: dict) -> str | None:
    """What is wrong with this answer (``check`` without the known-bug waiver), or None."""
    if result.get("statusCode", 500) >= 500:
        return f"{sent.method} {sent.path}: {result.get('statusCode')} {result.get('body')}"
    try:
        check(sent, result)
    except (AssertionError, ValueError) as error:
        return f"{sent.method} {sent.path}: {error}"
    return None


def _attach(world: World, schema_doc_id: str) -> str:
    """A new collection with this schema doc attached."""
    collection = world.api.collection(world.account, "hostile")["collectionId"]
    headers = {"X-Schema-Doc-Id": schema_doc_id}
    sent, result = _request(world, "PUT", f"/v3/c/{collection}/schemadoc/add", headers, b"")
    assert result["statusCode"] == 200, result
    return collection


def _writes_into(world: World, collection: str) -> list[str]:
    """Create a bin in the collection, and move an existing bin into it by an update."""
    headers = {"Content-Type": "application/json", "X-Collection-Id": collection}
    problems = [
        _problem(*_request(world, "POST", "/v3/b", headers, b'{"a":1}')),
        _problem(*_request(world, "PUT", f"/v3/b/{world.id('public_bin')}", headers, b'{"a":2}')),
    ]
    return [problem for problem in problems if problem]


def test_hand_picked_hostile_inputs(handler_api):
    world = world_of(handler_api)
    problems = []
    for name, (method, path, headers, body) in HAND_PICKED.items():
        path = path.replace("{bin}", world.id("public_bin"))
        headers = {"Content-Type": "application/json", **headers}
        problem = _problem(*_request(world, method, path, headers, body))
        if problem:
            problems.append(f"{name}: {problem[:300]}")
    assert not problems, "\n".join(problems)


def test_access_key_body_nested_deeply(handler_api):
    world = world_of(handler_api)
    headers = {"Content-Type": "application/json", "X-Key-Name": "deep"}
    problem = _problem(*_request(world, "POST", "/v3/a", headers, _nested("array", 100_000)))
    assert problem is None, problem


@pytest.mark.parametrize(
    "schema",
    [
        b'{"pattern":"\\ud800"}',
        b'{"properties":{"a":{"pattern":"a\\ud83d"}}}',
        b'{"patternProperties":{"\\udc00":{}}}',
    ],
    ids=["pattern", "nested-pattern", "patternProperties-key"],
)
def test_schema_doc_with_lone_surrogate_in_a_pattern(handler_api, schema):
    world = world_of(handler_api)
    headers = {"Content-Type": "application/json", "X-Schema-Doc-Name": "surrogate"}
    problems = [
        _problem(*_request(world, "POST", "/v3/s", headers, schema)),
        _problem(*_request(world, "PUT", f"/v3/s/{world.id('schema')}", headers, schema)),
    ]
    assert problems == [None, None], problems


def _save_then_write(world: World, schema: bytes) -> list[str]:
    """Save the schema doc; if it is accepted, attach it and write bins against it. Every
    answer on the way must be a proper one."""
    headers = {"Content-Type": "application/json", "X-Schema-Doc-Name": "hostile"}
    sent, result = _request(world, "POST", "/v3/s", headers, schema)
    problem = _problem(sent, result)
    if problem or result["statusCode"] != 200:
        return [problem] if problem else []
    collection = _attach(world, json.loads(result["body"])["metadata"]["id"])
    return _writes_into(world, collection)


@pytest.mark.parametrize("schema", list(SELF_REFERENCING_SCHEMAS), ids=str)
def test_self_referencing_schema_never_crashes_a_bin_write(handler_api, schema):
    """Refused when saved, or a 400 on every write against it (found by this suite: every
    write answered 500 until cycles were refused)."""
    world = world_of(handler_api)
    problems = _save_then_write(world, json.dumps(SELF_REFERENCING_SCHEMAS[schema]).encode())
    assert not problems, problems


@pytest.mark.parametrize(
    "schema",
    [
        b'{"$id":"\\ud800","$ref":"\\ud800"}',
        b'{"$ref":"#/definitions/\\ud800"}',
        b'{"properties":{"\\ud800":{"const":"\\udfff"}},"required":["\\ud800"]}',
    ],
    ids=["unresolvable-ref", "pointer-to-nowhere", "required-key"],
)
def test_lone_surrogates_echoed_in_messages_stay_utf8(handler_api, schema):
    """A message that quotes the schema or the record escapes a lone surrogate (found by this
    suite: the Unresolvable error put a raw \\ud800 in the body, which is not UTF-8)."""
    world = world_of(handler_api)
    problems = _save_then_write(world, schema)
    assert not problems, problems
