"""The plan's `[model] reference_role`: "base" (the public base model this model was
fine-tuned from) or "shadow" (a model trained without the members, the default); bad
values are refused with a message that says what to write, and exit code 2 on the CLI."""

from __future__ import annotations

from pathlib import Path

import pytest

from audit_core.cli.reference_line import reference_line
from audit_core.errors import PlanError
from audit_core.plan.parsing import load_plan, plan_from_dict
from audit_core.plan.writing import plan_toml
from tests.core.test_cli import mnemoscope

DATA = {"members": "m.csv", "non_members": "n.csv"}


def _plan(**model):
    return plan_from_dict({"model": {"path": "model", **model}, "data": DATA}, base=Path("/plans"))


def test_the_role_is_read_written_back_and_defaults_to_shadow() -> None:
    assert _plan(reference="ref").model.reference_role == "shadow"
    assert _plan().model.reference_role == "shadow"
    plan = _plan(reference="base-model", reference_role="base")
    assert plan.model.reference_role == "base" and plan.model.reference == Path("/plans/base-model")
    assert plan.as_dict()["model"]["reference_role"] == "base"
    assert 'reference_role = "base"' in plan_toml(plan, Path("/plans"))
    assert "reference_role" not in _plan().as_dict()["model"]  # no reference, no role


@pytest.mark.parametrize(("model", "message"), [
    ({"reference": "ref", "reference_role": "pretrained"}, r'must be "shadow" or "base" \(got \'pretrained\'\)'),
    ({"reference": "ref", "reference_role": 1}, "a value of another kind"),
    ({"reference": "ref", "reference_role": "x" * 500}, "a value of another kind"),
    ({"reference_role": "base"}, "'model.reference' is not"),
])
def test_bad_roles_are_refused_with_what_to_write(model: dict, message: str) -> None:
    with pytest.raises(PlanError, match=message):
        _plan(**model)


def test_the_terminal_names_the_reference_in_the_reports_words() -> None:
    assert reference_line(_plan()) is None
    base = reference_line(_plan(reference="gpt-base", reference_role="base")) or ""
    assert "gpt-base" in base and "the public base model this model was fine-tuned from" in base
    shadow = reference_line(_plan(reference="other")) or ""
    assert "a model trained without the members" in shadow


def test_cli_refuses_a_bad_role_with_exit_code_2(tmp_path: Path, small_plan: Path) -> None:
    text = small_plan.read_text().replace("batch_size = 32", 'batch_size = 32\nreference_role = "bass"')
    small_plan.write_text(text)
    with pytest.raises(PlanError):
        load_plan(small_plan)
    done = mnemoscope("run", str(small_plan), "--out", str(tmp_path / "out"), "--quiet")
    assert done.returncode == 2, done.stderr
    assert "reference_role" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "out" / "report.pdf").exists()
