"""Serve one OpenStack API's WSGI application on a site's address: `python -m wanstack_openstack.serve`
with WANSTACK_WSGI_APP (`module:attribute`), WANSTACK_WSGI_HOST and WANSTACK_WSGI_PORT in the
environment — not on the command line: the applications parse `sys.argv` with oslo.config when
they are imported. The standard library's threaded server is enough for a testbed (one request per
thread, as eventlet's or uWSGI's workers would take them one by one)."""

from __future__ import annotations

import importlib
import os
import signal
import sys
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from wanstack_openstack.tracing import carry_trace


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass  # the services log their requests themselves

    def address_string(self) -> str:
        return str(self.client_address[0])  # no reverse DNS per request


def main() -> None:
    module, _, attribute = os.environ["WANSTACK_WSGI_APP"].partition(":")
    host, port = os.environ["WANSTACK_WSGI_HOST"], int(os.environ["WANSTACK_WSGI_PORT"])
    application = getattr(importlib.import_module(module), attribute or "application")
    carry_trace()  # after the import: the application chose its concurrency model
    server = make_server(host, port, application, server_class=_Server, handler_class=_QuietHandler)
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    print(f"serving {module} on {host}:{port}", flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
