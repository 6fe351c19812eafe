"""Page 1 as plain data (`at_a_glance`) and the glossary's accessors: what the desktop's
results screen shows and its tooltips say must be what the PDF prints (issue 16)."""

from __future__ import annotations

from audit_core.report.sections.cover import TOP_ACTIONS, at_a_glance, cover_section, decision
from audit_core.report.sections.definitions import TERMS, definitions_section, glossary, terms_in
from audit_core.report.sections.elements import Heading, Paragraph, Table, TextStyle, VerdictBanner
from audit_core.report.sections.family_terms import ACTIONS
from tests.core.report_samples import cancelled


def _page_one(results: dict) -> tuple[VerdictBanner, str, str, list[str]]:
    blocks = cover_section(results, "digest").blocks
    banner = next(b for b in blocks if isinstance(b, VerdictBanner))
    lead = next(b.text for b in blocks if isinstance(b, Paragraph) and b.style == TextStyle.LEAD)
    index = next(i for i, b in enumerate(blocks) if isinstance(b, Heading) and "ctions" in b.text)
    table = blocks[index + 1]
    assert isinstance(table, Table)
    return banner, lead, blocks[index].text, [text for _, text in table.rows]


def test_at_a_glance_is_what_page_one_prints(results) -> None:
    for document in (results, cancelled(results)):
        glance = at_a_glance(document)
        banner, lead, heading, actions = _page_one(document)
        assert (glance.verdict, glance.verdict_label, glance.rationale) == (
            banner.verdict, banner.label, banner.rationale)
        assert glance.decision == lead == decision(document)
        assert heading.startswith(glance.actions_heading)
        assert list(glance.actions) == actions == [ACTIONS[k] for k in glance.action_keys[:TOP_ACTIONS]]
        assert glance.all_actions == len(glance.action_keys)
    assert at_a_glance(cancelled(results)).incomplete.startswith("INCOMPLETE AUDIT")
    assert at_a_glance(results).incomplete == ""


def test_the_glossary_accessor_is_appendix_c_in_full() -> None:
    rows = definitions_section().blocks[0].rows
    assert glossary() == tuple(rows) and len(rows) == len(TERMS)


def test_terms_in_finds_the_terms_a_results_screen_uses() -> None:
    found = {text: [term for term, _ in terms_in(text)] for text in (
        "AUC 0.967 (0.959–0.973)", "TPR 12% at 1% FPR", "epsilon lower bound 2.1",
        "ROC curve (log-log)", "95% CI 0.959–0.973", "10 of 491 members k-extractable", "q = 0.005",
        "FAIL")}
    assert found["AUC 0.967 (0.959–0.973)"] == ["ROC curve, AUC"]
    assert found["TPR 12% at 1% FPR"] == ["TPR, FPR"]
    assert "Epsilon lower bound ε_lb" in found["epsilon lower bound 2.1"]
    assert found["ROC curve (log-log)"] == ["ROC curve, AUC"]
    assert found["95% CI 0.959–0.973"] == ["95% interval (CI)"]
    assert "k-extractability" in found["10 of 491 members k-extractable"]
    assert found["q = 0.005"] == ["Benjamini–Hochberg (BH), q-value"]
    assert found["FAIL"] == ["PASS, WARN, FAIL"]  # the verdicts only when a verdict is named
    assert terms_in("Decision: none.") == ()
