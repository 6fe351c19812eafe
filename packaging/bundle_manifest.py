"""What goes into the frozen bundle, and what must never (read by mnemoscope.spec and build.py).

Kept out of the spec so that a fast unit test can check it (tests/packaging/) without
PyInstaller. The audit path needs no torch: torch, transformers and the control-model
builders (audit_core.tools.controls) stay out, and the build fails if any of them got in.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

BUNDLE_NAME = "mnemoscope"  # the folder: dist/mnemoscope/
CLI_NAME = "mnemoscope"
GUI_NAME = "mnemoscope-desktop"
# The known-answer resources `mnemoscope validate` audits (examples/ holds the tabular
# control) and the demo the Start page opens; they go to <bundle>/_internal/resources/,
# where the frozen code looks (beside its packages).
RESOURCE_SETS = ("demo", "controls", "examples")
# Packages whose data files PyInstaller's hooks do not collect: ours (fonts, the build
# record), reportlab's fonts (the report's Sans), pikepdf's PDF/A data (sRGB profile, XMP
# schemas: without them no report is written, which the first smoke test caught), pyhanko's
# trust-list certificates (signature checks) and onnxruntime's licence notices.
# package -> glob patterns to take (None: every data file). onnxruntime: only the notices,
# since its data would include a second 34 MB copy of the runtime (libonnxruntime.so.*).
DATA_PACKAGES = {"audit_core": None, "reportlab": None, "pikepdf": None, "pyhanko": None,
                 "onnxruntime": ("LICENSE", "ThirdPartyNotices.txt", "Privacy.md")}
DATA_EXCLUDES = ("**/__pycache__/**", "**/*.pyi", "tools/validation/installed_files.json")
# pyarrow's remote-data parts: Arrow Flight (gRPC) and the S3, GCS, Azure and HDFS
# filesystems. An offline tool has no use for network clients; pyarrow imports them only
# on request and runs without them (about 55 MB less).
PYARROW_NETWORK_MODULES = ("pyarrow.flight", "pyarrow._flight", "pyarrow._s3fs", "pyarrow._gcsfs",
                           "pyarrow._azurefs", "pyarrow._hdfs")
DROPPED_LIBRARIES = ("libarrow_flight", "libarrow_python_flight", "libarrow_s3")
# Never in the runtime bundle. The build venv does not even have them; excluding them
# here too keeps a build from a full development venv honest.
EXCLUDES = (
    "torch", "torchvision", "torchaudio", "transformers", "safetensors", "accelerate",
    "audit_core.tools.controls", "sympy", "networkx", "sklearn", "skl2onnx", "simple_icd_10_cm",
    "tkinter", "matplotlib", "IPython", "pytest", "pytestqt", "PyInstaller",
) + PYARROW_NETWORK_MODULES
# A module or file whose dotted/slashed name starts with one of these fails the build.
FORBIDDEN = ("torch", "transformers", "audit_core.tools.controls", "audit_core/tools/controls")
# Package metadata the frozen code reads (importlib.metadata): the installation check reads
# mnemoscope's requirements, the About box and the report read dependency versions.
EXTRA_METADATA = ("mnemoscope",)
_LOCK_LINE = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._\-]*)==([^\s\\;]+)")


def resource_datas(source_root: Path) -> list[tuple[str, str]]:
    """(source folder, bundle folder) for each resource set; a missing set is an error."""
    pairs = []
    for name in RESOURCE_SETS:
        folder = source_root / "resources" / name
        if not folder.is_dir():
            raise FileNotFoundError(f"{folder} is missing: the bundle needs the {name} resources")
        pairs.append((str(folder), f"resources/{name}"))
    return pairs


def icon_datas(packaging_dir: Path) -> list[tuple[str, str]]:
    icons = [packaging_dir / "linux" / "mnemoscope.svg", packaging_dir / "linux" / "mnemoscope.png"]
    for icon in icons:
        if not icon.is_file():
            raise FileNotFoundError(f"{icon} is missing")
    return [(str(icon), "icons") for icon in icons]


def lock_pins(lock: Path) -> dict[str, str]:
    """{normalized name: version} from a pip-compile lock file."""
    pins = {}
    for line in lock.read_text(encoding="utf-8").splitlines():
        match = _LOCK_LINE.match(line.strip())
        if match:
            pins[normalize(match.group(1))] = match.group(2)
    return pins


def lock_hashes(lock: Path) -> dict[str, list[str]]:
    """{normalized name: [sha256, ...]} from a pip-compile --generate-hashes lock file."""
    hashes: dict[str, list[str]] = {}
    current = None
    for line in lock.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        match = _LOCK_LINE.match(stripped)
        if match:
            current = normalize(match.group(1))
            hashes[current] = []
        elif not stripped.startswith("--hash="):  # a comment or blank line ends the entry
            current = None
        if current is not None:
            hashes[current].extend(re.findall(r"--hash=sha256:([0-9a-f]{64})", stripped))
    return hashes


def normalize(name: str) -> str:
    """PEP 503 name: lower case, runs of -_. as one dash."""
    return re.sub(r"[-_.]+", "-", name).lower()


def metadata_names(lock: Path) -> list[str]:
    return list(EXTRA_METADATA) + sorted(lock_pins(lock))


def forbidden_entries(entries: Iterable[str]) -> list[str]:
    """The entries (module names, or file paths relative to the bundle) that must not be in it."""
    bad = []
    for entry in entries:
        path = "/" + entry.replace("\\", "/").lstrip("./")
        for prefix in FORBIDDEN:
            as_module = entry == prefix or entry.startswith(prefix + ".")
            as_path = "." not in prefix and (f"/{prefix}/" in path or f"/{prefix}-" in path
                                             or path.endswith(f"/{prefix}"))
            if as_module or as_path:
                bad.append(entry)
                break
    return bad


def keep_binary(dest_name: str) -> bool:
    """False for the shared libraries left out on purpose (DROPPED_LIBRARIES)."""
    base = dest_name.replace("\\", "/").rsplit("/", 1)[-1]
    return not any(base.startswith(prefix + ".") for prefix in DROPPED_LIBRARIES)
