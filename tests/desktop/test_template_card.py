"""The results screen shows the extraction figure net of template text beside the raw
headline when template text changed it (issue 17), in the report's words; the demo's code
records have none, and its card says nothing more."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

from audit_core.results.reading import read_result
from desktop.widgets.probe_card import ProbeCard
from tests.desktop.test_probe_cards import SIZES, shown


@pytest.fixture(scope="module")
def extraction(demo_outputs: Path):
    return next(p for p in read_result(demo_outputs / "results.json").probes if p.id == "extraction")


def test_the_demo_has_no_template_and_its_card_no_net_line(qtbot, extraction) -> None:
    assert extraction.metrics["template_found"] is False
    assert extraction.metrics["template_excluded_extracted_members"] == extraction.metrics["extracted_members"]
    card = ProbeCard(extraction)
    qtbot.addWidget(card)
    assert card.net is None and not any("template" in t for t in card.texts())


@pytest.mark.parametrize("size", SIZES)
def test_a_card_with_template_text_shows_both_figures_uncut(qtbot, extraction, size) -> None:
    metrics = {**extraction.metrics, "template_found": True, "template_excluded_extracted_members": 3,
               "template_excluded_extracted_non_members": 0}
    probe = dataclasses.replace(extraction, metrics=metrics)
    (card,) = shown(qtbot, [probe], size)
    texts = card.texts()
    assert texts[1] == probe.headline["text"]  # the raw headline stays
    assert texts[2].startswith("Net of template text: 3 of ") and "0 of " in texts[2]
    viewport = card.parentWidget().parentWidget()
    assert card.mapTo(viewport, card.rect().topRight()).x() <= viewport.width()
    if os.environ.get("MNEMOSCOPE_SHOTS"):  # a look at the card: MNEMOSCOPE_SHOTS=folder
        card.grab().save(str(Path(os.environ["MNEMOSCOPE_SHOTS"]) / f"template-card-{size[0]}.png"))
