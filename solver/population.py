"""What a population looks like round by round, from a run alone (pure functions of RunData).

For each round, over the problems with a population (a problem's current population, as in
solver/metrics.py):
  distinct programs   distinct normalised programs per problem (`normalised_program`: the
                      program's syntax tree without comments, docstrings or layout; a program
                      that does not parse: its text with whitespace runs collapsed); candidates
                      without a program are left out and counted apart (`no_code`)
  clusters            behaviour clusters per problem: graded candidates with a program grouped
                      by their per-public-test output digests (the grade's `public.keys`; a test
                      with no output contributes its verdict); infrastructure errors left out.
                      `largest_cluster_share`: the largest cluster's share of those candidates
  gain left           pass@N minus pass@1: what a perfect aggregation of the population could
                      still gain over a uniform pick
  response length     quantiles (p10, p50, p90), mean and max of the completion tokens of the
                      candidates made this round (prompts too long to send left out)
  lineage             over the candidates made this round that have parents (aggregation
                      rounds; round 0 and the sampling methods have none), graded, with every
                      parent graded: correct children with no correct parent ("bootstrapped":
                      aggregation fixed wrong candidates), children with one or more correct
                      parents, and how many of those stayed correct ("kept"). Correct means
                      every test passed (the hidden grade), as everywhere in the metrics.

`round_points` is the per-round curve a figure needs: pass@1, pass@N - pass@1 and the
cumulative compute per problem (solver/metrics.py `round_costs`).
"""

from __future__ import annotations

import ast
import hashlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from solver.grades import Grades
from solver.metrics import ProblemRound, cost_table, problem_rounds, round_costs, summarize_round
from solver.rsa import Candidate
from solver.runs import RunData
from solver.selection import current_population, histories

QUANTILES = (10, 50, 90)


def _drop_docstrings(tree: ast.AST) -> None:
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
                node.body = body[1:] or [ast.Pass()]


def normalised_program(code: str) -> str:
    """A program's identity for counting distinct programs: its syntax tree (`ast.dump`, no
    line numbers), docstrings removed. So comments, docstrings, blank lines, spacing,
    indentation width and quote style do not count; names, literals and statements do. A
    program that does not parse: its text with every whitespace run made one space."""
    try:
        tree = ast.parse(code)
        _drop_docstrings(tree)
        form = "tree\0" + ast.dump(tree)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        form = "text\0" + " ".join(code.split())
    return hashlib.sha256(form.encode()).hexdigest()  # a digest: a run's forms need not stay in memory


@dataclass(frozen=True, slots=True)
class Lineage:
    children: int = 0  # graded candidates with parents, every parent graded
    correct_children: int = 0
    bootstrapped: int = 0  # correct children none of whose parents was correct
    with_correct_parent: int = 0  # children with one or more correct parents
    kept: int = 0  # of those, the children that are correct
    unknown: int = 0  # children left out: the child or a parent not graded (yet)

    def __add__(self, other: Lineage) -> Lineage:
        return Lineage(*(a + b for a, b in zip(self._values(), other._values(), strict=True)))

    def _values(self) -> tuple[int, ...]:
        return (self.children, self.correct_children, self.bootstrapped, self.with_correct_parent, self.kept, self.unknown)

    def to_dict(self) -> dict:
        return {
            "children": self.children,
            "correct_children": self.correct_children,
            "bootstrapped": self.bootstrapped,
            "bootstrapped_share": self.bootstrapped / self.correct_children if self.correct_children else None,
            "with_correct_parent": self.with_correct_parent,
            "kept": self.kept,
            "kept_share": self.kept / self.with_correct_parent if self.with_correct_parent else None,
            "unknown": self.unknown,
        }


def lineage(children: Sequence[Candidate], parents_from: Sequence[Candidate], grades: Grades) -> Lineage:
    """Lineage counts of one problem's `children`, whose parents index `parents_from` (the
    population they were aggregated from) by candidate index."""
    by_index = {c.index: c for c in parents_from}
    counts = Counter()
    for child in children:
        if not child.parents:
            continue
        grade = grades.get(child.key)
        parent_grades = [grades.get(by_index[p].key) if p in by_index else None for p in child.parents]
        if grade is None or any(g is None for g in parent_grades):
            counts["unknown"] += 1
            continue
        any_correct_parent = any(g.correct for g in parent_grades)
        counts["children"] += 1
        counts["correct_children"] += grade.correct
        counts["bootstrapped"] += grade.correct and not any_correct_parent
        counts["with_correct_parent"] += any_correct_parent
        counts["kept"] += grade.correct and any_correct_parent
    return Lineage(**counts)


