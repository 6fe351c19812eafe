"""Builds the bundled tabular example, deterministically: `python -m audit_core.tools.controls.tabular_example`.

One synthetic population (controls/tabular_cohort.py) is cut into members, non-members
and outsiders. The audited model is the overfit random forest trained on the members;
the reference model the same recipe trained on the outsiders (it never saw a member);
optionally the regularised logistic regression on the members, the control that must not
fail. A plan beside them audits the forest against the reference. Needs the `controls`
extra (scikit-learn, skl2onnx); auditing the result needs neither.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from audit_core.tools.controls.tabular_cohort import FEATURES, LABEL, SUBGROUPS, generate_tabular_cohort
from audit_core.tools.controls.tabular_models import (
    export_classifier,
    overfit_forest,
    regularised_logistic,
)

EXAMPLE = Path(__file__).resolve().parents[3] / "resources" / "examples" / "tabular"
EXAMPLE_SIZE = 500  # members and non-members each: small files, a clear FAIL
EXAMPLE_SEED = 20261129


@dataclass(frozen=True, slots=True)
class TabularExample:
    folder: Path
    members: Path
    non_members: Path
    forest: Path  # the overfit random forest (ZipMap output)
    reference: Path  # the same recipe trained on outsiders
    logistic: Path | None  # the regularised logistic regression (tensor output), if built
    plan: Path


def build_tabular_example(folder: Path, *, size: int = EXAMPLE_SIZE, seed: int = EXAMPLE_SEED,
                          logistic: bool = False) -> TabularExample:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    population = generate_tabular_cohort(3 * size, seed=seed)
    shuffled = population.sample(frac=1.0, random_state=seed % 2**32).reset_index(drop=True)
    members, non_members, outsiders = (shuffled.iloc[i * size:(i + 1) * size] for i in range(3))
    members_path, non_members_path = folder / "members.csv", folder / "non_members.csv"
    members.to_csv(members_path, index=False, lineterminator="\n")
    non_members.to_csv(non_members_path, index=False, lineterminator="\n")
    forest = export_classifier(overfit_forest(members, seed), folder / "model" / "model.onnx")
    reference = export_classifier(overfit_forest(outsiders, seed + 1),
                                  folder / "reference" / "model.onnx")
    logistic_path = (export_classifier(regularised_logistic(members, seed),
                                       folder / "logistic" / "model.onnx", zipmap=False)
                     if logistic else None)
    plan = folder / "plan.toml"
    plan.write_text(example_plan("model", "reference"), encoding="utf-8")
    return TabularExample(folder, members_path, non_members_path, forest, reference,
                          logistic_path, plan)


def example_plan(model: str, reference: str | None, title: str = "Readmission risk model "
                 "(synthetic example)") -> str:
    features = ", ".join(f'"{f}"' for f in FEATURES)
    subgroups = ", ".join(f'"{s}"' for s in SUBGROUPS)
    return (f'[audit]\ntitle = "{title}"\ninstitution = "Example Hospital"\n'
            'intended_use = "30-day readmission risk at discharge"\nseed = 7\n\n'
            f'[model]\npath = "{model}"\n'
            + (f'reference = "{reference}"\n' if reference else "")
            + '\n[data]\nmembers = "members.csv"\nnon_members = "non_members.csv"\n\n'
            f'[data.columns]\nid = "patient_id"\nfeatures = [{features}]\nlabel = "{LABEL}"\n'
            f'subgroups = [{subgroups}]\n')


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, nargs="?", default=EXAMPLE)
    args = parser.parse_args(argv)
    built = build_tabular_example(args.folder)
    print(f"wrote {built.plan}, {built.forest}, {built.reference} and the two cohorts")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
