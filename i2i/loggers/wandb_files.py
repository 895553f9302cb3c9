"""Reading what wandb wrote offline: the records of a ``run-ID.wandb`` file.

A killed process loses what wandb had not yet flushed to this file (it flushes every 15 s),
so a resumed run reads which steps the file holds and sends the rest again. The file is
wandb's own format: a 7-byte header, then a LevelDB-style log of 32 KiB blocks, each record
a 7-byte header (CRC, length, type) and a piece of a protobuf ``Record``.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

BLOCK = 32768
FULL, FIRST, MIDDLE, LAST = 1, 2, 3, 4


def records(path: Path) -> Iterator[Any]:
    """Every protobuf record of the file, in order."""
    from wandb.proto import wandb_internal_pb2

    data = path.read_bytes()
    if data[:4] != b":W&B":
        raise ValueError(f"{path} is not a wandb run file")
    position, pending = 7, b""
    while position + 7 <= len(data):
        if BLOCK - position % BLOCK < 7:  # too little room for a header: the block's padding
            position += BLOCK - position % BLOCK
            continue
        length, kind = struct.unpack("<HB", data[position + 4 : position + 7])
        if position + 7 + length > len(data):
            return  # a record cut short by the kill
        pending += data[position + 7 : position + 7 + length]
        position += 7 + length
        if kind in (FULL, LAST):
            record = wandb_internal_pb2.Record()
            record.ParseFromString(pending)
            pending = b""
            yield record


def _key(item: Any) -> str:
    # wandb writes a name as ``key``, or (newer versions) as the parts of ``nested_key``
    return item.key or "/".join(item.nested_key)


def _items(items: Any) -> dict[str, Any]:
    return {_key(item): json.loads(item.value_json) for item in items}


def offline_run(folder: Path) -> dict[str, Any]:
    """The run record, config, history rows and summary of one offline-run folder."""
    (path,) = folder.glob("run-*.wandb")
    found: dict[str, Any] = {"config": {}, "history": [], "summary": {}, "run": None}
    for record in records(path):
        kind = record.WhichOneof("record_type")
        if kind == "run":
            found["run"] = record.run
            found["config"].update(_items(record.run.config.update))
        elif kind == "config":
            found["config"].update(_items(record.config.update))
        elif kind == "history":
            found["history"].append(_items(record.history.item))
        elif kind == "summary":
            found["summary"].update(_items(record.summary.update))
    return found


def last_step(folder: Path, run_id: str) -> int:
    """The highest history step the offline files of ``run_id`` under ``folder`` hold; -1."""
    steps = [-1]
    for path in folder.glob(f"offline-run-*-{run_id}*/run-{run_id}.wandb"):
        for record in records(path):
            if record.WhichOneof("record_type") == "history":
                items = record.history.item
                steps += [json.loads(i.value_json) for i in items if _key(i) == "_step"]
    return max(steps)
