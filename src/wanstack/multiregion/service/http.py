"""The quota service's HTTP plumbing: a WSGI application with a route table and JSON in and out, served
by cheroot (CherryPy's WSGI server: a pool of threads, a listen backlog, a timeout on every connection, a
cap on request bodies).

Why cheroot: the coordinator and each region must start and stop inside a test's process as well as in a
process of their own; cheroot embeds as an object (`prepare`, `serve` in a thread, `stop`) where gunicorn
forks workers of its own; and it hands the application the request body unread, so the token is checked
before a byte of it is read (waitress reads the whole body before it calls the application). It keeps idle
keep-alive connections out of its threads (a selector), so a pool of threads serves many clients.

What a request goes through, in this order, each step refusing before the next costs anything:

1. the server: a request line and headers within its limits; a Content-Length of digits (else 400) at most
   `MAX_SERVER_BODY` (else 413); a connection silent for `TIMEOUT_S` is closed;
2. the route (404, 405), then the token (`authenticate`: 401, 503), from the headers alone;
3. the route's own body cap (413; a sync may be larger than a claim), a Content-Length the application
   checks again (digits only, e.g. not `-1`: 400), the body read (shorter than announced: 400; nothing
   within the timeout: 408);
4. JSON (400 for anything else, `NaN` and `Infinity` included) nested at most `MAX_DEPTH` deep (400).

An answer sent before the body was read closes the connection (the body is never drained).
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from cheroot import wsgi

log = logging.getLogger(__name__)

Environ = dict[str, Any]
StartResponse = Callable[..., Any]

# A claim, a limit or a release is a few hundred bytes: 64 KiB leaves room for any of them and stops a
# body of megabytes at its headers.
MAX_BODY = 64 * 1024
# A region's sync carries a row per (project, resource) it holds (about 100 bytes each): 8 MiB is some
# 80,000 rows, 26,000 projects with three limits each.
MAX_SYNC_BODY = 8 * 1024 * 1024
MAX_SERVER_BODY = MAX_SYNC_BODY  # the server's own cap: the largest route's
# The deepest legitimate body is a sync: {"rows": [{"project": …}]}, three levels. Python's json parser
# recurses once per level and raises RecursionError near 1,000 levels (sys.getrecursionlimit()).
MAX_DEPTH = 8
# A connection that sends nothing for this long is closed (cheroot's own default `timeout`; gunicorn's
# `timeout` of 30 s is per worker, not per connection).
TIMEOUT_S = 10.0
# Threads answering requests: a claim takes well under a millisecond of CPU, but a token never seen
# waits for Keystone (across a WAN: a round trip or more), so the pool is sized for waits, not CPU.
THREADS = 32
# The listen backlog: gunicorn's default `backlog` (gunicorn/config.py, Backlog: 2048); Linux caps it
# at net.core.somaxconn (4096 since Linux 5.4). wsgiref's default of 5 reset connections under 200
# parallel claims (issue 36).
BACKLOG = 2048
# Idle keep-alive connections kept open (each a descriptor in cheroot's selector, no thread; closed after
# TIMEOUT_S silent): gunicorn's default `worker_connections` (gunicorn/config.py, WorkerConnections:
# 1000 simultaneous clients per worker). cheroot's own default, `keep_alive_conn_limit` = 10, closed the
# connection after nearly every answer with 100 clients at a region (886 connections opened for 1,175
# requests, benchmarks/quota_load.py --quick, 2026-12-07): each client paid a TCP handshake per claim.
KEEPALIVE_CONNECTIONS = 1000


@dataclass
class Caller:
    """Who sent a request, from their Keystone token: the token's project and roles, and its user (name,
    id and domain name; a region's sync must come from the region's own user)."""

    project_id: str
    roles: frozenset[str]
    user_name: str = ""
    user_id: str = ""
    user_domain: str = ""

    @property
    def admin(self) -> bool:
        return "admin" in self.roles


class HttpError(Exception):
    """An answer other than success: its HTTP status and message, sent as `{"error": {"code", "message",
    ...}}` with `extra` fields."""

    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status, self.message, self.extra = status, message, extra


@dataclass
class Request:
    """One request as a handler sees it: method, path, the path's `{name}` parameters, the JSON body (None
    when empty), the headers (lower case), the query string's parameters, and who sent it (None on a
    public route or with no token check)."""

    method: str
    path: str
    params: dict[str, str]
    body: Any
    headers: dict[str, str]
    caller: Caller | None = None
    query: dict[str, str] = field(default_factory=dict)


@dataclass
class Response:
    """A handler's answer: a JSON body (None: empty), its status, and headers beyond the content's."""

    body: Any = None
    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)


Handler = Callable[[Request], Response]


@dataclass(frozen=True)
class Route:
    """A method and path pattern, its handler, whether it needs no token, and its body cap (bytes)."""

    method: str
    regex: re.Pattern[str]
    handler: Handler
    public: bool
    max_body: int


class App:
    """Routes (method, path pattern with {name}s) to handlers; `authenticate` turns a request's
    headers into its Caller (or raises HttpError 401/503) for every route not marked public, before
    the body is read."""

    def __init__(self, authenticate: Callable[[dict[str, str]], Caller] | None) -> None:
        self.routes: list[Route] = []
        self.authenticate = authenticate

    def route(
        self, method: str, pattern: str, handler: Handler, public: bool = False, max_body: int = MAX_BODY
    ) -> None:
        regex = re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern) + "$")
        self.routes.append(Route(method, regex, handler, public, max_body))

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        read = _Read()
        try:
            response = self._dispatch(environ, read)
        except HttpError as err:
            response = Response(
                {"error": {"code": err.status, "message": err.message, **err.extra}}, err.status
            )
        except Exception:  # a bug: logged, answered as one, the connection kept sane
            log.exception("%s %s", environ.get("REQUEST_METHOD"), environ.get("PATH_INFO"))
            response = Response({"error": {"code": 500, "message": "internal error (logged)"}}, 500)
        payload = b"" if response.body is None else json.dumps(response.body).encode()
        headers = [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(payload))),
            *response.headers,
        ]
        if not read.done:
            headers.append(("Connection", "close"))  # an unread body is never drained (`_Gateway`)
        start_response(f"{response.status} {HTTPStatus(response.status).phrase}", headers)
        return [payload]

    def _dispatch(self, environ: Environ, read: _Read) -> Response:
        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "/") or "/"
        allowed = False
        for route in self.routes:
            match = route.regex.match(path)
            if match is None:
                continue
            allowed = True
            if route.method != method:
                continue
            headers = {
                k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")
            }
            caller = None
            if not route.public and self.authenticate is not None:
                caller = self.authenticate(headers)
            body = _body(environ, route.max_body, read)
            return route.handler(
                Request(method, path, match.groupdict(), body, headers, caller, _query(environ))
            )
        raise HttpError(
            405 if allowed else 404,
            f"{method} {path}: " + ("method not allowed" if allowed else "no such resource"),
        )


@dataclass
class _Read:
    """Whether the request's body was read whole (or had none)."""

    done: bool = False


