"""`rsa-code sweep`: a grid of N and K (and baselines) in one folder (solver/sweep.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from problems import ProblemFilter, UsageError
from prompts import Templates
from runners import RunnerConfig
from runners.ray_pool import RayConfig
from solver.app import app
from solver.commands.eval import DataOption
from solver.evaluate import GradedRound
from solver.grading import SandboxConfig
from solver.options import filter_options, grid_generation_options, ray_options, sandbox_options
from solver.paths import check_out_dir
from solver.progress import interruptible, round_line
from solver.rsa import AGGREGATING, RoundStats
from solver.sweep import BASELINES, TABLE, Member, SweepEvents, SweepJob, prepare_sweep, run_sweep

err = Console(stderr=True, highlight=False, markup=False)

BaselinesOption = Annotated[
    list[str] | None,
    typer.Option(
        "--baselines",
        help=f"Methods to run at each N beside RSA, comma-separated or repeated: {', '.join(BASELINES)}. "
        "They share round 0 with RSA (sample, majority and self-verify share every round; docs/sweep.md).",
        show_default=False,
        rich_help_panel="Sweep",
    ),
]


def baseline_list(values: list[str] | None) -> tuple[str, ...]:
    if values is None:
        return ()
    names = [name.strip() for value in values for name in value.split(",")]
    if not any(names):
        raise UsageError(f"--baselines: expected some of {', '.join(BASELINES)}, got none")
    return tuple(dict.fromkeys(name for name in names if name))


@app.command("sweep")
@filter_options
@grid_generation_options("n", "k")
@sandbox_options(semantics="lcb")
@ray_options()
def sweep_command(
    data: DataOption,
    out: Annotated[Path, typer.Option("--out", help="The sweep's folder: a run directory per config; the same command resumes it.")],
    baselines: BaselinesOption = None,
    *,
    filters: ProblemFilter,
    generation: dict,
    runner: RunnerConfig,
    templates: Templates,
    sandbox: SandboxConfig,
    ray: RayConfig | None,
) -> None:
    """RSA over a grid of -n and -k lists (and --baselines at each N) with -t rounds, in one folder: round 0 shared, figures and a table."""
    check_out_dir(out)
    ns, ks = generation.pop("n"), generation.pop("k")
    job = SweepJob(tuple(data), out, ns, ks, baseline_list(baselines), generation, runner, sandbox, filters, templates, ray)
    t = generation["t"]

    def on_member(member: Member, resumed: bool, copied: int) -> None:
        shared = ""
        if member.source:
            shared = f", rounds 0-{member.shared - 1} from {member.source}" + (f" ({copied} copied now)" if copied else "")
        k = f" K={member.rsa.k}" if member.rsa.method in AGGREGATING else ""
        err.print(f"{'resuming' if resumed else 'starting'} {member.name} (N={member.rsa.n}{k} T={t}){shared}")

    def on_generated(member: Member, stats: RoundStats) -> None:
        err.print(f"{member.name} {round_line(stats, t)}")

    def on_graded(member: Member, graded: GradedRound) -> None:
        infra = f", {graded.infra_errors} infrastructure errors (graded again on resume)" if graded.infra_errors else ""
        err.print(f"{member.name} round {graded.round} graded in {graded.seconds:.1f} s: {graded.passed}/{len(graded.grades)} pass{infra}")

    prepared = prepare_sweep(job)
    names = ", ".join(m.name for m in job.members)
    err.print(f"sweep of {len(job.members)} configs on {len(prepared.problems)} problems in {out}: {names}")
    box = sandbox.open(ray)
    try:
        with interruptible(err, lambda: f"run the same command again to resume the sweep in {out}"):
            run_sweep(job, SweepEvents(on_member, on_generated, on_graded), prepared, box)
    finally:
        box.close()
    print((out / TABLE).read_text(encoding="utf-8"), end="")
    err.print(f"wrote {out / TABLE}, {out / 'sweep.json'} and the figures (*.png) in {out}")
