"""Exporting a run's final answers for other tools: LiveCodeBench's generations format
([{"question_id", "code_list"}], what lcb_runner's custom evaluator and `rsa-code grade` read).
The picks are solver/selection.py's, as in the report."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from problems import UsageError
from solver.grades import ungraded
from solver.runs import load_run
from solver.selection import current_population, histories, pick, pool

ExportPolicy = Literal["all", "random", "majority"]
EXPORT_POLICIES: tuple[str, ...] = ("all", "random", "majority")


def export_lcb(run_dir: str | Path, select: ExportPolicy = "all") -> list[dict]:
    """Per problem, the final population (`all`) or the one program `random` (uniform) or
    `majority` picks, as the report's last round picks it."""
    run = load_run(run_dir)
    if not run.rounds:
        raise UsageError(f"{run_dir}: no finished round to export")
    rsa = run.eval_config.rsa
    last = run.rounds[-1].index
    rows = []
    for pid, history in histories([r.candidates for r in run.rounds], list(run.meta)).items():
        population = current_population(history)
        if not population:
            continue
        if select == "majority":
            if ungraded(pool(rsa.method, history), run.grades):
                raise UsageError(f"{run_dir}: majority needs every candidate graded; run the same eval command again to finish grading")
            population = [pick("majority", rsa.method, history, run.grades, rsa.seed, last)]
        elif select == "random":
            population = [pick("uniform", rsa.method, history, run.grades, rsa.seed, last)]
        rows.append({"question_id": pid, "code_list": [c.code for c in population]})
    return rows
