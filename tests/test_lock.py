"""One process per folder: a held lock refuses a second process; a dead one's is taken over."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap

import pytest

from i2i.lock import LOCK_NAME, FolderBusy, lock_folder, release_folder

pytestmark = pytest.mark.fault

HOLDER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from i2i.lock import lock_folder
    lock_folder(Path(sys.argv[1]), "run.dir")
    print("held", flush=True)
    time.sleep(120)
    """
)


def _hold(folder) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(folder)], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout.readline().strip() == "held"
    return process


def test_a_live_holder_is_named_and_a_dead_ones_lock_is_taken_over(tmp_path):
    folder = tmp_path / "run"
    holder = _hold(folder)
    try:
        with pytest.raises(FolderBusy, match=rf"run.dir '.*run' is in use by process {holder.pid}"):
            lock_folder(folder, "run.dir")
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
    assert (folder / LOCK_NAME).is_file()  # left behind by the killed process
    lock = lock_folder(folder, "run.dir")
    assert lock_folder(folder) is lock  # this process already holds it
    release_folder(folder)
    second = _hold(folder)  # released: another process may take it
    second.kill()
    second.wait(timeout=30)
