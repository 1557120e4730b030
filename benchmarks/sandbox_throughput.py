"""How much isolation costs: programs graded per second, side by side, on LiveCodeBench's
LeetCode problems with 100 hidden tests each (../shared/data/lcb/leetcode_v1_hidden100.jsonl).

Programs: benchmarks/programs/<id>.py (correct, written for this) and <id>_wrong.py (a
plausible bug), plus for every problem its starter code with `pass` (an unfinished answer).
Every backend grades the same programs the same way (all tests, public first, stopping at
the first failure), with the same number of workers:

  floor    the work alone: one python3 process per worker runs program after program
           in-process (LiveCodeBench's prelude, the program, its tests); what no grader
           that keeps programs apart can beat
  bare     python3 outside any sandbox, one process per program (how you would run a
           program by hand, and about how lcb_runner grades, minus its guard); no limits
  local    the local backend (a harness subprocess per program; no isolation)
  docker   the Docker backend (warm containers)
  naive    a fresh `docker run` per test (same image and limits), on a sample only: it is slow

Run: .venv/bin/python benchmarks/sandbox_throughput.py [--workers N] [--naive-sample 12]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from problems import Problem, load_problems  # noqa: E402
from sandbox import DEFAULT_IMAGE, Job, Limits, make_sandbox  # noqa: E402
from sandbox.docker_backend import SANDBOX_USER, container_memory_mb  # noqa: E402
from sandbox.inside.supervisor import PRELUDE  # noqa: E402

DATA = REPO.parent / "shared" / "data" / "lcb" / "leetcode_v1_hidden100.jsonl"
PROGRAMS = Path(__file__).with_name("programs")

# What floor, bare and naive run: LiveCodeBench's functional grading in one process, for
# each job of a JSON list ([{prelude, code, func_name, tests: [[input, output], ...]}]);
# prints how many tests of each passed before the first failure.
DRIVER = """
import json, sys
sys.set_int_max_str_digits(50000)
for job in json.load(open(sys.argv[1]) if len(sys.argv) > 1 else sys.stdin):
    namespace = {"__name__": "tmp_sol"}
    passed = 0
    try:
        exec(compile(job["prelude"] + job["code"], "<program>", "exec"), namespace)
        target = getattr(namespace["Solution"](), job["func_name"]) if "class Solution" in job["code"] else namespace[job["func_name"]]
        for test_input, test_output in job["tests"]:
            result = target(*[json.loads(line) for line in test_input.split("\\n")])
            if not (list(result) if isinstance(result, tuple) else result) == json.loads(test_output):
                break
            passed += 1
    except BaseException:
        pass
    print(passed, flush=True)
"""


def programs(problems: dict[str, Problem]) -> list[tuple[str, str, str]]:
    """(kind of program, problem id, code): correct, wrong, then unfinished."""
    found = []
    for path in sorted(PROGRAMS.glob("*.py")):
        qid, _, wrong = path.stem.partition("_")
        found.append(("wrong" if wrong else "correct", qid, path.read_text()))
    found.sort(key=lambda p: p[0])
    found += [("unfinished", p.id, p.starter_code.rstrip() + "\n        pass\n") for p in problems.values()]
    return found


def unsandboxed(jobs: list[Job], workers: int, per_program: bool) -> list[int]:
    """Passed tests per job, with no sandbox at all: a python3 process per program (bare),
    or one per worker running its share of the programs in turn (floor)."""
    batches = [[job] for job in jobs] if per_program else [jobs[w::workers] for w in range(workers)]
    with tempfile.TemporaryDirectory() as scratch:
        driver = Path(scratch) / "driver.py"
        driver.write_text(DRIVER)

        def one(numbered: tuple[int, list[Job]]) -> list[int]:
            number, batch = numbered
            spec = Path(scratch) / f"batch{number}.json"
            spec.write_text(json.dumps([_spec(job) for job in batch]))
            done = subprocess.run([sys.executable, "-s", str(driver), str(spec)], capture_output=True, text=True, cwd=scratch)
            return [int(line) for line in done.stdout.split()]

        with ThreadPoolExecutor(workers) as pool:
            results = list(pool.map(one, enumerate(batches)))
    if per_program:
        return [r[0] for r in results]
    passed = [0] * len(jobs)
    for w, r in enumerate(results):
        passed[w::workers] = r
    return passed


def naive(jobs: list[Job], workers: int, limits: Limits, image: str) -> list[int]:
    """Passed tests per job, each test a fresh `docker run` with the sandbox's limits."""
    memory = f"{container_memory_mb(limits)}m"
    command = [
        "docker",
        "run",
        "--rm",
        "-i",
        "--network",
        "none",
        "--memory",
        memory,
        "--memory-swap",
        memory,
        "--pids-limit",
        str(limits.pids),
        "--read-only",
        "--tmpfs",
        f"/tmp:size={limits.scratch_mb}m",
        "--cap-drop",
        "ALL",
        "--security-opt",
        "no-new-privileges",
        "--cpus",
        "1",
        "--user",
        SANDBOX_USER,
        "--entrypoint",
        "python3",
        image,
        "-c",
        DRIVER,
    ]

    def one(job: Job) -> int:
        passed = 0
        for test in job.tests:
            spec = [_spec(Job(job.code, job.kind, (test,), job.func_name))]
            done = subprocess.run(command, input=json.dumps(spec), capture_output=True, text=True)
            if done.stdout.strip() != "1":
                break
            passed += 1
        return passed

    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(one, jobs))


