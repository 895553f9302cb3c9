"""Dataset download against a local HTTP server: resume, checks, and unsafe archives."""

from __future__ import annotations

import hashlib
import http.server
import io
import tarfile
import threading
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from i2i.cli import main
from i2i.data import AlignedDataset
from i2i.data.download import download_dataset, safe_extract
from i2i.errors import DataError

pytestmark = pytest.mark.fault


def _tar(members: list[tuple[tarfile.TarInfo, bytes | None]]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for info, payload in members:
            tar.addfile(info, io.BytesIO(payload) if payload is not None else None)
    return buffer.getvalue()


def _file(name: str, payload: bytes) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size = len(payload)
    return info, payload


def _maps_archive() -> bytes:
    image = io.BytesIO()
    pixels = np.random.default_rng(0).integers(0, 255, (16, 32, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(image, format="PNG")
    noise = np.random.default_rng(1).bytes(300_000)  # large enough to cut in the middle
    return _tar(
        [
            _file("maps/train/1.png", image.getvalue()),
            _file("maps/val/1.png", image.getvalue()),
            _file("maps/README", noise),
        ]
    )


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's naming)
        body = self.server.files.get(self.path)
        if body is None:
            self.send_error(404)
            return
        start = 0
        if self.headers.get("Range", "").startswith("bytes="):
            start = int(self.headers["Range"][6:].split("-")[0])
            self.server.ranges.append(start)
        if start >= len(body):
            self.send_error(416)
            return
        part = body[start:]
        self.send_response(206 if start else 200)
        self.send_header("Content-Length", str(len(part)))
        self.end_headers()
        if self.path in self.server.cut_once:
            self.server.cut_once.discard(self.path)
            part = part[: len(part) // 2]  # the connection drops mid-transfer
        self.wfile.write(part)

    def log_message(self, *args):
        pass


@pytest.fixture
def server(monkeypatch):
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.files, httpd.cut_once, httpd.ranges = {}, set(), []
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("I2I_DATASETS_URL", f"http://127.0.0.1:{httpd.server_address[1]}")
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def test_interrupted_download_resumes_and_extracts(server, tmp_path):
    server.files["/maps.tar.gz"] = _maps_archive()
    server.cut_once.add("/maps.tar.gz")
    with pytest.raises(DataError, match="stopped at .* bytes; run the command again"):
        download_dataset("maps", tmp_path, progress=False)
    assert (tmp_path / "maps.tar.gz.part").is_file()
    where = download_dataset("maps", tmp_path, progress=False)
    assert server.ranges and server.ranges[-1] > 0  # the second try asked for the rest only
    assert len(AlignedDataset(str(where), "train")) == 1
    assert not (tmp_path / "maps.tar.gz").exists() and not (tmp_path / "maps.tar.gz.part").exists()


def test_checksum_mismatch_deletes_the_download(server, tmp_path):
    archive = _maps_archive()
    server.files["/maps.tar.gz"] = archive
    with pytest.raises(DataError, match="SHA-256 .* expected 00"):
        download_dataset("maps", tmp_path, sha256="00" * 32, progress=False)
    assert not (tmp_path / "maps.tar.gz").exists() and not (tmp_path / "maps").exists()
    good = hashlib.sha256(archive).hexdigest()
    assert download_dataset("maps", tmp_path, sha256=good, progress=False).is_dir()


@pytest.mark.parametrize("member", ["../escaped.txt", "/tmp/absolute.txt", "maps/link"])
def test_unsafe_archives_are_refused_whole(tmp_path, member):
    if member == "maps/link":
        info = tarfile.TarInfo(member)
        info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
        evil = [_file("maps/ok.txt", b"fine"), (info, None)]
    else:
        evil = [_file("maps/ok.txt", b"fine"), _file(member, b"owned")]
    archive = tmp_path / "evil.tar.gz"
    archive.write_bytes(_tar(evil))
    target = tmp_path / "target"
    with pytest.raises(DataError, match=f"unsafe: member '{member}'"):
        safe_extract(archive, target)
    assert not (target / "maps").exists() and not (tmp_path / "escaped.txt").exists()


def test_cli_download_and_errors(server, tmp_path):
    server.files["/facades.tar.gz"] = _tar([_file("facades/train/1.png", b"x")])
    result = CliRunner().invoke(
        main, ["data", "download", "facades", "--dir", str(tmp_path), "--no-progress"]
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "facades" / "train" / "1.png").read_bytes() == b"x"
    missing = CliRunner().invoke(main, ["data", "download", "maps", "--dir", str(tmp_path)])
    assert missing.exit_code == 2 and "HTTP 404" in missing.output
    unknown = CliRunner().invoke(main, ["data", "download", "mapz", "--dir", str(tmp_path)])
    assert unknown.exit_code == 2 and "unknown dataset 'mapz'" in unknown.output


def test_run_offers_to_download_a_missing_official_dataset(server, tmp_path, monkeypatch):
    import i2i.cli.train

    server.files["/maps.tar.gz"] = _maps_archive()
    recipe = Path(__file__).parents[2] / "recipes" / "pix2pix_maps.yaml"
    small = ["model.generator.depth=5", "model.generator.ngf=8", "model.discriminator.ndf=8"]
    small += ["data.load_size=36", "data.crop_size=32", "data.num_workers=0"]
    small += ["train.max_steps=1", "train.device=cpu", "log.progress=false"]
    command = ["run", str(recipe), f"data.root={tmp_path / 'datasets' / 'maps'}", *small]
    monkeypatch.setattr(i2i.cli.train, "interactive", lambda: True)
    declined = CliRunner().invoke(main, [*command, f"run.dir={tmp_path / 'no'}"], input="n\n")
    assert declined.exit_code == 2 and "i2i data download maps --dir" in declined.output
    assert not (tmp_path / "datasets").exists()
    accepted = CliRunner().invoke(main, [*command, f"run.dir={tmp_path / 'yes'}"], input="y\n")
    assert accepted.exit_code == 0, accepted.output
    assert "Download maps into" in accepted.output
    assert (tmp_path / "datasets" / "maps" / "train" / "1.png").is_file()
    assert (tmp_path / "yes" / "checkpoints").is_dir()
    monkeypatch.setattr(i2i.cli.train, "interactive", lambda: False)  # scripts are not asked
    quiet = CliRunner().invoke(main, [*command[:2], f"data.root={tmp_path / 'elsewhere/maps'}"])
    assert quiet.exit_code == 2 and "Download" not in quiet.output
