"""The typer applications. Command modules under solver/commands register on these."""

from __future__ import annotations

import typer

from problems.errors import UsageError  # noqa: F401  (defined with InputFileError; re-exported here)

app = typer.Typer(
    name="rsa-code",
    help="Recursive Self-Aggregation for code: solve problems, evaluate on LiveCodeBench, build verified datasets.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
sandbox_app = typer.Typer(help="Build and check the Docker sandbox that runs programs.", no_args_is_help=True)
app.add_typer(sandbox_app, name="sandbox")
