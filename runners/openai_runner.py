"""Any OpenAI-compatible chat server: vLLM (`vllm serve`), SGLang, llama.cpp server, Ollama.

A batch goes out as concurrent /chat/completions requests, at most `max_concurrency` at a
time; transient failures (connection errors, timeouts, 408/409/429/5xx) are retried with
exponential backoff and jitter, any other error stops the batch with the server's message.

Token counts, best first: the Hugging Face tokenizer named by `tokenizer` (exact, local);
the server's POST /tokenize (vLLM and SGLang: exact, one request per uncached prompt); else
an upper bound of one token per UTF-8 byte plus template overhead, which keeps budgets safe
but makes them conservative (a warning says so).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import random
import time
import warnings
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from runners.base import ChatRequest, Completion, Message, RunnerError
from runners.chat_tokens import ChatTokenizer, messages_key, require_fits
from runners.config import RunnerConfig

DEFAULT_BASE_URL = "http://127.0.0.1:8000/v1"
FINISH_REASONS = {"stop": "stop", "eos": "stop", "length": "length"}
# A byte-level BPE token covers at least one byte, so bytes bound the content's tokens; the
# template adds role markers per message and sometimes a default system prompt.
BOUND_TOKENS_PER_MESSAGE = 16
BOUND_TOKENS_FIXED = 64

log = logging.getLogger(__name__)


def byte_bound(messages: Sequence[Message]) -> int:
    return BOUND_TOKENS_FIXED + sum(len(m["content"].encode()) + BOUND_TOKENS_PER_MESSAGE for m in messages)


def _server_message(response: Any) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:500]
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])
        if isinstance(error, str):
            return error
    return response.text[:500]


class OpenAIRunner:
    def __init__(self, config: RunnerConfig, *, backoff_s: float = 0.5, max_retries: int = 8):
        import httpx

        self._httpx = httpx
        self._backoff_s = backoff_s
        self._max_retries = max_retries
        self._max_concurrency = config.max_concurrency
        self.base_url = (config.base_url or os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")
        self._api_key_env = config.api_key_env
        key = os.environ.get(config.api_key_env)
        self._client = httpx.Client(
            headers={"Authorization": f"Bearer {key}"} if key else {},
            timeout=httpx.Timeout(config.timeout_s, connect=10.0),
            limits=httpx.Limits(max_connections=config.max_concurrency, max_keepalive_connections=config.max_concurrency),
        )
        try:
            listed = self._list_models()
            self.model = self._choose_model(config.model, listed)
            window = config.max_model_len or next((m.get("max_model_len") for m in listed if m.get("id") == self.model), None)
            self._chat: ChatTokenizer | None = None
            self._remote_counts = False
            if config.tokenizer:
                self._chat = _hf_chat_tokenizer(config.tokenizer)
            else:
                probe = self._probe_tokenize()
                self._remote_counts = probe is not None
                window = window or (probe or {}).get("max_model_len")
                if probe is None:
                    warnings.warn(
                        f"{self.base_url}: no /tokenize endpoint and no tokenizer given: prompt tokens are "
                        "bounded by UTF-8 bytes, so context budgets will be conservative (set tokenizer "
                        "to count exactly)",
                        stacklevel=2,
                    )
            if not window:
                raise RunnerError(
                    f"{self.base_url}: the server does not report the context window of {self.model!r}; set max_model_len (--max-model-len)"
                )
            self.context_window = int(window)
        except BaseException:
            self._client.close()
            raise
        self._counts: dict[bytes, int] = {}  # by digest: keeping every prompt's text would cost GBs

    # -- discovery -----------------------------------------------------------------------

    def _list_models(self) -> list[dict]:
        response = self._send("GET", f"{self.base_url}/models", allow={404})
        if response.status_code == 404:
            return []
        data = response.json().get("data", [])
        return [m for m in data if isinstance(m, dict) and "id" in m]

    def _choose_model(self, wanted: str | None, listed: list[dict]) -> str:
        if wanted is not None:
            return wanted
        ids = [m["id"] for m in listed]
        if len(ids) != 1:
            raise RunnerError(f"{self.base_url} serves {len(ids)} models ({', '.join(ids) or 'none listed'}); name one with --model")
        return ids[0]

    @property
    def _tokenize_url(self) -> str:
        # vLLM and SGLang serve /tokenize at the root, beside /v1.
        root = self.base_url[: -len("/v1")] if self.base_url.endswith("/v1") else self.base_url
        return f"{root}/tokenize"

    def _probe_tokenize(self) -> dict | None:
        body = self._tokenize_body(({"role": "user", "content": "hi"},))
        response = self._send("POST", self._tokenize_url, json=body, allow={400, 404, 405, 501})
        if response.status_code != 200:
            return None
        answer = response.json()
        return answer if isinstance(answer, dict) and isinstance(answer.get("count"), int) else None

    # -- counting ------------------------------------------------------------------------

    @property
    def opens_thinking(self) -> bool:
        """Known only with a local tokenizer (`--tokenizer`); a server's template is unseen."""
        return self._chat is not None and self._chat.opens_thinking

    def count_tokens(self, messages: Sequence[Message]) -> int:
        if self._chat is not None:
            return self._chat.count(messages)
        if self._remote_counts:
            digest = hashlib.blake2b(json.dumps(messages_key(messages)).encode(), digest_size=16).digest()
            if digest not in self._counts:
                self._counts[digest] = self._tokenize_count(messages)
            return self._counts[digest]
        return byte_bound(messages)

    def _tokenize_body(self, messages: Sequence[Message]) -> dict:
        return {"model": self.model, "messages": [dict(m) for m in messages], "add_generation_prompt": True}

    def _tokenize_count(self, messages: Sequence[Message]) -> int:
        return int(self._send("POST", self._tokenize_url, json=self._tokenize_body(messages)).json()["count"])

    # -- generation ----------------------------------------------------------------------

    def generate(self, requests: Sequence[ChatRequest]) -> list[Completion]:
        if not requests:
            return []
        # Before anything is sent: one oversized prompt would fail on the server mid-batch.
        for i, request in enumerate(requests):
            require_fits(i, self.count_tokens(request.messages), request.sampling.max_tokens, self.context_window)
        with ThreadPoolExecutor(max_workers=min(self._max_concurrency, len(requests))) as pool:
            futures = [pool.submit(self._complete, i, r) for i, r in enumerate(requests)]
            try:
                return [f.result() for f in futures]
            except BaseException:
                for f in futures:
                    f.cancel()
                raise

    def _complete(self, index: int, request: ChatRequest) -> Completion:
        s = request.sampling
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [dict(m) for m in request.messages],
            "max_tokens": s.max_tokens,
            "temperature": s.temperature,
            "top_p": s.top_p,
        }
        if s.seed is not None:
            body["seed"] = s.seed
        body.update(s.extra())  # top_k, min_p, penalties: only those set (vLLM and SGLang take them all)
        url = f"{self.base_url}/chat/completions"
        answer = self._send("POST", url, json=body).json()
        try:
            choice = answer["choices"][0]
            text = choice["message"].get("content") or ""
            reason = choice.get("finish_reason")
            prompt_tokens = int(answer["usage"]["prompt_tokens"])
            completion_tokens = int(answer["usage"]["completion_tokens"])
        except (KeyError, IndexError, TypeError, ValueError) as e:
            raise RunnerError(f"request {index}: malformed answer from {url}: {str(answer)[:300]}") from e
        if reason not in FINISH_REASONS:
            raise RunnerError(f"request {index}: finish_reason {reason!r} from {url}, expected 'stop' or 'length'")
        return Completion(text, prompt_tokens, completion_tokens, FINISH_REASONS[reason])  # type: ignore[arg-type]

    # -- transport -----------------------------------------------------------------------

    def _send(self, method: str, url: str, *, json: Any = None, allow: frozenset[int] | set[int] = frozenset()) -> Any:
        """One HTTP call, retried on transient failures; a 2xx (or an allowed status) comes back."""
        httpx = self._httpx
        for attempt in range(self._max_retries + 1):
            last = attempt == self._max_retries
            try:
                response = self._client.request(method, url, json=json)
            except httpx.TransportError as e:
                if last:
                    raise RunnerError(f"{method} {url}: {type(e).__name__}: {e} (is the server running?)") from e
                self._wait(attempt, None, f"{type(e).__name__}")
                continue
            status = response.status_code
            if status < 300 or status in allow:
                return response
            if (status in (408, 409, 429) or status >= 500) and not last:
                self._wait(attempt, response.headers.get("retry-after"), f"HTTP {status}")
                continue
            raise RunnerError(self._http_error(method, url, response))
        raise AssertionError("unreachable")

    def _wait(self, attempt: int, retry_after: str | None, why: str) -> None:
        delay = min(30.0, self._backoff_s * 2**attempt) * random.uniform(0.5, 1.0)
        if retry_after is not None:
            try:
                delay = max(delay, min(60.0, float(retry_after)))
            except ValueError:
                pass
        log.warning("%s; retry %d/%d in %.1f s", why, attempt + 1, self._max_retries, delay)
        time.sleep(delay)

    def _http_error(self, method: str, url: str, response: Any) -> str:
        status = response.status_code
        text = f"{method} {url} -> HTTP {status}: {_server_message(response)}"
        if status in (401, 403):
            text += f" (check the API key in ${self._api_key_env})"
        elif status == 404 and url.endswith("/chat/completions"):
            text += f" (is {self.model!r} the served model name?)"
        return text

    def close(self) -> None:
        self._client.close()


def _hf_chat_tokenizer(name: str) -> ChatTokenizer:
    try:
        from transformers import AutoTokenizer
    except ImportError as e:
        raise RunnerError("counting with a tokenizer needs transformers: pip install transformers") from e
    try:
        return ChatTokenizer(AutoTokenizer.from_pretrained(name), name)
    except (OSError, ValueError) as e:
        raise RunnerError(f"cannot load tokenizer {name!r}: {e}") from e
