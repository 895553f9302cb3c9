"""The study commands: variants trained, scored and tabulated alike; their status; collection.

``i2i study STUDY ...`` starts (or continues) a study; ``i2i study status DIR`` and
``i2i study collect DIR`` read its folder, from any machine that sees it.
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from i2i.cli.base import main, reports_errors
from i2i.cli.launch import launcher_options
from i2i.errors import RecipeError, quoted

if TYPE_CHECKING:
    from i2i.launch.slurm import SlurmOptions
    from i2i.study.schema import Plan

INVOCATION = "invocation.json"


class DefaultCommandGroup(click.Group):
    """A group whose first argument, unless it names a subcommand, goes to ``start``."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """Put ``start`` in front of a study file (or an option other than --help)."""
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = ["start", *args]
        return super().parse_args(ctx, args)


@main.group(cls=DefaultCommandGroup)
def study() -> None:
    """The paper's ablations: variants of one recipe trained, scored and tabulated alike.

    `i2i study STUDY [key=value ...]` is `i2i study start`: it trains here, or submits to
    SLURM with --launcher slurm. `i2i study status DIR` shows each run's state;
    `i2i study collect DIR` writes the tables and figures once every run is done.
    """


@study.command(context_settings={"ignore_unknown_options": True})
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
    help="Variants trained at once, in separate processes sharing the CPU's threads (local).",
)
@click.option(
    "--seeds",
    type=click.IntRange(min=1),
    default=None,
    help="Runs per variant (seeds recipe.seed, +1, ...); tables show mean ± spread.  "
    "[default: the study's seeds]",
)
@click.option(
    "--wait/--no-wait",
    default=False,
    help="With --launcher slurm: watch the jobs until every run has ended, then collect.  "
    "[default: return once submitted]",
)
@launcher_options
@reports_errors
def start(
    study_file: str,
    overrides: tuple[str, ...],
    out: str | None,
    jobs: int,
    seeds: int | None,
    wait: bool,
    slurm: SlurmOptions | None,
) -> None:
    """Train every variant of STUDY with the same seeds, data and budget; score and tabulate.

    OVERRIDES (key=value) apply to every variant's recipe; `study.KEY=value` sets a key of
    the study file. Running the same command again continues an interrupted study: finished
    variants are kept untouched, an interrupted one resumes exactly from its checkpoint;
    on SLURM, runs still queued are not submitted again and the rest are.
    The study folder gets results.md, results.json, figure.png and metrics.png.

    \b
    Examples:
      i2i study recipes/studies/objective.yaml data.root=datasets/maps
      i2i study recipes/studies/patch.yaml --jobs 2 --seeds 2
      i2i study recipes/studies/generator.yaml train.max_steps=500 -o studies/quick
      i2i study recipes/studies/objective.yaml --launcher slurm --gpus-per-run 1 --time 8:00:00
    """
    from i2i.launch.local import LocalLauncher
    from i2i.plugins import default_registry
    from i2i.study.runner import claim_folder, run_study
    from i2i.study.schema import load_study
    from i2i.study.scoring import prepare_palette

    registry = default_registry()
    extra = [f"study.seeds={seeds}"] if seeds is not None else []
    plan = load_study(study_file, [*overrides, *extra], registry)
    folder = Path(out or Path("studies") / plan.name)

    def echo(message: str) -> None:
        click.echo(f"i2i: study {plan.name}: {message}", err=True)

    launcher: Any = LocalLauncher(jobs, echo)
    if slurm is not None:
        from i2i.launch.slurm import SlurmLauncher

        folder = folder.absolute()  # the jobs may start in another working directory
        options = replace(slurm, job_name=f"i2i-{plan.name}")
        launcher = SlurmLauncher(options, folder / "slurm")
    fresh = claim_folder(folder, plan)
    _save_invocation(folder, study_file, [*overrides, *extra])
    runs, variants = len(plan.runs), len(plan.study.variants)
    echo(
        f"{'starting' if fresh else 'continuing'} {variants} variant(s) × {plan.study.seeds} "
        f"seed(s) = {runs} run(s) in {folder}"
    )
    palette = prepare_palette(plan, folder, registry)
    summaries = run_study(plan, folder, launcher=launcher, palette=palette, echo=echo)
    if summaries is None and wait:
        summaries = _watch(plan, folder, launcher, echo)
    if summaries is None:
        echo(f"watch it with: i2i study status {quoted(folder)}")
        echo(f"when every run is done: i2i study collect {quoted(folder)} (or this command again)")
        return
    _report(plan, folder, summaries, echo)


def _save_invocation(folder: Path, study_file: str, overrides: list[str]) -> None:
    """What ``collect`` needs to rebuild the plan: the study file and the overrides."""
    from i2i.files import write_text_atomic

    record = {"study": str(Path(study_file).absolute()), "overrides": overrides}
    write_text_atomic(folder / INVOCATION, json.dumps(record, indent=2) + "\n")


def _watch(plan: Plan, folder: Path, launcher: Any, echo: Any) -> list | None:
    """Poll the folder and the queue until every run is done or failed; print each change."""
    from i2i.study.runner import finished_runs
    from i2i.study.status import study_status

    seen: dict[str, str] = {}
    while True:
        statuses = study_status(folder, launcher.queued)
        for status in statuses:
            key = f"{status.variant} seed {status.seed}"
            if seen.get(key) != status.state:
                seen[key] = status.state
                echo(status.line())
        if all(s.state == "done" for s in statuses):
            finished = finished_runs(plan, folder)
            return [(v, finished[i]["summary"]) for i, v in enumerate(plan.runs)]
        if all(s.state in ("done", "failed", "stopped", "preempted") for s in statuses):
            from i2i.study.runner import StudyFailed

            ended = [s for s in statuses if s.state != "done"]
            raise StudyFailed(
                f"{len(ended)} run(s) ended without finishing ({ended[0].line()}); fix what "
                "failed and run the same command: it resubmits only those"
            )
        time.sleep(5)


def _report(plan: Plan, folder: Path, summaries: list, echo: Any) -> None:
    from i2i.study.report import write_results
    from i2i.study.tracking import send_results

    results = write_results(plan, folder, summaries)
    table = (folder / "results.md").read_text().split("\n\n")[2] if results else ""
    click.echo(table)
    sent = send_results(plan, folder, results)
    if sent:
        echo(f"results sent to {', '.join(sent)}")
    echo(f"done: {folder / 'results.md'}, {folder / 'figure.png'}, {folder / 'metrics.png'}")


def _queue_of(folder: Path) -> Any:
    """squeue, when any run of the folder went to SLURM and SLURM is reachable from here."""
    from i2i.launch import read_record

    if not any(
        read_record(p.parent).get("launcher") == "slurm" for p in folder.rglob("launch.json")
    ):
        return None
    from i2i.launch.slurm import SlurmLauncher, SlurmOptions, SlurmUnavailable

    try:
        return SlurmLauncher(SlurmOptions(), folder / "slurm").queued
    except SlurmUnavailable as error:
        click.echo(f"i2i: warning: {error}; states are the folder's last word", err=True)
        return None


@study.command()
@click.argument("folder", metavar="DIR", type=click.Path(file_okay=False))
@reports_errors
def status(folder: str) -> None:
    """One line per run of the study in DIR: state, job, step / total, latest metric, error.

    States: done, running, pending, requeued (preempted or at its time limit, back in the
    queue), preempted (stopped with a checkpoint; resubmitted by the next `i2i study`),
    failed (its error line and log), stopped, trained (not yet scored), interrupted,
    not started.
    """
    from i2i.study.status import study_status

    path = Path(folder)
    statuses = study_status(path, _queue_of(path))
    for run in statuses:
        click.echo(run.line())
    counts: dict[str, int] = {}
    for run in statuses:
        counts[run.state] = counts.get(run.state, 0) + 1
    summary = ", ".join(f"{n} {state}" for state, n in counts.items())
    click.echo(f"i2i: study {path.name}: {len(statuses)} run(s): {summary}", err=True)


@study.command()
@click.argument("folder", metavar="DIR", type=click.Path(file_okay=False))
@reports_errors
def collect(folder: str) -> None:
    """Write results.md/json, figure.png and metrics.png of the study in DIR once all is done."""
    from i2i.plugins import default_registry
    from i2i.study.runner import finished_runs
    from i2i.study.schema import load_study
    from i2i.study.status import study_status

    path = Path(folder)
    try:
        invocation = json.loads((path / INVOCATION).read_text())
    except (OSError, ValueError):
        raise RecipeError(
            f"{quoted(path)} has no readable {INVOCATION}; continue the study with "
            "`i2i study STUDY -o DIR` instead"
        ) from None
    plan = load_study(invocation["study"], invocation["overrides"], default_registry())
    unfinished = [s for s in study_status(path, _queue_of(path)) if s.state != "done"]
    if unfinished:
        first = unfinished[0]
        raise RecipeError(
            f"{len(unfinished)} run(s) of {quoted(path)} are not done ({first.variant} seed "
            f"{first.seed}: {first.state}); see i2i study status {quoted(path)}"
        )
    finished = finished_runs(plan, path)
    summaries = [(v, finished[i]["summary"]) for i, v in enumerate(plan.runs)]

    def echo(message: str) -> None:
        click.echo(f"i2i: study {plan.name}: {message}", err=True)

    _report(plan, path, summaries, echo)
