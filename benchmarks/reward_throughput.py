"""How fast solver.reward scores completions: completions per second, the way verl calls it.

Completions: for each LiveCodeBench LeetCode problem of ../shared/data/lcb/
leetcode_v1_hidden100.jsonl (100 hidden tests each) that has a known-good program in
benchmarks/programs/<id>.py and a plausible bug in <id>_wrong.py, `--rollouts` right and
`--rollouts` wrong completions (prose and a fenced program, each rollout's program made
distinct by a comment, so no two are graded once as duplicates), and as many completions
holding no program. Every score is checked: right 1.0, wrong and no program 0.0.

Ways of calling, each on a warm sandbox:

  batch     compute_score_batch over all completions (verl's BatchRewardManager)
  threads   compute_score per completion from a pool of --threads threads (verl's reward
            loop runs compute_score in an executor, many at once)
  serial    compute_score one completion after another (verl's legacy NaiveRewardManager),
            on the first --serial-sample completions only: it is the slow way

Run: .venv/bin/python benchmarks/reward_throughput.py [--sandbox docker|local] [--workers N]
     [--rollouts 2] [--threads 32] [--reward-kind pass|fraction]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from problems import load_problems  # noqa: E402
from solver import reward  # noqa: E402

DATA = REPO.parent / "shared" / "data" / "lcb" / "leetcode_v1_hidden100.jsonl"
PROGRAMS = Path(__file__).with_name("programs")


def completions(rollouts: int) -> tuple[list[str], list[str], list[float]]:
    problems = {p.id: p for p in load_problems([DATA])}
    ids = sorted(
        p.stem
        for p in PROGRAMS.glob("*.py")
        if not p.stem.endswith("_wrong") and p.stem in problems and (PROGRAMS / f"{p.stem}_wrong.py").exists()
    )
    texts, truths, expected = [], [], []
    for pid in ids:
        truth = reward.encode_ground_truth(problems[pid])
        for r in range(rollouts):
            for suffix, score in (("", 1.0), ("_wrong", 0.0)):
                code = (PROGRAMS / f"{pid}{suffix}.py").read_text() + f"\n# rollout {r}\n"
                texts.append(f"Let me think about it.\n\n```python\n{code}```\n")
                truths.append(truth)
                expected.append(score)
            texts.append("I am not sure how to solve this one.")
            truths.append(truth)
            expected.append(0.0)
    return texts, truths, expected


def check(name: str, scores: list[dict], expected: list[float]) -> bool:
    wrong = [i for i, (s, e) in enumerate(zip(scores, expected)) if (s["score"] == 1.0) != (e == 1.0)]
    infra = sum(s["infra_error"] for s in scores)
    if wrong or infra:
        print(f"  {name}: {len(wrong)} scores differ from what is known, {int(infra)} infra errors")
    return not wrong and not infra


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sandbox", default="docker", choices=["docker", "local"])
    parser.add_argument("--workers", type=int, default=None, help="programs graded at once (default: the cores)")
    parser.add_argument("--rollouts", type=int, default=2, help="right and wrong completions per problem")
    parser.add_argument("--threads", type=int, default=32, help="threads calling compute_score at once")
    parser.add_argument("--serial-sample", type=int, default=30)
    parser.add_argument("--reward-kind", default="pass", choices=list(reward.REWARD_KINDS))
    args = parser.parse_args()

    reward.SETTINGS.sandbox, reward.SETTINGS.workers = args.sandbox, args.workers
    texts, truths, expected = completions(args.rollouts)
    kind = {"reward_kind": args.reward_kind}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the local sandbox's warning that it isolates nothing
        started = time.perf_counter()
        box = reward.sandbox()
        warm = reward.compute_score("d", texts[0], truths[0], kind)  # starts the workers
        startup = time.perf_counter() - started
    right = sum(e == 1.0 for e in expected)
    print(
        f"{len(texts)} completions ({right} right, {len(texts) - right} wrong or without a program) of "
        f"{len(set(truths))} problems, 100+ tests each; sandbox {args.sandbox} with {box.workers} workers, "
        f"{os.cpu_count()} cores; reward {args.reward_kind}; sandbox start {startup:.1f} s"
    )
    ok = warm["score"] == expected[0]

    results = []
    started = time.perf_counter()
    scores = reward.compute_score_batch(None, texts, truths, [kind] * len(texts))
    results.append(("batch", len(texts), time.perf_counter() - started))
    ok &= check("batch", scores, expected)

    started = time.perf_counter()
    with ThreadPoolExecutor(args.threads) as pool:
        scores = list(pool.map(lambda i: reward.compute_score("d", texts[i], truths[i], kind), range(len(texts))))
    results.append((f"threads ({args.threads})", len(texts), time.perf_counter() - started))
    ok &= check("threads", scores, expected)

    sample = min(args.serial_sample, len(texts))
    started = time.perf_counter()
    scores = [reward.compute_score("d", texts[i], truths[i], kind) for i in range(sample)]
    results.append(("serial", sample, time.perf_counter() - started))
    ok &= check("serial", scores, expected[:sample])

    programs = [bool(reward.program_of(t)) for t in texts]
    print(f"{'way':<14} {'completions':>11} {'with a program':>14} {'seconds':>8} {'completions/s':>14} {'programs/s':>11}")
    for name, count, seconds in results:
        graded = sum(programs[:count])
        print(f"{name:<14} {count:>11} {graded:>14} {seconds:>8.2f} {count / seconds:>14.1f} {graded / seconds:>11.1f}")
    print("every score as known" if ok else "SCORES DIFFER FROM WHAT IS KNOWN")
    reward.close()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
