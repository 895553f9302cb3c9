"""The launcher options ``i2i run`` and ``i2i study`` share: where runs execute."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])

POSITIVE = click.IntRange(min=1)


def _key_value(_ctx: click.Context, _param: click.Parameter, values: tuple[str, ...]) -> dict:
    pairs = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{item!r} is not KEY=VALUE (e.g. --slurm exclude=node7)")
        pairs[key] = value
    return pairs


SLURM_OPTIONS = [
    click.option(
        "--launcher",
        type=click.Choice(["local", "slurm"]),
        default="local",
        show_default=True,
        help="Where runs execute: this machine, or SLURM jobs (a job array for a study) "
        "submitted through submitit; needs pip install 'i2i[slurm]'.",
    ),
    click.option("--partition", default=None, help="SLURM partition.  [slurm]"),
    click.option(
        "--time",
        "time_limit",
        default="24:00:00",
        show_default=True,
        help="Time limit per job (minutes, HH:MM:SS or D-HH:MM:SS); a run that reaches it "
        "saves a checkpoint and is requeued.  [slurm]",
    ),
    click.option(
        "--gpus-per-run",
        type=click.IntRange(min=0),
        default=0,
        show_default=True,
        help="GPUs per node for each run; more than one trains with DDP.  [slurm]",
    ),
    click.option(
        "--cpus-per-run",
        type=POSITIVE,
        default=None,
        help="CPUs per node for each run.  [slurm]  [default: one per process]",
    ),
    click.option(
        "--processes-per-run",
        type=POSITIVE,
        default=None,
        help="Training processes per node (DDP under torchrun; gloo on CPUs).  "
        "[slurm]  [default: one per GPU, else 1]",
    ),
    click.option(
        "--nodes-per-run",
        type=POSITIVE,
        default=1,
        show_default=True,
        help="Nodes for each run (multi-node DDP).  [slurm]",
    ),
    click.option("--mem", default=None, help="Memory per node, e.g. 32G.  [slurm]"),
    click.option("--account", default=None, help="SLURM account to charge.  [slurm]"),
    click.option("--qos", default=None, help="SLURM quality of service.  [slurm]"),
    click.option("--constraint", default=None, help="SLURM node features, e.g. a100.  [slurm]"),
    click.option(
        "--max-running",
        type=POSITIVE,
        default=None,
        help="Array tasks running at once (a study).  [slurm]  [default: all]",
    ),
    click.option(
        "--slurm",
        "slurm_extra",
        multiple=True,
        callback=_key_value,
        metavar="KEY=VALUE",
        help="Any other submitit/sbatch parameter, repeatable (--slurm exclude=node7).  [slurm]",
    ),
]


def launcher_options(command: F) -> F:
    """Add ``--launcher`` and the SLURM options; the command receives ``slurm`` (or None)."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        launcher = kwargs.pop("launcher")
        values = {
            key: kwargs.pop(key)
            for key in (
                "partition",
                "time_limit",
                "gpus_per_run",
                "cpus_per_run",
                "processes_per_run",
                "nodes_per_run",
                "mem",
                "account",
                "qos",
                "constraint",
                "max_running",
                "slurm_extra",
            )
        }
        if launcher == "slurm":
            from i2i.launch.slurm import SlurmOptions

            values["time"] = values.pop("time_limit")
            values["extra"] = values.pop("slurm_extra")
            kwargs["slurm"] = SlurmOptions(**values)
        else:
            kwargs["slurm"] = None
        return command(*args, **kwargs)

    for option in reversed(SLURM_OPTIONS):
        wrapper = option(wrapper)
    return wrapper  # type: ignore[return-value]
