"""Helpers for the sandbox tests: jobs from code and (input, output) pairs, and the
processes a local sandbox may have left on this machine."""

from __future__ import annotations

import os
from pathlib import Path

from problems import TestCase
from sandbox import Job


def stdin_job(code: str, tests: list[tuple[str, str]], mode: str = "first_failure", semantics: str = "lcb") -> Job:
    return Job(code, "stdin", tuple(TestCase(input=i, output=o) for i, o in tests), None, mode, semantics)  # type: ignore[arg-type]


def functional_job(code: str, func_name: str, tests: list[tuple[str, str]], mode: str = "first_failure", semantics: str = "lcb") -> Job:
    return Job(code, "functional", tuple(TestCase(input=i, output=o) for i, o in tests), func_name, mode, semantics)  # type: ignore[arg-type]


def harness_processes(harness_path: str) -> list[int]:
    """Processes on this machine running the harness at `harness_path` (a local sandbox's
    private copy) or forked from it: the harness, its program processes, what they started."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if harness_path.encode() + b"\x00serve" in command:
            found.append(int(entry.name))
    return found
