"""Deterministic completions for tests and benchmarks: no model, next to no overhead.

A completion is one of a list of texts, picked by a stable hash of the request's messages and
seed (or whatever a callable returns for the request). Tokens are counted by a fixed rule,
one token per 4 characters rounded up, so counts are stable and cost nothing to compute.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from pathlib import Path

from problems import InputFileError
from runners.base import ChatRequest, Completion, Message

_PER_MESSAGE_TOKENS = 4  # role markers, as a chat template would add


def scripted_tokens(text: str) -> int:
    return (len(text) + 3) // 4


class ScriptedRunner:
    def __init__(
        self,
        script: Sequence[str] | Callable[[ChatRequest], str],
        *,
        model: str = "scripted",
        context_window: int = 1_000_000,
        seed: int = 0,
    ):
        if not callable(script) and not script:
            raise ValueError("a scripted runner needs at least one completion text")
        self._script = script if callable(script) else tuple(script)
        self.model = model
        self.context_window = context_window
        self._seed = seed

    @classmethod
    def from_file(cls, path: str | Path, **kwargs) -> ScriptedRunner:
        """A JSON file holding a list of completion texts."""
        try:
            texts = json.loads(Path(path).read_text(encoding="utf-8"))
        except OSError as e:
            raise InputFileError(path, f"cannot read: {e.strerror}") from e
        except json.JSONDecodeError as e:
            raise InputFileError(path, f"not JSON: {e.msg}", line=e.lineno) from e
        if not isinstance(texts, list) or not texts:
            raise InputFileError(path, "must hold a non-empty JSON list of completion texts")
        for i, text in enumerate(texts):
            if not isinstance(text, str):
                raise InputFileError(path, f"must be a string, got {type(text).__name__}", field=f"[{i}]")
        return cls(texts, model=f"scripted:{Path(path).name}", **kwargs)

    def count_tokens(self, messages: Sequence[Message]) -> int:
        return sum(scripted_tokens(m["content"]) + _PER_MESSAGE_TOKENS for m in messages)

    def generate(self, requests: Sequence[ChatRequest]) -> list[Completion]:
        return [self._complete(r) for r in requests]

    def _complete(self, request: ChatRequest) -> Completion:
        if callable(self._script):
            text = self._script(request)
        else:
            text = self._script[self._pick(request) % len(self._script)]
        max_tokens = request.sampling.max_tokens
        tokens = scripted_tokens(text)
        finish = "stop"
        if tokens > max_tokens:
            text, tokens, finish = text[: 4 * max_tokens], max_tokens, "length"
        return Completion(text, self.count_tokens(request.messages), tokens, finish)

    def _pick(self, request: ChatRequest) -> int:
        seed = self._seed if request.sampling.seed is None else request.sampling.seed
        digest = hashlib.blake2b(str(seed).encode(), digest_size=8)
        for m in request.messages:
            digest.update(b"\0" + m["role"].encode() + b"\0" + m["content"].encode())
        return int.from_bytes(digest.digest(), "little")

    def close(self) -> None:
        pass
