"""`mnemoscope canaries`: make a canary set for a hospital to insert before training."""

from __future__ import annotations

from pathlib import Path

from audit_core.canaries.files import (
    DEFAULT_REPEATS,
    design_set,
    new_seed,
    write_canary_set,
)
from audit_core.errors import DataError, PlanError


def parse_repeats(text: str) -> tuple[int, ...]:
    try:
        values = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise PlanError(f"--repeats must be comma-separated positive integers (got '{text}')") from None
    if not values or min(values) < 1:
        raise PlanError(f"--repeats must be comma-separated positive integers (got '{text}')")
    return values


def cohort_tokens(path: Path, column: str) -> list[str]:
    from audit_core.data.loading import read_table

    frame, _ = read_table(path)
    if column not in frame.columns:
        raise DataError(f"{path.name} has no column '{column}' (columns: "
                        f"{', '.join(map(str, frame.columns))})")
    return [token for value in frame[column].astype(str) for token in value.split()]


def make_canaries(*, out: Path, count: int, seed_file: Path, kind: str, cohort: Path | None,
                  column: str | None, id_column: str, repeats: str = ",".join(map(str, DEFAULT_REPEATS)),
                  secret_length: int = 4, alphabet_size: int = 10, prefix_length: int = 6) -> str:
    """Write the set; return the lines to print (no secret among them)."""
    column = column or ("codes" if kind == "codes" else "text")
    tokens = None
    if kind == "codes":
        if cohort is None:
            raise PlanError("code canaries need --cohort: the training file whose codes the "
                            "canaries are written in")
        tokens = cohort_tokens(cohort, column)
    seed = new_seed()
    canary_set = design_set(kind, count, repeats=parse_repeats(repeats), secret_length=secret_length,
                            alphabet_size=alphabet_size, prefix_length=prefix_length,
                            cohort_tokens=tokens, seed=seed)
    manifest = write_canary_set(out, seed_file, canary_set, seed, id_column=id_column,
                                sequence_column=column)
    copies = sum(c["repeats"] for c in manifest["canaries"])
    return (f"{count} {kind} canaries ({manifest['space_bits']} bits of randomness each) written to "
            f"{out}: insert the rows of {manifest['records_file']} {copies} times in all, as its "
            f"'repeats' column says, then train.\n"
            f"Keep the seed file {seed_file} secret (mode 0600); the canary_exposure probe needs "
            f"{out / 'manifest.json'} and the seed file after training.")
