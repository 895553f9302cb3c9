"""The command group, error reporting and helpers shared by every command."""

from __future__ import annotations

import functools
import math
import sys
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

import click

from i2i import __version__
from i2i.errors import I2IError, RunInterrupted, quoted
from i2i.runtime import tune_malloc

F = TypeVar("F", bound=Callable[..., Any])


WORKER_SIGNATURE = "in DataLoader worker process"
"""What torch puts in the message of an exception it re-raises from a loader worker."""


def _one_line(error: BaseException) -> str:
    lines = [line for line in str(error).strip().splitlines() if line.strip()]
    if not lines:
        return type(error).__name__
    if lines[-1].startswith("i2i.errors.") or WORKER_SIGNATURE in lines[0]:
        # Raised in a loader worker: torch re-raises it with the worker's traceback as message.
        return lines[-1].split(": ", 1)[-1] if lines[-1].startswith("i2i.") else lines[-1]
    return lines[0]


def reports_errors(command: F) -> F:
    """Report an :class:`I2IError` (even one from a loader worker) on one line; exit status 2."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except RunInterrupted as error:
            click.echo(f"i2i: {error}", err=True)
            sys.exit(130)
        except I2IError as error:
            click.echo(f"i2i: error: {_one_line(error)}", err=True)
            sys.exit(2)
        except KeyboardInterrupt:
            click.echo("i2i: interrupted", err=True)
            sys.exit(130)
        except Exception as error:
            if WORKER_SIGNATURE not in str(error):
                raise  # a bug: its traceback is what a report needs
            # An error a loader worker raised that torch could not re-raise as its own type
            # (an i2i error with more than a message, or a dataset plugin's own exception).
            click.echo(f"i2i: error: {_one_line(error)}", err=True)
            sys.exit(2)
        except OSError as error:  # the disk or the system refused: still one line, no traceback
            where = f" {quoted(error.filename)}" if error.filename else ""
            click.echo(f"i2i: error: {error.strerror or error}{where}", err=True)
            sys.exit(2)

    return wrapper  # type: ignore[return-value]


def warn_plugin_problems() -> None:
    """Print each plugin that failed to load, each name clash and each note, a line each."""
    from i2i.plugins import default_plugins

    plugins = default_plugins()
    for problem in plugins.problems:
        click.echo(f"i2i: warning: {problem} (skipped)", err=True)
    for clash in plugins.registry.clashes:
        click.echo(f"i2i: warning: {clash}", err=True)
    for note in plugins.notes:
        click.echo(f"i2i: note: {note}", err=True)


def _one_line_warning(
    message: Warning | str, category: type[Warning], *_args: Any, **_kw: Any
) -> str:
    return f"i2i: warning: {message}\n"


class OneLineErrors(click.Group):
    """A command group whose usage errors (bad option values, typos) print on one line."""

    def main(self, *args: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:
        """Run the command line; a usage error becomes one ``i2i: error:`` line, exit 2."""
        if not standalone_mode:
            return super().main(*args, standalone_mode=False, **kwargs)
        try:
            result = super().main(*args, standalone_mode=False, **kwargs)
        except click.ClickException as error:
            where = getattr(error, "ctx", None)
            command = " ".join(["i2i", *where.command_path.split()[1:]]) if where else "i2i"
            hint = f" (see {command} --help)"
            message = _one_line(Exception(error.format_message())).rstrip(".")
            click.echo(f"i2i: error: {message[:1].lower()}{message[1:]}{hint}", err=True)
            sys.exit(error.exit_code)
        except click.exceptions.Abort:
            click.echo("i2i: interrupted", err=True)
            sys.exit(130)
        sys.exit(result if isinstance(result, int) else 0)


class DeviceType(click.ParamType):
    """A torch device that exists on this machine: cpu, cuda, cuda:1, mps."""

    name = "device"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        """Check ``value`` names a device that exists here; keep it as a string."""
        from i2i.devices import available_device
        from i2i.errors import DeviceError

        try:
            return available_device(value)
        except DeviceError as error:
            self.fail(str(error), param, ctx)


class PositiveFloat(click.ParamType):
    """A finite number above zero (``inf`` and ``nan`` are refused like any other bad value)."""

    name = "number"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        """``value`` as a float, if it is finite and positive."""
        try:
            number = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number", param, ctx)
        if not math.isfinite(number) or number <= 0:
            self.fail(f"{value!r} must be a finite number above 0", param, ctx)
        return number


DEVICE = DeviceType()
POSITIVE = click.IntRange(min=1)
POSITIVE_FLOAT = PositiveFloat()


@click.group(cls=OneLineErrors, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="i2i")
def main() -> None:
    """i2i: paired image-to-image translation (pix2pix and friends), built from plugins.

    \b
    Quick start (no download needed):
      i2i run recipes/quickstart.yaml
    """
    warnings.formatwarning = _one_line_warning  # warnings print as one "i2i: warning:" line
    tune_malloc()
