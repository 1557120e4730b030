"""Typer options that several commands share, added to a command by a decorator so that
no command repeats them:

    @app.command()
    @filter_options            # the command receives `filters: ProblemFilter`
    @generation_options        # ... `generation` (RSAConfig fields), `runner: RunnerConfig`, `templates`
    def eval_command(data: ..., *, filters, generation, runner, templates): ...

The backend options are made from RunnerConfig's fields and the generation options from
RSAConfig's, so each default and description lives in one place.
"""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import Callable, Mapping, Sequence
from enum import Enum
from typing import Annotated, Any, Optional, get_args

import typer
from pydantic import BaseModel, ValidationError

from problems import Difficulty, Kind, ProblemFilter, UsageError, list_examples
from prompts import load_templates
from runners.config import RunnerConfig
from runners.ray_pool import RayConfig, check_address, implied_ray, import_ray
from solver.grading import SandboxConfig
from solver.rsa import Method, RSAConfig
from solver.runs import EvalConfig

_FILTERS = "Problem filters"

# Typer takes choices for a repeatable option as an Enum, not a Literal.
DifficultyChoice = Enum("DifficultyChoice", {v: v for v in get_args(Difficulty)}, type=str)
KindChoice = Enum("KindChoice", {v: v for v in get_args(Kind)}, type=str)

ProblemPaths = Annotated[
    list[str] | None,
    typer.Argument(
        help="LiveCodeBench .jsonl files, problem files (.md, .yaml, .json), directories of them, "
        f"or bundled examples ({', '.join(list_examples())}).",
        show_default=False,
    ),
]
ReleaseOption = Annotated[
    str | None,
    typer.Option(
        "--release",
        help="LiveCodeBench release, chosen by file name among PATHS: release_v1..release_v6 "
        "(test.jsonl..testN.jsonl), release_latest, v1..v6 (one file), vA_vB (files A to B).",
        rich_help_panel=_FILTERS,
    ),
]
StartDateOption = Annotated[
    str | None,
    typer.Option("--start-date", metavar="YYYY-MM-DD", help="Contest date on or after.", rich_help_panel=_FILTERS),
]
EndDateOption = Annotated[
    str | None,
    typer.Option("--end-date", metavar="YYYY-MM-DD", help="Contest date on or before.", rich_help_panel=_FILTERS),
]
PlatformOption = Annotated[
    list[str] | None,
    typer.Option("--platform", help="atcoder, leetcode, codeforces, ... (repeatable).", show_default=False, rich_help_panel=_FILTERS),
]
DifficultyOption = Annotated[
    list[DifficultyChoice] | None,
    typer.Option("--difficulty", help="Repeatable.", show_default=False, rich_help_panel=_FILTERS),
]
KindOption = Annotated[
    list[KindChoice] | None,
    typer.Option("--kind", help="Repeatable.", show_default=False, rich_help_panel=_FILTERS),
]
IdOption = Annotated[
    list[str] | None,
    typer.Option("--id", help="Problem id (repeatable); each must exist.", show_default=False, rich_help_panel=_FILTERS),
]
SplitOption = Annotated[
    list[str] | None,
    typer.Option(
        "--split",
        help="The dataset's split (repeatable): MBPP's test (task ids 11..510, the usual 500), train, validation, prompt.",
        show_default=False,
        rich_help_panel=_FILTERS,
    ),
]
LimitOption = Annotated[
    int | None,
    typer.Option("--limit", min=1, help="The first N problems that match, in file order.", rich_help_panel=_FILTERS),
]

_OPTION_OF = {
    "release": "--release",
    "start_date": "--start-date",
    "end_date": "--end-date",
    "platforms": "--platform",
    "difficulties": "--difficulty",
    "kinds": "--kind",
    "ids": "--id",
    "splits": "--split",
    "limit": "--limit",
}


