"""The report's template text (issue 17): the extraction and identifier figures net of
template beside the raw ones, read from the result alone; code records say that none was
found, and the template figures are not printed twice (in the generic metrics tables)."""

from __future__ import annotations

from audit_core.report.sections.elements import Paragraph, Table
from audit_core.report.sections.key_figures import plain_number, primary_figure
from audit_core.report.sections.probe_section import probe_section
from audit_core.report.sections.template_figures import template_blocks


def _extraction(found: bool) -> dict:
    net = 3 if found else 10
    return {"id": "extraction", "title": "Training-data extraction", "family": "extraction",
            "verdict": "fail", "settings": {"template_ngram": 4, "template_share": 0.3},
            "metrics": {"eligible_members": 40, "eligible_non_members": 40, "extracted_members": 10,
                        "extracted_non_members": 9, "extraction_rate_members": 0.25,
                        "extraction_rate_members_ci": [0.13, 0.41], "p_value": 0.5,
                        "template_found": found, "template_ngrams": 2 if found else 0,
                        "template_token_share_members": 0.2, "template_token_share_non_members": 0.2,
                        "template_excluded_extracted_members": net,
                        "template_excluded_extracted_non_members": 0 if found else 9,
                        "template_excluded_extraction_rate_members": net / 40,
                        "template_excluded_extraction_rate_members_ci": [0.01, 0.2],
                        "template_excluded_p_value": 0.12 if found else 0.5}}


def test_template_text_found_shows_raw_and_net_side_by_side() -> None:
    probe = _extraction(True)
    blocks = template_blocks(probe)
    sentence = next(b for b in blocks if isinstance(b, Paragraph)).text
    assert "Template text is a run of 4 tokens that at least 30.0%" in sentence and "20.0%" in sentence
    table = next(b for b in blocks if isinstance(b, Table))
    rows = {row[0]: row[1:] for row in table.rows}
    assert rows["Members extracted"] == ("10 of 40", "3 of 40")
    assert rows["Non-members extracted"] == ("9 of 40", "0 of 40")
    assert "3 net of template text" in primary_figure(probe).value
    assert "Net of template text: 3 of 40 members vs 0 of 40 non-members" in plain_number(probe).meaning
    # Printed once: the section's metrics table leaves the template figures to their table.
    section = probe_section(probe, "3.1")
    labels = [row[0] for b in section.blocks if isinstance(b, Table) for row in b.rows]
    assert labels.count("Members extracted") == 2  # the metrics table's and the template table's
    assert not any(str(label).startswith("Template") for label in labels)


def test_no_template_found_says_so_and_adds_no_figure() -> None:
    probe = _extraction(False)
    blocks = template_blocks(probe)
    assert not any(isinstance(b, Table) for b in blocks)
    assert "None was found: the figures net of template are the raw ones." in blocks[-1].text
    assert "net of template" not in primary_figure(probe).value
    assert "template" not in plain_number(probe).meaning
    assert template_blocks({"id": "loss", "metrics": {"auc": 0.5}}) == []  # older results, other probes
