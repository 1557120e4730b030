"""Rewards for RL trainers: a model's completion graded on its problem's tests in the sandbox.

The entry points take what the trainers hand over, as they hand it over:

    compute_score(data_source, solution_str, ground_truth, extra_info=None, **kwargs)
        verl's custom reward (`custom_reward_function.name=compute_score`), one completion
    compute_score_batch(data_sources, solution_strs, ground_truths, extra_infos=None, **kwargs)
        verl's BatchRewardManager (`reward_model.reward_manager=batch`), one call per batch
    reward_func(queries, prompts, labels, **kwargs)
        OpenRLHF's `--remote_rm_url /path/to/solver/reward.py`

Each completion: the program is taken out of it as rsa-code takes it (solver/extract.py),
then graded on the problem's tests by the sandbox, which keeps the expected outputs away
from the program and decides the verdict itself, so a program cannot forge a pass. The
score is the fraction of tests passed (`reward_kind="fraction"`, every test run) or 1.0/0.0
for passing every test (`reward_kind="pass"`, the default; grading stops at the first failure).

The verl functions return a dict per completion, always with the same keys: `score` (the
reward), `passed` and `total` tests, `all_passed` (1.0/0.0) and `infra_error` (1.0 when the
sandbox itself failed after its retries: the score is then 0.0 and a warning is logged,
so a broken sandbox shows in the trainer's metrics instead of hiding as wrong answers).

Never raises on a bad completion: None, bytes, empty, no program, binary junk, or text
over MAX_COMPLETION_CHARS (or unfenced and over MAX_UNFENCED_LINES lines) scores 0.0. A bad ground truth (not made by
`encode_ground_truth`, or corrupt) is a data error and raises GroundTruthError.

Settings, most specific first: keyword arguments (verl's `custom_reward_function.reward_kwargs`),
then `extra_info` keys `reward_kind` and `semantics`, then `SETTINGS` (a module-level object, set
from the environment at import: RSA_CODE_REWARD=pass|fraction, RSA_CODE_REWARD_SEMANTICS=lcb|judge,
RSA_CODE_REWARD_SANDBOX=docker|local, RSA_CODE_REWARD_WORKERS, RSA_CODE_REWARD_TIMEOUT
seconds per test, RSA_CODE_REWARD_MEMORY_MB). The sandbox settings may come as keyword
arguments too (`sandbox`, `workers`, `test_seconds`, `memory_mb`): they apply when the
process's sandbox is made, on its first call.

One warm sandbox per process, made on the first call and reused by every later call (and
by every thread: concurrent single calls run side by side in its pool), closed at exit.
Identical programs for the same tests in one batch are graded once.

Ground truth (`reward_model.ground_truth` in verl, `label` in OpenRLHF): a string, the
problem's kind, func_name and tests as JSON (`{"format": "rsa-code/tests-v1", ...}`), or,
when large, the same JSON zlib-compressed and base64-encoded behind the prefix `zlib64:`.
Decoded with json and zlib only (no pickle), decompression bounded by MAX_GROUND_TRUTH_BYTES.
"""

# No `from __future__ import annotations`: trainers load this file under a made-up module
# name that is not in sys.modules, where dataclasses cannot resolve string annotations.
import atexit
import base64
import binascii
import hashlib
import inspect
import json
import logging
import os
import re
import threading
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

from problems import Problem, TestCase
from sandbox import Limits, Verdict, job_for, make_sandbox
from solver.extract import extract_code

log = logging.getLogger("rsa_code.reward")

GROUND_TRUTH_FORMAT = "rsa-code/tests-v1"
COMPRESSED_PREFIX = "zlib64:"
COMPRESS_ABOVE_BYTES = 32 * 1024  # ground truths larger than this are stored compressed
MAX_GROUND_TRUTH_BYTES = 512 * 1024 * 1024  # a decompressed ground truth larger than this is refused
# Bounds that keep one junk completion from stalling the trainer: extraction of text with
# no fenced block tries every tail of it as Python (quadratic: 4,000 lines of prose take
# 0.7 s, 20,000 about 17 s). A completion longer than MAX_COMPLETION_CHARS, or one with no
# fence and more than MAX_UNFENCED_LINES lines in its answer (after the last </think>),
# scores 0 unread.
MAX_COMPLETION_CHARS = 400_000
MAX_UNFENCED_LINES = 3_000
THINK_CLOSE = "</think>"  # everything before the last one is thinking (solver/extract.py, rule 1)
_FENCE_OPENING = re.compile(r"^[ \t]*(`{3,}|~{3,})", re.MULTILINE)

