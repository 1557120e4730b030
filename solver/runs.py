"""What an evaluation run is, and the one reader of its directory.

    config.json     run_config(): what decides the results (hashed), and under "runtime"
                    what does not (paths, workers, server address)
    problems.json   problem_meta(): each problem's statement and metadata, without its tests
    round-*.jsonl   candidates and their grades (solver/rundir.py, solver/grades.py)

EvalConfig says what the method is: its label, and whether it uses a verifier. Reports,
datasets and exports read a run with `load_run`, never the writer's internals.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from problems import InputFileError, Problem, UsageError
from prompts import Templates, default_templates
from solver.grades import Grade, Grades, latest
from solver.rsa import AGGREGATING, CandidateKey, Judgement, RSAConfig
from solver.rundir import CONFIG, Round, RunDir

PROBLEMS = "problems.json"
RESUME_NEUTRAL = ("runtime",)  # config keys that may change between a run and its resumption
FEEDBACK_LABEL = "+public-feedback-in-prompt"


class EvalConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    rsa: RSAConfig
    feedback: bool = Field(False, description="record each candidate's public-test verdicts")
    feedback_in_prompt: bool = Field(False, description="show the aggregator its candidates' public-test results")

    @model_validator(mode="after")
    def _check(self) -> EvalConfig:
        if self.feedback_in_prompt and self.rsa.method not in AGGREGATING:
            raise ValueError(
                f"--feedback-in-prompt needs an aggregating method ({' or '.join(sorted(AGGREGATING))}), not {self.rsa.method}"
            )
        return self

    @property
    def uses_verifier(self) -> bool:
        """Methods that look at test results while generating are not verifier-free (and
        must wait for a round's grades before writing the next)."""
        return self.feedback_in_prompt or self.rsa.method == "rejection"

    @property
    def label(self) -> str:
        """The method's name in reports and datasets."""
        return self.rsa.method + (FEEDBACK_LABEL if self.feedback_in_prompt else "")

    @classmethod
    def of_run(cls, config: dict[str, Any]) -> EvalConfig:
        """The EvalConfig recorded in a run's config.json (fields added since default)."""
        rsa = {k: v for k, v in config["rsa"].items() if k in RSAConfig.model_fields}
        evaluation = {k: v for k, v in config.get("eval", {}).items() if k in cls.model_fields}
        return cls(rsa=RSAConfig(**rsa), **evaluation)


def problem_meta(problems: Iterable[Problem]) -> dict[str, dict]:
    """What reports and datasets need of each problem, saved with the run: everything but
    the tests, which stay in the user's files."""
    return {
        p.id: {
            **p.model_dump(mode="json", exclude={"id", "public_tests", "hidden_tests"}),
            "public_tests": len(p.public_tests),
            "hidden_tests": len(p.hidden_tests),
        }
        for p in problems
    }


def problem_of(pid: str, meta: dict) -> Problem:
    """A problem rebuilt from problems.json: statement and metadata, no tests."""
    return Problem(id=pid, **{k: v for k, v in meta.items() if k not in ("public_tests", "hidden_tests")})


def run_config(
    config: EvalConfig,
    problems: Sequence[Problem],
    runner: dict,
    limits: dict,
    shard: str | None = None,
    runtime: dict | None = None,
    semantics: str = "lcb",
    templates: Templates | None = None,
) -> dict:
    """What config.json holds for an evaluation. `templates`: the prompt templates (None:
    the defaults), recorded with their texts so the prompts can be rebuilt."""
    digest = hashlib.sha256()
    for p in problems:
        digest.update(p.model_dump_json().encode())
    return {
        "command": "eval",
        "rsa": config.rsa.model_dump(),
        "eval": {"feedback": config.feedback, "feedback_in_prompt": config.feedback_in_prompt},
        "runner": runner,
        "limits": limits,
        "semantics": semantics,
        "templates": (templates or default_templates()).record(),
        "problems": {"count": len(problems), "digest": digest.hexdigest()[:16]},
        "shard": shard,
        "runtime": runtime or {},
    }


@dataclass
class RunData:
    name: str
    config: dict
    meta: dict[str, dict]  # problem id -> difficulty, platform, source, test counts
    rounds: list[Round]
    grades: Grades = field(default_factory=dict)  # every candidate's latest grade
    judgements: dict[CandidateKey, Judgement] = field(default_factory=dict)  # self-verify's, by candidate

    def __post_init__(self) -> None:
        if not self.grades:
            self.grades = grades_by_candidate(self.rounds)
        if not self.judgements:
            self.judgements = {j.key: j for r in self.rounds for j in r.judgements}

    @property
    def eval_config(self) -> EvalConfig:
        return EvalConfig.of_run(self.config)

    @property
    def templates(self) -> Templates:
        """The prompt templates the run used (recorded with their texts)."""
        return Templates.from_record(self.config.get("templates"))

    @property
    def model(self) -> str | None:
        return self.rounds[0].header.get("model") if self.rounds else None


def grades_by_candidate(rounds: Sequence[Round]) -> dict:
    """Every candidate's latest grade, across rounds."""
    return latest(g for r in rounds for g in r.grades)


def round_grades(saved: Round) -> list[Grade]:
    """A round's latest grade per candidate."""
    return list(latest(saved.grades).values())


def load_run(path: str | Path) -> RunData:
    rundir = RunDir(path)
    if not (rundir.path / CONFIG).is_file():
        raise UsageError(f"{path}: not a run directory (no {CONFIG})")
    meta_path = rundir.path / PROBLEMS
    if not meta_path.is_file():
        raise UsageError(f"{path}: not an evaluation run (no {PROBLEMS}); `rsa-code eval` makes one")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except ValueError as e:
        raise InputFileError(meta_path, f"not valid JSON ({e})") from None
    return RunData(Path(path).name, rundir.config(), meta, rundir.rounds())
