"""User templates (`--templates DIR`): a folder with any of the files, the rest the defaults;
every placeholder checked when the folder loads."""

import pytest

from problems import InputFileError, Problem, UsageError
from prompts import (
    PLACEHOLDERS,
    CandidateText,
    aggregation_messages,
    check_template,
    default_templates,
    generation_messages,
    load_templates,
)

STDIN = Problem(id="p1", statement="Read two integers and print their sum.", kind="stdin")
FUNCTIONAL = Problem(
    id="p2",
    statement="Return the number of seniors.",
    kind="functional",
    func_name="countSeniors",
    starter_code="class Solution:\n    def countSeniors(self, details: List[str]) -> int:\n        ",
)
CAND = CandidateText("I add them.\n```python\nprint(1)\n```", "I add them.", "print(1)")


def test_every_default_template_is_valid_and_exists():
    defaults = default_templates()
    assert set(defaults.texts) == set(PLACEHOLDERS)
    for name, text in defaults.texts.items():
        check_template(name, text, f"{name}.txt")


def test_a_folder_replaces_only_the_templates_it_holds(tmp_path):
    (tmp_path / "aggregate.txt").write_text("PROBLEM:\n{statement}\n\nHere are {k} attempts:\n{candidates}\n\n{format}\n", encoding="utf-8")
    (tmp_path / "README.md").write_text("notes about my wording {not a placeholder}", encoding="utf-8")
    mine = load_templates(tmp_path)
    assert mine.overridden == ("aggregate",)
    user = aggregation_messages(STDIN, [CAND, CAND], templates=mine)[1]["content"]
    assert user.startswith("PROBLEM:\nRead two integers") and "Here are 2 attempts:" in user
    assert "#### Candidate 2" in user  # the candidate template is still the default
    assert generation_messages(STDIN, mine) == generation_messages(STDIN)
    assert mine.digest != default_templates().digest


def test_literal_braces_are_doubled(tmp_path):
    (tmp_path / "format_functional.txt").write_text(
        "Fill in {{the class}}:\n```python\n{starter_code}\n```\nReturn a dict such as {{'a': 1}}.", encoding="utf-8"
    )
    user = generation_messages(FUNCTIONAL, load_templates(tmp_path))[1]["content"]
    assert "Fill in {the class}:" in user and "{'a': 1}" in user and "def countSeniors" in user


def test_optional_placeholders_may_be_left_out(tmp_path):
    (tmp_path / "candidate.txt").write_text("--- attempt ---\n{text}", encoding="utf-8")
    user = aggregation_messages(STDIN, [CAND], templates=load_templates(tmp_path))[1]["content"]
    assert "--- attempt ---\nI add them." in user and "Candidate 1" not in user


@pytest.mark.parametrize(
    ("name", "text", "line", "says"),
    [
        ("aggregate", "{statement}\n{candidates}\n{formt}\n", 3, "unknown placeholder {formt}"),
        ("aggregate", "{statement}\n\n{format}", None, "missing placeholder {candidates}"),
        ("generate", "{statement}\n{format}\n{k}", 3, "unknown placeholder {k}"),
        ("candidate", "Attempt {number}:\n{text!r}", 2, "unknown placeholder {text!r}"),
        ("system", "Return {} here", 1, "unknown placeholder {}"),
        ("system", "a dict {'a': 1}", 1, "unknown placeholder {'a': 1}"),
        ("format_stdin", "Print the answer }", 1, "a lone '}'"),
        ("format_function", "Write {func_name} {", 1, "a lone '{'"),
    ],
)
def test_a_bad_placeholder_names_the_file_the_line_and_the_placeholder(tmp_path, name, text, line, says):
    path = tmp_path / f"{name}.txt"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputFileError) as caught:
        load_templates(tmp_path)
    message = str(caught.value)
    where = f"{path}:{line}: " if line else f"{path}: "
    assert message.startswith(where) and says in message, message


def test_a_misspelt_file_or_an_empty_folder_is_an_error(tmp_path):
    with pytest.raises(UsageError, match="holds no template file"):
        load_templates(tmp_path)
    (tmp_path / "agregate.txt").write_text("{statement}", encoding="utf-8")
    with pytest.raises(InputFileError, match="agregate.txt: not a template name"):
        load_templates(tmp_path)
    with pytest.raises(UsageError, match="not a directory"):
        load_templates(tmp_path / "nowhere")


def test_the_record_rebuilds_the_same_templates(tmp_path):
    (tmp_path / "system.txt").write_text("You write Python.", encoding="utf-8")
    mine = load_templates(tmp_path)
    again = type(mine).from_record(mine.record())
    assert again.digest == mine.digest and again["system"] == "You write Python."
    assert type(mine).from_record(None).digest == default_templates().digest