RewardKind = Literal["pass", "fraction"]
REWARD_KINDS = ("pass", "fraction")
SEMANTICS = ("lcb", "judge")
# Whether this sandbox's job_for takes `semantics` (the grader that cannot be fooled brings it).
SANDBOX_HAS_SEMANTICS = "semantics" in inspect.signature(job_for).parameters


class GroundTruthError(ValueError):
    """A ground truth that is not one `encode_ground_truth` made: the data is wrong, not the completion."""


@dataclass
class Settings:
    reward_kind: str = os.environ.get("RSA_CODE_REWARD", "pass")
    semantics: str = os.environ.get("RSA_CODE_REWARD_SEMANTICS", "lcb")
    sandbox: str = os.environ.get("RSA_CODE_REWARD_SANDBOX", "docker")
    workers: int | None = int(os.environ["RSA_CODE_REWARD_WORKERS"]) if os.environ.get("RSA_CODE_REWARD_WORKERS") else None
    test_seconds: float = float(os.environ.get("RSA_CODE_REWARD_TIMEOUT", Limits().test_seconds))
    memory_mb: int = int(os.environ.get("RSA_CODE_REWARD_MEMORY_MB", Limits().memory_mb))


SETTINGS = Settings()


# --- ground truth -------------------------------------------------------------------------


@dataclass(frozen=True)
class GroundTruth:
    problem: Problem  # a stand-in problem holding the tests (as hidden tests), for job_for

    @property
    def tests(self) -> tuple[TestCase, ...]:
        return self.problem.all_tests


