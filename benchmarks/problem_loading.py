"""How fast problems load, and what the safe decoding of `private_test_cases` costs against
the plain `pickle.loads` LiveCodeBench itself uses. Prints its figures; run from the repo root:

    .venv/bin/python benchmarks/problem_loading.py
"""

from __future__ import annotations

import base64
import json
import pickle
import statistics
import time
import zlib
from pathlib import Path

from problems import load_problems
from problems.lcb import decode_private_tests

LCB = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "lcb"


def median_of(n: int, fn) -> float:
    times = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    print("loading the shared LiveCodeBench files (median of 5)")
    for name in ("release_v1_public.jsonl", "leetcode_v1_hidden100.jsonl", "release_v1_full_tests_sample.jsonl"):
        path = LCB / name
        count = len(load_problems([path]))
        seconds = median_of(5, lambda path=path: load_problems([path]))
        size = path.stat().st_size / 2**20
        print(f"  {name:40s} {count:4d} problems  {size:6.1f} MiB  {seconds * 1000:7.1f} ms  {size / seconds:6.1f} MiB/s")

    # A hidden-test field the size of a large official one: the real hidden tests, repeated.
    tests = [
        t
        for line in (LCB / "leetcode_v1_hidden100.jsonl").read_text().splitlines()
        for t in json.loads(json.loads(line)["private_test_cases"])
    ]
    text = json.dumps(tests * 8)
    field = base64.b64encode(zlib.compress(pickle.dumps(text))).decode()
    print(f"decoding one compressed field: {len(field) / 2**20:.1f} MiB base64 -> {len(text) / 2**20:.1f} MiB JSON (median of 5)")
    plain = median_of(5, lambda: pickle.loads(zlib.decompress(base64.b64decode(field))))
    safe = median_of(5, lambda: decode_private_tests(field))
    assert decode_private_tests(field) == text
    print(f"  plain pickle.loads (baseline) {plain * 1000:7.1f} ms")
    print(f"  safe decode                   {safe * 1000:7.1f} ms   ratio {safe / plain:.2f}x")


if __name__ == "__main__":
    main()
