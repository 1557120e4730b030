"""Recursive Self-Aggregation (arXiv 2509.26626) and the baselines that share its loop.

Round 0 samples N programs per problem. Each later round writes N new candidates per
problem, each from K distinct members of the current population drawn at random, and the
new population replaces the old. Every round sends all problems' prompts to the runner in
one call. All randomness comes from one generator per problem, seeded from (seed, problem
id): a problem's subsets do not depend on which other problems share the run, and the
generator's state after each round is what a resumed run restores.

Methods: rsa (K random parents), refine (each chain rewrites its own previous answer:
K=1 but not the paper's K=1, which is rsa with k=1, one random parent), and sample /
majority / rejection / self-verify (independent samples every round; they differ in
selection, which solver/selection.py does). self-verify also has the same model judge each
new candidate from the problem's statement and the program alone (`Solver.verify`: one
runner call per round, after the generation call); its judge's seeds derive from the
candidates' own, so its candidates are exactly `sample`'s with the same seed.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Literal, NamedTuple

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from problems import Problem
from prompts import (
    Budget,
    CandidateText,
    Prompt,
    PromptTooLong,
    Templates,
    aggregation_messages,
    build_aggregation,
    build_generation,
    build_verification,
    generation_messages,
)
from runners.base import ChatRequest, Runner, Sampling
from solver.extract import assistant_turn, extract, split_thinking

Method = Literal["rsa", "refine", "sample", "majority", "rejection", "self-verify"]
AGGREGATING: frozenset[str] = frozenset({"rsa", "refine"})
VERIFYING: frozenset[str] = frozenset({"self-verify"})  # the model judges its own candidates


class RSAConfig(BaseModel):
    """What decides the candidates. Two runs with equal configs (and runner) produce equal candidates."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    method: Method = "rsa"
    n: int = Field(8, ge=1, description="Population size N: candidates per problem per round (the paper: 16).")
    k: int = Field(4, ge=1, description="Subset size K: candidates shown in each aggregation prompt (the paper: 4).")
    t: int = Field(
        3, ge=0, description="Aggregation rounds T after the first sampling round; 0 samples only. The paper's 10 steps are T = 9 here."
    )
    max_tokens: int = Field(1024, ge=1, description="Completion tokens per candidate.")
    temperature: float = Field(1.0, ge=0, description="Sampling temperature (the paper: 1.0).")
    top_p: float = Field(1.0, gt=0, le=1, description="Nucleus sampling threshold.")
    # Sent only when set: unset, in-process runners sample without them and a server applies
    # its own defaults (vLLM: the model's generation config, e.g. Qwen3's top_k=20).
    top_k: int | None = Field(None, ge=-1, description="Keep the K most likely tokens (0 or -1: all; unset: not sent).")
    min_p: float | None = Field(
        None, ge=0, le=1, description="Drop tokens below min_p times the top token's probability (unset: not sent)."
    )
    presence_penalty: float | None = Field(
        None, ge=-2, le=2, description="Penalty on tokens already generated (vllm, openai; unset: not sent)."
    )
    repetition_penalty: float | None = Field(
        None, gt=0, description="Penalty on tokens of the prompt and output, 1 = off (unset: not sent)."
    )
    seed: int = Field(0, description="Seeds subsets, sampling and selection: same seed, same run.")

    @model_validator(mode="after")
    def _check(self) -> RSAConfig:
        if self.method == "refine" and self.k != 1:
            raise ValueError("refine rewrites each chain's own previous answer: it needs k = 1")
        if self.method in AGGREGATING and self.k > self.n:
            raise ValueError(f"k ({self.k}) cannot exceed n ({self.n}): a subset holds k distinct members of the population")
        return self


class CandidateKey(NamedTuple):
    """What names a candidate across a run (its grade carries the same key)."""

    problem_id: str
    index: int
    round: int


@dataclass(frozen=True, slots=True)
class Candidate:
    problem_id: str
    round: int
    index: int
    parents: tuple[int, ...]
    seed: int
    text: str
    code: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str  # "stop" | "length" | "prompt_too_long"
    trim: dict | None = None

    @property
    def key(self) -> CandidateKey:
        return CandidateKey(self.problem_id, self.index, self.round)

    def to_record(self) -> dict:
        return {name: getattr(self, name) for name in self.__slots__}  # asdict deep-copies: slow at scale

    @classmethod
    def from_record(cls, record: dict) -> Candidate:
        fields = {f: record[f] for f in cls.__slots__}
        fields["parents"] = tuple(fields["parents"])
        return cls(**fields)


