"""The command group, error reporting and helpers shared by every command."""

from __future__ import annotations

import functools
import sys
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

import click

from i2i import __version__
from i2i.errors import I2IError, RunInterrupted
from i2i.runtime import tune_malloc

F = TypeVar("F", bound=Callable[..., Any])


def _one_line(error: BaseException) -> str:
    lines = [line for line in str(error).strip().splitlines() if line.strip()]
    if not lines:
        return type(error).__name__
    if lines[-1].startswith("i2i.errors."):
        # Raised in a loader worker: torch re-raises it with the worker's traceback as message.
        return lines[-1].split(": ", 1)[-1]
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

    return wrapper  # type: ignore[return-value]


def warn_plugin_problems() -> None:
    """Print each plugin that failed to load, as a warning line."""
    from i2i.plugins import default_plugins

    for problem in default_plugins().problems:
        click.echo(f"i2i: warning: {problem} (skipped)", err=True)


def _one_line_warning(
    message: Warning | str, category: type[Warning], *_args: Any, **_kw: Any
) -> str:
    return f"i2i: warning: {message}\n"


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="i2i")
def main() -> None:
    """i2i: paired image-to-image translation (pix2pix and friends), built from plugins.

    \b
    Quick start (no download needed):
      i2i run recipes/quickstart.yaml
    """
    warnings.formatwarning = _one_line_warning  # warnings print as one "i2i: warning:" line
    tune_malloc()
