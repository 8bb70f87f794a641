"""A loopback stand-in for https://datasets.imdbws.com/, strict like the real one, with faults.

    server = FakeImdb(folder).start()      # serves folder's files at server.url
    server.fault = "cut"                   # the next responses misbehave (see FAULTS)
    ...
    server.stop()

Like IMDb's (CloudFront) it serves each file with Content-Length, an ETag and Last-Modified,
answers 304 Not Modified to a matching If-None-Match or a not-older If-Modified-Since, and 404
to any other name. `requests` records (path, If-None-Match, If-Modified-Since) per request.
Faults (None = behave), for every file or only `fault_file`:
- "cut": the full Content-Length is announced, half the body sent, the connection closed;
- "corrupt": bytes in the middle of the gzip stream flipped (its header still reads);
- "header": a valid gzip whose first line has a renamed column;
- "oversize": no Content-Length, and the body goes on past the file with padding;
- "offline": the port is closed (the server stops listening).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import threading
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

FAULTS = (None, "cut", "corrupt", "header", "oversize", "offline")
OVERSIZE_PADDING = 64 * 2**20


class FakeImdb:
    """IMDb's dataset server on 127.0.0.1, serving the files of `folder`."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.fault: str | None = None
        self.fault_file: str | None = None  # None: every file
        self.requests: list[tuple[str, str | None, str | None]] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def start(self) -> FakeImdb:
        server = self

        class Handler(_Handler):
            fake = server

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def go_offline(self) -> None:
        """Close the port: connections are refused, as from a machine with no network."""
        self.stop()

    def body_for(self, name: str) -> bytes | None:
        """What is served for `name` under the current fault (None: no such file)."""
        path = self.folder / name
        if "/" in name or not name or not path.is_file():
            return None
        data = path.read_bytes()
        if self.fault_file not in (None, name):
            return data
        if self.fault == "corrupt":
            middle = bytearray(data)
            start = max(20, len(middle) // 2)
            for i in range(start, min(start + 64, len(middle) - 8)):
                middle[i] ^= 0x5A
            return bytes(middle)
        if self.fault == "header":
            text = gzip.decompress(data)
            first, _, rest = text.partition(b"\n")
            return gzip.compress(first.replace(b"\t", b"\tx_", 1) + b"\n" + rest, mtime=0)
        return data


class _Handler(BaseHTTPRequestHandler):
    fake: FakeImdb
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:  # quiet in tests
        pass

    def do_HEAD(self) -> None:  # noqa: N802 (http.server's naming)
        self._answer(send_body=False)

    def do_GET(self) -> None:  # noqa: N802
        self._answer(send_body=True)

    def _answer(self, send_body: bool) -> None:
        fake = self.fake
        name = self.path.split("?", 1)[0].lstrip("/")
        etag_sent = self.headers.get("If-None-Match")
        since_sent = self.headers.get("If-Modified-Since")
        fake.requests.append((name, etag_sent, since_sent))
        body = fake.body_for(name)
        if body is None:
            self._plain(404, b"Not Found")
            return
        etag = '"' + hashlib.sha1(body).hexdigest()[:20] + '"'
        mtime = (fake.folder / name).stat().st_mtime
        last_modified = formatdate(mtime, usegmt=True)
        if _not_modified(etag, int(mtime), etag_sent, since_sent):
            self.send_response(304)
            self.send_header("ETag", etag)
            self.send_header("Last-Modified", last_modified)
            self.end_headers()
            return
        fault = fake.fault if fake.fault_file in (None, name) else None
        self.send_response(200)
        self.send_header("Content-Type", "binary/octet-stream")
        self.send_header("ETag", etag)
        self.send_header("Last-Modified", last_modified)
        if fault == "oversize":
            self.send_header("Connection", "close")
        else:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not send_body:
            return
        try:
            if fault == "cut":
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                self.close_connection = True
                return
            self.wfile.write(body)
            if fault == "oversize":
                self.close_connection = True
                chunk = b"\0" * 2**20
                for _ in range(OVERSIZE_PADDING // len(chunk)):
                    self.wfile.write(chunk)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client stopped reading: as it should

    def _plain(self, code: int, text: bytes) -> None:
        self.send_response(code)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(text)))
        self.end_headers()
        self.wfile.write(text)


def _not_modified(etag: str, mtime: int, etag_sent: str | None, since_sent: str | None) -> bool:
    """RFC 9110: If-None-Match decides when present; else If-Modified-Since."""
    if etag_sent is not None:
        return etag in [tag.strip() for tag in etag_sent.split(",")] or etag_sent.strip() == "*"
    if since_sent is not None:
        try:
            return mtime <= parsedate_to_datetime(since_sent).timestamp()
        except (TypeError, ValueError):
            return False
    return False


def gzip_bytes(text: str) -> bytes:
    """`text` as a gzip file's bytes (for tests writing a file by hand)."""
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as out:
        out.write(text.encode("utf-8"))
    return buffer.getvalue()
