import socket
import warnings

import pytest
from transformers import AutoTokenizer

from runners import ChatRequest, Runner, RunnerConfig, RunnerError, Sampling, make_runner
from runners.openai_runner import OpenAIRunner, byte_bound
from tests.runners.fake_openai_server import FakeOpenAIServer, fake_prompt_tokens


def runner_for(server: FakeOpenAIServer, **fields) -> OpenAIRunner:
    return OpenAIRunner(RunnerConfig(kind="openai", base_url=server.base_url, **fields), backoff_s=0.001, max_retries=3)


def request(content: str, seed: int | None = 0, max_tokens: int = 50, temperature: float = 0.7) -> ChatRequest:
    return ChatRequest(({"role": "user", "content": content},), Sampling(max_tokens, temperature, 0.9, seed))


def test_discovers_the_only_model_and_its_context_window():
    with FakeOpenAIServer(max_model_len=12345) as server:
        runner = make_runner(RunnerConfig(kind="openai", base_url=server.base_url))
        assert isinstance(runner, Runner)
        assert (runner.model, runner.context_window) == ("fake-model", 12345)
        runner.close()


def test_several_models_need_a_name():
    with FakeOpenAIServer(models=("a", "b")) as server:
        with pytest.raises(RunnerError, match=r"serves 2 models \(a, b\); name one"):
            runner_for(server)
        assert runner_for(server, model="b").model == "b"


def test_batch_comes_back_in_request_order_with_sampling_sent():
    # Later requests answer sooner, so completion order differs from request order.
    with FakeOpenAIServer(delay_s=lambda body: 0.02 * (8 - int(body["messages"][-1]["content"]))) as server:
        runner = runner_for(server, max_concurrency=8)
        completions = runner.generate([request(str(i), seed=100 + i) for i in range(8)])
    assert [c.text for c in completions] == [f"reply to {i} seed {100 + i}" for i in range(8)]
    body = next(b for b in server.chat_bodies if b["messages"][-1]["content"] == "3")
    assert (body["seed"], body["temperature"], body["top_p"], body["max_tokens"]) == (103, 0.7, 0.9, 50)


def test_no_seed_sends_none():
    with FakeOpenAIServer() as server:
        runner_for(server).generate([request("x", seed=None)])
    assert "seed" not in server.chat_bodies[0]


def test_concurrency_is_bounded():
    with FakeOpenAIServer(delay_s=lambda body: 0.05) as server:
        runner_for(server, max_concurrency=3).generate([request(str(i)) for i in range(12)])
    assert server.max_in_flight == 3


def test_usage_counts_and_finish_reasons_come_from_the_server():
    with FakeOpenAIServer() as server:
        done, cut = runner_for(server).generate([request("a b c", max_tokens=50), request("a b c", max_tokens=4)])
    messages = [{"role": "user", "content": "a b c"}]
    assert (done.prompt_tokens, done.completion_tokens, done.finish_reason) == (fake_prompt_tokens(messages), 7, "stop")
    assert (cut.text, cut.completion_tokens, cut.finish_reason) == ("reply to a b", 4, "length")


def test_transient_failures_are_retried_until_success():
    with FakeOpenAIServer(failures=[503, 429, "drop"]) as server:
        [completion] = runner_for(server).generate([request("x")])
    assert completion.text == "reply to x seed 0"
    assert len(server.chat_bodies) == 4


def test_retries_give_up_with_the_status():
    with FakeOpenAIServer(failures=[503] * 10) as server, pytest.raises(RunnerError, match="HTTP 503: scripted failure 503"):
        runner_for(server).generate([request("x")])
    assert len(server.chat_bodies) == 4  # the first try and 3 retries


def test_a_bad_request_fails_at_once_with_the_server_message():
    with FakeOpenAIServer() as server:
        runner = runner_for(server)
        with pytest.raises(RunnerError, match=r"HTTP 400: This model's maximum context length is 4096"):
            runner.generate([request("fine"), request("TOO LONG")])
    assert sum(b["messages"][-1]["content"] == "TOO LONG" for b in server.chat_bodies) == 1