JudgeVerdict = Literal["correct", "incorrect"]
# The judge's verdict: the last "VERDICT: correct|incorrect" (or yes|no) of its answer (markup around it allowed).
_VERDICT = re.compile(r"verdict\W{0,8}?(incorrect|correct|yes|no)\b", re.IGNORECASE)
# The answer's first word, when it holds no VERDICT line: the template asks for Yes or No first,
# which small models give more often than the closing line.
_FIRST_WORD = re.compile(r"^\W*(yes|no|correct|incorrect)\b", re.IGNORECASE)
_AS_VERDICT: dict[str, JudgeVerdict] = {"yes": "correct", "correct": "correct", "no": "incorrect", "incorrect": "incorrect"}


def parse_verdict(text: str, opened: bool = False) -> JudgeVerdict | None:
    """The verdict of a judge's response: its last `VERDICT:` line, else its first word when
    that is Yes, No, Correct or Incorrect; None when it holds neither. Thinking is not the
    answer: only the text after the last </think> counts, and a response cut off inside its
    thinking has no verdict (`opened`: the chat template opened the thinking)."""
    _, _, answer, cut = split_thinking(text, opened)
    if cut:
        return None
    found = _VERDICT.findall(answer) or _FIRST_WORD.findall(answer[:64])[:1]
    return _AS_VERDICT[found[-1].lower()] if found else None


@dataclass(frozen=True, slots=True)
class Judgement:
    """The model's judgement of one candidate (self-verify). `verdict` None: no parseable
    verdict, or no judgement made (`finish_reason` "prompt_too_long"); a candidate with no
    program is not sent and is "incorrect" (`finish_reason` "no_code")."""

    problem_id: str
    round: int
    index: int
    seed: int
    text: str
    verdict: JudgeVerdict | None
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str  # "stop" | "length" | "prompt_too_long" | "no_code"

    @property
    def key(self) -> CandidateKey:
        return CandidateKey(self.problem_id, self.index, self.round)

    @property
    def sent(self) -> bool:
        return self.finish_reason in ("stop", "length")

    def to_record(self) -> dict:
        return {name: getattr(self, name) for name in self.__slots__}

    @classmethod
    def from_record(cls, record: dict) -> Judgement:
        return cls(**{f: record[f] for f in cls.__slots__})


def verify_seed(candidate: Candidate) -> int:
    """The judge's sampling seed for a candidate: from the candidate's own seed, apart from
    generation's stream, so judging draws nothing from the problem's generator."""
    return int(np.random.SeedSequence([candidate.seed, 0x5E1F]).generate_state(1)[0] % (2**31 - 1))


def defined_function(problem: Problem) -> str | None:
    """The function a program must define, for problems whose tests are code calling it."""
    return problem.func_name if problem.kind == "assertion" else None


def problem_rng(seed: int, problem_id: str) -> np.random.Generator:
    words = np.frombuffer(hashlib.sha256(problem_id.encode()).digest()[:16], dtype=np.uint32)
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, *words.tolist()])))


Feedback = Callable[[Candidate], str]  # a candidate's public-test results, for --feedback-in-prompt


def candidate_views(parents: Sequence[Candidate], feedback: Feedback | None = None) -> list[CandidateText]:
    """Parents as the aggregator sees them: thinking shown as text (tags dropped), and part
    of the reasoning that trimming cuts."""
    views = []
    for c in parents:
        split = extract(c.text)
        views.append(CandidateText(split.shown, split.reasoning, c.code, feedback(c) if feedback else None))
    return views


def sent_messages(
    problem: Problem,
    parents: Sequence[Candidate],
    trim: dict | None,
    feedback: Feedback | None = None,
    templates: Templates | None = None,
):
    """The messages a candidate was generated from, rebuilt from its parents, recorded trim and templates."""
    if not parents:
        return generation_messages(problem, templates)
    views = candidate_views(parents, feedback)
    if trim is None:
        return aggregation_messages(problem, views, templates=templates)
    if trim["stage"] == "reasoning":
        return aggregation_messages(problem, views, reasoning_cap=trim["cap_chars"], templates=templates)
    return aggregation_messages(problem, views, reasoning_cap=0, code_cap=trim["cap_chars"], templates=templates)


