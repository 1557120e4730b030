"""Checks of the files a command writes, made before any work: an output never replaces an
input, and its folder must exist."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from problems import UsageError


def check_out_file(out: Path, option: str, inputs: Iterable[str | Path]) -> None:
    """`out` will be written as a file: refuse a folder, a missing parent folder, and any
    input given (or a file inside an input folder, which a later read would take for input)."""
    if out.is_dir():
        raise UsageError(f"{option} {out}: is a folder; name a file")
    if not out.parent.is_dir():
        raise UsageError(f"{option} {out}: the folder {out.parent} does not exist")
    target = out.resolve()
    for given in inputs:
        path = Path(given)
        if not path.exists():
            continue
        source = path.resolve()
        if source == target:
            raise UsageError(f"{option} {out}: is an input of this command ({given}); name another file")
        if source.is_dir() and source in target.parents:
            raise UsageError(f"{option} {out}: is inside the input folder {given}; name a file elsewhere")


def check_out_dir(out: Path, option: str = "--out") -> None:
    """`out` will be a folder (made with its parents): refuse a file in its place."""
    if out.exists() and not out.is_dir():
        raise UsageError(f"{option} {out}: is a file, not a folder")
    blocking = next((p for p in out.parents if p.exists() and not p.is_dir()), None)
    if blocking is not None:
        raise UsageError(f"{option} {out}: {blocking} is a file, not a folder")
