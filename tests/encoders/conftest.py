"""The encoder controls, built once per session: 200 members and 200 non-members of the
code-language population, a tiny encoder (embeddings + masked-LM head) trained to
memorize the members and one of the same recipe trained on other patients."""

from __future__ import annotations

import pytest

from audit_core.tools.controls.encoder_control import EncoderControls, build_encoder_controls


@pytest.fixture(scope="session")
def encoder_controls(tmp_path_factory) -> EncoderControls:
    return build_encoder_controls(tmp_path_factory.mktemp("encoders"))


def encoder_plan(controls: EncoderControls, model: str, extra: str = "") -> object:
    path = controls.folder / f"{model}.toml"
    path.write_text(f'[audit]\ntitle = "Encoder control"\nseed = 7\n\n[model]\npath = "{model}"\n\n'
                    '[data]\nmembers = "members.csv"\nnon_members = "non_members.csv"\n\n'
                    '[data.columns]\nid = "patient_id"\nsequence = "codes"\nkind = "codes"\n'
                    f'subgroups = ["age_band", "sex"]\n{extra}', encoding="utf-8")
    return path