@dataclass
class ProblemRun:
    problem: Problem
    rng: np.random.Generator
    rounds: list[list[Candidate]]
    judgements: dict[CandidateKey, Judgement] = field(default_factory=dict)  # self-verify's

    @property
    def population(self) -> list[Candidate]:
        return self.rounds[-1]


@dataclass(frozen=True, slots=True)
class RoundStats:
    round: int
    completions: int
    prompt_tokens: int
    completion_tokens: int
    seconds: float
    hit_max_tokens: int
    trimmed_prompts: int
    prompts_too_long: int
    # self-verify's judge (0 for every other method): requests sent, their tokens, the
    # candidates judged correct, and the judgements sent that held no parseable verdict
    verify_requests: int = 0
    verify_prompt_tokens: int = 0
    verify_completion_tokens: int = 0
    verify_correct: int = 0
    verify_unparsed: int = 0

    @property
    def tokens_per_second(self) -> float:
        return self.completion_tokens / self.seconds if self.seconds > 0 else 0.0

    def verified(self, judgements: Iterable[Judgement]) -> RoundStats:
        """These stats with the cost of the round's judgements (counted from the records,
        so a resumed run counts what an uninterrupted one does)."""
        sent = [j for j in judgements if j.sent]
        return replace(
            self,
            verify_requests=len(sent),
            verify_prompt_tokens=sum(j.prompt_tokens for j in sent),
            verify_completion_tokens=sum(j.completion_tokens for j in sent),
            verify_correct=sum(j.verdict == "correct" for j in sent),
            verify_unparsed=sum(j.verdict is None for j in sent),
        )


@dataclass(frozen=True, slots=True)
class _Planned:
    run: ProblemRun
    index: int
    parents: tuple[int, ...]
    seed: int


