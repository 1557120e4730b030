"""Grading programs from any tool on LiveCodeBench problems: the library behind `rsa-code grade`.

Input: LiveCodeBench's generations ({"question_id", "code_list": [...]}) or one program per
row ({"question_id", "code"}), as JSONL or one JSON list (what lcb_runner saves and
`rsa-code export --lcb` writes). Output: one verdict record per program (`record`), written
as each program is graded, so an interrupted grading keeps what it graded and `resumable`
continues it. Scores count an infra error as a failure (lcb_runner's convention) and list
such programs apart.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

from problems import InputFileError, Problem, UsageError
from sandbox import Limits, Mode, ProgramResult, Sandbox, Semantics, Verdict, job_for

ProgramKey = tuple[str, int]  # (question id, index)


@dataclass(frozen=True)
class Program:
    question_id: str
    index: int  # within the line's code_list, else among the problem's lines so far
    line: int  # JSONL line, or position in a JSON list
    code: str

    @property
    def key(self) -> ProgramKey:
        return (self.question_id, self.index)

    @property
    def code_sha(self) -> str:
        return hashlib.sha256(self.code.encode()).hexdigest()[:16]


def _rows(path: Path) -> list[tuple[int | None, str, object]]:
    """(line, field prefix, row) for each program row: JSONL lines, or the items of one JSON list."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise InputFileError(path, f"cannot read: {e.strerror}") from None
    if data.lstrip().startswith(b"["):
        try:
            items = json.loads(data)
        except ValueError as e:
            raise InputFileError(path, f"not valid JSON ({e})", getattr(e, "lineno", None)) from None
        return [(None, f"[{i}].", item) for i, item in enumerate(items)]
    rows = []
    for number, raw in enumerate(data.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            rows.append((number, "", json.loads(raw)))
        except ValueError as e:
            raise InputFileError(path, f"not valid JSON ({e})", number) from None
    return rows


def read_programs(path: Path, problems: Mapping[str, Problem]) -> list[Program]:
    """The programs of a generations file; other fields of a row are ignored."""
    programs: list[Program] = []
    seen: Counter[str] = Counter()
    for position, (number, prefix, row) in enumerate(_rows(path), start=1):
        whole = prefix.rstrip(".") or None
        if not isinstance(row, dict):
            raise InputFileError(path, "a program row must be a JSON object", number, whole)
        qid = row.get("question_id")
        if not isinstance(qid, (str, int)) or isinstance(qid, bool):
            raise InputFileError(path, "missing, or not a string", number, f"{prefix}question_id")
        qid = str(qid)
        if qid not in problems:
            raise InputFileError(path, f"no problem {qid!r} among the problems given", number, f"{prefix}question_id")
        if ("code_list" in row) == ("code" in row):
            raise InputFileError(path, "needs exactly one of code_list (LiveCodeBench's format) and code", number, whole)
        line = number if number is not None else position
        if "code_list" in row:
            codes = row["code_list"]
            if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
                raise InputFileError(path, "must be a list of strings", number, f"{prefix}code_list")
            programs += [Program(qid, i, line, code) for i, code in enumerate(codes)]
        else:
            if not isinstance(row["code"], str):
                raise InputFileError(path, "must be a string", number, f"{prefix}code")
            programs.append(Program(qid, seen[qid], line, row["code"]))
            seen[qid] += 1
    return programs


def settings_of(mode: Mode, semantics: Semantics, limits: Limits) -> dict:
    """What decides a verdict besides the program: every record carries it, so a resumed
    grading never mixes verdicts made under other settings."""
    return {"mode": mode, "semantics": semantics, "test_seconds": limits.test_seconds, "memory_mb": limits.memory_mb}


def record(program: Program, result: ProgramResult, settings: dict | None = None) -> dict:
    return {
        "question_id": program.question_id,
        "index": program.index,
        "line": program.line,
        "code_sha": program.code_sha,
        "verdict": result.verdict.value,
        "passed": result.passed,
        "total": result.total,
        "detail": result.detail,
        "tests": [{**asdict(t), "verdict": t.verdict.value} for t in result.tests],
        "graded_with": settings,
    }


def resumable(out: Path, programs: Sequence[Program], settings: dict | None = None) -> dict[ProgramKey, dict]:
    """The settled records an earlier (interrupted) grading left in `out`, by program; a
    torn last line is cut off. Infra errors are not settled: they are graded again."""
    if not out.exists():
        return {}
    raw = out.read_bytes()
    complete = raw[: raw.rfind(b"\n") + 1]
    if len(complete) != len(raw):
        with open(out, "r+b") as f:
            f.truncate(len(complete))
    codes = {p.key: p.code_sha for p in programs}
    done: dict[ProgramKey, dict] = {}
    for number, line in enumerate(complete.decode("utf-8", errors="replace").splitlines(), start=1):
        try:
            r = json.loads(line)
            key = (r["question_id"], r["index"])
            sha, verdict = r["code_sha"], r["verdict"]
        except (ValueError, KeyError, TypeError):
            raise InputFileError(
                out, "not a verdict record of `rsa-code grade`; name another --out, or leave out --resume", number
            ) from None
        if codes.get(key) != sha:
            raise UsageError(
                f"--resume: {out}:{number} is the verdict of another program ({key[0]} #{key[1]}); "
                "these verdicts are of other programs: name another --out, or leave out --resume"
            )
        if r.get("graded_with") != settings:
            theirs = r.get("graded_with") or {}
            differ = ", ".join(f"{k} {theirs.get(k)!r} here {v!r}" for k, v in (settings or {}).items() if theirs.get(k) != v)
            raise UsageError(f"--resume: {out}:{number} was graded with other settings ({differ}); use the same options, or another --out")
        if verdict == Verdict.INFRA_ERROR.value:
            done.pop(key, None)
        else:
            done[key] = r
    return done


def grade_programs(
    problems: Mapping[str, Problem],
    programs: Sequence[Program],
    sandbox: Sandbox,
    write: Callable[[dict], None],
    mode: Mode = "first_failure",
    semantics: Semantics = "lcb",
    on_progress: Callable[[int], None] = lambda graded: None,
    settings: dict | None = None,
) -> list[dict]:
    """Grade `programs`, calling `write` with each record in program order as soon as it and
    those before it are graded. On KeyboardInterrupt, the records of every program graded so
    far are written (in order, gaps where a program was still running) before it propagates."""
    workers = max(1, getattr(sandbox, "workers", 1))
    pool = ThreadPoolExecutor(max_workers=2 * workers, thread_name_prefix="grade")  # the sandbox's queue never runs dry

    def grade_one(program: Program) -> ProgramResult:
        job = job_for(problems[program.question_id], program.code, mode=mode, semantics=semantics)
        return sandbox.run([job])[0]

    futures: list[Future] = [pool.submit(grade_one, p) for p in programs]
    records: list[dict] = []
    written = 0
    try:
        for program, future in zip(programs, futures, strict=True):
            records.append(record(program, future.result(), settings))
            write(records[-1])
            written += 1
            on_progress(written)
    except KeyboardInterrupt:
        pool.shutdown(wait=False, cancel_futures=True)
        for program, future in zip(programs[written:], futures[written:], strict=True):
            if future.done() and not future.cancelled() and future.exception() is None:
                records.append(record(program, future.result(), settings))
                write(records[-1])
        raise
    pool.shutdown(wait=True)
    return records


def summarize(records: Sequence[dict]) -> dict:
    """Counts; pass@1 as LiveCodeBench estimates it (per problem, the share of its programs
    that pass, averaged over problems). An infra error counts as a failure and is listed."""
    by_problem: dict[str, list[bool]] = {}
    for r in records:
        by_problem.setdefault(r["question_id"], []).append(r["verdict"] == Verdict.PASSED.value)
    return {
        "programs": len(records),
        "programs_passed": sum(r["verdict"] == Verdict.PASSED.value for r in records),
        "problems": len(by_problem),
        "problems_with_a_pass": sum(any(v) for v in by_problem.values()),
        "pass@1": round(100 * sum(sum(v) / len(v) for v in by_problem.values()) / len(by_problem), 2) if by_problem else None,
        "verdicts": dict(Counter(r["verdict"] for r in records).most_common()),
        "infra_errors": [
            {"question_id": r["question_id"], "index": r["index"], "line": r["line"], "detail": r["detail"]}
            for r in records
            if r["verdict"] == Verdict.INFRA_ERROR.value
        ],
    }
