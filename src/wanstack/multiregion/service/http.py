"""The quota service's HTTP plumbing: a WSGI application with a route table and JSON in and out,
served by the standard library's threaded server (one thread per request; any WSGI server, such as
uWSGI or gunicorn, can serve the same application in production)."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http import HTTPStatus
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

Environ = dict[str, Any]
StartResponse = Callable[..., Any]


@dataclass
class Caller:
    """Who sent a request, from their Keystone token."""

    project_id: str
    roles: frozenset[str]

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
    when empty), the headers (lower case), and who sent it (None on a public route)."""

    method: str
    path: str
    params: dict[str, str]
    body: Any
    headers: dict[str, str]
    caller: Caller | None = None


@dataclass
class Response:
    """A handler's answer: a JSON body (None: empty), its status, and headers beyond the content's."""

    body: Any = None
    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)


Handler = Callable[[Request], Response]


class App:
    """Routes (method, path pattern with {name}s) to handlers; `authenticate` turns a request's
    headers into its Caller (or raises HttpError 401/503) for every route not marked public."""

    def __init__(self, authenticate: Callable[[dict[str, str]], Caller] | None) -> None:
        self.routes: list[tuple[str, re.Pattern[str], Handler, bool]] = []
        self.authenticate = authenticate

    def route(self, method: str, pattern: str, handler: Handler, public: bool = False) -> None:
        regex = re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern) + "$")
        self.routes.append((method, regex, handler, public))

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        try:
            response = self._dispatch(environ)
        except HttpError as err:
            response = Response(
                {"error": {"code": err.status, "message": err.message, **err.extra}}, err.status
            )
        payload = b"" if response.body is None else json.dumps(response.body).encode()
        headers = [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(payload))),
            *response.headers,
        ]
        start_response(f"{response.status} {HTTPStatus(response.status).phrase}", headers)
        return [payload]

    def _dispatch(self, environ: Environ) -> Response:
        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "/") or "/"
        allowed = False
        for want, regex, handler, public in self.routes:
            match = regex.match(path)
            if match is None:
                continue
            allowed = True
            if want != method:
                continue
            headers = {
                k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")
            }
            request = Request(method, path, match.groupdict(), _body(environ), headers)
            if not public and self.authenticate is not None:
                request.caller = self.authenticate(headers)
            return handler(request)
        raise HttpError(
            405 if allowed else 404,
            f"{method} {path}: " + ("method not allowed" if allowed else "no such resource"),
        )


def _body(environ: Environ) -> Any:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    if not length:
        return None
    raw = environ["wsgi.input"].read(length)
    try:
        return json.loads(raw)
    except ValueError:
        raise HttpError(400, "the body is not JSON") from None


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass

    def address_string(self) -> str:
        return str(self.client_address[0])  # no reverse DNS per request


class Server:
    """`app` served at host:port in a thread of its own until `stop()`."""

    def __init__(self, app: App, host: str, port: int) -> None:
        self.server = make_server(host, port, app, server_class=_Server, handler_class=_QuietHandler)
        self.thread = threading.Thread(target=self.server.serve_forever, name=f"quota:{port}", daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> Server:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)
