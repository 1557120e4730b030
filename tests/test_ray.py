"""Generation and grading on Ray (runners/ray_pool.py, sandbox/ray_pool.py, `--ray`), on a
real local Ray instance started once for the module (2 CPUs): the pools give what a runner
and a sandbox on this machine give, a problem's requests stay on one actor, an actor killed
mid-call has its share redone, and `--ray` runs write the same records as runs without it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest
import ray  # installed by `make test` (the ray extra): never skipped

from problems import UsageError, list_examples, load_problems
from runners.base import ChatRequest, Completion, Sampling
from runners.ray_pool import RayRunnerPool, affinity_key, assign, request_weight
from runners.scripted import ScriptedRunner
from sandbox import Verdict, job_for, make_sandbox
from solver.rsa import RSAConfig, Solver
from solver.rundir import RunDir
from tests.conftest import LCB_FULL_TESTS_SAMPLE, LCB_HIDDEN100, REPO_ROOT

pytestmark = pytest.mark.ray

RSA_CODE = [sys.executable, "-m", "solver.cli"]
TEXTS = [
    "```python\nn = int(input())\ns = input()\nprint('T' if s.count('T') > s.count('A') or "
    "(s.count('T') == s.count('A') and s[-1] == 'A') else 'A')\n```",
    "```python\nprint('T')\n```",
    "class Solution:\n    def countSeniors(self, details):\n        return sum(int(d[11:13]) > 60 for d in details)",
    "I do not know.",
]


@pytest.fixture(scope="module")
def cluster():
    """A local Ray instance for the module; its address, for commands that join it."""
    context = ray.init(
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        # the actors unpickle runner factories defined in this module
        runtime_env={"env_vars": {"PYTHONPATH": os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")])}},
    )
    yield context.address_info["gcs_address"]
    ray.shutdown()


def scripted() -> ScriptedRunner:
    return ScriptedRunner(TEXTS)


class FakePidRunner(ScriptedRunner):
    """A scripted runner whose every completion names the process that wrote it."""

    def generate(self, requests):
        return [Completion(f"```python\nprint({os.getpid()})\n```", 1, 1, "stop") for _ in requests]


def pid_runner() -> FakePidRunner:
    return FakePidRunner(TEXTS)


class FakeSlowRunner(ScriptedRunner):
    """A scripted runner that takes a while per request, so a test can kill it mid-call."""

    def generate(self, requests):
        time.sleep(0.1 * len(requests))
        return super().generate(requests)


def slow_runner() -> FakeSlowRunner:
    return FakeSlowRunner(TEXTS)


class FakeCrashingRunner(ScriptedRunner):
    """A scripted runner whose process dies at its first generate call (a runner that
    crashes its actor every time: out of memory, a bad driver)."""

    def generate(self, requests):
        os._exit(1)


def crashing_runner() -> FakeCrashingRunner:
    return FakeCrashingRunner(TEXTS)


def dying_runner() -> ScriptedRunner:
    """A factory whose actor dies while it builds its runner (before its first call)."""
    os._exit(1)


def eval_job(script, out, **extra):
    """The eval of eval_args() as an EvalJob, run in this process."""
    from problems import ProblemFilter
    from runners.config import RunnerConfig
    from solver.evaluate import EvalJob
    from solver.grading import SandboxConfig
    from solver.runs import EvalConfig

    config = EvalConfig(rsa=RSAConfig(n=4, k=2, t=2, max_tokens=256))
    runner = RunnerConfig(kind="scripted", model=str(script))
    data = (str(LCB_FULL_TESTS_SAMPLE), str(LCB_HIDDEN100))
    return EvalJob(data, out, config, runner, SandboxConfig(kind="local", workers=2), ProblemFilter(limit=4), **extra)


def test_shares_are_balanced_by_weight_and_groups_keep_their_actor():
    weights = {"a": 10, "b": 9, "c": 5, "d": 4, "e": 1}
    placed = assign(weights, [0, 1])
    loads = [sum(w for k, w in weights.items() if placed[k] == actor) for actor in (0, 1)]
    assert sorted(loads) == [14, 15]
    # With homes that keep the balance, every group stays where it was.
    assert assign(weights, [0, 1], placed) == placed
    # A home that would overload its actor gives way.
    crowded = assign(weights, [0, 1], dict.fromkeys(weights, 0))
    assert {crowded[k] for k in weights} == {0, 1}
    # A lost actor's groups go to those left.
    assert set(assign(weights, [1], placed).values()) == {1}


def test_a_problems_prompts_share_a_key_in_every_round_and_problems_do_not():
    problems = load_problems(list_examples())
    seen: list[ChatRequest] = []

    class Recording(ScriptedRunner):
        def generate(self, requests):
            seen.extend(requests)
            return super().generate(requests)

    runs = Solver(Recording(TEXTS), RSAConfig(n=3, k=2, t=1, max_tokens=64)).run(problems)
    assert len(seen) == 2 * 3 * len(problems)  # generation prompts, then aggregation prompts
    keys = {}
    for run, start in zip(runs, range(0, 3 * len(problems), 3)):
        for offset in (start, start + 3 * len(problems)):  # round 0, round 1
            keys.setdefault(run.problem.id, set()).update(affinity_key(r) for r in seen[offset : offset + 3])
    assert all(len(k) == 1 for k in keys.values()), keys
    assert len({next(iter(k)) for k in keys.values()}) == len(problems)
    assert all(request_weight(r) > r.sampling.max_tokens for r in seen)


def test_the_pool_generates_what_the_runner_does(cluster):
    problems = load_problems(list_examples())
    config = RSAConfig(n=4, k=2, t=2, max_tokens=256, seed=3)
    pool = RayRunnerPool(scripted, actors=2)
    try:
        assert (pool.model, pool.context_window, pool.actors) == ("scripted", 1_000_000, 2)
        with_ray = Solver(pool, config).run(problems)
    finally:
        pool.close()
    without = Solver(scripted(), config).run(problems)
    assert [[c.to_record() for c in p] for r in with_ray for p in r.rounds] == [
        [c.to_record() for c in p] for r in without for p in r.rounds
    ]


def test_a_problems_requests_stay_on_one_actor(cluster):
    problems = load_problems(list_examples())
    pool = RayRunnerPool(pid_runner, actors=2)
    try:
        runs = Solver(pool, RSAConfig(n=4, k=2, t=2, max_tokens=64)).run(problems)
    finally:
        pool.close()
    writers = {run.problem.id: {c.code for population in run.rounds for c in population} for run in runs}
    assert all(len(codes) == 1 for codes in writers.values()), writers  # one actor per problem, every round
    assert len({next(iter(codes)) for codes in writers.values()}) == 2  # and both actors had a share


def test_an_actor_killed_mid_round_has_its_share_redone(cluster):
    requests = [
        ChatRequest(({"role": "user", "content": f"### Problem\nproblem {p}: print its number"},), Sampling(max_tokens=64, seed=s))
        for p in range(6)
        for s in range(2)
    ]
    pool = RayRunnerPool(slow_runner, actors=2)
    try:
        victim = pool.handles()[0]
        killer = threading.Timer(0.3, lambda: ray.kill(victim))  # each share takes 0.6 s
        killer.start()
        started = time.monotonic()
        done = pool.generate(requests)
        killer.join()
        assert time.monotonic() - started > 0.6  # the kill came mid-call
        assert (pool.actors, pool.lost) == (1, 1)
        assert done == scripted().generate(requests)
        assert pool.generate(requests[:2]) == scripted().generate(requests[:2])  # and the pool goes on
    finally:
        pool.close()


SLEEPY = "import time\ntime.sleep(0.1)\na, b = map(int, input().split())\nprint(a + b)"


def test_the_grading_pool_grades_as_the_sandbox_does_and_survives_a_lost_actor(cluster):
    from sandbox.ray_pool import RaySandbox

    problems = load_problems(list_examples())
    a_plus_b = next(p for p in problems if p.id == "a-plus-b")
    jobs = [job_for(p, code) for p in problems for code in ("print(3)", "x = ", "a, b = map(int, input().split())\nprint(a + b)")]
    jobs += [job_for(a_plus_b, SLEEPY)] * 4  # half a second each (a test, 0.1 s)
    with make_sandbox("local", workers=2) as here:
        expected = here.run(jobs)
    sandbox = RaySandbox("local", workers=1, actors=2)
    try:
        assert (sandbox.workers, sandbox.actors) == (2, 2)
        assert [r.verdict for r in sandbox.run(jobs)] == [r.verdict for r in expected]
        first = sandbox.handles()

        def kill_twice():  # both actors; then, once a replacement is up and busy, every actor up
            time.sleep(0.3)
            for actor in first.values():
                ray.kill(actor)
            deadline = time.monotonic() + 120
            while not set(sandbox.handles().values()) - set(first.values()) and time.monotonic() < deadline:
                time.sleep(0.01)
            time.sleep(0.3)
            for actor in sandbox.handles().values():
                ray.kill(actor)

        killer = threading.Thread(target=kill_twice)
        killer.start()
        results = sandbox.run(jobs)
        killer.join()
        assert sandbox.lost >= 3 and sandbox.replaced == sandbox.lost
        assert [r.verdict for r in results] == [r.verdict for r in expected]
        assert Verdict.PASSED in {r.verdict for r in results}
    finally:
        sandbox.close()


def test_actors_killed_twice_in_one_eval_are_replaced_and_the_records_are_a_plain_runs(cluster, script, tmp_path):
    """The one generation actor is killed twice, in rounds 1 and 2 (the second time, its
    replacement), and the one grading actor with it (once at least: it may be idle, and its
    loss found at its next call); each comes back as a replacement, and the run writes what
    a run without Ray writes."""
    from sandbox.ray_pool import RaySandbox
    from solver.evaluate import evaluate, prepare, run_evaluation

    run_evaluation(eval_job(script, tmp_path / "plain"))
    job = eval_job(script, tmp_path / "ray")
    problems, rundir, _ = prepare(job)
    pool = RayRunnerPool(slow_runner, actors=1)  # 16 requests a round: 1.6 s a call
    box = RaySandbox("local", workers=2, actors=1)
    killers = []

    def kill_during_the_next_round(stats):
        if stats.round in (0, 1):  # round 1's and round 2's generation, and the grading of rounds 0 and 1, are under way
            victims = [*pool.handles().values(), *box.handles(starting=True).values()]
            killers.append(threading.Timer(0.5, lambda: [ray.kill(v) for v in victims]))
            killers[-1].start()

    try:
        evaluate(problems, pool, box, job.config, rundir, on_generated=kill_during_the_next_round)
        for killer in killers:
            killer.join()
        assert (pool.lost, pool.replaced, pool.actors) == (2, 2, 1)
        assert box.lost == box.replaced and box.lost in (1, 2)
    finally:
        pool.close()
        box.close()
        rundir.release()
    assert records(tmp_path / "ray") == records(tmp_path / "plain")
    assert len(records(tmp_path / "plain")) == 3 and all(grades for _, grades in records(tmp_path / "plain"))


def test_losing_every_generation_actor_is_one_error_saying_so(cluster, script, tmp_path):
    """A runner that kills its actor at every call: the actor is replaced REPLACEMENTS
    times, then the eval stops with a RunnerError (`error: ...`, exit 1, on the command line)."""
    from runners.base import RunnerError
    from runners.ray_pool import REPLACEMENTS
    from solver.evaluate import evaluate, prepare

    job = eval_job(script, tmp_path / "run")
    problems, rundir, _ = prepare(job)
    pool = RayRunnerPool(crashing_runner, actors=1)
    try:
        with make_sandbox("local", workers=1) as box, pytest.raises(RunnerError) as lost:
            evaluate(problems, pool, box, job.config, rundir)
    finally:
        pool.close()
        rundir.release()
    assert str(lost.value) == (
        f"every generation actor was lost: {REPLACEMENTS + 1} losses in all, each actor replaced up to {REPLACEMENTS} "
        "times in a row; run the same command again to resume the run"
    )
    assert pool.replaced == REPLACEMENTS


def test_actors_lost_while_starting_are_replaced_too(cluster):
    from runners.base import RunnerError
    from runners.ray_pool import REPLACEMENTS

    with pytest.raises(RunnerError, match=f"^every generation actor was lost: {REPLACEMENTS + 1} losses in all"):
        RayRunnerPool(dying_runner, actors=1)


def test_losing_every_grading_actor_is_one_error_saying_so(cluster, script, tmp_path):
    """Every grading actor killed as soon as it appears: the eval stops with
    SandboxUnavailable (`error: ...`, exit 2, on the command line), not a traceback."""
    from sandbox import SandboxUnavailable
    from sandbox.ray_pool import REPLACEMENTS, RaySandbox
    from solver.evaluate import evaluate, prepare

    job = eval_job(script, tmp_path / "run")
    problems, rundir, _ = prepare(job)
    box = RaySandbox("local", workers=1, actors=1)
    stop = threading.Event()

    def kill_every_grading_actor():
        while not stop.wait(0.02):
            for actor in box.handles(starting=True).values():
                ray.kill(actor)

    killer = threading.Thread(target=kill_every_grading_actor)
    killer.start()
    try:
        with pytest.raises(SandboxUnavailable) as lost:
            evaluate(problems, scripted(), box, job.config, rundir)
    finally:
        stop.set()
        killer.join()
        box.close()
        rundir.release()
    assert str(lost.value) == (
        f"every grading actor was lost: {REPLACEMENTS + 1} losses in all, each actor replaced up to {REPLACEMENTS} "
        "times in a row; run the same command again to grade what is missing"
    )


@pytest.fixture
def script(tmp_path):
    path = tmp_path / "script.json"
    path.write_text(json.dumps(TEXTS))
    return path


def eval_args(script, out, *extra):
    data = ["--data", str(LCB_FULL_TESTS_SAMPLE), "--data", str(LCB_HIDDEN100), "--limit", "4"]
    rsa = ["-n", "4", "-k", "2", "-t", "2", "--runner", "scripted", "--model", str(script)]
    return [*RSA_CODE, "eval", *data, *rsa, "--sandbox", "local", "--workers", "2", "--out", str(out), *extra]


def records(path):
    """Every candidate and grade line of a run, as written (timings are not in them)."""
    rounds = RunDir(path).rounds()
    return [([c.to_record() for c in r.candidates], sorted(json.dumps(g.to_record(), sort_keys=True) for g in r.grades)) for r in rounds]


def test_an_eval_on_a_local_ray_instance_writes_the_records_of_one_without(script, tmp_path):
    plain = subprocess.run(eval_args(script, tmp_path / "plain"), capture_output=True, text=True, timeout=300)
    assert plain.returncode == 0, plain.stderr
    on_ray = subprocess.run(
        eval_args(script, tmp_path / "ray", "--ray", "local", "--ray-actors", "2"), capture_output=True, text=True, timeout=300
    )
    assert on_ray.returncode == 0, on_ray.stderr
    assert records(tmp_path / "ray") == records(tmp_path / "plain")
    assert len(records(tmp_path / "plain")) == 3 and all(grades for _, grades in records(tmp_path / "plain"))
    assert "| round | pass@1 |" in on_ray.stdout
    # --data-parallel-size 2 without --ray: two generation actors on a local Ray instance, grading here
    data_parallel = subprocess.run(
        eval_args(script, tmp_path / "dp", "--data-parallel-size", "2"), capture_output=True, text=True, timeout=300
    )
    assert data_parallel.returncode == 0, data_parallel.stderr
    assert records(tmp_path / "dp") == records(tmp_path / "plain")


def test_a_driver_killed_on_a_cluster_resumes_to_the_same_records(cluster, script, tmp_path):
    """The driver alone writes the run; killed, the same command resumes it, as without Ray."""
    plain = subprocess.run(eval_args(script, tmp_path / "plain"), capture_output=True, text=True, timeout=300)
    assert plain.returncode == 0, plain.stderr
    args = eval_args(script, tmp_path / "ray", "--ray", cluster, "--ray-actors", "2", "--ray-graders", "1")
    driver = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not (tmp_path / "ray" / "round-000.jsonl").exists() and driver.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    driver.send_signal(signal.SIGKILL)
    driver.wait()
    killed = RunDir(tmp_path / "ray").rounds()
    assert len(killed) < 3 or not all(r.grades for r in killed)  # killed before the end
    resumed = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming" in resumed.stderr
    assert records(tmp_path / "ray") == records(tmp_path / "plain")


def test_solve_on_a_cluster_makes_the_same_population(cluster, script):
    args = [*RSA_CODE, "solve", str(LCB_FULL_TESTS_SAMPLE), "--id", "abc301_a", "-n", "4", "-k", "2", "-t", "1", "--json"]
    args += ["--runner", "scripted", "--model", str(script)]
    plain = subprocess.run(args, capture_output=True, text=True, timeout=120)
    on_ray = subprocess.run([*args, "--ray", cluster, "--ray-actors", "2"], capture_output=True, text=True, timeout=120)
    assert plain.returncode == on_ray.returncode == 0, on_ray.stderr
    plain_run, ray_run = json.loads(plain.stdout), json.loads(on_ray.stdout)
    assert len(plain_run["rounds"]) == 2
    assert (ray_run["rounds"], ray_run["chosen"]) == (plain_run["rounds"], plain_run["chosen"])


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (("--ray", "local"), "error: --ray: Ray is not installed: pip install 'rsa-code[ray]'"),
        (
            ("--data-parallel-size", "2"),
            "error: --data-parallel-size 2: the engines run as Ray actors, and Ray is not installed: pip install 'rsa-code[ray]'",
        ),
    ],
)
def test_without_ray_installed_ray_is_a_one_line_error(script, tmp_path, option, message):
    blocker = tmp_path / "no_ray" / "ray"
    blocker.mkdir(parents=True)
    (blocker / "__init__.py").write_text("raise ImportError('no ray here')\n")
    env = {**os.environ, "PYTHONPATH": str(blocker.parent)}
    done = subprocess.run(eval_args(script, tmp_path / "run", *option), capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 2
    assert done.stderr.strip() == message
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(
    ("address", "message"),
    [
        ("127.0.0.1:1", "error: --ray 127.0.0.1:1: nothing answers there"),
        ("nonsense", "error: --ray nonsense: expected local, auto, HOST:PORT or ray://HOST:PORT"),
    ],
)
def test_a_cluster_that_cannot_be_joined_is_a_one_line_error(script, tmp_path, address, message):
    done = subprocess.run(eval_args(script, tmp_path / "run", "--ray", address), capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.startswith(message) and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert not (tmp_path / "run").exists()  # stopped before the run began


@pytest.mark.docker
def test_grading_actors_use_docker_on_their_node(cluster):
    from sandbox.ray_pool import RaySandbox

    problems = load_problems(list_examples())
    codes = ("print(3)", "x = ", "a, b = map(int, input().split())\nprint(a + b)")
    jobs = [job_for(p, code) for p in problems for code in codes]
    with make_sandbox("local", workers=2) as here:
        expected = [r.verdict for r in here.run(jobs)]
    with RaySandbox("docker", workers=2) as sandbox:  # one actor per node: here, one
        assert (sandbox.actors, sandbox.workers) == (1, 2)
        assert [r.verdict for r in sandbox.run(jobs)] == expected
    assert Verdict.PASSED in expected and Verdict.SYNTAX_ERROR in expected


def test_the_actors_are_counted_and_placed_as_the_options_say(cluster, script):
    from runners.config import RunnerConfig
    from runners.ray_pool import RayConfig, ray_runner

    config = RunnerConfig(kind="scripted", model=str(script), data_parallel_size=2)
    pool = ray_runner(config, RayConfig(address=cluster))  # --data-parallel-size 2: two actors, one runner each
    try:
        assert pool.actors == 2
    finally:
        pool.close()
    with pytest.raises(UsageError, match="^--data-parallel-size 3: the actors need 3 CPUs, the cluster has 2$"):
        ray_runner(config.model_copy(update={"data_parallel_size": 3}), RayConfig(address=cluster))
    with pytest.raises(UsageError, match="^--ray-actors 3 and --data-parallel-size 2 disagree: both set the generation actors$"):
        ray_runner(config, RayConfig(address=cluster, actors=3))
    one = config.model_copy(update={"data_parallel_size": 1})
    with pytest.raises(UsageError, match="^--ray-actors 3: the actors need 3 CPUs, the cluster has 2$"):
        ray_runner(one, RayConfig(address=cluster, actors=3))


def test_an_actors_error_is_the_users_one_line_error(cluster, tmp_path):
    missing = tmp_path / "missing.json"
    args = [*RSA_CODE, "solve", "a-plus-b", "--runner", "scripted", "--model", str(missing), "--ray", cluster]
    done = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.strip() == f"error: {missing}: cannot read: No such file or directory"
