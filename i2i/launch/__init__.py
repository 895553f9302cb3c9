"""Launchers: where runs execute, here or on a cluster, behind one small interface.

A :class:`~i2i.launch.base.Task` is one run's work as a sequence of child ``i2i`` processes
(train, then score), idempotent so that it can be run again after any interruption. A
:class:`~i2i.launch.base.Launcher` starts tasks: :class:`~i2i.launch.local.LocalLauncher`
runs them here and waits; :class:`~i2i.launch.slurm.SlurmLauncher` submits them through
submitit and returns. Another engine (Ray, a cloud batch service) is one more subclass:
``launch(tasks)`` and, for a queue it can be asked about, ``queued(job_ids)``.
"""

from i2i.launch.base import Launcher, Task, TaskFailed, read_record, write_record
from i2i.launch.process import Stage

__all__ = ["Launcher", "Stage", "Task", "TaskFailed", "read_record", "write_record"]