def _query(environ: Environ) -> dict[str, str]:
    from urllib.parse import parse_qsl

    return dict(parse_qsl(environ.get("QUERY_STRING", ""), max_num_fields=16))


def _body(environ: Environ, cap: int, read: _Read) -> Any:
    """The request's JSON body (None when empty), at most `cap` bytes."""
    chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
    text = environ.get("CONTENT_LENGTH") or ""
    if chunked:
        length = cap + 1  # read at most one byte past the cap (cheroot bounds the chunks too)
    elif not text:
        read.done = True
        return None
    elif not text.isascii() or not text.isdigit():
        raise HttpError(400, f"Content-Length is not a number of bytes: {text[:20]!r}")
    else:
        length = int(text)
        if length > cap:
            raise HttpError(413, f"the body is {length} bytes, more than this request takes ({cap})")
        if length == 0:
            read.done = True
            return None
    try:
        raw = environ["wsgi.input"].read(length)
    except OSError as err:  # the server's timeout on a body that does not come (or a broken connection)
        raise HttpError(408, f"the body did not come: {type(err).__name__}") from None
    except Exception as err:  # cheroot's MaxSizeExceeded on a chunked body past its cap
        raise HttpError(413, f"the body is larger than this request takes ({cap}): {err}") from None
    if chunked and len(raw) > cap:
        raise HttpError(413, f"the body is larger than this request takes ({cap})")
    if not chunked and len(raw) < length:
        raise HttpError(400, f"the body is {len(raw)} bytes, shorter than its Content-Length ({length})")
    read.done = True
    if not raw:
        return None
    try:
        body = json.loads(raw, parse_constant=_no_constant)
    except RecursionError:
        raise HttpError(400, f"the body is nested more than {MAX_DEPTH} deep") from None
    except ValueError as err:
        raise HttpError(400, f"the body is not JSON: {err}") from None
    if _depth(body) > MAX_DEPTH:
        raise HttpError(400, f"the body is nested more than {MAX_DEPTH} deep")
    return body


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _depth(value: Any) -> int:
    match value:
        case dict():
            return 1 + max((_depth(v) for v in value.values()), default=0)
        case list():
            return 1 + max((_depth(v) for v in value), default=0)
        case _:
            return 0


class _Gateway(wsgi.Gateway_10):
    """cheroot's WSGI gateway, closing the connection when the application says so: cheroot would
    otherwise read the rest of an unread body (up to its cap) to keep the connection alive."""

    def start_response(self, status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        if any(k.lower() == "connection" and v.lower() == "close" for k, v in headers):
            self.req.close_connection = True
        return super().start_response(status, headers, exc_info)


class Server:
    """`app` served at host:port (0: any free port) by cheroot in a thread of its own until `stop()`,
    with `threads` threads, a connection silent for `timeout_s` closed."""

    def __init__(
        self, app: App, host: str, port: int, *, threads: int = THREADS, timeout_s: float = TIMEOUT_S
    ) -> None:
        self.server = wsgi.Server(
            (host, port),
            app,
            numthreads=threads,
            request_queue_size=BACKLOG,
            timeout=max(1, round(timeout_s)),
            shutdown_timeout=5,
        )
        self.server.gateway = _Gateway
        self.server.max_request_body_size = MAX_SERVER_BODY
        self.server.keep_alive_conn_limit = KEEPALIVE_CONNECTIONS
        self.server.server_name = "wanstack-quota"
        self.server.prepare()  # bound and listening when the constructor returns
        self.thread = threading.Thread(target=self.server.serve, name=f"quota:{port}", daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.bind_addr[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> Server:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.stop()
        self.thread.join(10)
