"""Per-round metrics from a run alone, so a report can be rebuilt, compared and merged
across shards at any time.

For each problem and round, the population is the problem's current population (its
latest non-empty one: rejection stops sampling a solved problem, which keeps its last
population, so every method's every metric is over the same problems).
  pass@1      mean accuracy over the population: the expected score of a uniform pick
  pass@N      some candidate correct
  pass@k      LiveCodeBench's unbiased estimator, for each k asked, over the problems with
              at least k graded candidates (the summary says how many: `pass@k_problems`)
  random      the uniform pick actually made (seeded), the paper's selection
  majority    a pick from the largest group of programs agreeing on the public tests' inputs
  rejection   (rejection method) the first candidate passing the public tests
  verified    (self-verify method) a uniform pick among the samples so far the model judged
              correct, else a uniform pick; `judged_correct`: share of the population it
              judged correct
  public      share of candidates passing all public tests
The compute a round spent (`round_costs`): completions (requests sent), prompt and
completion tokens of the candidates made, plus self-verification's judge requests and tokens
(round header stats `verify_*`, 0 when absent), each in total and per problem of the run.
An infrastructure error counts as a failure (lcb_runner's convention) and is counted apart
(`infra_errors`); a resumed run grades it again. Candidates not graded yet are left out
and counted apart (`ungraded`); a problem with no graded candidate in a round is left out
of that round.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from solver.grades import is_correct
from solver.runs import RunData
from solver.selection import POLICIES, current_population, histories, judged_correct, pick


def pass_at_k(n: int, c: int, k: int) -> float:
    """1 - C(n-c, k) / C(n, k), in LiveCodeBench's numerically stable product form."""
    if n - c < k:
        return 1.0
    return float(1.0 - np.prod(1.0 - k / np.arange(n - c + 1, n + 1)))


@dataclass(frozen=True, slots=True)
class ProblemRound:
    problem_id: str
    round: int
    difficulty: str
    platform: str
    n: int  # graded candidates of the population (infrastructure errors included, as failures)
    correct: int
    infra: int  # of the n, grades the sandbox could not complete
    ungraded: int  # candidates without a grade yet
    random_ok: bool | None
    majority_ok: bool | None
    rejection_ok: bool | None
    public_passed: int
    prompt_tokens: int
    completion_tokens: int
    verified_ok: bool | None = None  # self-verify's pick
    judged_correct: int | None = None  # self-verify: candidates of the population judged correct


def problem_rounds(run: RunData) -> list[ProblemRound]:
    config = run.eval_config.rsa
    method, seed, grades = config.method, config.seed, run.grades
    by_problem = histories([r.candidates for r in run.rounds], list(run.meta))
    rows = []
    for t, saved in enumerate(run.rounds):
        for pid, meta in run.meta.items():
            history = by_problem[pid][: t + 1]
            population = current_population(history)
            if not population:
                continue
            graded = [g for c in population if (g := grades.get(c.key)) is not None]
            fresh = by_problem[pid][t]  # tokens are spent by the candidates made this round only
            picks = {policy: is_correct(grades, pick(policy, method, history, grades, seed, saved.index)) for policy in POLICIES}
            verifying = method == "self-verify"
            if verifying:
                chosen = pick("verified", method, history, grades, seed, saved.index, judgements=run.judgements)
                picks["verified"] = is_correct(grades, chosen)

            rows.append(
                ProblemRound(
                    problem_id=pid,
                    round=saved.index,
                    difficulty=meta["difficulty"] or "unknown",
                    platform=meta["platform"] or "unknown",
                    n=len(graded),
                    correct=sum(g.correct for g in graded),
                    infra=sum(g.infra_error for g in graded),
                    ungraded=len(population) - len(graded),
                    random_ok=picks["uniform"],
                    majority_ok=picks["majority"],
                    rejection_ok=picks["rejection"] if method == "rejection" else None,
                    public_passed=sum(g.passes_public for g in graded),
                    prompt_tokens=sum(c.prompt_tokens for c in fresh),
                    completion_tokens=sum(c.completion_tokens for c in fresh),
                    verified_ok=picks["verified"] if verifying else None,
                    judged_correct=sum(judged_correct(run.judgements, c) for c in population) if verifying else None,
                )
            )
    return rows


def _mean(values: Iterable[float | bool | None]) -> float | None:
    kept = [float(v) for v in values if v is not None]
    return sum(kept) / len(kept) if kept else None


