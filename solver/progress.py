"""What the terminal shows while a command runs: one line per finished round, and the
one way a command ends when interrupted."""

from __future__ import annotations

import logging
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import typer
from rich.console import Console

from solver.rsa import RoundStats


def round_line(stats: RoundStats, last_round: int) -> str:
    line = (
        f"round {stats.round}/{last_round}: {stats.completions} completions, "
        f"{stats.prompt_tokens:,} prompt + {stats.completion_tokens:,} completion tokens "
        f"in {stats.seconds:.1f} s ({stats.tokens_per_second:,.0f} tokens/s)"
    )
    notes = []
    if stats.hit_max_tokens:
        notes.append(f"{stats.hit_max_tokens} hit --max-tokens")
    if stats.trimmed_prompts:
        notes.append(f"{stats.trimmed_prompts} prompts trimmed to fit the context window")
    if stats.prompts_too_long:
        notes.append(f"{stats.prompts_too_long} prompts too long to send")
    if stats.verify_requests:
        notes.append(
            f"{stats.verify_requests} judged ({stats.verify_correct} correct, {stats.verify_unparsed} without a verdict): "
            f"{stats.verify_prompt_tokens:,} prompt + {stats.verify_completion_tokens:,} completion tokens"
        )
    return line + (f" [{'; '.join(notes)}]" if notes else "")


def _interrupt(signum: int, frame: object) -> None:
    logging.getLogger("sandbox").setLevel(logging.ERROR)  # the containers removed now are ours, not failures
    raise KeyboardInterrupt


@contextmanager
def interruptible(console: Console, hint: Callable[[], str]) -> Iterator[None]:
    """Ctrl-C and SIGTERM end the command with one line, `interrupted: <hint()>` (exit 130),
    and without the sandbox's warnings about the containers being removed. Enter it once
    the sandbox is open: its handlers replace the sandbox's own, which would remove the
    containers before the command knew it was interrupted."""
    previous = {s: signal.signal(s, _interrupt) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    except KeyboardInterrupt:
        logging.getLogger("sandbox").setLevel(logging.ERROR)
        console.print(f"interrupted: {hint()}")
        raise typer.Exit(130) from None
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