def problem_filter(
    release: str | None = None,
    start_date: str | None = None,
    end_date: str | None = None,
    platform: list[str] | None = None,
    difficulty: Sequence[str | Enum] | None = None,
    kind: Sequence[str | Enum] | None = None,
    id: list[str] | None = None,  # noqa: A002  (the option's name)
    limit: int | None = None,
    split: list[str] | None = None,
) -> ProblemFilter:
    """The ProblemFilter of the option values; a bad value is a UsageError naming its option."""
    return validated(
        ProblemFilter,
        flags=_OPTION_OF,
        model_flag="--start-date/--end-date",  # the model's own check: start date after end date
        release=release,
        start_date=start_date,
        end_date=end_date,
        platforms=frozenset(platform) if platform else None,
        difficulties=_values(difficulty),
        kinds=_values(kind),
        ids=tuple(id) if id else None,
        splits=frozenset(split) if split else None,
        limit=limit,
    )


def _values(choices: Sequence[str | Enum] | None) -> frozenset[str] | None:
    return frozenset(c.value if isinstance(c, Enum) else c for c in choices) if choices else None


Param = tuple[str, Any, Any]  # (parameter name, annotated type, default)

_FILTER_PARAMS: list[Param] = [
    ("release", ReleaseOption, None),
    ("start_date", StartDateOption, None),
    ("end_date", EndDateOption, None),
    ("platform", PlatformOption, None),
    ("difficulty", DifficultyOption, None),
    ("kind", KindOption, None),
    ("id", IdOption, None),
    ("split", SplitOption, None),
    ("limit", LimitOption, None),
]

_FLAGS = {
    "n": ("-n", "--population"),
    "k": ("-k", "--subset"),
    "t": ("-t", "--rounds"),
    "kind": ("--runner",),
    "timeout_s": ("--request-timeout",),
}


def _field_option(
    model: type[BaseModel], name: str, panel: str, flags: Sequence[str] | None = None, param: str | None = None, default: Any = ...
) -> Param:
    """A typer option for a pydantic field: its flag, type, default and description
    (`flags`, `param`, `default` override the field's own)."""
    field = model.model_fields[name]
    flags = tuple(flags) if flags else _FLAGS.get(name, ("--" + name.replace("_", "-"),))
    annotation: Any = field.annotation
    if annotation is bool:
        flags = (f"{flags[0]}/--no-{flags[0][2:]}",)
    elif field.default is None:  # `X | None`: typer wants Optional[X]
        annotation = Optional[next(a for a in get_args(annotation) if a is not type(None))]  # noqa: UP045 (built at run time)
        if annotation == Optional[bool]:  # unset, --flag or --no-flag  # noqa: UP045
            flags = (f"{flags[0]}/--no-{flags[0][2:]}",)
    elif get_args(annotation):  # a Literal of choices: typer takes a str, the model checks it
        annotation = str
    param = param or ("runner_kind" if name == "kind" else name)
    default = field.default if default is ... else default
    return param, Annotated[annotation, typer.Option(*flags, help=field.description, rich_help_panel=panel)], default


_GENERATION_FIELDS = (
    "n",
    "k",
    "t",
    "max_tokens",
    "temperature",
    "top_p",
    "top_k",
    "min_p",
    "presence_penalty",
    "repetition_penalty",
    "seed",
)
_GENERATION_PARAMS = [_field_option(RSAConfig, f, "Generation") for f in _GENERATION_FIELDS]
# The generation seed seeds the backend too.
_RUNNER_PARAMS = [_field_option(RunnerConfig, f, "Model backend") for f in RunnerConfig.model_fields if f != "seed"]
_TEMPLATES_PARAM: Param = (
    "templates_dir",
    Annotated[
        str | None,
        typer.Option(
            "--templates",
            metavar="DIR",
            help="A folder holding any of the prompt templates (aggregate.txt, generate.txt, ...; "
            "docs/prompts.md lists them and their placeholders); the others are the defaults.",
            rich_help_panel="Generation",
        ),
    ],
    None,
)