def summarize_round(rows: Sequence[ProblemRound], ks: Sequence[int]) -> dict:
    scored = [r for r in rows if r.n > 0]
    summary = {
        "problems": len(scored),
        "candidates": sum(r.n for r in rows),
        "pass@1": _mean(r.correct / r.n for r in scored),
        "pass@N": _mean(r.correct > 0 for r in scored),
        "random": _mean(r.random_ok for r in scored),
        "majority": _mean(r.majority_ok for r in scored),
        "public": _mean(r.public_passed / r.n for r in scored),
        "infra_errors": sum(r.infra for r in rows),
        "ungraded": sum(r.ungraded for r in rows),
        "prompt_tokens": sum(r.prompt_tokens for r in rows),
        "completion_tokens": sum(r.completion_tokens for r in rows),
        "pass@k_problems": {},
    }
    if any(r.rejection_ok is not None for r in rows):
        summary["rejection"] = _mean(r.rejection_ok for r in scored)
    if any(r.verified_ok is not None for r in rows):
        summary["verified"] = _mean(r.verified_ok for r in scored)
        summary["judged_correct"] = _mean(r.judged_correct / (r.n + r.ungraded) for r in scored if r.judged_correct is not None)
    for k in ks:
        enough = [r for r in scored if r.n >= k]
        summary["pass@k_problems"][str(k)] = len(enough)
        summary[f"pass@{k}"] = _mean(pass_at_k(r.n, r.correct, k) for r in enough)
    return summary


def metrics_table(rows: Sequence[ProblemRound], ks: Sequence[int]) -> dict:
    """{"overall": [round summaries], "by_difficulty": {d: [...]}, "by_platform": {p: [...]}}."""

    def per_round(subset: Sequence[ProblemRound]) -> list[dict]:
        by_round: dict[int, list[ProblemRound]] = defaultdict(list)
        for r in subset:
            by_round[r.round].append(r)
        return [{"round": t, **summarize_round(by_round[t], ks)} for t in sorted(by_round)]

    def grouped(attribute: str) -> dict[str, list[dict]]:
        groups: dict[str, list[ProblemRound]] = defaultdict(list)
        for r in rows:
            groups[getattr(r, attribute)].append(r)
        return {name: per_round(groups[name]) for name in sorted(groups)}

    return {"overall": per_round(rows), "by_difficulty": grouped("difficulty"), "by_platform": grouped("platform")}


VERIFY_KEYS = ("verify_requests", "verify_prompt_tokens", "verify_completion_tokens")


@dataclass(frozen=True, slots=True)
class RoundCost:
    """What one round spent, over all problems of the run. Generation: the candidates made
    (a prompt too long to send is no request); verify: self-verification's judge requests."""

    round: int
    problems: int  # problems of the run: the per-problem figures divide by it
    completions: int
    prompt_tokens: int
    completion_tokens: int
    verify_requests: int = 0
    verify_prompt_tokens: int = 0
    verify_completion_tokens: int = 0

    @property
    def requests(self) -> int:
        return self.completions + self.verify_requests

    @property
    def all_prompt_tokens(self) -> int:
        return self.prompt_tokens + self.verify_prompt_tokens

    @property
    def all_completion_tokens(self) -> int:
        return self.completion_tokens + self.verify_completion_tokens

    @property
    def total_tokens(self) -> int:
        return self.all_prompt_tokens + self.all_completion_tokens

    def per_problem(self, value: int) -> float:
        return value / self.problems if self.problems else 0.0


def round_costs(run: RunData) -> list[RoundCost]:
    """Each round's cost: generation from its candidates, verification from its header's stats."""
    costs = []
    for saved in run.rounds:
        stats = saved.header.get("stats", {})
        sent = [c for c in saved.candidates if c.finish_reason != "prompt_too_long"]
        costs.append(
            RoundCost(
                round=saved.index,
                problems=len(run.meta),
                completions=len(sent),
                prompt_tokens=sum(c.prompt_tokens for c in sent),
                completion_tokens=sum(c.completion_tokens for c in sent),
                **{key: int(stats.get(key, 0) or 0) for key in VERIFY_KEYS},
            )
        )
    return costs


def cost_table(costs: Sequence[RoundCost]) -> list[dict]:
    """Per round: this round's spending and the cumulative spending up to it, per problem
    (and the round's totals), for summary.json and the reports."""
    rows = []
    cumulative = dict.fromkeys(("completions", "requests", "prompt_tokens", "completion_tokens", "total_tokens"), 0.0)
    for cost in costs:
        this = {
            "completions": cost.completions,
            "requests": cost.requests,
            "prompt_tokens": cost.all_prompt_tokens,
            "completion_tokens": cost.all_completion_tokens,
            "total_tokens": cost.total_tokens,
        }
        per = {key: cost.per_problem(value) for key, value in this.items()}
        for key, value in per.items():
            cumulative[key] += value
        rows.append(
            {
                "round": cost.round,
                "totals": {
                    **this,
                    "generation_prompt_tokens": cost.prompt_tokens,
                    "generation_completion_tokens": cost.completion_tokens,
                    "verify_requests": cost.verify_requests,
                    "verify_prompt_tokens": cost.verify_prompt_tokens,
                    "verify_completion_tokens": cost.verify_completion_tokens,
                },
                "per_problem": per,
                "cumulative_per_problem": dict(cumulative),
            }
        )
    return rows
