"""Fold the shape arithmetic of an export written before the exporter folded it.

The committed controls and examples (resources/) were exported before
models/shape_folding.py existed, so their graphs still compute every reshape's shape at
every call: on the demo's 4-layer model that is 1,044 nodes where 322 compute the same
bits, and about 3 s of its 25 s audit (issue 21). Retraining them would change their
weights and every known answer; folding the existing file changes nothing but the
graph's bookkeeping: `fold_export_file` keeps the rewrite only when onnxruntime returns
identical outputs from both graphs, exactly as the exporter does after its own export.

    python -m audit_core.tools.controls.refold resources/demo/model [more export folders]

Each folder's manifest.json records the new file's size and SHA-256 and
`shape_arithmetic_folded`; its parity section stays true because the outputs are the same
bits. A folder already folded, or whose graph does not fold, is left as it is.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

from audit_core.models.shape_folding import fold_export_file

MODEL_FILENAME = "model.onnx"
MANIFEST_FILENAME = "manifest.json"


def refold(folder: Path) -> bool:
    """Fold `folder`'s model.onnx in place and update its manifest; whether it changed."""
    manifest_path = folder / MANIFEST_FILENAME
    manifest = json.loads(manifest_path.read_text())
    if manifest.get("onnx", {}).get("shape_arithmetic_folded"):
        return False
    model = folder / MODEL_FILENAME
    if not fold_export_file(model, int(manifest["model"]["vocab_size"])):
        return False
    data = model.read_bytes()
    onnx_section = manifest["onnx"]
    onnx_section["bytes"] = len(data)
    onnx_section["sha256"] = hashlib.sha256(data).hexdigest()
    onnx_section["shape_arithmetic_folded"] = True
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", type=Path, help="export folders (model.onnx + manifest.json)")
    args = parser.parse_args(argv)
    for folder in args.folders:
        try:
            changed = refold(folder)
        except (OSError, ValueError, KeyError) as exc:  # no export there: say so, no traceback
            print(f"{folder}: not an export folder with {MODEL_FILENAME} and {MANIFEST_FILENAME} "
                  f"({exc.__class__.__name__})", file=sys.stderr)
            return 2
        print(f"{folder}: {'folded' if changed else 'left as it was'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