def _inject(command: Callable, params: list[Param], provides: tuple[str, ...], build: Callable[[dict], dict]) -> Callable:
    """Add `params` to a typer command's signature in place of the parameters it
    `provides`; `build` turns the option values into those keyword arguments."""
    signature = inspect.signature(command)
    hints = typing.get_type_hints(command, include_extras=True)  # resolves postponed annotations
    own = [p.replace(annotation=hints.get(p.name, p.annotation)) for p in signature.parameters.values() if p.name not in provides]
    added = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=a, default=d) for name, a, d in params]

    @functools.wraps(command)
    def wrapper(**kwargs):
        values = {name: kwargs.pop(name) for name, _, _ in params}
        return command(**kwargs, **build(values))

    wrapper.__signature__ = signature.replace(parameters=own + added)  # type: ignore[attr-defined]
    wrapper.__annotations__ = {p.name: p.annotation for p in own + added}
    return wrapper


def filter_options(command: Callable) -> Callable:
    """The problem filters; the command receives `filters: ProblemFilter`."""

    def build(values: dict) -> dict:
        return {"filters": problem_filter(**values)}

    return _inject(command, _FILTER_PARAMS, ("filters",), build)


def generation_options(command: Callable) -> Callable:
    """Generation and backend options; the command receives `generation` (a dict of
    RSAConfig fields, the method being the command's own choice), `runner` (RunnerConfig)
    and `templates` (prompts.Templates, checked here: a bad folder stops the command at start)."""
    return _generation_options(command, ())


def grid_generation_options(*grid: str) -> Callable[[Callable], Callable]:
    """generation_options, with the fields `grid` (e.g. "n", "k") taking several values:
    comma-separated, or the option repeated (`-n 4,8` or `-n 4 -n 8`). `generation` then
    holds a tuple of ints for each (unset: the field's default alone)."""
    return lambda command: _generation_options(command, grid)


def _grid_param(name: str) -> Param:
    field = RSAConfig.model_fields[name]
    flags = _FLAGS.get(name, ("--" + name.replace("_", "-"),))
    extra = f" Several values make a grid: comma-separated, or the option repeated ({flags[0]} 4,8 or {flags[0]} 4 {flags[0]} 8)."
    help_text = (field.description or "") + extra + f" Default: {field.default}."
    return name, Annotated[list[str] | None, typer.Option(*flags, help=help_text, rich_help_panel="Generation", show_default=False)], None


def int_list(values: Sequence[str] | None, flag: str, default: int) -> tuple[int, ...]:
    """The integers of a list option (`4,8`, repeatable), in order and without repeats;
    unset: `default` alone. Not integers, or no value at all, is a UsageError naming `flag`."""
    if values is None:
        return (default,)
    items = [item.strip() for value in values for item in value.split(",")]
    if not any(items):
        raise UsageError(f"{flag}: expected integers separated by commas, got none")
    try:
        numbers = [int(item) for item in items]  # an empty item ("4,,8", "4,") is no integer either
    except ValueError:
        raise UsageError(f"{flag}: expected integers separated by commas, got {','.join(values)!r}") from None
    return tuple(dict.fromkeys(numbers))


def _generation_options(command: Callable, grid: tuple[str, ...]) -> Callable:
    generation_names = [name for name, _, _ in _GENERATION_PARAMS]

    def build(values: dict) -> dict:
        templates = load_templates(values.pop("templates_dir"))
        generation = {name: values.pop(name) for name in generation_names}
        for name in grid:
            generation[name] = int_list(generation[name], _FLAGS.get(name, ("--" + name,))[0], RSAConfig.model_fields[name].default)
        values["kind"] = values.pop("runner_kind")
        runner = validated(RunnerConfig, seed=generation["seed"], **values)
        implied_ray(runner, None)  # --data-parallel-size above 1 runs on Ray: without Ray, one line now
        return {"generation": generation, "runner": runner, "templates": templates}

    generation_params = [_grid_param(name) if name in grid else param for param in _GENERATION_PARAMS for name in [param[0]]]
    params = generation_params + [_TEMPLATES_PARAM] + _RUNNER_PARAMS
    return _inject(command, params, ("generation", "runner", "templates"), build)


