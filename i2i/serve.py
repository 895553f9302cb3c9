"""``i2i serve``: a small web page to try a trained model in a browser, served by i2i itself.

One page (HTML, CSS and JavaScript inline: nothing is fetched from the internet) to upload
or drag an image, or draw one, and see input and output side by side, with a download link
and a direction switch for two-direction models. The server is the standard library's
threading HTTP server; translations run one at a time under a lock (the model's modes are
process state), so parallel requests are safe.
"""

from __future__ import annotations

import html
import io
import json
import socket
import sys
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from PIL import Image

from i2i.data.images import FAST_PNG, open_image
from i2i.errors import DataError, TooManyPixels
from i2i.inference.model import Model

DEFAULT_MAX_UPLOAD = 20 * 2**20
"""Bytes an upload may have (20 MiB)."""

DEFAULT_MAX_PIXELS = 16 * 2**20
"""Pixels an uploaded image may have (16 megapixels)."""


class ImageRequestError(Exception):
    """A request that cannot be translated: its status and a one-line message."""

    def __init__(self, status: HTTPStatus, message: str) -> None:
        super().__init__(message)
        self.status = status


class Translator:
    """The model behind the page, called by one request at a time.

    Args:
        model: the loaded model.
        max_upload: bytes a request body may have.
        max_pixels: pixels an uploaded image may have.
    """

    def __init__(self, model: Model, max_upload: int, max_pixels: int) -> None:
        self.model, self.max_upload, self.max_pixels = model, max_upload, max_pixels
        self._lock = threading.Lock()

    def translate(self, body: bytes, direction: str | None, mode: str) -> bytes:
        """PNG bytes of the translation of the image file ``body``."""
        if len(body) > self.max_upload:
            raise ImageRequestError(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                f"the upload is {len(body)} bytes, over the limit of {self.max_upload}",
            )
        if direction not in (None, *self.model.directions):
            raise ImageRequestError(HTTPStatus.BAD_REQUEST, f"unknown direction {direction!r}")
        if mode not in ("paper", "eval"):
            raise ImageRequestError(HTTPStatus.BAD_REQUEST, "mode must be paper or eval")
        image = self._decode(body)
        with self._lock:
            output = self.model(image, direction=direction, mode=mode)  # type: ignore[arg-type]
        buffer = io.BytesIO()
        output.save(buffer, format="PNG", **FAST_PNG)
        return buffer.getvalue()

    def _decode(self, body: bytes) -> Image.Image:
        try:
            return open_image(io.BytesIO(body), self.max_pixels)
        except TooManyPixels as error:
            shown = f"{error.size[0]}x{error.size[1]}" if error.size else str(error.pixels)
            raise ImageRequestError(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                f"the image is {shown} pixels, over the limit of {self.max_pixels}",
            ) from None
        except DataError:
            raise ImageRequestError(
                HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "the upload is not an image i2i can read"
            ) from None

    def info(self) -> dict[str, Any]:
        """What the page shows about the model."""
        return {
            "model": self.model.path.name,
            "title": model_title(self.model.path),
            "directions": list(self.model.directions),
            "direction": self.model.direction,
        }


def model_title(path: Path) -> str:
    """``RUN: FILE`` for a checkpoint in a run's ``checkpoints/``, else the file's name."""
    if path.parent.name == "checkpoints" and path.parent.parent.name:
        return f"{path.parent.parent.name}: {path.name}"
    return path.name


def uploaded_image(body: bytes, content_type: str | None) -> bytes:
    """The image file of a request: the raw body, or the first file of a multipart form
    (``curl -F file=@photo.jpg``, what browsers' forms and most HTTP clients send)."""
    if not (content_type or "").lower().startswith("multipart/form-data"):
        return body
    from email.parser import BytesParser
    from email.policy import HTTP

    header = f"Content-Type: {content_type}\r\n\r\n".encode("latin-1", "replace")
    form = BytesParser(policy=HTTP).parsebytes(header + body)
    if form.is_multipart():
        for part in form.iter_parts():
            if part.get_filename() is not None:
                return part.get_payload(decode=True) or b""
    raise ImageRequestError(
        HTTPStatus.BAD_REQUEST, "the form holds no file; send one as file=@image.png"
    )


