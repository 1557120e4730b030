"""The prompt templates: the defaults in `prompts/templates/`, any of them replaced by the
files of a folder the user names (`--templates DIR`).

Each template is a text file whose `{name}` placeholders the builder fills in. Every
template takes a fixed set of placeholders (PLACEHOLDERS): the required ones must appear,
the optional ones may, and any other is an error, as is a lone `{` or `}` (a literal brace
is written `{{` or `}}`). A folder is checked whole when it is loaded, before anything
runs, and an error names the file, the line and the placeholder. What a run used is
recorded by its content digest (and the texts themselves, so a run's prompts can be
rebuilt exactly).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType

from problems import InputFileError, UsageError

# name -> (required placeholders, optional placeholders)
PLACEHOLDERS: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]] = MappingProxyType(
    {
        "system": ((), ()),
        "generate": (("statement", "format"), ()),
        "aggregate": (("statement", "candidates", "format"), ("k",)),
        "candidate": (("text",), ("number",)),
        "candidate_feedback": (("text", "feedback"), ("number",)),
        "format_stdin": ((), ()),
        "format_functional": (("starter_code",), ()),
        "format_function": (("func_name",), ()),
        "format_assertion": (("func_name",), ()),
        "format_assertion_tests": (("func_name", "tests"), ()),
        "verify": (("statement", "program"), ()),
    }
)
SUFFIX = ".txt"

_BRACES = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def check_template(name: str, text: str, path: str | Path) -> None:
    """Raise InputFileError (file, line, placeholder) unless `text` is a valid `name` template."""
    required, optional = PLACEHOLDERS[name]
    allowed = ", ".join(f"{{{p}}}" for p in required + optional) or "none"
    seen: set[str] = set()
    for match in _BRACES.finditer(text):
        token = match.group(0)
        if token in ("{{", "}}"):
            continue
        line = text.count("\n", 0, match.start()) + 1
        field = match.group(1)
        if field is None:
            raise InputFileError(path, f"a lone {token!r}: write {token * 2!r} for a literal brace", line)
        if not _NAME.fullmatch(field) or field not in required + optional:
            raise InputFileError(path, f"unknown placeholder {token} (the {name} template takes: {allowed})", line)
        seen.add(field)
    missing = [p for p in required if p not in seen]
    if missing:
        raise InputFileError(
            path, f"missing placeholder {{{missing[0]}}} (the {name} template needs: " + ", ".join(f"{{{p}}}" for p in required) + ")"
        )


@dataclass(frozen=True, eq=False)
class Templates:
    """One text per template name; `overridden` names those that came from the user's folder."""

    texts: Mapping[str, str]
    overridden: tuple[str, ...] = ()

    def __getitem__(self, name: str) -> str:
        return self.texts[name]

    @property
    def digest(self) -> str:
        """Hash of the texts: equal digests, equal prompts."""
        return hashlib.sha256(json.dumps(dict(self.texts), sort_keys=True).encode()).hexdigest()[:16]

    def record(self) -> dict:
        """What a run's config holds: the digest (hashed, so resume refuses a change), the
        names the user replaced, and the texts (to rebuild the prompts)."""
        return {"digest": self.digest, "overridden": list(self.overridden), "texts": dict(self.texts)}

    @classmethod
    def from_record(cls, record: Mapping | None) -> Templates:
        """The templates a run recorded; a run made before templates were recorded used the defaults."""
        if not record:
            return default_templates()
        return cls(MappingProxyType(dict(record["texts"])), tuple(record.get("overridden", ())))


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8").strip("\n")


@cache
def default_templates() -> Templates:
    folder = resources.files("prompts") / "templates"
    texts = {name: (folder / f"{name}{SUFFIX}").read_text(encoding="utf-8").strip("\n") for name in PLACEHOLDERS}
    return Templates(MappingProxyType(texts))


def load_templates(directory: str | Path | None) -> Templates:
    """The defaults, with each `NAME.txt` of `directory` in place of the default NAME.
    A file that is no template's (a misspelt name) is an error, as is a bad placeholder."""
    if directory is None:
        return default_templates()
    folder = Path(directory)
    if not folder.is_dir():
        raise UsageError(f"--templates {directory}: not a directory")
    texts = dict(default_templates().texts)
    overridden = []
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or path.suffix != SUFFIX:
            continue  # a README or an editor's file beside the templates
        name = path.stem
        if name not in PLACEHOLDERS:
            raise InputFileError(path, f"not a template name; the templates are {', '.join(PLACEHOLDERS)}")
        try:
            text = _read(path)
        except (OSError, UnicodeDecodeError) as e:
            raise InputFileError(path, f"cannot be read as UTF-8 text: {e}") from None
        check_template(name, text, path)
        texts[name] = text
        overridden.append(name)
    if not overridden:
        raise UsageError(f"--templates {directory}: holds no template file ({', '.join(n + SUFFIX for n in PLACEHOLDERS)})")
    return Templates(MappingProxyType(texts), tuple(overridden))
