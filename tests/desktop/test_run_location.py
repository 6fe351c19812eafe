"""The Run step's "Where the audit runs" (issue 18): this computer or a Ray cluster, kept in
the plan's [run] section so that a saved plan runs the same way from the CLI."""

from __future__ import annotations

from desktop.pages.run_page import RunPage, estimate_words
from desktop.plan_draft import PlanDraft
from desktop.widgets.run_location import RunLocationBox


def test_without_ray_the_cluster_is_offered_greyed_out_with_the_reason(qtbot) -> None:
    box = RunLocationBox(cluster_available=False)
    qtbot.addWidget(box)
    assert box.local_button.isChecked() and not box.cluster_button.isEnabled()
    assert box.section() is None
    assert "[cluster] extra" in box.note.text()


def test_the_choice_becomes_the_plans_run_section(qtbot) -> None:
    box = RunLocationBox(cluster_available=True)
    qtbot.addWidget(box)
    box.show()
    assert not box.details.isVisible()
    with qtbot.waitSignal(box.changed):
        box.cluster_button.setChecked(True)
    assert box.details.isVisible()
    # No address: a Ray started on this computer.
    assert box.section() == {"cluster": "auto", "model_transfer": "ship"}
    assert box.where() == "on a Ray cluster on this computer"
    box.address.setText(" ray://head:10001 ")
    box.workers.setValue(4)
    box.transfer.setCurrentIndex(box.transfer.findData("shared_path"))
    assert box.section() == {"cluster": "ray://head:10001", "model_transfer": "shared_path", "workers": 4}
    assert "nothing leaves the hospital's cluster" in box.note.text()
    box.local_button.setChecked(True)
    assert box.section() is None and box.note.text() == "Everything runs on this computer."


def test_a_plan_that_asks_for_the_cluster_keeps_asking_where_ray_is_missing(qtbot) -> None:
    box = RunLocationBox(cluster_available=False)
    qtbot.addWidget(box)
    box.set_section({"cluster": "ray://head:10001", "workers": 2, "model_transfer": "shared_path"})
    # Never quietly run here what the plan sends to the cluster: the plan check refuses it.
    assert box.cluster_button.isChecked() and box.cluster_button.isEnabled()
    assert box.section() == {"cluster": "ray://head:10001", "model_transfer": "shared_path", "workers": 2}
    assert "Ray is not installed" in box.note.text()


def test_the_run_step_loads_and_stores_the_section_and_offers_the_last_address(qtbot) -> None:
    page = RunPage()
    qtbot.addWidget(page)
    page.location._available = True
    page.location.cluster_button.setEnabled(True)
    page.cluster_address = "ray://head:10001"
    draft = PlanDraft(extra={"run": {"cluster": "auto", "model_transfer": "ship"}})
    page.load(draft)
    assert page.location.cluster_button.isChecked() and page.location.address.text() == ""
    page.load(PlanDraft())  # a plan without [run]: this computer, the last address kept ready
    assert page.location.local_button.isChecked()
    assert page.location.address.text() == "ray://head:10001"
    draft = PlanDraft(extra={"run": {"cluster": "auto"}})
    page.store(draft)
    assert "run" not in draft.extra
    page.location.cluster_button.setChecked(True)
    page.store(draft)
    assert draft.extra["run"]["cluster"] == "ray://head:10001"


def test_the_estimate_says_where_it_was_measured() -> None:
    assert estimate_words(90, on_cluster=False) == "Estimated time: about 1 min 30 s on this computer."
    assert estimate_words(90, on_cluster=True).startswith("Estimated time on this computer: about 1 min 30 s;")


def test_the_log_says_where_the_audit_runs(qtbot) -> None:
    page = RunPage()
    qtbot.addWidget(page)
    page.show_running(["loss"])
    assert "Audit started on this computer." in page.log.toPlainText()
    page.stop_clock()
    page.location.set_section({"cluster": "ray://head:10001"})
    page.show_running(["loss"])
    assert "Audit started on the cluster at ray://head:10001." in page.log.toPlainText()
    page.stop_clock()


def test_an_unreachable_cluster_is_said_on_the_run_step_before_start(qtbot, window) -> None:
    from tests.desktop.conftest import wait_ready

    window.open_demo()
    wait_ready(qtbot, window)
    location = window.run_page.location
    qtbot.waitUntil(lambda: "Estimated time" in window.run_page.estimate.text(), timeout=60_000)
    location.address.setText("ray://127.0.0.1:9")  # nothing listens on the discard port
    location.cluster_button.setEnabled(True)
    location.cluster_button.setChecked(True)
    qtbot.waitUntil(lambda: "Not ready to run" in window.run_page.estimate.text(), timeout=60_000)
    assert "cannot reach the Ray cluster at ray://127.0.0.1:9" in window.run_page.estimate.text()
    assert window.current_plan().run.cluster == "ray://127.0.0.1:9"
    location.local_button.setChecked(True)
    qtbot.waitUntil(lambda: "Estimated time: about" in window.run_page.estimate.text(), timeout=60_000)
    assert window.current_plan().run.cluster == ""


def test_an_opened_plan_keeps_its_run_section_through_the_app() -> None:
    import tomllib
    from pathlib import Path

    from audit_core.plan.parsing import plan_from_dict

    demo = Path(__file__).resolve().parents[2] / "resources/demo"
    raw = tomllib.loads((demo / "plan.toml").read_text())
    raw["run"] = {"cluster": "ray://head:10001", "workers": 3, "model_transfer": "shared_path"}
    plan = plan_from_dict(raw, base=demo)
    draft = PlanDraft.from_plan(plan)
    assert draft.to_plan().run == plan.run  # not part of as_dict, kept all the same
