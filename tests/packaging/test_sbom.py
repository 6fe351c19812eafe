"""The SBOM: one component per lock pin, from the wheel carried, with its declared licence
and a hash the lock allows; anything else is refused."""

from __future__ import annotations

import hashlib
import json
import zipfile
from email.message import Message
from pathlib import Path

import pytest


def make_wheel(folder: Path, name: str, version: str, headers: dict[str, str]) -> Path:
    path = folder / f"{name}-{version}-py3-none-any.whl"
    lines = ["Metadata-Version: 2.4", f"Name: {name}", f"Version: {version}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"{name}-{version}.dist-info/METADATA", "\n".join(lines) + "\n\n")
        archive.writestr(f"{name}/__init__.py", "")
    return path


def lock_for(tmp_path: Path, wheels: dict[str, tuple[str, Path]]) -> Path:
    lock = tmp_path / "requirements.lock"
    text = ""
    for name, (version, wheel) in wheels.items():
        text += f"{name}=={version} \\\n    --hash=sha256:{hashlib.sha256(wheel.read_bytes()).hexdigest()}\n    # via x\n"
    lock.write_text(text, encoding="utf-8")
    return lock


def test_components_from_lock_and_wheels(sbom, tmp_path: Path) -> None:
    a = make_wheel(tmp_path, "alpha_pkg", "1.0", {"License-Expression": "MIT", "Summary": "A"})
    b = make_wheel(tmp_path, "beta", "2.1", {"Classifier": "License :: OSI Approved :: BSD License"})
    lock = lock_for(tmp_path, {"alpha-pkg": ("1.0", a), "beta": ("2.1", b)})
    parts = sbom.components(lock, tmp_path)
    assert [(c.name, c.version, c.license) for c in parts] == [("alpha_pkg", "1.0", "MIT"), ("beta", "2.1", "BSD License")]
    assert parts[0].sha256 == hashlib.sha256(a.read_bytes()).hexdigest()
    json_path, csv_path = sbom.write(parts, tmp_path / "out", "0.1.0", "f" * 40)
    document = json.loads(json_path.read_text(encoding="utf-8"))
    assert document["bomFormat"] == "CycloneDX" and document["specVersion"] == "1.5"
    assert document["metadata"]["component"]["properties"] == [{"name": "mnemoscope:build", "value": "f" * 40}]
    first = document["components"][0]
    assert first["purl"] == "pkg:pypi/alpha-pkg@1.0" and first["licenses"] == [{"expression": "MIT"}]
    assert first["hashes"] == [{"alg": "SHA-256", "content": parts[0].sha256}]
    assert document["components"][1]["licenses"] == [{"license": {"name": "BSD License"}}]
    assert csv_path.read_text(encoding="utf-8").splitlines()[1].startswith("alpha_pkg,1.0,MIT,")


def test_a_wheel_whose_hash_the_lock_does_not_allow_is_refused(sbom, tmp_path: Path) -> None:
    a = make_wheel(tmp_path, "alpha", "1.0", {"License-Expression": "MIT"})
    lock = lock_for(tmp_path, {"alpha": ("1.0", a)})
    make_wheel(tmp_path, "alpha", "1.0", {"License-Expression": "GPL-3.0-only"})  # swapped after locking
    with pytest.raises(sbom.SbomError, match="not one the lock"):
        sbom.components(lock, tmp_path)


def test_a_pin_without_its_wheel_is_refused(sbom, tmp_path: Path) -> None:
    a = make_wheel(tmp_path, "alpha", "1.0", {})
    lock = lock_for(tmp_path, {"alpha": ("1.0", a)})
    a.unlink()
    with pytest.raises(sbom.SbomError, match="0 wheels"):
        sbom.components(lock, tmp_path)


@pytest.mark.parametrize(("headers", "expected"), [
    ({"License-Expression": "Apache-2.0", "License": "ignored"}, "Apache-2.0"),
    ({"License": "BSD-3-Clause\n\nCopyright (c) ..."}, "BSD-3-Clause"),
    ({"License": "UNKNOWN", "Classifier": "License :: OSI Approved :: MIT License"}, "MIT License"),
    ({"License": "Copyright (c) 2001 Someone\nAll rights reserved.",
      "Classifier": "License :: OSI Approved :: BSD License"}, "BSD License"),
    ({}, "not declared"),
])
def test_declared_license(sbom, headers: dict[str, str], expected: str) -> None:
    message = Message()
    for key, value in headers.items():
        message[key] = value
    assert sbom.declared_license(message) == expected
