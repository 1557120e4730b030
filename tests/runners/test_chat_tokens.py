import pytest
from transformers import AutoTokenizer

from runners import RunnerError
from runners.chat_tokens import ChatTokenizer, require_fits


class CountingTokenizer:
    """Wraps a real tokenizer and counts batch encodes, to see the cache at work."""

    def __init__(self, inner):
        self.inner, self.calls, self.texts = inner, 0, 0
        self.chat_template = inner.chat_template

    def apply_chat_template(self, *args, **kwargs):
        return self.inner.apply_chat_template(*args, **kwargs)

    def __call__(self, texts, **kwargs):
        self.calls += 1
        self.texts += len(texts)
        return self.inner(texts, **kwargs)


def conversation(text):
    return ({"role": "system", "content": "write a program"}, {"role": "user", "content": text})


@pytest.fixture
def tokenizer(tiny_tokenizer_dir):
    return AutoTokenizer.from_pretrained(tiny_tokenizer_dir)


def test_ids_are_the_chat_template_with_generation_prompt(tokenizer):
    chat = ChatTokenizer(tokenizer, "tiny")
    messages = conversation("def solve x")
    expected = tokenizer.apply_chat_template(list(messages), add_generation_prompt=True, tokenize=True, return_dict=False)
    assert chat.encode_many([messages]) == [list(expected)]
    assert chat.count(messages) == len(expected)


def test_counted_prompts_are_not_tokenized_again(tokenizer):
    counting = CountingTokenizer(tokenizer)
    chat = ChatTokenizer(counting, "tiny")
    prompts = [conversation(f"hello {'x ' * i}") for i in range(5)]
    counts = [chat.count(p) for p in prompts]
    assert counting.calls == 5
    ids = chat.encode_many(prompts + prompts[:2])
    assert counting.calls == 5 and [len(i) for i in ids] == counts + counts[:2]


def test_misses_are_encoded_in_one_batch_without_duplicates(tokenizer):
    counting = CountingTokenizer(tokenizer)
    chat = ChatTokenizer(counting, "tiny")
    chat.encode_many([conversation("a"), conversation("b"), conversation("a")])
    assert (counting.calls, counting.texts) == (1, 2)


def test_cache_is_bounded_by_tokens(tokenizer):
    counting = CountingTokenizer(tokenizer)
    per_prompt = ChatTokenizer(tokenizer, "tiny").count(conversation("hi 0"))
    chat = ChatTokenizer(counting, "tiny", max_cached_tokens=3 * per_prompt)
    for i in range(5):
        chat.count(conversation(f"hi {i}"))
    chat.count(conversation("hi 4"))  # recent: still cached
    assert counting.calls == 5
    chat.count(conversation("hi 0"))  # evicted long ago
    assert counting.calls == 6


def test_a_tokenizer_without_chat_template_is_refused(tokenizer):
    tokenizer.chat_template = None
    with pytest.raises(RunnerError, match="no chat template"):
        ChatTokenizer(tokenizer, "base-model")


def test_require_fits():
    require_fits(0, 100, 28, 128)
    with pytest.raises(RunnerError, match=r"request 3: 100 prompt tokens \+ max_tokens 29 exceed .* 128"):
        require_fits(3, 100, 29, 128)


QWEN3_THINKING_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n<think>\n{% endif %}"
)


def test_a_template_that_opens_thinking_is_seen(tokenizer):
    assert ChatTokenizer(tokenizer, "plain").opens_thinking is False
    tokenizer.chat_template = QWEN3_THINKING_TEMPLATE  # as Qwen3 thinking models ship it
    assert ChatTokenizer(tokenizer, "thinking").opens_thinking is True
