"""What self-verification costs beside generation, and how often the judge's answer holds a
verdict: `--method self-verify`'s loop (solver/rsa.py Solver.step then Solver.verify) on the
bundled examples with the embedded model (or any runner), one round.

    .venv/bin/python benchmarks/self_verify_cost.py [-n 4] [--max-tokens 256] [--runner vllm]

Prints, per call, requests, prompt and completion tokens and seconds, and the verdicts:
correct, incorrect, none (no parseable verdict), not sent (no program, or too long).
"""

from __future__ import annotations

import argparse
import time
from collections import Counter

from problems import list_examples, load_problems
from runners import RunnerConfig, make_runner
from solver.rsa import RSAConfig, Solver


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=4, help="candidates per problem")
    parser.add_argument("--max-tokens", type=int, default=256)
    parser.add_argument("--runner", default=None, help="runner kind (default: the project's default)")
    parser.add_argument("--model", default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--show", type=int, default=0, help="print the first SHOW judgements' texts")
    args = parser.parse_args()

    problems = load_problems(list_examples())
    fields = {k: v for k, v in (("kind", args.runner), ("model", args.model)) if v is not None}
    runner = make_runner(RunnerConfig(seed=args.seed, **fields))
    try:
        solver = Solver(runner, RSAConfig(method="self-verify", n=args.n, t=0, max_tokens=args.max_tokens, seed=args.seed))
        runs = solver.start(problems)
        started = time.perf_counter()
        stats = solver.step(runs)
        generated = time.perf_counter() - started
        started = time.perf_counter()
        judgements = solver.verify(runs, [c for run in runs for c in run.population])
        judged = time.perf_counter() - started
        stats = stats.verified(judgements)
    finally:
        runner.close()

    print(f"model {runner.model}, {len(problems)} bundled problems x N={args.n}, --max-tokens {args.max_tokens}")
    print("| call | requests | prompt tokens | completion tokens | seconds |")
    print("|---|---|---|---|---|")
    print(f"| generation | {stats.completions} | {stats.prompt_tokens:,} | {stats.completion_tokens:,} | {generated:.1f} |")
    print(f"| judging | {stats.verify_requests} | {stats.verify_prompt_tokens:,} | {stats.verify_completion_tokens:,} | {judged:.1f} |")
    verdicts = Counter("not sent" if not j.sent else (j.verdict or "none") for j in judgements)
    print("verdicts: " + ", ".join(f"{name} {verdicts[name]}" for name in ("correct", "incorrect", "none", "not sent")))
    for j in judgements[: args.show]:
        print(f"--- judgement of {j.problem_id} #{j.index} ({j.verdict}): {j.text[:300]!r}")
    gen_tokens = stats.prompt_tokens + stats.completion_tokens
    judge_tokens = stats.verify_prompt_tokens + stats.verify_completion_tokens
    if gen_tokens:
        print(f"judging adds {judge_tokens / gen_tokens:.2f}x the generation's tokens")


if __name__ == "__main__":
    main()
