"""What building a report costs at the paper's scale: metrics of every round (pass@1, pass@N,
pass@k, the uniform, majority and rejection picks) from a run held in memory, synthetic
grades, no sandbox. Prints its figures; run from the repo root:

    .venv/bin/python benchmarks/report_summary.py [--problems 1000] [--n 16] [--t 9]
"""

from __future__ import annotations

import argparse
import random
import time

from sandbox import Verdict
from solver.grades import Grade, PublicRun
from solver.report import summarize
from solver.rsa import Candidate, RSAConfig
from solver.rundir import Round
from solver.runs import RunData

VERDICTS = (Verdict.PASSED, Verdict.WRONG_ANSWER, Verdict.RUNTIME_ERROR, Verdict.INFRA_ERROR)


def synthetic_run(problems: int, n: int, t: int, method: str) -> RunData:
    rng = random.Random(0)
    rounds = []
    for index in range(t + 1):
        candidates, grades = [], []
        for p in range(problems):
            for i in range(n):
                c = Candidate(f"q{p}", index, i, (), i, "", f"print({i % 3})", 100, 100, "stop")
                candidates.append(c)
                verdict = rng.choice(VERDICTS)
                grades.append(Grade(c.problem_id, index, i, str(i % 3), verdict, 1, 3, PublicRun((str(i % 3),), (verdict,))))
        rounds.append(Round(index, {"stats": {"seconds": 1.0, "completions": problems * n}}, candidates, grades))
    meta = {f"q{p}": {"difficulty": "easy", "platform": "atcoder", "hidden_tests": 3} for p in range(problems)}
    config = {"rsa": RSAConfig(method=method, n=n, k=min(4, n), t=t).model_dump(), "eval": {}}
    return RunData("synthetic", config, meta, rounds)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--problems", type=int, default=1000)
    parser.add_argument("--n", type=int, default=16)
    parser.add_argument("--t", type=int, default=9)
    args = parser.parse_args()
    print(f"report of {args.problems} problems x N={args.n} x {args.t + 1} rounds ({args.problems * args.n * (args.t + 1):,} candidates)")
    for method in ("rsa", "majority", "rejection"):
        run = synthetic_run(args.problems, args.n, args.t, method)
        started = time.perf_counter()
        summarize(run, ks=(1, 4, args.n))
        print(f"  {method:<10} {time.perf_counter() - started:6.2f} s")


if __name__ == "__main__":
    main()
