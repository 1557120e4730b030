"""`rsa-code eval`, `report`, `compare` and `export`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from problems import ProblemFilter, UsageError
from prompts import Templates
from runners import RunnerConfig
from runners.ray_pool import RayConfig
from solver.app import app
from solver.evaluate import EvalJob, GradedRound, prepare, run_evaluation
from solver.export import EXPORT_POLICIES, export_lcb
from solver.grading import SandboxConfig
from solver.options import (
    EvalChoice,
    PassKOption,
    eval_options,
    filter_options,
    generation_options,
    pass_ks,
    ray_options,
    sandbox_options,
)
from solver.paths import check_out_file
from solver.progress import interruptible, round_line
from solver.report import compare, write_report

err = Console(stderr=True, highlight=False, markup=False)

DataOption = Annotated[
    list[str], typer.Option("--data", help="LiveCodeBench .jsonl files or directories (repeatable), or problem files.", show_default=False)
]


def evaluate_with_progress(job: EvalJob) -> None:
    """Run an evaluation, printing a line per generated and per graded round."""
    prepared = prepare(job)
    problems, _, resumed = prepared
    rsa = job.config.rsa
    err.print(
        f"{'resuming' if resumed else 'starting'} {rsa.method} on {len(problems)} problems in {job.out} (N={rsa.n} K={rsa.k} T={rsa.t})"
    )

    def on_graded(graded: GradedRound) -> None:
        infra = (
            f", {graded.infra_errors} infrastructure errors (counted as failures; graded again on resume)" if graded.infra_errors else ""
        )
        err.print(
            f"round {graded.round} graded in {graded.seconds:.1f} s: {graded.passed}/{len(graded.grades)} candidates pass every test{infra}"
        )

    sandbox = job.sandbox.open(job.ray)
    try:
        with (
            interruptible(err, lambda: f"run the same command again to resume from {job.out}"),
            err.status(f"generating, {rsa.n} candidates for each of {len(problems)} problems") as status,
        ):

            def on_generated(stats) -> None:
                err.print(round_line(stats, rsa.t))
                doing = f"round {stats.round + 1}/{rsa.t}: generating" if stats.round < rsa.t else "grading"
                status.update(f"{doing} (round {stats.round} is graded meanwhile)")

            run_evaluation(job, on_generated, on_graded, prepared, sandbox)
    finally:
        sandbox.close()


@app.command("eval")
@eval_options
@filter_options
@generation_options
@sandbox_options(semantics="lcb")
@ray_options()
def eval_command(
    data: DataOption,
    out: Annotated[Path, typer.Option("--out", help="Run directory: the run's truth; the same command resumes a killed run.")],
    *,
    evaluation: EvalChoice,
    filters: ProblemFilter,
    generation: dict,
    runner: RunnerConfig,
    templates: Templates,
    sandbox: SandboxConfig,
    ray: RayConfig | None,
) -> None:
    """Evaluate a method on LiveCodeBench problems: every candidate of every round graded on all tests."""
    job = EvalJob(tuple(data), out, evaluation.config(generation), runner, sandbox, filters, evaluation.shard, templates, ray)
    evaluate_with_progress(job)
    text, _ = write_report([out], None, evaluation.ks)
    print(text)


@app.command("report")
def report_command(
    run_dirs: Annotated[list[Path], typer.Argument(help="A run directory, or the shards of one run to merge.", show_default=False)],
    out: Annotated[
        Path | None, typer.Option("--out", help="Where to write (default: the run directory; required to merge shards).")
    ] = None,
    pass_k: PassKOption = "1",
) -> None:
    """Write report.md, summary.json, curve.png (pass@1 and pass@N by round) and curve_tokens.png
    (pass@1 against tokens per problem); print the report."""
    text, where = write_report(run_dirs, out, pass_ks(pass_k))
    print(text)
    err.print(f"wrote {where / 'report.md'}, {where / 'summary.json'}, {where / 'curve.png'}, {where / 'curve_tokens.png'}")


@app.command("compare")
def compare_command(
    run_dirs: Annotated[list[Path], typer.Argument(help="Run directories to put side by side.", show_default=False)],
    out: Annotated[
        Path | None, typer.Option("--out", help="Also write compare.md, compare.png (by round), compare_tokens.png (by tokens) there.")
    ] = None,
    pass_k: PassKOption = "1",
) -> None:
    """Put runs side by side: pass@1 by round, final pass@N and majority, completions and tokens per problem."""
    print(compare(run_dirs, pass_ks(pass_k), out))


@app.command("export")
def export_command(
    run_dir: Annotated[Path, typer.Argument(help="A run directory.", show_default=False)],
    lcb: Annotated[
        bool,
        typer.Option("--lcb", help="LiveCodeBench's generations format: [{question_id, code_list}], for lcb_runner's custom evaluator."),
    ] = False,
    select: Annotated[
        str,
        typer.Option(
            "--select", help="all: the whole final population; random (uniform, the paper's) or majority: the one selected program."
        ),
    ] = "all",
    out: Annotated[Path | None, typer.Option("--out", help="File to write (default: stdout).")] = None,
) -> None:
    """Export the final population (or the selected program) of every problem."""
    if not lcb:
        raise UsageError("say the format: --lcb (the only one so far)")
    if select not in EXPORT_POLICIES:
        raise UsageError(f"--select: expected {', '.join(EXPORT_POLICIES)}, got {select!r}")
    if out is not None:
        check_out_file(out, "--out", inputs=())
    rows = export_lcb(run_dir, select)  # type: ignore[arg-type]
    text = json.dumps(rows, indent=1) + "\n"
    if out is None:
        print(text, end="")
    else:
        out.write_text(text, encoding="utf-8")
        err.print(f"wrote {len(rows)} problems to {out}")
