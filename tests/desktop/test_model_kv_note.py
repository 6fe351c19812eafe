"""The Model step says what an export without a KV cache costs and how to fix it, in the
words `mnemoscope inspect` uses; a KV export shows no such note."""

from __future__ import annotations

FIX = "convert the Hugging Face folder with `mnemoscope convert HF_FOLDER OUT_DIR` to get a KV export"


def test_the_model_step_notes_a_kv_less_export(qtbot, window, tiny_positive, tiny_positive_plain) -> None:
    window.new_audit()
    page = window.model_page
    page.set_model_path(tiny_positive_plain.out_dir)
    qtbot.waitUntil(lambda: "× slower" in page.kv_note.text(), timeout=60_000)
    note = page.kv_note.text()
    assert page.kv_note.isVisible()
    assert note.startswith("Slow generation: this export has no KV cache, so generation recomputes the "
                           "whole sequence at every step, about ")
    assert FIX in note and note.endswith("(in this app: File ▸ Import a model…)")
    assert page.fact_labels["kv"].text() == "no: see below"

    page.set_model_path(tiny_positive.export.out_dir)
    qtbot.waitUntil(lambda: page.info is not None, timeout=60_000)
    assert not page.kv_note.isVisible()
    assert page.fact_labels["kv"].text() == "yes (KV cache in the export)"
