"""The what-if page's HTTP server: the standard library's ThreadingHTTPServer, serving the page's
own files, Debian's Chart.js and a small JSON API (:mod:`wedge.explorer.app`).

Safety, because any web page the user visits can send requests to a server on localhost:

- it listens on 127.0.0.1 unless ``--host`` says otherwise (then with a warning);
- the Host header must name this server (``localhost`` or an IP address, with its port): a page
  that rebinds its own DNS name to 127.0.0.1 still sends its own name, and is refused (403);
- a request whose ``Origin`` is not this server, or whose ``Sec-Fetch-Site`` is cross-site, is
  refused (403); the API takes only POST with ``Content-Type: application/json`` (which a foreign
  page cannot send without a CORS preflight, which is refused) and bodies up to 64 KB;
- only the files listed at start-up are served (no paths from the request reach the file system);
- at most ``MAX_REQUESTS`` requests are handled at once (further connections wait to be
  accepted), each connection times out after 30 s, and the engine runs one request at a time (a
  newer request of the same kind cancels the older: see :meth:`Explorer.call`).
"""
from __future__ import annotations

import http.server
import ipaddress
import json
import pathlib
import sys
import threading
from typing import Any

from .app import Explorer, RequestError, Superseded

STATIC = pathlib.Path(__file__).resolve().parent / "static"
#: Chart.js 3.9 from Debian's libjs-chart.js (scripts/install-deps.sh); never a CDN.
CHART_JS = pathlib.Path("/usr/share/javascript/chart.js/chart.min.js")
MAX_REQUESTS = 16
MAX_BODY = 64 * 1024
CONTENT_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
                 ".css": "text/css; charset=utf-8", ".png": "image/png"}
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "Content-Security-Policy": ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                                "img-src 'self' data: blob:; connect-src 'self'; frame-ancestors 'none'; "
                                "base-uri 'none'; form-action 'none'"),
}


class MissingChartJs(RuntimeError):
    """Debian's libjs-chart.js is not installed."""


def _files() -> dict[str, pathlib.Path]:
    """URL path -> file, fixed at start-up: the page's own files and Chart.js."""
    if not CHART_JS.is_file():
        raise MissingChartJs(f"{CHART_JS} is missing: the page draws its charts with Debian's Chart.js; install "
                             "it with `apt-get install libjs-chart.js` (scripts/install-deps.sh does)")
    files = {f"/static/{p.name}": p for p in STATIC.iterdir() if p.suffix in CONTENT_TYPES}
    files["/"] = STATIC / "index.html"
    files["/vendor/chart.min.js"] = CHART_JS
    return files


class _Slot:
    """One request's hold on the server's semaphore (None: already given back), released once."""

    def __init__(self, semaphore: threading.BoundedSemaphore | None):
        self._semaphore = semaphore

    def release(self) -> None:
        semaphore, self._semaphore = self._semaphore, None
        if semaphore is not None:
            semaphore.release()


class ExploreServer(http.server.ThreadingHTTPServer):
    """A ThreadingHTTPServer with a bound on requests in flight; closing it cancels the engine's
    work and waits for every request thread."""

    daemon_threads = False
    block_on_close = True
    request_queue_size = 128  # connections waiting to be accepted while every request slot is busy

    def __init__(self, address: tuple[str, int], explorer: Explorer, allowed_names: set[str] | None = None):
        self.explorer = explorer
        self.files = _files()
        self.allowed_names = {"localhost"} | (allowed_names or set())
        self._slots = threading.BoundedSemaphore(MAX_REQUESTS)
        self._slots_lock = threading.Lock()
        self._slot_of: dict[int, _Slot] = {}  # request id -> its slot, until given back
        super().__init__(address, Handler)

    @property
    def port(self) -> int:
        return self.server_address[1]

    def process_request(self, request, client_address):
        self._slots.acquire()
        slot = _Slot(self._slots)
        with self._slots_lock:
            self._slot_of[id(request)] = slot
        try:
            super().process_request(request, client_address)
        except BaseException:
            # The request's thread may have started (and even finished) before the exception (a
            # Ctrl-C between its start and this line): the slot is given back once, by whichever
            # gets there first, so a second release never replaces the KeyboardInterrupt with a
            # BoundedSemaphore's ValueError (which the server's loop swallows, and it kept serving).
            self._take_slot(request).release()
            raise

    def process_request_thread(self, request, client_address):
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._take_slot(request).release()

    def _take_slot(self, request) -> "_Slot":
        with self._slots_lock:
            return self._slot_of.pop(id(request), _Slot(None))

    def server_close(self) -> None:
        self.explorer.cancel_all()
        super().server_close()