def rsa_config(method: Method, **generation) -> RSAConfig:
    return validated(RSAConfig, method=method, **generation)


def validated(config_class: type[BaseModel], /, flags: Mapping[str, str] | None = None, model_flag: str = "", **values):
    """Build a config; a bad value is a UsageError naming its option. The one way a
    validation error becomes a usage error: `flags` maps a field to its option where the
    option is not `--field-name`; an error of the model as a whole names `model_flag`."""
    try:
        return config_class(**values)
    except ValidationError as e:
        raise usage_error(e, flags, model_flag) from None


def usage_error(error: ValidationError, flags: Mapping[str, str] | None = None, model_flag: str = "") -> UsageError:
    first = error.errors(include_url=False)[0]
    names = [str(p) for p in first["loc"] if isinstance(p, str)]
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] == "literal_error" and "input" in first:
        message += f", got {first['input']!r}"
    if not names:
        return UsageError(f"{model_flag}: {message}" if model_flag else message)
    name = names[-1]  # a nested model's field is named by its own option
    flag = (flags or {}).get(name) or _FLAGS.get(name, ("--" + name.replace("_", "-"),))[0]
    return UsageError(f"{flag}: {message}")


_SANDBOX_FLAGS = {"kind": "--sandbox", "test_seconds": "--timeout"}
_SANDBOX = "Sandbox"


def sandbox_options(semantics: str = "lcb") -> Callable[[Callable], Callable]:
    """The sandbox options (SandboxConfig's fields, one definition for every command that
    grades); the command receives `sandbox: SandboxConfig`. `semantics`: this command's default."""
    params = [
        _field_option(
            SandboxConfig,
            name,
            _SANDBOX,
            flags=(_SANDBOX_FLAGS.get(name, "--" + name.replace("_", "-")),),
            param=f"sandbox_{name}",
            default=semantics if name == "semantics" else ...,
        )
        for name in SandboxConfig.model_fields
    ]

    def build(values: dict) -> dict:
        fields = {name.removeprefix("sandbox_"): value for name, value in values.items()}
        return {"sandbox": validated(SandboxConfig, flags=_SANDBOX_FLAGS, **fields)}

    return lambda command: _inject(command, params, ("sandbox",), build)


_EVAL = "Evaluation"
METHOD_HELP = (
    "rsa (the paper: K random parents), sample (independent samples), majority (majority by behaviour over all "
    "N*(T+1) samples), refine (each chain rewrites its own answer: not the paper's K=1, which is --method rsa -k 1), "
    "rejection (resample until the public tests pass; uses a verifier), self-verify (independent samples, each judged by "
    "the same model from the statement and the program; the pick is one judged correct). docs/methods.md."
)
PassKOption = Annotated[
    str, typer.Option("--pass-k", help="Comma-separated k for LiveCodeBench's unbiased pass@k (k <= N).", rich_help_panel=_EVAL)
]
_EVAL_PARAMS: list[Param] = [
    ("method", Annotated[str, typer.Option("--method", help=METHOD_HELP, rich_help_panel=_EVAL)], "rsa"),
    (
        "shard",
        Annotated[
            str | None,
            typer.Option(
                "--shard",
                help="i/n: this machine's share of the problems (every n-th from the i-th); `rsa-code report` merges the shards.",
                rich_help_panel=_EVAL,
            ),
        ],
        None,
    ),
    (
        "feedback",
        Annotated[
            bool,
            typer.Option(
                "--feedback",
                help="Record each candidate's public-test verdicts per round (for analysis; the prompts do not see them).",
                rich_help_panel=_EVAL,
            ),
        ],
        False,
    ),
    (
        "feedback_in_prompt",
        Annotated[
            bool,
            typer.Option(
                "--feedback-in-prompt",
                help="Also show the aggregator its candidates' public-test results: a different method, not verifier-free.",
                rich_help_panel=_EVAL,
            ),
        ],
        False,
    ),
    ("pass_k", PassKOption, "1"),
]
EVAL_OPTION_NAMES = tuple(name for name, _, _ in _EVAL_PARAMS)