def _spec(job: Job) -> dict:
    return {"prelude": PRELUDE, "code": job.code, "func_name": job.func_name, "tests": [[t.input, t.output] for t in job.tests]}


def timed(run) -> tuple[float, list[int]]:
    started = time.perf_counter()
    passed = run()
    return time.perf_counter() - started, passed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    parser.add_argument("--naive-sample", type=int, default=12, help="programs graded by the naive baseline (and, for it, by the others)")
    parser.add_argument("--image", default=DEFAULT_IMAGE)
    args = parser.parse_args()

    problems = {p.id: p for p in load_problems([DATA])}
    chosen = programs(problems)
    jobs = [Job(code, "functional", problems[qid].all_tests, problems[qid].func_name) for _, qid, code in chosen]
    kinds = [kind for kind, _, _ in chosen]
    tests = sum(len(j.tests) for j in jobs)
    limits = Limits()
    print(
        f"{len(jobs)} programs ({kinds.count('correct')} correct, {kinds.count('wrong')} wrong, "
        f"{kinds.count('unfinished')} unfinished) on {len(problems)} problems, {tests} tests in all; "
        f"{args.workers} workers; machine: {os.cpu_count()} cores"
    )

    started = time.perf_counter()
    docker_box = make_sandbox("docker", limits, image=args.image, workers=args.workers)
    docker_start = time.perf_counter() - started
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        local_box = make_sandbox("local", limits, workers=args.workers)
    try:
        docker_box.run(jobs[: args.workers * 2])  # every container started and warm
        rows = {}
        rows["floor"] = timed(lambda: unsandboxed(jobs, args.workers, per_program=False))
        rows["bare"] = timed(lambda: unsandboxed(jobs, args.workers, per_program=True))
        rows["local"] = timed(lambda: [r.passed for r in local_box.run(jobs)])
        rows["docker"] = timed(lambda: [r.passed for r in docker_box.run(jobs)])
        # the sample: alternately correct and failing programs, so both kinds are in it
        step = max(1, len(jobs) // args.naive_sample)
        sample = sorted(range(len(jobs)), key=lambda i: (i % step, i))[: args.naive_sample]
        sample_jobs = [jobs[i] for i in sample]
        sample_rows = {
            "bare": timed(lambda: unsandboxed(sample_jobs, args.workers, per_program=True)),
            "docker": timed(lambda: [r.passed for r in docker_box.run(sample_jobs)]),
            "naive": timed(lambda: naive(sample_jobs, args.workers, limits, args.image)),
        }
    finally:
        docker_box.close()
        local_box.close()

    reference = rows["bare"][1]
    for name, (_, passed) in rows.items():
        if passed != reference:
            differ = [i for i, (a, b) in enumerate(zip(passed, reference)) if a != b]
            print(f"WARNING: {name} disagrees with bare on {len(differ)} programs, e.g. {chosen[differ[0]][:2]}")
    for name, (_, passed) in sample_rows.items():
        if passed != [reference[i] for i in sample]:
            print(f"WARNING: {name} disagrees with bare on the sample")

    print(f"\nall {len(jobs)} programs (docker: containers started in {docker_start:.1f} s before timing)")
    print(f"{'backend':<8} {'seconds':>8} {'programs/s':>11} {'tests/s':>9} {'vs bare':>8} {'vs floor':>9}")
    for name, (seconds, passed) in rows.items():
        run_tests = sum(min(p + 1, len(j.tests)) for p, j in zip(passed, jobs))
        print(
            f"{name:<8} {seconds:8.2f} {len(jobs) / seconds:11.1f} {run_tests / seconds:9.0f} "
            f"{seconds / rows['bare'][0]:7.2f}x {seconds / rows['floor'][0]:8.2f}x"
        )
    print(f"\nsample of {len(sample_jobs)} programs ({sum(len(j.tests) for j in sample_jobs)} tests)")
    print(f"{'backend':<8} {'seconds':>8} {'programs/s':>11} {'vs bare':>8} {'vs naive':>9}")
    for name, (seconds, _) in sample_rows.items():
        print(
            f"{name:<8} {seconds:8.2f} {len(sample_jobs) / seconds:11.2f} {seconds / sample_rows['bare'][0]:7.2f}x "
            f"{sample_rows['naive'][0] / seconds:8.1f}x"
        )


if __name__ == "__main__":
    main()
