"""Downloading the official pix2pix datasets: resumable, size-checked, safely extracted."""

from __future__ import annotations

import hashlib
import http.client
import os
import tarfile
import urllib.error
import urllib.request
from pathlib import Path, PurePosixPath

from tqdm import tqdm

from i2i.errors import DataError, quoted

DATASETS = ("cityscapes", "edges2handbags", "edges2shoes", "facades", "maps", "night2day")
BASE_URL = "http://efrosgans.eecs.berkeley.edu/pix2pix/datasets"
CHUNK = 1 << 20


def dataset_url(name: str) -> str:
    """Where ``name`` is published (``$I2I_DATASETS_URL`` replaces the authors' server)."""
    if name not in DATASETS:
        raise DataError(f"unknown dataset '{name}'; the pix2pix datasets are {', '.join(DATASETS)}")
    return f"{os.environ.get('I2I_DATASETS_URL', BASE_URL).rstrip('/')}/{name}.tar.gz"


def fetch(url: str, target: Path, progress: bool = True) -> Path:
    """Download ``url`` to ``target``, continuing a ``.part`` file left by an interrupted try."""
    partial = target.with_name(target.name + ".part")
    have = partial.stat().st_size if partial.exists() else 0
    request = urllib.request.Request(url, headers={"Range": f"bytes={have}-"} if have else {})
    try:
        response = urllib.request.urlopen(request, timeout=60)
    except urllib.error.HTTPError as error:
        if error.code == 416 and have:  # the partial file is already whole
            partial.replace(target)
            return target
        raise DataError(f"cannot download {url}: HTTP {error.code} {error.reason}") from None
    except (urllib.error.URLError, OSError) as error:
        raise DataError(f"cannot download {url}: {getattr(error, 'reason', error)}") from None
    with response:
        if have and response.status != 206:
            have = 0  # the server ignored the range: start again
        length = response.headers.get("Content-Length")
        total = have + int(length) if length is not None else None
        with (
            partial.open("ab" if have else "wb") as stream,
            tqdm(
                total=total,
                initial=have,
                unit="B",
                unit_scale=True,
                disable=not progress,
                desc=target.name,
            ) as bar,
        ):
            try:
                while chunk := response.read(CHUNK):
                    stream.write(chunk)
                    bar.update(len(chunk))
            except (http.client.IncompleteRead, ConnectionError, TimeoutError):
                pass  # what arrived is kept; the size check below reports the shortfall
    if total is not None and partial.stat().st_size != total:
        raise DataError(
            f"download of {url} stopped at {partial.stat().st_size} of {total} bytes; "
            "run the command again to continue it"
        )
    partial.replace(target)
    return target


def check_sha256(path: Path, expected: str) -> None:
    """Fail (and remove the file) when its SHA-256 is not ``expected``."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
    if digest.hexdigest() != expected.lower():
        path.unlink()
        raise DataError(
            f"{quoted(path)} has SHA-256 {digest.hexdigest()}, expected {expected}; "
            "it was deleted: download it again"
        )


def safe_extract(archive: Path, target: Path) -> list[str]:
    """Extract a tar archive into ``target``, refusing any member that would land outside it."""
    target.mkdir(parents=True, exist_ok=True)
    root = target.resolve()
    try:
        with tarfile.open(archive) as tar:
            members = tar.getmembers()
            for member in members:
                name = PurePosixPath(member.name)
                escapes = name.is_absolute() or ".." in name.parts
                escapes = escapes or not (root / name).resolve().is_relative_to(root)
                if escapes or not (member.isfile() or member.isdir()):
                    kind = "escapes the target" if escapes else "is a link or special file"
                    raise DataError(
                        f"'{archive}' is unsafe: member '{member.name}' {kind}; nothing extracted"
                    )
            tar.extractall(root, members=members, filter="data")
    except tarfile.TarError as error:
        raise DataError(f"'{archive}' is not a readable tar archive ({error})") from None
    return [m.name for m in members]


def download_dataset(
    name: str, folder: Path, sha256: str | None = None, progress: bool = True
) -> Path:
    """Fetch, check and extract dataset ``name`` into ``folder/name``; returns that folder."""
    folder.mkdir(parents=True, exist_ok=True)
    archive = fetch(dataset_url(name), folder / f"{name}.tar.gz", progress)
    if sha256:
        check_sha256(archive, sha256)
    safe_extract(archive, folder)
    archive.unlink()
    if not (folder / name).is_dir():
        raise DataError(f"'{name}.tar.gz' did not contain a '{name}/' folder")
    return folder / name