class ModelServer(ThreadingHTTPServer):
    """The standard library's threading HTTP server, made to survive any client.

    The standard library's server is kept (no new dependency for a local demo): a burst of
    connections waits in a deep backlog instead of being reset, each connection has a read
    timeout, bodies are bounded before they are read, and a client that disconnects, stalls
    or sends garbage costs one quiet line at most, never a traceback in the terminal.
    """

    daemon_threads = True
    request_queue_size = 256

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A failed request: silent when the client went away or stalled, else one line."""
        error = sys.exc_info()[1]
        if isinstance(error, (ConnectionError, TimeoutError)):
            return
        name = type(error).__name__ if error else "error"
        print(
            f"i2i: serve: a request from {client_address[0]} failed: {name}: {error}",
            file=sys.stderr,
        )


def drain_before_closing(connection: socket.socket, seconds: float) -> None:
    """Half-close, then read and drop what the client still sends, for at most ``seconds``.

    Closing a socket with unread input makes the kernel answer with a reset, which can
    destroy the refusal the client has not read yet; draining first lets the answer arrive.
    """
    deadline = time.monotonic() + seconds
    try:
        connection.shutdown(socket.SHUT_WR)
        while (left := deadline - time.monotonic()) > 0:
            connection.settimeout(left)
            if not connection.recv(65536):
                return
    except OSError:  # the client went away or stalled: nothing more to protect
        return


def make_handler(
    translator: Translator, client_timeout: float = 30.0
) -> type[BaseHTTPRequestHandler]:
    """The request handler class serving ``translator``."""

    class Handler(BaseHTTPRequestHandler):
        server_version = "i2i"
        timeout = client_timeout  # a client that stalls mid-request is dropped, quietly
        body_left_unread = False  # a refusal before the body was read: drain it on closing

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            """Quiet: the terminal shows the one line saying where the page is."""

        def _send(self, status: HTTPStatus, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def _error(self, status: HTTPStatus, message: str) -> None:
            self._send(status, json.dumps({"error": message}).encode(), "application/json")

        def _refuse_unread(self, status: HTTPStatus, message: str) -> None:
            """Refuse a request whose body is left unread, then close the connection."""
            self._error(status, message)
            self.close_connection = True  # the unread body must not become a request
            self.body_left_unread = True

        def finish(self) -> None:
            """Flush the answer; after a refusal, drain the unread body before closing."""
            super().finish()
            if self.body_left_unread:
                drain_before_closing(self.connection, min(client_timeout, 2.0))

        def do_GET(self) -> None:  # noqa: N802
            """The page, or the model's description."""
            path = urlparse(self.path).path
            if path == "/":
                self._send(
                    HTTPStatus.OK, page(translator.info()).encode(), "text/html; charset=utf-8"
                )
            elif path == "/info":
                self._send(
                    HTTPStatus.OK, json.dumps(translator.info()).encode(), "application/json"
                )
            else:
                self._error(HTTPStatus.NOT_FOUND, f"no page {path!r}")

        def do_POST(self) -> None:  # noqa: N802
            """``/translate?direction=&mode=``: the body is an image file; PNG back."""
            url = urlparse(self.path)
            if url.path != "/translate":
                self._error(HTTPStatus.NOT_FOUND, f"no endpoint {url.path!r}")
                return
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            try:
                length = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                length = -1
            if length < 0:
                self._refuse_unread(HTTPStatus.BAD_REQUEST, "bad Content-Length")
                return
            if length > translator.max_upload:
                self._refuse_unread(
                    HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                    f"the upload is {length} bytes, over the limit of {translator.max_upload}",
                )
                return
            try:
                body = self.rfile.read(length)
                image = uploaded_image(body, self.headers.get("Content-Type"))
                png = translator.translate(
                    image, query.get("direction"), query.get("mode", "paper")
                )
            except ImageRequestError as error:
                self._error(error.status, str(error))
                return
            self._send(HTTPStatus.OK, png, "image/png")

    return Handler


def serve(
    checkpoint: str | Path,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    device: str = "cpu",
    max_upload: int = DEFAULT_MAX_UPLOAD,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    client_timeout: float = 30.0,
) -> ModelServer:
    """A server (not yet serving: call ``serve_forever``) for the model at ``checkpoint``.

    ``client_timeout``: seconds a connection may stay silent before it is dropped.
    """
    translator = Translator(Model(checkpoint, device), max_upload, max_pixels)
    return ModelServer((host, port), make_handler(translator, client_timeout))


