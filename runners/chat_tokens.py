"""Chat messages -> prompt token ids with a Hugging Face tokenizer, cached.

The prompts layer counts every prompt before `generate` sends it, so each prompt would be
tokenized twice; the cache makes the second time a dictionary hit, and the ids counted are
the ids sent. Misses are encoded as one batch, which the fast tokenizers spread over cores.
"""

from __future__ import annotations

import functools
import threading
from array import array
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

from runners.base import Message, RunnerError

_Key = tuple[tuple[str, str], ...]


def messages_key(messages: Sequence[Message]) -> _Key:
    return tuple((m["role"], m["content"]) for m in messages)


class ChatTokenizer:
    def __init__(self, tokenizer: Any, name: str, max_cached_tokens: int = 32_000_000):
        if not getattr(tokenizer, "chat_template", None):
            raise RunnerError(f"{name}: the tokenizer has no chat template; use an instruct/chat model")
        self.tokenizer = tokenizer
        self._cache: OrderedDict[_Key, array] = OrderedDict()
        self._cached_tokens = 0
        # 4 bytes a token: the default bound holds about 128 MB of ids, a large round's worth.
        self._max_cached_tokens = max_cached_tokens
        self._lock = threading.Lock()

    @functools.cached_property
    def opens_thinking(self) -> bool:
        """Whether the chat template opens a thinking block itself (Qwen3 thinking models end
        the prompt with `<think>`), so the model's output holds only its `</think>`."""
        return self.render([{"role": "user", "content": "x"}]).rstrip().endswith("<think>")

    def render(self, messages: Sequence[Message]) -> str:
        return self.tokenizer.apply_chat_template([dict(m) for m in messages], add_generation_prompt=True, tokenize=False)

    def count(self, messages: Sequence[Message]) -> int:
        return len(self._arrays([messages])[0])

    def encode_many(self, conversations: Sequence[Sequence[Message]]) -> list[list[int]]:
        return [ids.tolist() for ids in self._arrays(conversations)]

    def _arrays(self, conversations: Sequence[Sequence[Message]]) -> list[array]:
        keys = [messages_key(messages) for messages in conversations]
        found: dict[_Key, array] = {}
        with self._lock:
            for key in keys:
                ids = self._cache.get(key)
                if ids is not None:
                    self._cache.move_to_end(key)
                    found[key] = ids
        missing = list(dict.fromkeys(k for k in keys if k not in found))
        if missing:
            texts = [self.render([{"role": r, "content": c} for r, c in key]) for key in missing]
            # The template already holds any BOS the model wants: adding special tokens would double it.
            encoded = self.tokenizer(texts, add_special_tokens=False)["input_ids"]
            with self._lock:
                for key, ids in zip(missing, encoded):
                    found[key] = self._store(key, array("i", ids))
        return [found[key] for key in keys]

    def _store(self, key: _Key, ids: array) -> array:
        old = self._cache.pop(key, None)
        if old is not None:
            self._cached_tokens -= len(old)
        self._cache[key] = ids
        self._cached_tokens += len(ids)
        while self._cached_tokens > self._max_cached_tokens and len(self._cache) > 1:
            _, evicted = self._cache.popitem(last=False)
            self._cached_tokens -= len(evicted)
        return ids


def require_fits(index: int, prompt_tokens: int, max_tokens: int, context_window: int) -> None:
    """Refuse before sending: one oversized prompt would fail the whole batch on the engine."""
    if prompt_tokens + max_tokens > context_window:
        raise RunnerError(
            f"request {index}: {prompt_tokens} prompt tokens + max_tokens {max_tokens} exceed the "
            f"context window of {context_window} tokens; shorten the prompt or lower max_tokens"
        )
