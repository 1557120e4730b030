"""The run directory: the truth about a run, and what a resumed run restarts from.

    config.json       the resolved config and its hash; a run with another hash is refused
    round-000.jsonl   one file per round: a header line (the round's stats and every
    round-001.jsonl   problem's random state after the round was planned), one line per
    ...               candidate, (self-verify) one judgement line per candidate, then grade
                      lines appended as grading finishes

    .lock             held (flock) by the process writing the run: a second one refuses

A round file appears whole or not at all (written to a temporary name, fsynced, renamed),
so a kill during generation loses that round's generation and nothing else. A self-verify
round is written when generated and written again, whole, with its judgements (before any
grade line): a kill in between keeps the generation, and the resumed run judges it. Grade lines
(solver/grades.py) are appended and fsynced; a line torn by a kill is cut off when the run
resumes, and the grades it lacked are made again.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from problems import InputFileError, UsageError
from solver.grades import Grade
from solver.rsa import Candidate, Judgement

CONFIG = "config.json"
LOCK = ".lock"
_HELD: dict[Path, int] = {}  # run directories this process holds: path -> the lock file's descriptor


class RunConfigMismatch(UsageError):
    pass


class RunDirInUse(UsageError):
    pass


def _lock(path: Path) -> None:
    """Hold `path`/.lock for the life of this process; refuse when another process holds it."""
    key = path.resolve()
    if key in _HELD:
        return
    fd = os.open(key / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.read(fd, 64).decode(errors="replace").strip() or "unknown"
        os.close(fd)
        raise RunDirInUse(
            f"{path}: another rsa-code process (pid {holder}) is writing this run; wait for it to finish, or use another --out"
        ) from None
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    _HELD[key] = fd


def config_hash(config: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(config, sort_keys=True, separators=(",", ":")).encode()).hexdigest()[:16]


def affects_results(config: BaseModel) -> dict[str, Any]:
    """The fields of a config that can change a run's results: what its hash covers, for
    every command alike. A field marked `json_schema_extra={"affects_results": False}` (a
    timeout, a server address) is left out, so changing it never blocks a resume."""
    fields = type(config).model_fields
    return {
        name: value
        for name, value in config.model_dump().items()
        if not isinstance(fields[name].json_schema_extra, dict) or fields[name].json_schema_extra.get("affects_results", True)
    }


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _line(record: dict) -> str:
    return json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"


@dataclass
class Round:
    index: int
    header: dict
    candidates: list[Candidate]
    grades: list[Grade] = field(default_factory=list)
    judgements: list[Judgement] = field(default_factory=list)  # self-verify's


class RunDir:
    def __init__(self, path: str | Path):
        self.path = Path(path)

    def round_path(self, index: int) -> Path:
        return self.path / f"round-{index:03d}.jsonl"

    def open(self, config: dict[str, Any], resume_neutral: Iterable[str] = ()) -> bool:
        """Create the directory for `config`, or check it matches the run already there.
        Keys in `resume_neutral` (top-level) may differ without changing results. Returns
        True when an earlier run is being resumed."""
        digest = config_hash({k: v for k, v in config.items() if k not in set(resume_neutral)})
        config_file = self.path / CONFIG
        if self.path.exists() and not self.path.is_dir():
            raise UsageError(f"--out {self.path}: is a file, not a run directory")
        if self.path.is_dir() and not config_file.exists() and any(p.name != LOCK for p in self.path.iterdir()):
            raise UsageError(f"--out {self.path}: the directory holds other files but no run (no {CONFIG}); use a new or empty one")
        self.path.mkdir(parents=True, exist_ok=True)
        _lock(self.path)
        if config_file.exists():
            old = self.config()
            if old.get("hash") != digest:
                changed = sorted(k for k in set(old) | set(config) if k not in ("hash", *resume_neutral) and old.get(k) != config.get(k))
                raise RunConfigMismatch(
                    f"{self.path} holds a run with another config (differs in: {', '.join(changed) or 'hash'}); "
                    "use another --out directory, or the same options to resume it"
                )
            return True
        write_atomic(config_file, json.dumps({**config, "hash": digest}, indent=2, sort_keys=True) + "\n")
        return False

    def release(self) -> None:
        """Let another process write the run (open() holds it until then, or until this process exits)."""
        fd = _HELD.pop(self.path.resolve(), None)
        if fd is not None:
            os.close(fd)

    def config(self) -> dict[str, Any]:
        path = self.path / CONFIG
        if not path.is_file():
            raise UsageError(f"{self.path}: not a run directory (no {CONFIG})")
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except ValueError as e:
            raise InputFileError(path, f"not valid JSON ({e})") from None

    def write_round(
        self,
        index: int,
        header: dict,
        candidates: Iterable[Candidate],
        judgements: Iterable[Judgement] = (),
        grades: Iterable[Grade] = (),
    ) -> None:
        body = [_line({"type": "round", "round": index, **header})]
        body += [_line({"type": "candidate", **c.to_record()}) for c in candidates]
        body += [_line({"type": "judgement", **j.to_record()}) for j in judgements]
        body += [_line({"type": "grade", **g.to_record()}) for g in grades]
        write_atomic(self.round_path(index), "".join(body))

    def append_grades(self, index: int, grades: Iterable[Grade]) -> None:
        text = "".join(_line({"type": "grade", **g.to_record()}) for g in grades)
        if not text:
            return
        with open(self.round_path(index), "a", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())

    def _read_round(self, path: Path, repair: bool) -> Round:
        raw = path.read_bytes()
        complete = raw[: raw.rfind(b"\n") + 1]
        if repair and len(complete) != len(raw):  # a grade line torn by a kill
            with open(path, "r+b") as f:
                f.truncate(len(complete))
        header, candidates, grades, judgements = None, [], [], []
        for number, line in enumerate(complete.decode("utf-8", errors="replace").splitlines(), start=1):
            try:
                record = json.loads(line)
                kind = record.pop("type")
                if kind == "round":
                    header = record
                elif kind == "candidate":
                    candidates.append(Candidate.from_record(record))
                elif kind == "grade":
                    grades.append(Grade.from_record(record))
                elif kind == "judgement":
                    judgements.append(Judgement.from_record(record))
                else:
                    raise ValueError(f"unknown record type {kind!r}")
            except (ValueError, KeyError, TypeError, AttributeError) as e:
                detail = f"missing field {e}" if isinstance(e, KeyError) else str(e)
                raise InputFileError(path, f"not a record of a run ({detail})", number) from None
        if header is None or "round" not in header:
            raise InputFileError(path, "no header line (a round file starts with one)")
        return Round(header.pop("round"), header, candidates, grades, judgements)

    def rounds(self, repair: bool = False) -> list[Round]:
        """The complete rounds, in order (round files are contiguous from 0)."""
        found = []
        index = 0
        while self.round_path(index).exists():
            found.append(self._read_round(self.round_path(index), repair))
            index += 1
        return found
