"""A probe family is one module: everything the plan, the report, the desktop app and
`mnemoscope validate` know about a family comes from its spec in audit_core/families/,
so a family registered there (and nowhere else) is judged, worded and listed."""

from __future__ import annotations

import copy
import dataclasses
import json
from enum import StrEnum
from pathlib import Path

import pytest

from audit_core.errors import PlanError
from audit_core.families import FAMILIES, Family, FamilySpec, spec_of
from audit_core.families.spec import CalibrationNote, KnownAnswers, Methods, Wording
from audit_core.plan.parsing import load_plan
from audit_core.plan.span_settings import MEMORIZED_SPANS
from audit_core.plan.thresholds import SPLIT_VALIDITY
from audit_core.probes import PROBES
from audit_core.probes.selection import resolve_thresholds, threshold_tables
from audit_core.report import build_report
from audit_core.report.sections.family_terms import ACTIONS, STRENGTH, family_of, strength_of
from audit_core.report.sections.findings import derive_findings
from audit_core.report.sections.methods import methods_blocks
from audit_core.results.verdicts import Verdict
from audit_core.settings import describe, param
from audit_core.tools.validation.family_answers import FAMILY_CONTROLS
from tests.core.report_samples import strings

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "tests" / "fixtures" / "results_example.json"


def test_every_family_has_a_spec_in_the_enums_order() -> None:
    assert list(FAMILIES) == list(Family)
    for family, spec in FAMILIES.items():
        assert isinstance(spec, FamilySpec) and spec.family is family
        assert spec.table == family.value  # the plan's [thresholds.<family>] table


@pytest.mark.parametrize("family", list(Family))
def test_every_field_of_every_spec_is_filled(family: Family) -> None:
    spec = FAMILIES[family]
    # Thresholds: a frozen dataclass of described fields, each with its source.
    assert dataclasses.is_dataclass(spec.thresholds) and spec.thresholds.__dataclass_params__.frozen
    fields = describe(spec.thresholds)
    assert fields and all(f.label and f.anchor for f in fields), family
    spec.thresholds()  # every threshold has a default
    # Wording: every sentence written, actions the report can print.
    for field in dataclasses.fields(Wording):
        assert getattr(spec.wording, field.name), (family, field.name)
    assert set(spec.wording.actions) <= set(ACTIONS), family
    # Methods: a strength class the report names.
    assert spec.methods.strength in STRENGTH, family
    assert all(isinstance(p, str | CalibrationNote) and p for p in spec.methods.policies)
    # Desktop sentences: for verdicts a probe can end with, never empty.
    assert set(spec.plain) <= set(Verdict) - {Verdict.ERROR} and all(spec.plain.values())
    # Known answers: controls that ship both validation plans.
    for control in spec.known_answers:
        assert isinstance(control, KnownAnswers) and callable(control.checks)
        assert (ROOT / "resources" / control.where / "validation.toml").is_file()
        assert (ROOT / "resources" / control.where / "validation_negative.toml").is_file()


def test_every_probe_belongs_to_a_registered_family() -> None:
    for probe in PROBES:
        assert isinstance(probe.family, Family) and probe.family in FAMILIES, probe.id


def test_the_plan_report_desktop_and_validation_read_the_registry() -> None:
    from desktop.widgets.probe_card import plain_sentence

    assert threshold_tables() == {**{f.value: s.thresholds for f, s in FAMILIES.items()},
                                  SPLIT_VALIDITY: threshold_tables()[SPLIT_VALIDITY],
                                  MEMORIZED_SPANS: threshold_tables()[MEMORIZED_SPANS]}
    assert FAMILY_CONTROLS == tuple(sorted((c for s in FAMILIES.values() for c in s.known_answers),
                                           key=lambda c: c.progress_end))
    for family, spec in FAMILIES.items():
        probe = {"family": family.value}  # as results.json has it: a plain string
        assert family_of(probe) is spec.wording
        assert strength_of(probe) == STRENGTH[spec.methods.strength]
        for verdict, sentence in spec.plain.items():
            assert plain_sentence(_probe_result(family.value, verdict)) == sentence
    assert spec_of("no such family") is None and spec_of(None) is None


