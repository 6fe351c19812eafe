"""Generated forms, the About box, settings, and the app's import boundaries."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from audit_core.probes import PROBES
from audit_core.probes.selection import threshold_tables
from audit_core.settings import settings_dict
from desktop.widgets.config_form import ConfigForm

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("config_type", [p.config_type for p in PROBES] + list(threshold_tables().values()),
                         ids=[p.id for p in PROBES] + list(threshold_tables()))
def test_a_generated_form_reads_its_defaults_back_unchanged(qtbot, config_type) -> None:
    form = ConfigForm(config_type)
    qtbot.addWidget(form)
    defaults = config_type()
    assert form.values() == settings_dict(defaults)
    assert form.build() == defaults
    assert form.changed_values() == {}
    assert set(form.editors) == set(settings_dict(defaults))


def test_a_form_shows_and_returns_changed_values(qtbot) -> None:
    config_type = next(p for p in PROBES if p.id == "extraction").config_type
    form = ConfigForm(config_type)
    qtbot.addWidget(form)
    form.set_values({"prefix_tokens": 32})
    assert form.changed_values() == {"prefix_tokens": 32}


def test_about_names_the_versions_and_the_no_network_promise() -> None:
    from desktop.about import about_text

    text = about_text()
    assert "makes no network connections" in text
    for name in ("Mnemoscope", "Python", "PySide6", "onnxruntime"):
        assert name in text


def test_recent_plans_are_remembered_most_recent_first(settings, tmp_path: Path) -> None:
    first, second = tmp_path / "a.toml", tmp_path / "b.toml"
    for path in (first, second):
        path.write_text("")
        settings.add_recent_plan(path)
    settings.add_recent_plan(first)
    assert settings.recent_plans == [first.resolve(), second.resolve()]


def test_the_gui_reaches_models_data_and_pdfs_only_through_audit_core() -> None:
    code = ("import sys, desktop.main_window, desktop.app\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'onnxruntime', 'pandas', 'reportlab', 'torch'}))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
    for path in (ROOT / "desktop").rglob("*.py"):
        text = path.read_text()
        for module in ("onnxruntime", "pandas", "reportlab"):
            assert f"import {module}" not in text and f"from {module}" not in text, path
