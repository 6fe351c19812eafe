"""`mnemoscope convert-fhir SRC --out MEDS_DIR --members LIST`: a FHIR R4 export (NDJSON
or Bundles) as a MEDS dataset folder the hospital keeps and audits (data.fhir_meds).

It prints counts only: subjects, events, shards and what was passed over, never a value.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def add_fhir_command(commands: Any) -> None:
    fhir = commands.add_parser(
        "convert-fhir", help="convert a FHIR R4 folder (bulk-export NDJSON or Bundles) into a "
                             "MEDS dataset folder that `run` reads with [data] format = \"meds\"")
    fhir.add_argument("source", type=Path, help="folder of *.ndjson / *.json FHIR R4 files")
    fhir.add_argument("--out", type=Path, required=True, help="new (or empty) folder for the MEDS dataset")
    fhir.add_argument("--members", type=Path, required=True, metavar="LIST",
                      help="file of the training patients' FHIR Patient ids, one a line (split 'train')")
    fhir.add_argument("--non-members", type=Path, metavar="LIST",
                      help="file of the held-out patients' ids (split 'held_out'); default: every "
                           "other Patient")
    fhir.add_argument("--name", help="dataset_name in metadata/dataset.json (default: the source folder's name)")
    fhir.set_defaults(handler=convert_fhir_command)


def convert_fhir_command(args: argparse.Namespace) -> int:
    from audit_core.data.fhir_meds import convert_fhir

    done = convert_fhir(args.source, args.out, args.members, args.non_members, dataset_name=args.name)
    print(f"Wrote a MEDS dataset to {done.out}: {done.subjects:,} subjects ({done.members:,} members "
          f"in split 'train', {done.non_members:,} non-members in 'held_out'), {done.events:,} events "
          f"in {done.shards} shard{'s' if done.shards != 1 else ''}.")
    if done.left_out:
        print(f"  {done.left_out:,} Patients in neither list were left out.")
    for reason, count in done.skipped.items():
        print(f"  skipped {count:,}: {reason}")
    return 0
