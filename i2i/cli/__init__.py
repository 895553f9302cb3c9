"""The ``i2i`` command line: thin commands that parse, call the library and report.

One module per group of commands; each registers its commands on :data:`main`.
"""

from i2i.cli import (  # noqa: F401  (registers the commands)
    data,
    evaluate,
    export,
    hub,
    info,
    serve,
    study,
    train,
    use,
)
from i2i.cli.base import main, reports_errors

__all__ = ["main", "reports_errors"]
