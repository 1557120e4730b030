"""Choosing a problem's answer from its candidates: the one place for every pick a report,
`solve` or `export` makes.

    uniform    the paper's verifier-free choice: a uniform pick from the current population
    majority   a pick from the largest group of programs that agree on the public inputs
               (outputs only; expected outputs play no part); crashes do not vote
    rejection  the first candidate passing the public tests (uses a verifier)
    verified   (self-verify) a uniform pick among the candidates the model judged correct,
               else a uniform pick: rejection sampling with self-verification, no tests

Which candidates a pick sees (`pool`): the current population for the aggregating methods
and `sample`; every sample so far for `majority` (independent samples, pooled),
`rejection` (which stops sampling a problem once solved) and `self-verify` (rejection
sampling: after round t it has drawn N*(t+1) judged samples, as many completions as
rsa, sample and majority have made by then). A problem's current population
is its latest non-empty one, so a problem rejection stopped sampling keeps its last
population and stays in every metric.

Every pick draws from a stream seeded by (seed, problem, round, purpose), apart from
generation's, so choosing never changes what is generated.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np

from solver.grades import Grades
from solver.rsa import Candidate, CandidateKey, Judgement

Policy = Literal["uniform", "majority", "rejection", "verified"]
POLICIES: tuple[Policy, ...] = ("uniform", "majority", "rejection")  # those that need no judgements
POOLING_METHODS = frozenset({"majority", "rejection", "self-verify"})
Judgements = Mapping[CandidateKey, Judgement]


def selection_rng(seed: int, problem_id: str, round_index: int, purpose: str = "uniform") -> np.random.Generator:
    key = f"select\0{purpose}\0{problem_id}\0{round_index}"
    words = np.frombuffer(hashlib.sha256(key.encode()).digest()[:16], dtype=np.uint32)
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, *words.tolist()])))


def select_uniform(population: Sequence[Candidate], seed: int, round_index: int) -> Candidate:
    rng = selection_rng(seed, population[0].problem_id, round_index)
    return population[int(rng.integers(len(population)))]


def select_majority(pool: Sequence[Candidate], grades: Grades, seed: int, round_index: int) -> Candidate | None:
    """Ties between groups, and members within the group, are broken at random; with no
    voter at all, a uniform pick."""
    voters = [(c, g.behaviour()) for c in pool if (g := grades.get(c.key)) is not None]
    voters = [(c, key) for c, key in voters if key is not None]
    if not voters:
        return select_uniform(pool, seed, round_index) if pool else None
    sizes = Counter(key for _, key in voters)
    top = max(sizes.values())
    rng = selection_rng(seed, pool[0].problem_id, round_index, "majority")
    winners = sorted(key for key, size in sizes.items() if size == top)
    key = winners[int(rng.integers(len(winners)))]
    members = [c for c, k in voters if k == key]
    return members[int(rng.integers(len(members)))]


def select_rejection(pool: Sequence[Candidate], grades: Grades, seed: int, round_index: int) -> Candidate | None:
    """The first candidate passing its public tests, else a uniform pick."""
    first = next((c for c in pool if (g := grades.get(c.key)) is not None and g.passes_public), None)
    return first or (select_uniform(pool, seed, round_index) if pool else None)


def judged_correct(judgements: Judgements, candidate: Candidate) -> bool:
    """The model judged the candidate correct (no judgement, or no parseable verdict: not)."""
    judgement = judgements.get(candidate.key)
    return judgement is not None and judgement.verdict == "correct"


def select_verified(pool: Sequence[Candidate], judgements: Judgements, seed: int, round_index: int) -> Candidate | None:
    """Uniform among the candidates judged correct, else uniform among all."""
    if not pool:
        return None
    accepted = [c for c in pool if judged_correct(judgements, c)] or list(pool)
    rng = selection_rng(seed, pool[0].problem_id, round_index, "verified")
    return accepted[int(rng.integers(len(accepted)))]


def method_policy(method: str) -> Policy:
    """The pick that is a method's answer: its own selection (`solve` prints it)."""
    return {"majority": "majority", "rejection": "rejection", "self-verify": "verified"}.get(method, "uniform")  # type: ignore[return-value]


def current_population(history: Sequence[Sequence[Candidate]]) -> list[Candidate]:
    """A problem's latest non-empty population (`history`: its populations, round by round)."""
    return list(next((population for population in reversed(history) if population), []))


def pool(method: str, history: Sequence[Sequence[Candidate]]) -> list[Candidate]:
    if method in POOLING_METHODS:
        return [c for population in history for c in population]
    return current_population(history)


def pick(
    policy: Policy,
    method: str,
    history: Sequence[Sequence[Candidate]],
    grades: Grades,
    seed: int,
    round_index: int,
    judgements: Judgements | None = None,
) -> Candidate | None:
    """The candidate `policy` chooses after the rounds in `history`; None when there is none.
    `judgements`: self-verify's, which the `verified` policy needs (none: nothing judged correct)."""
    if policy == "uniform":
        population = current_population(history)
        return select_uniform(population, seed, round_index) if population else None
    if policy == "verified":
        return select_verified(pool(method, history), judgements or {}, seed, round_index)
    chooser = select_majority if policy == "majority" else select_rejection
    return chooser(pool(method, history), grades, seed, round_index)


def histories(rounds_candidates: Sequence[Sequence[Candidate]], problem_ids: Sequence[str]) -> dict[str, list[list[Candidate]]]:
    """Each problem's populations, round by round (empty where a round left it out)."""
    by_problem: dict[str, list[list[Candidate]]] = {pid: [] for pid in problem_ids}
    for candidates in rounds_candidates:
        for history in by_problem.values():
            history.append([])
        for c in candidates:
            if c.problem_id in by_problem:
                by_problem[c.problem_id][-1].append(c)
    return by_problem
