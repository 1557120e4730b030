"""RSA itself and what is built on it, by room:

    the method        rsa.py (rounds, subsets), session.py (a run directory's rounds), selection.py (every pick)
    a run's records   rundir.py (the files), grades.py (a grade), runs.py (what a run is; the one reader)
    evaluation        evaluate.py (generate and grade, the writer), grading.py (the sandbox options)
    analysis          metrics.py, report.py, dataset.py, export.py (readers of runs)
    other programs    programs.py (grading any tool's programs)
    the command line  cli.py, app.py, options.py, progress.py, commands/

The names below are the package's face (`from solver import EvalJob, run_evaluation`);
each loads its module on first use, so importing `solver` costs nothing.
"""

from __future__ import annotations

import importlib
from typing import Any

_FACE = {
    "RSAConfig": "solver.rsa",
    "Solver": "solver.rsa",
    "Candidate": "solver.rsa",
    "Session": "solver.session",
    "select_uniform": "solver.selection",
    "select_majority": "solver.selection",
    "pick": "solver.selection",
    "RunDir": "solver.rundir",
    "Grade": "solver.grades",
    "EvalConfig": "solver.runs",
    "RunData": "solver.runs",
    "load_run": "solver.runs",
    "EvalJob": "solver.evaluate",
    "evaluate": "solver.evaluate",
    "run_evaluation": "solver.evaluate",
    "SandboxConfig": "solver.grading",
    "summarize": "solver.report",
    "write_report": "solver.report",
    "export_lcb": "solver.export",
    "read_programs": "solver.programs",
    "grade_programs": "solver.programs",
}
__all__ = sorted(_FACE)


def __getattr__(name: str) -> Any:
    if name not in _FACE:
        raise AttributeError(f"module 'solver' has no attribute {name!r}")
    return getattr(importlib.import_module(_FACE[name]), name)
