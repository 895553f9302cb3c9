"""The study command: a base recipe's variants trained, scored and tabulated alike."""

from __future__ import annotations

from pathlib import Path

import click

from i2i.cli.base import main, reports_errors


@main.command(context_settings={"ignore_unknown_options": True})
@click.argument("study_file", metavar="STUDY", type=click.Path(dir_okay=False))
@click.argument("overrides", nargs=-1)
@click.option(
    "--out",
    "-o",
    type=click.Path(file_okay=False),
    default=None,
    help="Study folder.  [default: studies/<study name>]",
)
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Variants trained at once, in separate processes sharing the CPU's threads.",
)
@click.option(
    "--seeds",
    type=click.IntRange(min=1),
    default=None,
    help="Runs per variant (seeds recipe.seed, +1, ...); tables show mean ± spread.  "
    "[default: the study's seeds]",
)
@reports_errors
def study(
    study_file: str, overrides: tuple[str, ...], out: str | None, jobs: int, seeds: int | None
) -> None:
    """Train every variant of STUDY with the same seeds, data and budget; score and tabulate.

    OVERRIDES (key=value) apply to every variant's recipe; `study.KEY=value` sets a key of
    the study file. Running the same command again continues an interrupted study: finished
    variants are kept untouched, an interrupted one resumes exactly from its checkpoint.
    The study folder gets results.md, results.json, figure.png and metrics.png.

    \b
    Examples:
      i2i study recipes/studies/objective.yaml data.root=datasets/maps
      i2i study recipes/studies/patch.yaml --jobs 2 --seeds 2
      i2i study recipes/studies/generator.yaml train.max_steps=500 -o studies/quick
    """
    from i2i.plugins import default_registry
    from i2i.study.report import write_results
    from i2i.study.runner import claim_folder, run_study
    from i2i.study.schema import load_study
    from i2i.study.scoring import eval_command, prepare_palette

    registry = default_registry()
    extra = [f"study.seeds={seeds}"] if seeds is not None else []
    plan = load_study(study_file, [*overrides, *extra], registry)
    folder = Path(out or Path("studies") / plan.name)

    def echo(message: str) -> None:
        click.echo(f"i2i: study {plan.name}: {message}", err=True)

    fresh = claim_folder(folder, plan)
    runs, variants = len(plan.runs), len(plan.study.variants)
    echo(
        f"{'starting' if fresh else 'continuing'} {variants} variant(s) × {plan.study.seeds} "
        f"seed(s) = {runs} run(s) in {folder}"
    )
    palette = prepare_palette(plan, folder, registry)
    summaries = run_study(
        plan,
        folder,
        jobs=jobs,
        eval_arguments=lambda variant, run_dir: eval_command(plan, variant, run_dir, palette),
        echo=echo,
    )
    results = write_results(plan, folder, summaries)
    table = (folder / "results.md").read_text().split("\n\n")[2] if results else ""
    click.echo(table)
    echo(f"done: {folder / 'results.md'}, {folder / 'figure.png'}, {folder / 'metrics.png'}")