def test_unknown_model_and_bad_key_hints(monkeypatch):
    with FakeOpenAIServer(failures=[401]) as server:
        monkeypatch.setenv("MY_KEY", "sk-test")
        runner = runner_for(server, api_key_env="MY_KEY")
        with pytest.raises(RunnerError, match=r"HTTP 401.*check the API key in \$MY_KEY"):
            runner.generate([request("x")])
        assert server.headers[-1]["Authorization"] == "Bearer sk-test"
        with pytest.raises(RunnerError, match=r"HTTP 404.*is 'nope' the served model name"):
            runner_for(server, model="nope").generate([request("x")])


def test_counts_with_the_servers_tokenize_and_caches_them():
    with FakeOpenAIServer() as server:
        runner = runner_for(server)
        messages = ({"role": "system", "content": "be brief"}, {"role": "user", "content": "a b c"})
        assert runner.count_tokens(messages) == fake_prompt_tokens(list(messages)) + 1
        calls = len(server.tokenize_bodies)
        assert runner.count_tokens(messages) == fake_prompt_tokens(list(messages)) + 1
    assert len(server.tokenize_bodies) == calls
    assert server.tokenize_bodies[-1] == {
        "model": "fake-model",
        "messages": [dict(m) for m in messages],
        "add_generation_prompt": True,
    }


def test_without_tokenize_counts_are_a_byte_bound_with_a_warning():
    with FakeOpenAIServer(tokenize=False) as server:
        with pytest.warns(UserWarning, match="budgets will be conservative"):
            runner = runner_for(server)
        messages = ({"role": "user", "content": "héllo wörld"},)
        assert runner.count_tokens(messages) == byte_bound(messages) >= len("héllo wörld".encode())


def test_without_tokenize_or_models_the_context_window_must_be_given():
    with FakeOpenAIServer(tokenize=False, max_model_len=None) as server, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(RunnerError, match=r"set max_model_len \(--max-model-len\)"):
            runner_for(server)
        assert runner_for(server, max_model_len=2048).context_window == 2048


def test_a_local_tokenizer_counts_exactly_without_the_server(tiny_tokenizer_dir):
    with FakeOpenAIServer(tokenize=False) as server:
        runner = runner_for(server, tokenizer=str(tiny_tokenizer_dir))
        messages = ({"role": "user", "content": "write a program"},)
        expected = AutoTokenizer.from_pretrained(tiny_tokenizer_dir).apply_chat_template(
            list(messages), add_generation_prompt=True, tokenize=True, return_dict=False
        )
        assert runner.count_tokens(messages) == len(expected)
    assert server.tokenize_bodies == []


def test_unreachable_server_is_a_clear_error():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed once the block ends: nothing listens there
    config = RunnerConfig(kind="openai", base_url=f"http://127.0.0.1:{port}/v1", max_model_len=100)
    with pytest.raises(RunnerError, match="ConnectError.*is the server running"):
        OpenAIRunner(config, backoff_s=0.001, max_retries=1)


def test_base_url_from_the_environment(monkeypatch):
    with FakeOpenAIServer() as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url + "/")
        runner = OpenAIRunner(RunnerConfig(kind="openai"))
        assert runner.base_url == server.base_url


def test_optional_sampling_options_are_sent_only_when_set():
    with FakeOpenAIServer() as server:
        runner = runner_for(server)
        options = Sampling(20, 1.0, 1.0, 3, top_k=20, min_p=0.05, presence_penalty=0.5, repetition_penalty=1.1)
        runner.generate([ChatRequest(({"role": "user", "content": "a"},), options), request("b")])
    with_options, without = sorted(server.chat_bodies, key=lambda body: body["messages"][0]["content"])
    assert {k: with_options[k] for k in ("top_k", "min_p", "presence_penalty", "repetition_penalty")} == {
        "top_k": 20,
        "min_p": 0.05,
        "presence_penalty": 0.5,
        "repetition_penalty": 1.1,
    }
    assert not {"top_k", "min_p", "presence_penalty", "repetition_penalty"} & set(without)


def test_an_oversized_request_is_refused_before_any_is_sent():
    with FakeOpenAIServer(max_model_len=100) as server:
        runner = runner_for(server)
        with pytest.raises(RunnerError, match="request 1: .* exceed the context window of 100"):
            runner.generate([request("short", max_tokens=10), request("x " * 200, max_tokens=10)])
    assert server.chat_bodies == []