class Handler(http.server.BaseHTTPRequestHandler):
    server: ExploreServer
    server_version = "wedge-explore"
    sys_version = ""
    timeout = 30
    # One request per connection: no idle keep-alive connection holds a request slot, and stopping
    # the server never waits for a browser's open connection.
    protocol_version = "HTTP/1.0"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass  # quiet: the terminal shows the address and errors only

    # -- checks ------------------------------------------------------------------------------------

    def _host_ok(self) -> bool:
        """The Host header names this server: localhost, an IP address or a --host name, with our port."""
        host = self.headers.get("Host", "")
        name, _, port = host.rpartition(":")
        if not name or port != str(self.server.port):
            return False
        name = name[1:-1] if name.startswith("[") and name.endswith("]") else name
        if name.lower() in self.server.allowed_names:
            return True
        try:
            ipaddress.ip_address(name)
        except ValueError:
            return False
        return True

    def _origin_ok(self) -> bool:
        origin = self.headers.get("Origin")
        if origin is not None and origin != f"http://{self.headers.get('Host', '')}":
            return False
        return self.headers.get("Sec-Fetch-Site", "same-origin") in ("same-origin", "none")

    # -- responses ---------------------------------------------------------------------------------

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in SECURITY_HEADERS.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, document: Any) -> None:
        self._send(status, json.dumps(document).encode(), "application/json")

    def _error(self, status: int, message: str) -> None:
        self._json(status, {"error": message})

    # -- methods -----------------------------------------------------------------------------------

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        if not self._host_ok():
            return self._error(403, "forbidden: the Host header does not name this server")
        if not self._origin_ok():
            return self._error(403, "forbidden: a request from another origin")
        path = self.path.split("?", 1)[0]
        if path == "/api/state":
            return self._json(200, self.server.explorer.state())
        file = self.server.files.get(path)
        if file is None:
            return self._error(404, "not found")
        self._send(200, file.read_bytes(), CONTENT_TYPES.get(file.suffix, "text/javascript; charset=utf-8"))

    do_HEAD = do_GET

    ROUTES = {"/api/compare": "compare", "/api/sweep": "sweep", "/api/why": "why", "/api/toml": "scenario_toml"}

    def do_POST(self) -> None:  # noqa: N802
        if not self._host_ok():
            return self._error(403, "forbidden: the Host header does not name this server")
        if not self._origin_ok():
            return self._error(403, "forbidden: a request from another origin")
        method = self.ROUTES.get(self.path)
        if method is None:
            return self._error(404, "not found")
        if self.headers.get("Content-Type", "").split(";")[0].strip() != "application/json":
            return self._error(415, "malformed request: Content-Type must be application/json")
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            return self._error(411, "malformed request: Content-Length is required")
        if not 0 <= length <= MAX_BODY:
            self.close_connection = True
            return self._error(413, f"malformed request: a body of at most {MAX_BODY} bytes")
        try:
            body = json.loads(self.rfile.read(length) or b"null")
        except (ValueError, UnicodeDecodeError):
            return self._error(400, "malformed request: the body is not JSON")
        from .. import _core

        try:
            if not isinstance(body, dict):
                raise RequestError("malformed request: the body must be a JSON object")
            return self._json(200, getattr(self.server.explorer, method)(body))
        except (RequestError, _core.ConfigError) as err:
            return self._error(400, str(err))
        except Superseded:
            return self._json(409, {"superseded": True})
        except Exception as err:  # a bug: say so to the page and the terminal, keep serving
            print(f"wedge explore: internal error on {self.path}: {err!r}", file=sys.stderr)
            return self._error(500, f"internal error: {err}")