def pass_ks(text: str) -> list[int]:
    try:
        ks = sorted({int(k) for k in text.split(",") if k.strip()})
    except ValueError:
        raise UsageError(f"--pass-k: expected integers separated by commas, got {text!r}") from None
    if not ks or ks[0] < 1:
        raise UsageError("--pass-k: each k must be at least 1")
    return ks


def shard_of(text: str | None) -> tuple[int, int] | None:
    if text is None:
        return None
    try:
        i, n = (int(x) for x in text.split("/"))
    except ValueError:
        raise UsageError(f"--shard: expected i/n such as 0/4, got {text!r}") from None
    if not 0 <= i < n:
        raise UsageError(f"--shard {text}: i must be in 0..n-1")
    return i, n


def eval_options(command: Callable) -> Callable:
    """The evaluation's own options; the command receives `evaluation` (EvalChoice) and
    builds its EvalConfig with `evaluation.config(generation)`."""

    def build(values: dict) -> dict:
        return {"evaluation": EvalChoice(**values)}

    return _inject(command, _EVAL_PARAMS, ("evaluation",), build)


class EvalChoice:
    """The values of the evaluation options, checked."""

    def __init__(self, method: str, shard: str | None, feedback: bool, feedback_in_prompt: bool, pass_k: str):
        if method not in get_args(Method):
            raise UsageError(f"--method: expected one of {', '.join(get_args(Method))}, got {method!r}")
        self.method = method
        self.shard = shard_of(shard)
        self.feedback = feedback
        self.feedback_in_prompt = feedback_in_prompt
        self.ks = pass_ks(pass_k)

    def config(self, generation: dict) -> EvalConfig:
        if self.method == "refine":
            generation = {**generation, "k": 1}
        config = validated(
            EvalConfig, rsa=rsa_config(self.method, **generation), feedback=self.feedback, feedback_in_prompt=self.feedback_in_prompt
        )
        if self.ks[-1] > config.rsa.n:
            raise UsageError(f"--pass-k {self.ks[-1]} exceeds the population N={config.rsa.n}")
        return config


_RAY = "Ray"
_RAY_FLAGS = {"address": "--ray", "actors": "--ray-actors", "graders": "--ray-graders"}


def ray_options(grading: bool = True) -> Callable[[Callable], Callable]:
    """`--ray ADDRESS` (and `--ray-actors`, with `grading` `--ray-graders`): generation, and
    grading, on a Ray cluster (docs/ray.md). The command receives `ray: RayConfig | None`."""
    fields = ("address", "actors", "graders") if grading else ("address", "actors")
    params = [_field_option(RayConfig, name, _RAY, flags=(_RAY_FLAGS[name],), param=f"ray_{name}", default=None) for name in fields]

    def build(values: dict) -> dict:
        given = {name.removeprefix("ray_"): value for name, value in values.items()}
        if given["address"] is None:
            extra = next((name for name, value in given.items() if value is not None), None)
            if extra is not None:
                raise UsageError(f"{_RAY_FLAGS[extra]}: needs --ray ADDRESS")
            return {"ray": None}
        import_ray()  # no Ray, or nothing at the address: one line now, before any run directory is made
        check_address(given["address"])
        return {"ray": validated(RayConfig, flags=_RAY_FLAGS, **given)}

    return lambda command: _inject(command, params, ("ray",), build)
