"""`rsa-code solve`: RSA on one problem, the chosen program to stdout."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from problems import UsageError, load_problems
from prompts import Templates
from runners import RunnerConfig
from runners.ray_pool import RayConfig, runner_for
from solver.app import app
from solver.options import generation_options, ray_options, rsa_config
from solver.progress import interruptible, round_line
from solver.rsa import AGGREGATING, VERIFYING, Solver
from solver.rundir import RunDir, affects_results
from solver.selection import method_policy, pick
from solver.session import Session

err = Console(stderr=True, highlight=False, markup=False)
SOLVE_METHODS = ("rsa", *sorted(AGGREGATING - {"rsa"}), "sample", *sorted(VERIFYING))  # those that pick without grading


@app.command()
@generation_options
@ray_options(grading=False)
def solve(
    problem: Annotated[
        str,
        typer.Argument(help="A problem file (Markdown, YAML, JSON, LiveCodeBench JSONL) or a bundled example's name.", show_default=False),
    ],
    problem_id: Annotated[str | None, typer.Option("--id", help="Which problem of a file that holds several.")] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Run directory: every candidate is saved there, and a killed run resumes from it.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON: the chosen program and the whole population history.")] = False,
    method: Annotated[
        str,
        typer.Option(
            "--method",
            help="rsa (the paper), refine, sample (the last round's N samples), self-verify (a program the model judges "
            "correct, among all samples; docs/methods.md). Methods that need grading (majority, rejection): `rsa-code eval`.",
        ),
    ] = "rsa",
    *,
    generation: dict,
    runner: RunnerConfig,
    templates: Templates,
    ray: RayConfig | None,
) -> None:
    """Solve one problem with RSA and print the chosen program (a uniform pick from the last population, as in the paper)."""
    problems = load_problems([problem])
    if problem_id is not None:
        problems = [p for p in problems if p.id == problem_id]
        if not problems:
            raise UsageError(f"--id {problem_id}: no such problem in {problem}")
    if len(problems) != 1:
        raise UsageError(f"{problem} holds {len(problems)} problems: pick one with --id, or use `rsa-code eval` for many")
    if method not in SOLVE_METHODS:
        raise UsageError(f"--method: expected one of {', '.join(SOLVE_METHODS)}, got {method!r} (majority and rejection grade: use eval)")
    config = rsa_config(method, **({**generation, "k": 1} if method == "refine" else generation))  # type: ignore[arg-type]

    rundir = RunDir(out) if out else None
    if rundir is not None:
        # The same rule as eval's: what changes results is hashed, the rest is kept under "runtime".
        record = {
            "command": "solve",
            "rsa": affects_results(config),
            "runner": affects_results(runner),
            "templates": templates.record(),
            "problem": problems[0].model_dump(mode="json"),
            "runtime": {"runner": runner.model_dump()},
        }
        resumed = rundir.open(record, resume_neutral=("runtime",))
        if resumed:
            err.print(f"resuming the run in {out}")

    backend = runner_for(runner, ray)
    try:
        session = Session(Solver(backend, config, templates), problems, rundir)
        hint = f"run the same command again to resume from {out}" if out else "nothing was kept (--out DIR keeps every round)"
        with interruptible(err, lambda: hint), err.status("") as status:
            while not session.finished:
                status.update(f"round {session.rounds_done}/{config.t}: generating {config.n} candidates")
                err.print(round_line(session.next_round(), config.t))
    finally:
        backend.close()

    run = session.runs[0]
    chosen = pick(method_policy(method), method, run.rounds, {}, config.seed, config.t, run.judgements)
    assert chosen is not None  # every round of one problem has N candidates
    if as_json:
        json.dump(
            {
                "problem_id": run.problem.id,
                "model": backend.model,
                "config": config.model_dump(),
                "chosen": {"round": chosen.round, "index": chosen.index, "code": chosen.code},
                "rounds": [[c.to_record() for c in population] for population in run.rounds],
                "judgements": [j.to_record() for j in run.judgements.values()],
                "stats": [asdict(s) for s in session.stats],
            },
            sys.stdout,
            indent=2,
        )
        sys.stdout.write("\n")
        return
    if not chosen.code:
        err.print(f"the chosen candidate (round {chosen.round}, #{chosen.index}) holds no program: the model wrote no code")
        raise typer.Exit(1)
    sys.stdout.write(chosen.code + "\n")
