"""The whole flow on the demo: choose, map, run, read the results, export the PDF."""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import Qt

from audit_core.plan.parsing import load_plan
from audit_core.probes import PROBES
from audit_core.report.sections.probe_evidence import histogram_chart, roc_chart
from audit_core.results.result import plain
from desktop.plan_draft import needs_reference, opt_in
from desktop.widgets.charts import RocChart, ScoreHistogram
from desktop.widgets.records_table import RecordsModel
from desktop.widgets.sample_values import MASK
from tests.conftest import write_small_cohorts
from tests.desktop.conftest import AUDIT_TIMEOUT_MS, wait_ready
from tests.printed_numbers import assert_printed_from, widget_texts

DEMO = Path(__file__).resolve().parents[2] / "resources" / "demo"


def test_new_audit_on_the_demo_from_start_to_pdf(qtbot, window, dialogs, tmp_path: Path,
                                                ground_truth: dict) -> None:
    # The demo model on 80 + 80 of its records (its 10 planted members first): the whole
    # standard suite runs in seconds, not the minute and more of the demo's 2,000 records.
    members, non_members = write_small_cohorts(tmp_path, ground_truth)
    window.start_page.new_button.click()
    wizard = window.wizard
    assert wizard.current == 0 and not wizard.next_button.isEnabled()

    window.model_page.set_model_path(DEMO / "model")
    qtbot.waitUntil(lambda: window.model_page.info is not None, timeout=60_000)
    assert window.model_page.fact_labels["tokenizer"].text() == "tokenizer.json matches the model"
    qtbot.mouseClick(wizard.next_button, Qt.MouseButton.LeftButton)
    assert wizard.current == 1

    data = window.data_page
    data.set_file("members", members)
    data.set_file("non_members", non_members)
    wait_ready(qtbot, window)
    assert data.mapping() == ("patient_id", "codes", "codes", ("age_band", "sex"))
    # Sample values are patient data: masked until revealed, masked again on leaving.
    assert data.samples.item(0, 0).text() == MASK
    data.reveal_button.click()
    assert data.samples.item(0, 0).text() != MASK
    qtbot.mouseClick(wizard.next_button, Qt.MouseButton.LeftButton)
    assert data.samples.item(0, 0).text() == MASK

    assert wizard.current == 2
    # The standard suite: every probe this audit can support; those needing a reference
    # model are greyed out with the reason, as this audit has none.
    boxes = window.probes_page.boxes
    # Canaries (a hospital's manifest) and identifier leakage (notes) are ticked by hand.
    # The demo export has no hidden states, so the embedding probe (T3) is greyed out too.
    suite = [p.id for p in PROBES
             if not needs_reference(p) and p.needs.applies_to("causal_lm") and not opt_in(p)
             and not p.needs.hidden_states]
    assert list(window.probes_page.selected()) == suite
    greyed = [b for b in boxes.values() if not b.isEnabled()]
    assert all("reference model" in b.reason.text() or "Does not apply" in b.reason.text()
               or "hidden states" in b.reason.text() for b in greyed)
    qtbot.mouseClick(wizard.next_button, Qt.MouseButton.LeftButton)
    assert wizard.current == 3
    window.details_page.title.setText("Desktop test audit")
    window.details_page.institution.setText("Test Hospital")
    window.details_page.release.setCurrentIndex(2)
    qtbot.mouseClick(wizard.next_button, Qt.MouseButton.LeftButton)
    assert wizard.current == 4
    window.run_page.folder_field.setText(str(tmp_path / "out"))

    qtbot.mouseClick(window.run_page.start_button, Qt.MouseButton.LeftButton)
    assert window.controller.busy and not wizard.back_button.isEnabled()
    qtbot.waitUntil(lambda: window.screens.currentWidget() is window.results_page, timeout=AUDIT_TIMEOUT_MS)

    results = window.results_page
    assert results.banner_badge.text() == "FAIL"
    cards = results.probe_cards()
    assert [c.probe.id for c in cards] == suite
    assert {c.probe.id for c in cards if c.badge.text() == "FAIL"} >= {"loss", "min_k", "extraction"}
    assert "(" in cards[0].probe.headline["text"]  # the headline carries its interval
    # The charts are drawn from the very specs the PDF is built from.
    # Membership probes always have both charts; the clinical probes draw tables instead.
    for card in cards:
        data = plain(card.probe.as_dict())
        roc, histogram = roc_chart(data, card.probe.title), histogram_chart(data)
        if card.probe.family == "membership":
            assert roc is not None and histogram is not None
        assert (card.findChild(RocChart).spec if roc else card.findChild(RocChart)) == roc
        assert (card.findChild(ScoreHistogram).spec if histogram else card.findChild(ScoreHistogram)) == histogram
    assert not results.grab().isNull()  # paints every chart (an exception would fail the test)
    finished = results.finished_audit
    # One source for every number (issue 14): every figure the page shows is one of the
    # files' own, formatted as the report and the CLI format it.
    saved = (json.loads(finished.files["results"].read_text()),
             json.loads((finished.folder / "run.json").read_text()))
    assert_printed_from(widget_texts(results), *saved, where="the desktop results page", at_least=20)
    assert finished.result.audit["release_context"] == "public"
    assert finished.result.audit["institution"] == "Test Hospital"

    # The records table: members first, by pseudonym; ids only on demand.
    model: RecordsModel = results.proxy.sourceModel()
    assert results.proxy.rowCount() == 80
    assert results.table.isColumnHidden(1)
    top = results.proxy.index(0, 0).data()
    assert top.startswith("R-")
    results.text_filter.setText(top)
    assert results.proxy.rowCount() == 1
    results.text_filter.setText("")
    results.reveal_ids.click()
    assert not results.table.isColumnHidden(1)
    assert len(model.rows) == 160

    # Export: the PDF is copied where the user says and offered to open.
    dialogs.save_path = tmp_path / "exported.pdf"
    exported = window.export("report")
    assert exported == dialogs.save_path
    assert exported.read_bytes().startswith(b"%PDF") and exported.stat().st_size > 10_000
    assert dialogs.opened == [str(exported)]
    for kind in ("results", "records"):
        dialogs.save_path = tmp_path / f"exported-{kind}"
        assert window.export(kind).stat().st_size > 0

    # The folder holds the plan as run: the CLI can rerun it.
    rerun = load_plan(finished.files["plan"])
    assert rerun.audit.title == "Desktop test audit"
    assert rerun.data.members.resolve() == members.resolve()
    assert window.settings.recent_plans[0] == finished.files["plan"].resolve()
    assert not dialogs.shown


