"""Entry point of the `rsa-code` command: the one place an error becomes its one line."""

from __future__ import annotations

import sys

from rich.console import Console
from rich.markup import escape
from typer import TyperException

from problems import InputFileError, UsageError
from prompts import ContextTooSmall
from runners import RunnerError
from solver.app import app

# Importing the command modules registers their commands on `app`.
from solver.commands import *  # noqa: F403

_err = Console(stderr=True)


def main() -> None:
    try:
        status = app(standalone_mode=False)
    except (InputFileError, UsageError, ContextTooSmall) as e:
        _fail(str(e), 2)  # the input or the options: fix them and run again
    except RunnerError as e:
        _fail(str(e), 1)  # the model backend: a run directory, if any, resumes once it is fixed
    except TyperException as e:  # the parser's own: a value of the wrong type, a missing option, an unknown command
        if type(e).__name__ == "NoArgsIsHelpError":  # no arguments: the help, as asked for
            e.show()  # type: ignore[attr-defined]
            sys.exit(0)
        ctx = getattr(e, "ctx", None)
        hint = f" (see `{ctx.command_path} --help`)" if ctx is not None else ""
        _fail(e.format_message() + hint, getattr(e, "exit_code", 2))  # type: ignore[attr-defined]
    sys.exit(status if isinstance(status, int) else 0)


def _fail(message: str, status: int) -> None:
    _err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)  # one line, even when long
    sys.exit(status)


if __name__ == "__main__":
    main()
