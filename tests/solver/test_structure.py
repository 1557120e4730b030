"""The solver's rooms: what reads a run never imports what writes one, and no library
module imports the command line."""

import ast
from pathlib import Path

import pytest

SOLVER = Path(__file__).resolve().parents[2] / "solver"
READERS = ["grades", "runs", "rundir", "selection", "metrics", "report", "dataset", "export"]


def imported(module: str) -> set[str]:
    tree = ast.parse((SOLVER / f"{module}.py").read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
    return names


@pytest.mark.parametrize("module", READERS)
def test_a_reader_of_runs_does_not_import_the_writer(module):
    assert not imported(module) & {"solver.evaluate", "solver.session"}


@pytest.mark.parametrize("module", sorted(p.stem for p in SOLVER.glob("*.py") if p.stem not in ("cli", "app", "__init__")))
def test_the_library_does_not_import_the_command_line(module):
    assert not {name for name in imported(module) if name.startswith(("solver.commands", "solver.cli", "solver.app", "typer"))} - (
        {"typer"} if module in ("options", "progress") else set()
    )


def test_every_name_of_the_face_resolves():
    import solver

    assert all(getattr(solver, name) is not None for name in solver.__all__)
    with pytest.raises(AttributeError):
        solver.nothing_of_that_name  # noqa: B018
