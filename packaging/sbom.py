"""The software bill of materials: every package that goes across the air gap.

Made from the lock file (what was meant to go in) and the wheel files themselves (what
does go in): for each pinned package, its version, its licence as its own metadata
declares it, and the SHA-256 of the wheel carried, which must be one of the hashes the
lock allows. Written as CycloneDX 1.5 JSON (sbom.cdx.json) for tools and as a plain table
(sbom.csv) for the people who approve the install.

    python packaging/sbom.py LOCK WHEEL_DIR OUT_DIR [--build COMMIT] [--extra-lock LOCK]
"""

from __future__ import annotations

import argparse
import csv
import email.parser
import hashlib
import json
import sys
import uuid
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bundle_manifest as manifest  # noqa: E402

SPEC_VERSION = "1.5"


@dataclass(frozen=True)
class Component:
    name: str
    version: str
    license: str
    sha256: str
    wheel: str
    summary: str

    @property
    def purl(self) -> str:
        return f"pkg:pypi/{manifest.normalize(self.name)}@{self.version}"


class SbomError(Exception):
    pass


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def wheel_name_version(path: Path) -> tuple[str, str]:
    """('pyside6-essentials', '6.12.0') from PySide6_Essentials-6.12.0-cp39-abi3-....whl."""
    parts = path.name[:-len(".whl")].split("-")
    if len(parts) < 5:
        raise SbomError(f"{path.name}: not a wheel file name")
    return manifest.normalize(parts[0]), parts[1]


def wheel_metadata(path: Path) -> email.message.Message:
    with zipfile.ZipFile(path) as archive:
        names = [n for n in archive.namelist() if n.count("/") == 1 and n.endswith(".dist-info/METADATA")]
        if not names:
            raise SbomError(f"{path.name}: no .dist-info/METADATA inside")
        text = archive.read(names[0]).decode("utf-8", errors="replace")
    return email.parser.Parser().parsestr(text, headersonly=True)


def declared_license(metadata: email.message.Message) -> str:
    """The licence as the package declares it: SPDX expression, else the License field's
    first line, else the licence classifiers, else "not declared" (never guessed)."""
    expression = (metadata.get("License-Expression") or "").strip()
    if expression:
        return expression
    text = (metadata.get("License") or "").strip().splitlines()
    first = text[0].strip() if text else ""
    # A short licence name, not the first line of a pasted licence text ("Copyright (c) ...").
    if first and len(first) <= 80 and first.upper() != "UNKNOWN" and "copyright" not in first.lower():
        return first
    classifiers = [c.split("::")[-1].strip() for c in metadata.get_all("Classifier") or []
                   if c.startswith("License ::") and c.count("::") >= 2]
    return " OR ".join(classifiers) if classifiers else "not declared"


def components(lock: Path, wheel_dir: Path) -> list[Component]:
    """One component per pin of the lock, from the wheel carried for it; every pin needs
    exactly one wheel whose hash the lock allows."""
    pins, allowed = manifest.lock_pins(lock), manifest.lock_hashes(lock)
    wheels: dict[tuple[str, str], list[Path]] = {}
    for path in sorted(wheel_dir.glob("*.whl")):
        wheels.setdefault(wheel_name_version(path), []).append(path)
    found = []
    for name, version in sorted(pins.items()):
        candidates = wheels.get((name, version), [])
        if len(candidates) != 1:
            raise SbomError(f"{name}=={version}: {len(candidates)} wheels in {wheel_dir} (need exactly one)")
        path = candidates[0]
        digest = sha256_of(path)
        if digest not in allowed.get(name, []):
            raise SbomError(f"{path.name}: SHA-256 {digest} is not one the lock {lock.name} allows")
        metadata = wheel_metadata(path)
        found.append(Component(name=metadata.get("Name", name), version=version,
                               license=declared_license(metadata), sha256=digest, wheel=path.name,
                               summary=(metadata.get("Summary") or "").strip()))
    return found


def cyclonedx(parts: list[Component], tool_version: str, build: str) -> dict:
    def licence(text: str) -> list[dict]:
        if text == "not declared":
            return []
        # An SPDX-looking expression goes in as an expression, anything else as a name.
        if all(ch.isalnum() or ch in "-.+ ()" for ch in text) and " " not in text.replace(" OR ", "").replace(" AND ", "").replace(" WITH ", ""):
            return [{"expression": text}]
        return [{"license": {"name": text}}]

    return {
        "bomFormat": "CycloneDX", "specVersion": SPEC_VERSION,
        "serialNumber": f"urn:uuid:{uuid.uuid4()}", "version": 1,
        "metadata": {
            "timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "tools": {"components": [{"type": "application", "name": "mnemoscope packaging/sbom.py"}]},
            "component": {"type": "application", "bom-ref": "mnemoscope", "name": "mnemoscope",
                          "version": tool_version,
                          "properties": [{"name": "mnemoscope:build", "value": build}]},
        },
        "components": [{
            "type": "library", "bom-ref": c.purl, "name": c.name, "version": c.version,
            "description": c.summary, "purl": c.purl, "licenses": licence(c.license),
            "hashes": [{"alg": "SHA-256", "content": c.sha256}],
            "properties": [{"name": "mnemoscope:wheel", "value": c.wheel},
                           {"name": "mnemoscope:declared-license", "value": c.license}],
        } for c in parts],
        "dependencies": [{"ref": "mnemoscope", "dependsOn": [c.purl for c in parts]}],
    }


def write(parts: list[Component], out_dir: Path, tool_version: str, build: str) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path, csv_path = out_dir / "sbom.cdx.json", out_dir / "sbom.csv"
    json_path.write_text(json.dumps(cyclonedx(parts, tool_version, build), indent=1) + "\n", encoding="utf-8")
    with csv_path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["package", "version", "license", "sha256", "wheel"])
        for c in parts:
            writer.writerow([c.name, c.version, c.license, c.sha256, c.wheel])
    return [json_path, csv_path]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lock", type=Path)
    parser.add_argument("wheel_dir", type=Path)
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--tool-version", default="unknown")
    parser.add_argument("--build", default="unknown")
    args = parser.parse_args(argv)
    try:
        parts = components(args.lock, args.wheel_dir)
    except SbomError as exc:
        print(f"sbom: {exc}", file=sys.stderr)
        return 2
    for path in write(parts, args.out_dir, args.tool_version, args.build):
        print(f"wrote {path} ({len(parts)} packages)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