def page(info: dict[str, Any]) -> str:
    """The one page: upload, drag or draw; input | output side by side; download."""
    directions = "".join(
        f'<label><input type="radio" name="direction" value="{d}"'
        f"{' checked' if d == info['direction'] else ''}> {d}</label> "
        for d in info["directions"]
    )
    return _PAGE.replace("{{model}}", html.escape(info.get("title", info["model"]))).replace(
        "{{directions}}", directions if len(info["directions"]) > 1 else ""
    )


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>i2i: {{model}}</title>
<style>
body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}
h1{font-size:1.3em} .row{display:flex;gap:1.5em;flex-wrap:wrap;align-items:flex-start}
figure{margin:0} figcaption{font-size:.9em;color:#555}
#drop{border:2px dashed #999;padding:1em;min-width:16em;text-align:center;cursor:pointer}
#drop.over{background:#eef}
img{width:min(40vw,320px);border:1px solid #ccc} canvas{border:1px solid #ccc}
#error{color:#b00} .controls{margin:.8em 0;display:flex;gap:1em;flex-wrap:wrap}
</style></head><body>
<h1>i2i: {{model}}</h1>
<div class="controls">
<div id="drop">Drop an image here, or <input type="file" id="file" accept="image/*"></div>
<div>{{directions}}</div>
<label>mode <select id="mode"><option value="paper">paper</option>
<option value="eval">eval</option></select></label>
<button id="draw-toggle" type="button">draw instead</button>
</div>
<div id="drawing" hidden>
<canvas id="canvas" width="256" height="256"></canvas><br>
<button id="clear" type="button">clear</button>
<button id="draw-go" type="button">translate the drawing</button>
</div>
<p id="error" role="alert"></p>
<div class="row">
<figure><img id="input" alt="input" hidden><figcaption>input</figcaption></figure>
<figure><img id="output" alt="output" hidden><figcaption>output
<a id="download" download="translated.png" hidden>download</a></figcaption></figure>
</div>
<script>
const $ = (id) => document.getElementById(id);
let name = "translated.png";
async function translate(blob, label) {
  $("error").textContent = "";
  $("input").src = URL.createObjectURL(blob); $("input").hidden = false;
  const picked = document.querySelector('input[name="direction"]:checked');
  const query = new URLSearchParams({mode: $("mode").value});
  if (picked) query.set("direction", picked.value);
  const response = await fetch("/translate?" + query, {method: "POST", body: blob});
  if (!response.ok) {
    const problem = await response.json().catch(() => ({error: response.statusText}));
    $("error").textContent = problem.error; return;
  }
  const url = URL.createObjectURL(await response.blob());
  name = label.replace(/\\.[^.]*$/, "") + "_translated.png";
  $("output").src = url; $("output").hidden = false;
  $("download").href = url; $("download").download = name;
  $("download").hidden = false;
}
$("file").addEventListener("change", (e) => {
  const file = e.target.files[0]; if (file) translate(file, file.name);
});
const drop = $("drop");
drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (e) => {
  e.preventDefault(); drop.classList.remove("over");
  const file = e.dataTransfer.files[0]; if (file) translate(file, file.name);
});
const canvas = $("canvas"), pen = canvas.getContext("2d");
function blank() { pen.fillStyle = "white"; pen.fillRect(0, 0, canvas.width, canvas.height); }
blank(); pen.lineWidth = 3; pen.lineCap = "round"; pen.strokeStyle = "black";
let down = false;
canvas.addEventListener("pointerdown", (e) => { down = true; pen.beginPath();
  pen.moveTo(e.offsetX, e.offsetY); });
canvas.addEventListener("pointermove", (e) => { if (down) { pen.lineTo(e.offsetX, e.offsetY);
  pen.stroke(); } });
window.addEventListener("pointerup", () => { down = false; });
$("clear").addEventListener("click", blank);
$("draw-toggle").addEventListener("click", () => { $("drawing").hidden = !$("drawing").hidden; });
$("draw-go").addEventListener("click", () => canvas.toBlob((b) => translate(b, "drawing.png")));
</script></body></html>
"""