def encode_ground_truth(problem: Problem, tests: Sequence[TestCase] | None = None) -> str:
    """What grading a new completion of `problem` needs, as one string (all its tests, public first)."""
    chosen = problem.all_tests if tests is None else tuple(tests)
    if not chosen:
        raise ValueError(f"{problem.id}: no tests to grade a completion with")
    text = json.dumps(
        {
            "format": GROUND_TRUTH_FORMAT,
            "kind": problem.kind,
            "func_name": problem.func_name,
            "tests": [[t.input, t.output] for t in chosen],
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )
    raw = text.encode("utf-8")
    if len(raw) <= COMPRESS_ABOVE_BYTES:
        return text
    return COMPRESSED_PREFIX + base64.b64encode(zlib.compress(raw, 9)).decode("ascii")


def decode_ground_truth(text: Any) -> GroundTruth:
    """The ground truth `encode_ground_truth` made; GroundTruthError for anything else."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    if not isinstance(text, str):
        raise GroundTruthError(f"ground truth must be a string, got {type(text).__name__}")
    return _decode(text)


@lru_cache(maxsize=256)  # GRPO grades n completions of one prompt: decode its tests once
def _decode(text: str) -> GroundTruth:
    if text.startswith(COMPRESSED_PREFIX):
        try:
            packed = base64.b64decode(text[len(COMPRESSED_PREFIX) :], validate=True)
            inflater = zlib.decompressobj()
            raw = inflater.decompress(packed, MAX_GROUND_TRUTH_BYTES)
            if inflater.unconsumed_tail:
                raise GroundTruthError(f"ground truth decompresses to more than {MAX_GROUND_TRUTH_BYTES} bytes")
            if not inflater.eof:
                raise GroundTruthError("ground truth: truncated compressed data")
            text = raw.decode("utf-8")
        except (binascii.Error, zlib.error, UnicodeDecodeError) as e:
            raise GroundTruthError(f"ground truth: corrupt compressed data ({e})") from None
    try:
        record = json.loads(text)
    except ValueError as e:
        raise GroundTruthError(f"ground truth is not JSON ({e})") from None
    if not isinstance(record, dict) or record.get("format") != GROUND_TRUTH_FORMAT:
        raise GroundTruthError(f"ground truth is not {GROUND_TRUTH_FORMAT!r} (made by `rsa-code dataset --format verl`)")
    kind, func_name, tests = record.get("kind"), record.get("func_name"), record.get("tests")
    if kind not in ("stdin", "functional"):
        raise GroundTruthError(f"ground truth: kind {kind!r}, expected stdin or functional")
    if kind == "functional" and not (isinstance(func_name, str) and func_name):
        raise GroundTruthError("ground truth: a functional problem needs func_name")
    if not isinstance(tests, list) or not tests:
        raise GroundTruthError("ground truth: no tests")
    cases = []
    for number, test in enumerate(tests):
        if not (isinstance(test, list) and len(test) == 2 and all(isinstance(x, str) for x in test)):
            raise GroundTruthError(f"ground truth: test {number} is not [input, output] strings")
        if kind == "functional":
            try:
                [json.loads(line) for line in test[0].split("\n")]
                json.loads(test[1])
            except ValueError:
                raise GroundTruthError(f"ground truth: functional test {number} is not JSON lines") from None
        cases.append(TestCase(input=test[0], output=test[1]))
    return GroundTruth(
        Problem(
            id="reward",
            statement="(graded by solver.reward)",
            kind=kind,
            func_name=func_name if kind == "functional" else None,
            hidden_tests=tuple(cases),
        )
    )


# --- the completion -----------------------------------------------------------------------


def completion_text(solution: Any) -> str:
    """Any completion as text without surrogates or NULs; "" when there is nothing usable."""
    if solution is None:
        return ""
    if isinstance(solution, (bytes, bytearray, memoryview)):
        solution = bytes(solution).decode("utf-8", "replace")
    elif not isinstance(solution, str):
        return ""
    return solution.encode("utf-8", "replace").decode("utf-8").replace("\x00", "")


def program_of(solution: Any) -> str:
    """The program rsa-code would take from this completion ("" when none, or when the
    completion is longer than MAX_COMPLETION_CHARS)."""
    text = completion_text(solution)
    if not text.strip() or len(text) > MAX_COMPLETION_CHARS:
        return ""
    answer = text[text.rfind(THINK_CLOSE) + len(THINK_CLOSE) :] if THINK_CLOSE in text else text
    if not _FENCE_OPENING.search(answer) and answer.count("\n") >= MAX_UNFENCED_LINES:
        return ""
    try:
        return extract_code(text)
    except Exception:  # noqa: BLE001 -- a completion must never crash the trainer
        log.exception("extracting a program failed; scoring the completion 0")
        return ""


# --- the sandbox, one per process ---------------------------------------------------------

_sandbox = None
_sandbox_pid: int | None = None
_sandbox_lock = threading.Lock()


def sandbox():
    """This process's warm sandbox (made on first use with SETTINGS; a forked child makes its own)."""
    global _sandbox, _sandbox_pid
    with _sandbox_lock:
        if _sandbox is None or _sandbox_pid != os.getpid():
            limits = Limits(test_seconds=SETTINGS.test_seconds, memory_mb=SETTINGS.memory_mb)
            _sandbox = make_sandbox(SETTINGS.sandbox, limits, workers=SETTINGS.workers)
            _sandbox_pid = os.getpid()
        return _sandbox


def close() -> None:
    """Close this process's sandbox (done at exit; the next call makes a new one)."""
    global _sandbox
    with _sandbox_lock:
        if _sandbox is not None and _sandbox_pid == os.getpid():
            _sandbox.close()
        _sandbox = None


atexit.register(close)


# --- scoring ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Score:
    score: float
    passed: int
    total: int
    verdict: str  # a Verdict value, or "no_code" when the completion holds no program

    def as_dict(self) -> dict[str, float]:
        return {
            "score": self.score,
            "passed": float(self.passed),
            "total": float(self.total),
            "all_passed": float(self.verdict == Verdict.PASSED.value),
            "infra_error": float(self.verdict == Verdict.INFRA_ERROR.value),
        }


def _choice(name: str, kwargs: dict, extra_info: Any, default: str, allowed: tuple[str, ...]) -> str:
    value = kwargs.get(name)
    if value is None and isinstance(extra_info, dict):
        value = extra_info.get(name)
    value = default if value is None else value
    if value not in allowed:
        raise ValueError(f"solver.reward: {name}={value!r}, expected one of {', '.join(allowed)}")
    return value


def score_many(solutions: Sequence[Any], ground_truths: Sequence[Any], extra_infos: Sequence[Any] | None = None, **kwargs) -> list[Score]:
    """Grade completions against their ground truths in one sandbox call."""
    if len(solutions) != len(ground_truths) or (extra_infos is not None and len(extra_infos) != len(solutions)):
        raise ValueError("solver.reward: solutions, ground truths and extra infos differ in length")
    infos = list(extra_infos) if extra_infos is not None else [None] * len(solutions)
    scores: list[Score | None] = [None] * len(solutions)
    jobs, keys, slots = [], {}, []  # distinct jobs; key -> job number; (completion, job number)
    for i, (solution, truth, info) in enumerate(zip(solutions, ground_truths, infos)):
        reward = _choice("reward_kind", kwargs, info, SETTINGS.reward_kind, REWARD_KINDS)
        semantics = _choice("semantics", kwargs, info, SETTINGS.semantics, SEMANTICS)
        gt = decode_ground_truth(truth)
        code = program_of(solution)
        if not code.strip():
            scores[i] = Score(0.0, 0, len(gt.tests), "no_code")
            continue
        key = (hashlib.sha256(code.encode()).digest(), truth if isinstance(truth, str) else bytes(truth), reward, semantics)
        if key not in keys:
            keys[key] = len(jobs)
            mode = "all" if reward == "fraction" else "first_failure"
            if not SANDBOX_HAS_SEMANTICS and semantics != "lcb":
                log.warning("solver.reward: this sandbox grades with lcb semantics only; %r is ignored", semantics)
            extra = {"semantics": semantics} if SANDBOX_HAS_SEMANTICS else {}
            jobs.append((job_for(gt.problem, code, mode=mode, **extra), reward))
        slots.append((i, keys[key]))
    if jobs:
        results = sandbox().run([job for job, _ in jobs])
        for i, number in slots:
            result, reward = results[number], jobs[number][1]
            if result.verdict is Verdict.INFRA_ERROR:
                log.warning("the sandbox failed grading a completion (scored 0, flagged infra_error): %s", result.detail[:300])
                scores[i] = Score(0.0, 0, result.total, result.verdict.value)
                continue
            value = result.passed / result.total if reward == "fraction" else float(result.ok)
            scores[i] = Score(value, result.passed, result.total, result.verdict.value)
    return [s for s in scores if s is not None]


def compute_score(
    data_source: Any = None, solution_str: Any = None, ground_truth: Any = None, extra_info: Any = None, **kwargs
) -> dict[str, float]:
    """verl's custom reward for one completion (see the module's docstring)."""
    return score_many([solution_str], [ground_truth], [extra_info], **_own(kwargs))[0].as_dict()


def compute_score_batch(
    data_sources: Sequence[Any] | None = None,
    solution_strs: Sequence[Any] = (),
    ground_truths: Sequence[Any] = (),
    extra_infos: Sequence[Any] | None = None,
    **kwargs,
) -> list[dict[str, float]]:
    """verl's BatchRewardManager reward: every completion of the batch in one sandbox call."""
    return [
        s.as_dict()
        for s in score_many(
            list(solution_strs), list(ground_truths), list(extra_infos) if extra_infos is not None else None, **_own(kwargs)
        )
    ]


_SANDBOX_KWARGS = {"sandbox": str, "workers": int, "test_seconds": float, "memory_mb": int}


def _own(kwargs: dict) -> dict:
    """The keyword arguments this module reads (trainers pass others: num_turns, tokenizers...).
    Sandbox settings among them (verl's reward_kwargs reach every reward worker) go to
    SETTINGS, for the sandbox this process has not made yet."""
    for name, cast in _SANDBOX_KWARGS.items():
        if kwargs.get(name) is not None and getattr(SETTINGS, name) != cast(kwargs[name]):
            if _sandbox is not None:
                log.warning("solver.reward: %s=%r comes after the sandbox was made; it applies to the next one", name, kwargs[name])
            setattr(SETTINGS, name, cast(kwargs[name]))
    return {k: kwargs[k] for k in ("reward_kind", "semantics") if kwargs.get(k) is not None}


# OpenRLHF hands over prompt + response as decoded text (special tokens kept) and the prompt alone.
_TRAILING_SPECIAL = re.compile(r"(?:\s*(?:<\|[^|<>\s]{1,40}\|>|</s>|<eos>|<end_of_turn>))+\s*\Z")


def response_of(query: Any, prompt: Any) -> str:
    """The response inside OpenRLHF's query (prompt + response): what follows the prompt, or
    "" when the query does not start with it (never the prompt's own candidates' code)."""
    query, prompt = completion_text(query), completion_text(prompt)
    if not query.startswith(prompt):
        return ""
    return _TRAILING_SPECIAL.sub("", query[len(prompt) :])


def reward_func(queries: Sequence[Any], prompts: Sequence[Any], labels: Sequence[Any], **kwargs) -> dict:
    """OpenRLHF's reward function: {"rewards", "scores", "extra_logs"} for the batch."""
    import torch

    scores = score_many([response_of(q, p) for q, p in zip(queries, prompts)], list(labels), None, **_own(kwargs))
    values = torch.tensor([s.score for s in scores], dtype=torch.float32)
    return {
        "rewards": values,
        "scores": values,
        "extra_logs": {
            "all_passed": torch.tensor([float(s.verdict == Verdict.PASSED.value) for s in scores]),
            "infra_error": torch.tensor([float(s.verdict == Verdict.INFRA_ERROR.value) for s in scores]),
        },
    }


if __name__ != "solver.reward":
    # Loaded from this file under another name (verl's `custom_reward_function.path=/path/to/
    # reward.py`, OpenRLHF's --remote_rm_url): hand every call to the package's module, so a
    # process keeps one sandbox and one SETTINGS whichever way the trainer imported it.
    from solver import reward as _package

    compute_score, compute_score_batch, reward_func = _package.compute_score, _package.compute_score_batch, _package.reward_func
    SETTINGS = _package.SETTINGS