def quantiles(values: Sequence[int]) -> dict:
    """p10/p50/p90 (linear interpolation, numpy's default), mean and max; None when empty."""
    if not values:
        return {**{f"p{q}": None for q in QUANTILES}, "mean": None, "max": None}
    array = np.asarray(values, dtype=float)
    return {
        **{f"p{q}": float(np.percentile(array, q)) for q in QUANTILES},
        "mean": float(array.mean()),
        "max": float(array.max()),
    }


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def population_table(run: RunData, rows: Sequence[ProblemRound] | None = None) -> list[dict]:
    """Per round, the population statistics of the module docstring (summary.json's
    "population"). `rows`: the run's problem_rounds, when the caller has them already."""
    rows = problem_rounds(run) if rows is None else rows
    grades = run.grades
    by_problem = histories([r.candidates for r in run.rounds], list(run.meta))
    table = []
    normalised: dict[str, str] = {}  # code -> its normal form: a population often keeps programs across rounds
    for t, saved in enumerate(run.rounds):
        distinct, distinct_share, clusters, largest, no_code = [], [], [], [], 0
        links = Lineage()
        lengths = [c.completion_tokens for c in saved.candidates if c.finish_reason != "prompt_too_long" and c.problem_id in run.meta]
        for pid in run.meta:
            history = by_problem[pid][: t + 1]
            population = current_population(history)
            if not population:
                continue
            for c in population:
                if c.code not in normalised:
                    normalised[c.code] = normalised_program(c.code)
            programs = [normalised[c.code] for c in population if c.code.strip()]
            no_code += len(population) - len(programs)
            if programs:
                distinct.append(len(set(programs)))
                distinct_share.append(len(set(programs)) / len(population))
            behaviours = [
                g.public.keys for c in population if c.code.strip() and (g := grades.get(c.key)) is not None and not g.infra_error
            ]
            if behaviours:
                sizes = Counter(behaviours)
                clusters.append(len(sizes))
                largest.append(max(sizes.values()) / len(behaviours))
            if t > 0:
                links = links + lineage(by_problem[pid][t], current_population(by_problem[pid][:t]), grades)
        scores = summarize_round([r for r in rows if r.round == saved.index], ())
        gain = None if scores["pass@1"] is None else scores["pass@N"] - scores["pass@1"]
        table.append(
            {
                "round": saved.index,
                "pass@1": scores["pass@1"],
                "pass@N": scores["pass@N"],
                "gain_left": gain,
                "distinct_programs": _mean(distinct),
                "distinct_share": _mean(distinct_share),
                "no_code": no_code,
                "clusters": _mean(clusters),
                "largest_cluster_share": _mean(largest),
                "completion_tokens": quantiles(lengths),
                "lineage": links.to_dict(),
            }
        )
    return table


@dataclass(frozen=True, slots=True)
class RoundPoint:
    """One round of a run's curve; the per-problem compute is cumulative up to this round."""

    round: int
    pass_at_1: float | None
    pass_at_n: float | None
    gain_left: float | None  # pass@N - pass@1
    completions_per_problem: float  # completions (generation requests)
    requests_per_problem: float  # completions + self-verification judge requests
    prompt_tokens_per_problem: float  # generation + verification
    completion_tokens_per_problem: float  # generation + verification
    total_tokens_per_problem: float  # prompt + completion, every request


def round_points(run: RunData) -> list[RoundPoint]:
    """Per round: pass@1, pass@N, pass@N - pass@1 and the cumulative compute per problem."""
    rows = problem_rounds(run)
    costs = {row["round"]: row["cumulative_per_problem"] for row in cost_table(round_costs(run))}
    points = []
    for saved in run.rounds:
        scores = summarize_round([r for r in rows if r.round == saved.index], ())
        spent = costs[saved.index]
        points.append(
            RoundPoint(
                round=saved.index,
                pass_at_1=scores["pass@1"],
                pass_at_n=scores["pass@N"],
                gain_left=None if scores["pass@1"] is None else scores["pass@N"] - scores["pass@1"],
                completions_per_problem=spent["completions"],
                requests_per_problem=spent["requests"],
                prompt_tokens_per_problem=spent["prompt_tokens"],
                completion_tokens_per_problem=spent["completion_tokens"],
                total_tokens_per_problem=spent["total_tokens"],
            )
        )
    return points
