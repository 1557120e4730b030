"""FakeOpenAIServer: a fake OpenAI-compatible chat server for unit tests, not a model.

It listens on 127.0.0.1 only, in a thread of the test process, and answers the calls the
openai runner makes, the way vLLM's server does: GET /v1/models (with max_model_len),
POST /v1/chat/completions (with usage), POST /tokenize (with count). A reply is
"reply to <last message> seed <seed>" cut to max_tokens words; a token is a
whitespace-separated word, and a chat's prompt tokens are its words plus 3 per message.
Tests script failures (statuses to answer, or "drop" to close the connection unanswered)
and delays, and read back what arrived and how many requests were in flight at once.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def fake_prompt_tokens(messages: list[dict]) -> int:
    return sum(len(m["content"].split()) + 3 for m in messages)


class FakeOpenAIServer:
    def __init__(
        self,
        *,
        models: tuple[str, ...] = ("fake-model",),
        max_model_len: int | None = 4096,
        tokenize: bool = True,
        delay_s: Callable[[dict], float] = lambda body: 0.0,
        failures: list[int | str] | None = None,
    ):
        self.models = models
        self.max_model_len = max_model_len
        self.tokenize = tokenize
        self.delay_s = delay_s
        self.failures = list(failures or [])  # answered to the next chat requests, in order
        self.chat_bodies: list[dict] = []  # every chat request that arrived, failed ones too
        self.tokenize_bodies: list[dict] = []
        self.headers: list[dict] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.02,), daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def __enter__(self) -> FakeOpenAIServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    # -- answers ---------------------------------------------------------------------------

    def _models(self) -> tuple[int, dict]:
        data = []
        for name in self.models:
            entry: dict[str, Any] = {"id": name, "object": "model", "owned_by": "fake"}
            if self.max_model_len is not None:
                entry["max_model_len"] = self.max_model_len
            data.append(entry)
        return 200, {"object": "list", "data": data}

    def _chat(self, body: dict) -> tuple[int, dict] | str:
        with self._lock:
            self.chat_bodies.append(body)
            failure = self.failures.pop(0) if self.failures else None
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            time.sleep(self.delay_s(body))
            if failure == "drop":
                return "drop"
            if failure is not None:
                return int(failure), {"error": {"message": f"scripted failure {failure}", "code": failure}}
            if body.get("model") not in self.models:
                return 404, {"error": {"message": f"The model `{body.get('model')}` does not exist."}}
            if "TOO LONG" in body["messages"][-1]["content"]:
                return 400, {"error": {"message": "This model's maximum context length is 4096 tokens."}}
            words = f"reply to {body['messages'][-1]['content']} seed {body.get('seed')}".split()
            finish = "length" if len(words) > body["max_tokens"] else "stop"
            words = words[: body["max_tokens"]]
            return 200, {
                "id": "chatcmpl-fake",
                "object": "chat.completion",
                "model": body["model"],
                "choices": [{"index": 0, "message": {"role": "assistant", "content": " ".join(words)}, "finish_reason": finish}],
                "usage": {
                    "prompt_tokens": fake_prompt_tokens(body["messages"]),
                    "completion_tokens": len(words),
                    "total_tokens": fake_prompt_tokens(body["messages"]) + len(words),
                },
            }
        finally:
            with self._lock:
                self.in_flight -= 1

    def _tokenize(self, body: dict) -> tuple[int, dict]:
        with self._lock:
            self.tokenize_bodies.append(body)
        if not self.tokenize:
            return 404, {"detail": "Not Found"}
        count = fake_prompt_tokens(body["messages"]) + (1 if body.get("add_generation_prompt") else 0)
        return 200, {"count": count, "max_model_len": self.max_model_len or 4096, "tokens": list(range(count))}

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def _reply(self, answer: tuple[int, dict] | str) -> None:
                if answer == "drop":
                    self.close_connection = True
                    return
                status, payload = answer
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                server.headers.append(dict(self.headers))
                self._reply(server._models() if self.path == "/v1/models" else (404, {"detail": "Not Found"}))

            def do_POST(self) -> None:
                server.headers.append(dict(self.headers))
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if self.path == "/v1/chat/completions":
                    self._reply(server._chat(body))
                elif self.path == "/tokenize":
                    self._reply(server._tokenize(body))
                else:
                    self._reply((404, {"detail": "Not Found"}))

        return Handler