def test_save_plan_writes_what_open_plan_reads(qtbot, window, dialogs, tmp_path: Path) -> None:
    window.open_demo()
    assert window.wizard.current == 4
    wait_ready(qtbot, window)
    window.probes_page.boxes["extraction"].setChecked(False)
    window.probes_page.boxes["min_k"].form.editors["k"].setValue(0.1)
    dialogs.save_path = tmp_path / "saved.toml"
    window.save_plan()
    saved = load_plan(tmp_path / "saved.toml")
    demo = load_plan(DEMO / "plan.toml")
    assert saved.probes == {"loss": {}, "zlib": {}, "min_k": {"k": 0.1}, "min_k_plus_plus": {},
                            "trajectory": {}, "sensitive_attributes": {}, "reidentification": {},
                            "perturbation": {}, "vulnerable_subgroups": {}}
    assert saved.thresholds == demo.thresholds and saved.model.declared == demo.model.declared
    assert saved.model.path.resolve() == demo.model.path.resolve()

    window.open_plan(tmp_path / "saved.toml")
    wait_ready(qtbot, window)
    assert not window.probes_page.boxes["extraction"].isChecked()
    assert window.probes_page.boxes["min_k"].form.values() == {"k": 0.1}
    assert window.start_page.recent.count() == 1
    qtbot.waitUntil(lambda: "Estimated time" in window.run_page.estimate.text(), timeout=60_000)
    assert not dialogs.shown


def test_tab_order_follows_the_screen_top_to_bottom(qtbot, window) -> None:
    from PySide6.QtCore import Qt as _Qt

    window.new_audit()
    window.wizard.go(3, force=True)
    page = window.details_page
    expected = [page.title, page.institution, page.requester, page.auditor, page.intended_use, page.release]
    chain, widget = [], page.title
    for _ in range(200):
        if (widget.focusPolicy() & _Qt.FocusPolicy.TabFocus) and widget.isVisible() and widget.isEnabled():
            chain.append(widget)
        widget = widget.nextInFocusChain()
        if widget is page.title:
            break
    assert chain[:len(expected)] == expected
    assert chain.index(window.wizard.back_button) < chain.index(window.wizard.next_button)
