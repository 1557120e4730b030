"""`rsa-code grade`: grade programs from any tool on LiveCodeBench problems, in the sandbox
(the library: solver/programs.py)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from problems import UsageError, load_problems
from solver.app import app
from solver.grading import SandboxConfig
from solver.options import sandbox_options
from solver.paths import check_out_file
from solver.programs import grade_programs, read_programs, resumable, settings_of, summarize
from solver.progress import interruptible

err = Console(stderr=True, highlight=False, markup=False)
PROGRESS_EVERY = 64  # programs between progress lines
PROGRAMS_HELP = (
    'LiveCodeBench generations ({"question_id", "code_list": [...]}) or one program per row ({"question_id", "code"}), '
    "as JSONL or one JSON list (what lcb_runner saves and `rsa-code export --lcb` writes)."
)


@app.command("grade")
@sandbox_options(semantics="lcb")
def grade_command(
    problems_paths: Annotated[
        list[str],
        typer.Option("--problems", help="LiveCodeBench .jsonl files or directories (repeatable), or problem files.", show_default=False),
    ],
    programs_path: Annotated[Path, typer.Option("--programs", help=PROGRAMS_HELP, show_default=False)],
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Where the verdict records go (one JSON line per program). Default: PROGRAMS with .verdicts.jsonl."),
    ] = None,
    mode: Annotated[
        str, typer.Option("--mode", help="first_failure (grading, as LiveCodeBench) or all (run every test).")
    ] = "first_failure",
    resume: Annotated[
        bool,
        typer.Option(
            "--resume", help="Keep the verdicts OUT holds (of an interrupted grading) and grade the rest, and any infra errors again."
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON on stdout.")] = False,
    *,
    sandbox: SandboxConfig,
) -> None:
    """Grade programs on LiveCodeBench problems: a verdict per program (and per test) and pass counts."""
    if mode not in ("first_failure", "all"):
        raise UsageError(f"--mode: expected first_failure or all, got {mode!r}")
    out = out or programs_path.with_name(programs_path.name.removesuffix(".jsonl") + ".verdicts.jsonl")
    check_out_file(out, "--out", [programs_path, *problems_paths])
    problems = {p.id: p for p in load_problems(problems_paths)}
    programs = read_programs(programs_path, problems)
    untested = sorted({p.question_id for p in programs if not problems[p.question_id].all_tests})
    if untested:
        raise UsageError(f"problems without tests cannot be graded: {', '.join(untested[:5])}")
    settings = settings_of(mode, sandbox.semantics, sandbox.limits)  # type: ignore[arg-type]
    done = resumable(out, programs, settings) if resume else {}
    todo = [p for p in programs if p.key not in done]
    if done:
        err.print(f"resuming: {len(done)} programs graded already, {len(todo)} to grade")

    started = time.monotonic()
    box = sandbox.open()
    graded: dict = dict(done)

    def hint() -> str:
        return (
            f"{len(graded)} of {len(programs)} programs graded, their verdicts are in {out}; "
            "run the same command with --resume to grade the rest"
        )

    try:
        with interruptible(err, hint), out.open("a" if resume else "w", encoding="utf-8") as f:

            def write(r: dict) -> None:
                f.write(json.dumps(r) + "\n")
                f.flush()
                graded[(r["question_id"], r["index"])] = r

            def progress(n: int) -> None:
                if n % PROGRESS_EVERY == 0 or n == len(todo):
                    err.print(f"graded {len(done) + n}/{len(programs)} programs")

            grade_programs(problems, todo, box, write, mode, sandbox.semantics, progress, settings)
    finally:
        box.close()
    records = [graded[p.key] for p in programs]
    summary = {**summarize(records), "seconds": round(time.monotonic() - started, 2), "records": str(out)}
    if as_json:
        print(json.dumps(summary, indent=2))
    else:
        _print_summary(summary)
    if summary["infra_errors"]:
        raise typer.Exit(1)


def _print_summary(s: dict) -> None:
    console = Console(highlight=False, markup=False)
    share = f" ({100 * s['programs_passed'] / s['programs']:.1f}%)" if s["programs"] else ""
    console.print(f"programs passed: {s['programs_passed']}/{s['programs']}{share}")
    console.print(f"problems with a passing program: {s['problems_with_a_pass']}/{s['problems']}")
    if s["pass@1"] is not None:
        console.print(f"pass@1: {s['pass@1']:.2f}")
    console.print("verdicts: " + ", ".join(f"{v} {n}" for v, n in s["verdicts"].items()))
    if s["infra_errors"]:
        console.print(
            f"{len(s['infra_errors'])} programs could not be graded (the sandbox failed, not them): counted as failures "
            "above; run the same command with --resume to grade them again:"
        )
        for e in s["infra_errors"][:20]:
            console.print(f"  {e['question_id']} #{e['index']} (line {e['line']}): {e['detail'][:200]}")
    console.print(f"records: {s['records']} ({s['seconds']} s)")
