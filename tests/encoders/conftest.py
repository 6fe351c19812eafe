"""Plans over the encoder controls (the session fixture `encoder_controls` is in
tests/conftest.py, shared with tests/core)."""

from __future__ import annotations

from audit_core.tools.controls.encoder_control import EncoderControls


def encoder_plan(controls: EncoderControls, model: str, extra: str = "") -> object:
    path = controls.folder / f"{model}.toml"
    path.write_text(f'[audit]\ntitle = "Encoder control"\nseed = 7\n\n[model]\npath = "{model}"\n\n'
                    '[data]\nmembers = "members.csv"\nnon_members = "non_members.csv"\n\n'
                    '[data.columns]\nid = "patient_id"\nsequence = "codes"\nkind = "codes"\n'
                    f'subgroups = ["age_band", "sex"]\n{extra}', encoding="utf-8")
    return path
