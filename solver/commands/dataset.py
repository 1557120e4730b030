"""`rsa-code dataset`: verified solutions and aggregation examples from evaluation runs
(the library: solver/dataset.py), evaluating first with --data."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from problems import ProblemFilter, UsageError
from prompts import Templates
from runners import RunnerConfig
from runners.ray_pool import RayConfig
from solver.app import app
from solver.commands.eval import evaluate_with_progress
from solver.dataset import RL_FORMATS, DatasetOptions, build, write
from solver.evaluate import EvalJob
from solver.grading import SandboxConfig
from solver.options import EvalChoice, eval_options, filter_options, generation_options, ray_options, sandbox_options, validated
from solver.paths import check_out_dir

err = Console(stderr=True, highlight=False, markup=False)
RUN = "run"  # with --data, the evaluation's run directory inside OUT


@app.command("dataset")
@eval_options
@filter_options
@generation_options
@sandbox_options(semantics="judge")
@ray_options()
def dataset_command(
    ctx: typer.Context,
    run_dirs: Annotated[list[Path] | None, typer.Argument(help="Evaluation run directories to build from.", show_default=False)] = None,
    out: Annotated[Path, typer.Option("--out", help="Dataset directory: solutions, aggregation examples and a dataset card.")] = ...,  # type: ignore[assignment]
    data: Annotated[
        list[str] | None,
        typer.Option(
            "--data",
            help=f"Evaluate these problems first (into OUT/{RUN}, with the evaluation, generation and sandbox options), then build.",
            show_default=False,
        ),
    ] = None,
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            help="jsonl or parquet; verl (parquet, plus rl.parquet in verl's RL schema) or openrlhf (jsonl, plus rl.jsonl): "
            "see docs/rl.md.",
        ),
    ] = "jsonl",
    min_tests: Annotated[int, typer.Option("--min-tests", help="A verified program must have passed at least this many tests.")] = 1,
    dedupe: Annotated[
        str,
        typer.Option(
            "--dedupe",
            help="code: distinct normalised programs (comments and formatting ignored); behaviour: distinct outputs on the tests.",
        ),
    ] = "code",
    informative_only: Annotated[
        bool, typer.Option("--informative-only", help="Keep aggregation examples whose candidates are neither all right nor all wrong.")
    ] = False,
    plain_ratio: Annotated[
        float,
        typer.Option(
            "--plain-ratio",
            help="verl/openrlhf: the fraction of RL prompts that are plain generation prompts, the rest aggregation prompts "
            "(0: aggregation only; 1: one plain prompt per problem).",
        ),
    ] = DatasetOptions.model_fields["plain_ratio"].default,
    problem_files: Annotated[
        list[str] | None,
        typer.Option(
            "--problems",
            help="verl/openrlhf: the problem files holding the runs' tests (repeatable; default: the files each run recorded).",
            show_default=False,
        ),
    ] = None,
    *,
    evaluation: EvalChoice,
    filters: ProblemFilter,
    generation: dict,
    runner: RunnerConfig,
    templates: Templates,
    sandbox: SandboxConfig,
    ray: RayConfig | None,
) -> None:
    """Build a verified dataset: programs that pass every test, and aggregation examples with rewards."""
    options = validated(
        DatasetOptions,
        flags={"format": "--format", "plain_ratio": "--plain-ratio"},
        format=fmt,
        min_tests=min_tests,
        dedupe=dedupe,
        informative_only=informative_only,
        plain_ratio=plain_ratio,
        problems=tuple(problem_files or ()),
    )
    if problem_files and options.format not in RL_FORMATS:
        raise UsageError("--problems: only --format verl or openrlhf reads the problems' tests")
    check_out_dir(out)
    sources = list(run_dirs or [])
    if data:
        if sources:
            raise UsageError("give run directories or --data, not both")
        job = EvalJob(tuple(data), out / RUN, evaluation.config(generation), runner, sandbox, filters, evaluation.shard, templates, ray)
        evaluate_with_progress(job)
        sources = [job.out]
    else:
        own = set(inspect.signature(inspect.unwrap(dataset_command)).parameters)  # the options written here, not injected
        given = [name for name in ctx.params if name not in own and getattr(ctx.get_parameter_source(name), "name", "") == "COMMANDLINE"]
        if given:
            flag = next(p.opts[0] for p in ctx.command.params if p.name == given[0])
            raise UsageError(f"{flag}: an evaluation option, for --data; without --data, give only run directories")
    if not sources:
        raise UsageError("give run directories, or --data to evaluate first")
    solutions, examples, facts = build(sources, options)
    paths = write(out, solutions, examples, facts, options)
    err.print(f"{len(solutions)} verified solutions -> {paths['solutions']}")
    err.print(f"{len(examples)} aggregation examples -> {paths['aggregation']}")
    if "rl" in paths:
        rl = facts["rl"]
        err.print(f"{rl['rows']} RL prompts ({rl['generation']} plain, {rl['aggregation']} aggregation) -> {paths['rl']}")
    err.print(f"dataset card -> {out / 'README.md'}")
