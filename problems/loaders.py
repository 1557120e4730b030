"""Loading problems from LiveCodeBench files, problem files, directories and bundled
examples, with the filters a user expects; and a summary of what was loaded."""

from __future__ import annotations

import gzip
import json
import warnings
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from problems.errors import InputFileError, UsageError
from problems.humaneval import humaneval_problem, is_humaneval_row
from problems.lcb import LCB_FILE_NAMES, lcb_problem, release_files
from problems.mbpp import is_mbpp_row, mbpp_problem
from problems.models import Difficulty, Kind, Problem
from problems.problem_files import problem_from_row, read_problem_file

EXAMPLES_DIR = Path(__file__).parent / "examples"
PROBLEM_FILE_SUFFIXES = (".md", ".yaml", ".yml", ".json")


class ProblemFilter(BaseModel):
    """Which problems to keep. Every set filter must match; a date bound drops undated problems."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    release: str | None = None  # LiveCodeBench release by file: release_v1..v6, release_latest, vN, vA_vB
    start_date: date | None = None  # inclusive, on contest_date
    end_date: date | None = None  # inclusive
    platforms: frozenset[str] | None = Field(default=None, min_length=1)  # case-insensitive
    difficulties: frozenset[Difficulty] | None = Field(default=None, min_length=1)
    kinds: frozenset[Kind] | None = Field(default=None, min_length=1)
    ids: tuple[str, ...] | None = Field(default=None, min_length=1)  # each must exist in the input
    splits: frozenset[str] | None = Field(default=None, min_length=1)  # the dataset's split (MBPP: test = task ids 11..510)
    limit: int | None = Field(default=None, ge=1)  # the first N that match, in load order

    @field_validator("release")
    @classmethod
    def _known_release(cls, release: str | None) -> str | None:
        if release is not None:
            release_files(release)  # raises ValueError with the valid names
        return release

    @field_validator("platforms")
    @classmethod
    def _lower(cls, platforms: frozenset[str] | None) -> frozenset[str] | None:
        return None if platforms is None else frozenset(p.lower() for p in platforms)

    @model_validator(mode="after")
    def _ordered_dates(self) -> ProblemFilter:
        if self.start_date and self.end_date and self.start_date > self.end_date:
            raise ValueError(f"start date {self.start_date} is after end date {self.end_date}")
        return self

    def matches(self, problem: Problem) -> bool:
        """Every filter but release (chosen by file) and limit (applied while loading)."""
        day = problem.contest_date.date() if problem.contest_date else None
        return (
            (self.start_date is None or (day is not None and day >= self.start_date))
            and (self.end_date is None or (day is not None and day <= self.end_date))
            and (self.platforms is None or (problem.platform or "").lower() in self.platforms)
            and (self.difficulties is None or problem.difficulty in self.difficulties)
            and (self.kinds is None or problem.kind in self.kinds)
            and (self.ids is None or problem.id in self.ids)
            and (self.splits is None or problem.split in self.splits)
        )


def list_examples() -> list[str]:
    """The names of the bundled example problems (usable as paths: `a-plus-b`)."""
    return sorted(_examples())


def _examples() -> dict[str, Path]:
    return {f.stem: f for f in EXAMPLES_DIR.iterdir() if f.suffix in PROBLEM_FILE_SUFFIXES}


def load_problems(paths: Sequence[str | Path], filters: ProblemFilter | None = None) -> list[Problem]:
    """The problems in `paths` that pass `filters`, in file order then row order.

    A path is a LiveCodeBench .jsonl file, a problem file (.md, .yaml, .yml, .json; a .jsonl
    row without `question_*` keys is one too), a directory of those, or the name of a bundled
    example. Ids must be unique across everything loaded."""
    filters = filters or ProblemFilter()
    if not paths:
        raise UsageError("no problem paths given")
    files = _release(paths, filters.release) if filters.release else [f for p in paths for f in _files(p)]
    seen_ids: set[str] = set()

    def keep(problem: Problem) -> bool:
        seen_ids.add(problem.id)
        return filters.matches(problem)

    problems: list[Problem] = []
    places: dict[str, str] = {}
    for file, source in files:
        for problem, line in _read(file, source, keep):
            place = str(file) if line is None else f"{file}:{line}"
            if problem.id in places:
                raise InputFileError(file, f"problem id {problem.id!r} is also at {places[problem.id]}", line, "id")
            places[problem.id] = place
            problems.append(problem)
            if filters.limit is not None and len(problems) >= filters.limit:
                return problems  # what lies beyond the limit is not read (nor its ids checked)
    missing = [i for i in filters.ids or () if i not in seen_ids]
    if missing:  # an id never seen is a mistake, not an empty selection
        raise UsageError(f"no problem with id {', '.join(map(repr, missing))} in {', '.join(map(str, paths))}")
    return problems


def _files(path: str | Path) -> list[tuple[Path, str]]:
    """The files a path stands for, each with its short source name."""
    p = Path(path)
    if p.is_dir():
        found = _directory_files(p)
        if not found:
            raise InputFileError(p, f"holds no LiveCodeBench .jsonl or problem files ({', '.join(PROBLEM_FILE_SUFFIXES)})")
        return [(f, f.name) for f in found]
    if p.is_file():
        if not _is_jsonl(p) and p.suffix.lower() not in PROBLEM_FILE_SUFFIXES:
            raise InputFileError(p, f"unknown kind of file: expected .jsonl, .jsonl.gz, {', '.join(PROBLEM_FILE_SUFFIXES)}")
        return [(p, p.name)]
    if p.exists():
        raise InputFileError(p, "neither a file nor a directory")
    example = _examples().get(str(path))
    if example:
        return [(example, f"example:{path}")]
    raise InputFileError(p, f"no such file or directory, nor a bundled example ({', '.join(list_examples())})")


def _directory_files(directory: Path) -> list[Path]:
    """LiveCodeBench files in release order, other .jsonl files, then problem files; not
    recursive; README.md and hidden files are skipped."""
    entries = sorted(f for f in directory.iterdir() if f.is_file() and not f.name.startswith("."))
    lcb = [directory / name for name in LCB_FILE_NAMES if (directory / name).is_file()]
    other_jsonl = [f for f in entries if _is_jsonl(f) and f.name not in LCB_FILE_NAMES]
    problem_files = [f for f in entries if f.suffix.lower() in PROBLEM_FILE_SUFFIXES and f.name.lower() != "readme.md"]
    return lcb + other_jsonl + problem_files


def _release(paths: Sequence[str | Path], release: str) -> list[tuple[Path, str]]:
    """The files of a release, found by name among `paths` (LiveCodeBench files or
    directories holding them)."""
    by_name: dict[str, Path] = {}
    for path in paths:
        p = Path(path)
        if p.is_dir():
            found = [p / name for name in LCB_FILE_NAMES if (p / name).is_file()]
        elif p.is_file() and p.name in LCB_FILE_NAMES:
            found = [p]
        else:
            found = []
        if not found:
            raise InputFileError(
                p,
                f"--release {release} picks LiveCodeBench files by name ({', '.join(LCB_FILE_NAMES)}); this path is not one and holds none",
            )
        for f in found:
            if f.name in by_name and by_name[f.name].resolve() != f.resolve():
                raise InputFileError(f, f"given twice for --release {release}: also at {by_name[f.name]}")
            by_name[f.name] = f
    wanted = release_files(release)
    for name in wanted:
        if name not in by_name:
            raise InputFileError(name, f"--release {release} needs {', '.join(wanted)}; {name} is not in {', '.join(map(str, paths))}")
    return [(by_name[name], name) for name in wanted]


def _read(file: Path, source: str, keep: Callable[[Problem], bool]) -> Iterator[tuple[Problem, int | None]]:
    """(problem, line) for each kept problem of a file, lazily: a limit stops reading."""
    if not _is_jsonl(file):
        problem = read_problem_file(file, source)
        if keep(problem):
            yield problem, None
        return
    for line, row in _jsonl_rows(file):
        if any(key.startswith("question_") for key in row):
            problem = lcb_problem(row, file, line, keep)
        elif is_humaneval_row(row) or is_mbpp_row(row):  # HumanEval, MBPP: assertion tests
            with warnings.catch_warnings():  # their code has invalid escapes ('\\d'): Python's warning, not ours
                warnings.simplefilter("ignore", SyntaxWarning)
                warnings.simplefilter("ignore", DeprecationWarning)
                problem = humaneval_problem(row, file, line) if is_humaneval_row(row) else mbpp_problem(row, file, line)
            problem = problem if keep(problem) else None
        else:
            problem = problem_from_row(row, file, line, source)
            problem = problem if keep(problem) else None
        if problem is not None:
            yield problem, line


def _is_jsonl(file: Path) -> bool:
    return file.name.lower().endswith((".jsonl", ".jsonl.gz"))


def _jsonl_rows(file: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    opened = gzip.open(file, "rb") if file.name.lower().endswith(".gz") else file.open("rb")
    with opened as f:  # bytes, so a decoding error is pinned to its own line
        for line, raw in enumerate(_lines(f, file), start=1):
            try:
                text = raw.decode("utf-8-sig" if line == 1 else "utf-8")
            except UnicodeDecodeError as e:
                raise InputFileError(file, f"not UTF-8 text (byte {e.start} of the line)", line=line) from None
            if not text.strip():
                continue
            try:
                row = json.loads(text, object_pairs_hook=_no_duplicate_keys)
            except json.JSONDecodeError as e:
                raise InputFileError(file, f"not valid JSON: {e.msg} (column {e.colno})", line=line) from None
            except _DuplicateKey as e:
                raise InputFileError(file, "duplicate key", line=line, field=e.key) from None
            if not isinstance(row, dict):
                raise InputFileError(file, f"a row must be a JSON object, not {type(row).__name__}", line=line)
            yield line, row


def _lines(f: Any, file: Path) -> Iterator[bytes]:
    try:
        yield from f
    except (OSError, EOFError) as e:  # a .gz that is not gzip, or cut short
        raise InputFileError(file, f"cannot be read: {e}") from None


class _DuplicateKey(Exception):
    def __init__(self, key: str):
        self.key = key


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        raise _DuplicateKey(next(k for k, _ in pairs if k in seen or seen.add(k)))
    return out


def summarize(problems: Sequence[Problem]) -> dict[str, Any]:
    """Counts by platform, kind, difficulty and source; the contest-date range; test coverage."""

    def count(values: Any) -> dict[str, int]:
        return dict(sorted(Counter(values).items(), key=lambda kv: (-kv[1], kv[0])))

    dates = [p.contest_date.date() for p in problems if p.contest_date]
    return {
        "count": len(problems),
        "by_platform": count(p.platform or "(none)" for p in problems),
        "by_kind": count(p.kind for p in problems),
        "by_difficulty": count(p.difficulty or "(none)" for p in problems),
        "by_source": count(p.source for p in problems),
        "contest_date": {
            "min": min(dates).isoformat() if dates else None,
            "max": max(dates).isoformat() if dates else None,
            "undated": len(problems) - len(dates),
        },
        "public_tests": sum(len(p.public_tests) for p in problems),
        "with_hidden_tests": sum(1 for p in problems if p.hidden_tests),
        "hidden_tests": sum(len(p.hidden_tests) for p in problems),
    }