# A family registered in the test alone: nothing outside its spec knows it.
class _Toy(StrEnum):
    TOY = "toy"


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class _ToyThresholds:
    level: float = param(0.5, label="Toy level", min=0.0, max=1.0, anchor="a test's choice")


TOY = FamilySpec(
    family=_Toy.TOY,  # type: ignore[arg-type]  # a Family in all but the enum it belongs to
    thresholds=_ToyThresholds,
    wording=Wording(name="Toy attack", nist="Toy NIST class", edpb="Toy EDPB attack",
                    patient="A toy patient sentence.", mitigations=("Toy mitigation.",),
                    risk="Toy risk to patients", found="The toy probe found toys.",
                    actions=("dp",)),
    methods=Methods(strength="sampling", endpoint="for toys, the toy rate",
                    policies=("Toy policy sentence.",)),
    plain={Verdict.FAIL: "A toy sentence for the app."},
    known_answers=(),
)


@pytest.fixture
def toy_registered(monkeypatch: pytest.MonkeyPatch) -> FamilySpec:
    monkeypatch.setitem(FAMILIES, _Toy.TOY, TOY)  # type: ignore[index]
    return TOY


def test_a_family_registered_in_one_place_is_a_plan_table(toy_registered: FamilySpec,
                                                          tmp_path: Path) -> None:
    plan_path = _plan_with(tmp_path, "[thresholds.toy]\nlevel = 0.25\n")
    resolved = resolve_thresholds(load_plan(plan_path))
    assert resolved["toy"] == _ToyThresholds(level=0.25)
    with pytest.raises(PlanError, match="thresholds.toy.level"):
        resolve_thresholds(load_plan(_plan_with(tmp_path, "[thresholds.toy]\nlevel = 7\n")))


def test_a_family_registered_in_one_place_is_worded_by_the_report(toy_registered: FamilySpec) -> None:
    from desktop.widgets.probe_card import plain_sentence

    results = json.loads(RESULTS.read_text())
    toy = copy.deepcopy(results["probes"][1])
    toy.update(id="toy", title="Toy probe", family="toy", verdict="fail", attack_strength=None)
    results["probes"].append(toy)
    text = " ".join(strings(build_report(results)))
    for words in ("Toy risk to patients", "The toy probe found toys.", "Toy NIST class",
                  "Toy EDPB attack", "for toys, the toy rate", "Toy policy sentence."):
        assert words in text, words
    methods = " ".join(strings(tuple(methods_blocks(results))))
    assert "Toy NIST class" in methods and STRENGTH["sampling"] in methods
    assert any(f.risk == "Toy risk to patients" and f.actions == ("dp",) for f in derive_findings(results))
    assert plain_sentence(_probe_result("toy", Verdict.FAIL)) == "A toy sentence for the app."


def _plan_with(tmp_path: Path, extra: str) -> Path:
    demo = ROOT / "resources" / "demo"
    text = (demo / "plan.toml").read_text(encoding="utf-8")
    for name in ('"model"', '"members.csv"', '"non_members.csv"'):
        text = text.replace(name, json.dumps(str(demo / name.strip('"'))), 1)
    path = tmp_path / "plan.toml"
    path.write_text(text + "\n" + extra, encoding="utf-8")
    return path


def _probe_result(family: str, verdict: Verdict):
    from audit_core.results.result import ProbeResult

    return ProbeResult(id="p", title="P", family=family, question="q", citation="c", verdict=verdict,
                       headline={}, settings={}, settings_meta=[], thresholds={}, thresholds_meta=[],
                       metrics={}, curves={}, findings=("first finding",), extracted=(), seconds=0.0)
