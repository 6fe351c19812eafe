"""Every membership attack on the committed controls: AUC and TPR at 1% and 0.1% FPR, with
intervals, against LOSS, on a model that memorized the members and on its counterpart.

Run: .venv/bin/python benchmarks/attacks.py [--write docs/attacks.md] [--only loss,camia]
Each control side is one `mnemoscope run` (minutes in all on two cores; the fine-tuned pair is
trained first, about two minutes, unless --no-finetuned); the tables are
printed, and with --write put between the markers of docs/attacks.md.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from audit_core.tools.bench.attack_table import (  # noqa: E402
    CONTROLS,
    compare,
    finetuned_control,
    write_between_markers,
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", type=Path, help="the document to put the tables in (docs/attacks.md)")
    parser.add_argument("--only", default="", help="comma-separated probe ids (default: every membership probe)")
    parser.add_argument("--keep", type=Path, help="keep the runs' output folders here")
    parser.add_argument("--no-finetuned", action="store_true",
                        help="skip the fine-tuned pair (it trains three small models first)")
    args = parser.parse_args()
    only = [p for p in args.only.split(",") if p]
    with tempfile.TemporaryDirectory(prefix="mnemoscope-attacks-") as scratch:
        folder = args.keep or Path(scratch)
        controls = list(CONTROLS)
        if not args.no_finetuned:
            controls.append(finetuned_control(folder / "finetuned-controls"))
        tables = compare(folder, controls, only=only)
    print(tables)
    if args.write:
        write_between_markers(args.write, tables)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