class Solver:
    def __init__(self, runner: Runner, config: RSAConfig, templates: Templates | None = None):
        self.runner = runner
        self.config = config
        self.templates = templates
        # A runner whose chat template opens <think> says so (Qwen3 thinking models): the
        # candidate's text is then the whole assistant turn, that <think> included.
        self.opens_thinking = bool(getattr(runner, "opens_thinking", False))
        self.budget = Budget(runner.count_tokens, runner.context_window, config.max_tokens)

    @property
    def verifies(self) -> bool:
        return self.config.method in VERIFYING

    def _sampling(self, seed: int) -> Sampling:
        c = self.config
        return Sampling(
            max_tokens=c.max_tokens,
            temperature=c.temperature,
            top_p=c.top_p,
            seed=seed,
            top_k=c.top_k,
            min_p=c.min_p,
            presence_penalty=c.presence_penalty,
            repetition_penalty=c.repetition_penalty,
        )

    def start(self, problems: Iterable[Problem]) -> list[ProblemRun]:
        return [ProblemRun(p, problem_rng(self.config.seed, p.id), []) for p in problems]

    def _plan(self, run: ProblemRun, round_index: int) -> list[_Planned]:
        cfg, rng = self.config, run.rng
        planned = []
        for i in range(cfg.n):
            if round_index == 0 or cfg.method not in AGGREGATING:
                parents: tuple[int, ...] = ()
            elif cfg.method == "refine":
                parents = (i,)
            else:
                parents = tuple(int(p) for p in rng.choice(cfg.n, size=cfg.k, replace=False))
            planned.append(_Planned(run, i, parents, int(rng.integers(2**31 - 1))))
        return planned

    def _prompt(self, item: _Planned, views: dict[int, list[CandidateText]], feedback: Feedback | None) -> Prompt:
        if not item.parents:
            return build_generation(item.run.problem, self.budget, self.templates)
        if id(item.run) not in views:  # each member's text is split once per round, not K times
            views[id(item.run)] = candidate_views(item.run.population, feedback)
        population = views[id(item.run)]
        return build_aggregation(item.run.problem, [population[p] for p in item.parents], self.budget, self.templates)

    def step(
        self,
        runs: Sequence[ProblemRun],
        feedback: Feedback | None = None,
        active: Callable[[ProblemRun], bool] | None = None,
    ) -> RoundStats:
        """Write the next population of every (active) problem with one runner call."""
        started = time.perf_counter()
        round_index = len(runs[0].rounds) if runs else 0
        if any(len(run.rounds) != round_index for run in runs):
            raise ValueError("all problems of a step must be at the same round")
        working = [run for run in runs if active is None or active(run)]
        planned = [item for run in working for item in self._plan(run, round_index)]

        requests, sent, too_long, trims = [], [], [], {}
        views: dict[int, list[CandidateText]] = {}
        for item in planned:
            try:
                prompt = self._prompt(item, views, feedback)
            except PromptTooLong:
                too_long.append(item)
                continue
            if prompt.trim is not None:
                trims[id(item)] = asdict(prompt.trim)
            requests.append(ChatRequest(prompt.messages, self._sampling(item.seed)))
            sent.append(item)

        completions = self.runner.generate(requests) if requests else []
        made: dict[int, Candidate] = {}
        for item, done in zip(sent, completions, strict=True):
            text = assistant_turn(done.text, self.opens_thinking)
            made[id(item)] = Candidate(
                item.run.problem.id,
                round_index,
                item.index,
                item.parents,
                item.seed,
                text,
                extract(text, defines=defined_function(item.run.problem)).code,
                done.prompt_tokens,
                done.completion_tokens,
                done.finish_reason,
                trims.get(id(item)),
            )
        for item in too_long:
            made[id(item)] = Candidate(
                item.run.problem.id, round_index, item.index, item.parents, item.seed, "", "", 0, 0, "prompt_too_long"
            )
        by_run: dict[int, list[Candidate]] = {id(run): [] for run in runs}
        for item in planned:
            by_run[id(item.run)].append(made[id(item)])
        for run in runs:  # a problem left out this round gets an empty population
            run.rounds.append(by_run[id(run)])

        return RoundStats(
            round=round_index,
            completions=len(completions),
            prompt_tokens=sum(c.prompt_tokens for c in completions),
            completion_tokens=sum(c.completion_tokens for c in completions),
            seconds=time.perf_counter() - started,
            hit_max_tokens=sum(c.finish_reason == "length" for c in completions),
            trimmed_prompts=len(trims),
            prompts_too_long=len(too_long),
        )

    def verify(self, runs: Sequence[ProblemRun], candidates: Sequence[Candidate]) -> list[Judgement]:
        """Judge `candidates` (of `runs`' problems) with one runner call: the model sees the
        problem's statement and the candidate's program, no tests. Each judgement is also
        kept in its problem's `judgements`."""
        by_id = {run.problem.id: run for run in runs}
        made: dict[CandidateKey, Judgement] = {}
        requests, sent = [], []
        for c in candidates:
            seed = verify_seed(c)
            if not c.code:
                made[c.key] = Judgement(c.problem_id, c.round, c.index, seed, "", "incorrect", 0, 0, "no_code")
                continue
            try:
                prompt = build_verification(by_id[c.problem_id].problem, c.code, self.budget, self.templates)
            except PromptTooLong:
                made[c.key] = Judgement(c.problem_id, c.round, c.index, seed, "", None, 0, 0, "prompt_too_long")
                continue
            requests.append(ChatRequest(prompt.messages, self._sampling(seed)))
            sent.append(c)
        completions = self.runner.generate(requests) if requests else []
        for c, done in zip(sent, completions, strict=True):
            text = assistant_turn(done.text, self.opens_thinking)
            made[c.key] = Judgement(
                c.problem_id,
                c.round,
                c.index,
                verify_seed(c),
                text,
                parse_verdict(text),
                done.prompt_tokens,
                done.completion_tokens,
                done.finish_reason,
            )
        judgements = [made[c.key] for c in candidates]
        for j in judgements:
            by_id[j.problem_id].judgements[j.key] = j
        return judgements

    def run(self, problems: Iterable[Problem], on_round: Callable[[RoundStats], None] | None = None) -> list[ProblemRun]:
        runs = self.start(problems)
        for _ in range(self.config.t + 1):
            stats = self.step(runs)
            if self.verifies:
                stats = stats.verified(self.verify(runs, [c for run in runs for c in run.population]))
            if on_round:
                on_round(stats)
        return runs
