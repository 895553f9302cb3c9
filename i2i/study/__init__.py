"""Studies: one base recipe, named variants of it, every variant trained and scored alike.

A study file (``recipes/studies/*.yaml``, schema :class:`~i2i.study.schema.Study`) names a
base recipe, the overrides every variant shares (the budget) and each variant's own
``key=value`` overrides, exactly as ``i2i run`` takes them. ``i2i study`` trains each variant
with the same seeds into its own run directory, evaluates every one on the same held-out
images (:mod:`i2i.evaluation`), and writes ``results.md``, ``results.json``, ``figure.png``
and ``metrics.png`` (:mod:`i2i.study.results`, :mod:`i2i.study.figures`).

Nothing here knows a model or a method: any recipe can be studied.
"""

from i2i.study.runner import run_study
from i2i.study.schema import Study, load_study

__all__ = ["Study", "load_study", "run_study"]
