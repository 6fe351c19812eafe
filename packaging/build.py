"""Builds what crosses the air gap: the offline wheelhouse and the frozen bundle.

    python packaging/build.py wheelhouse   (make wheelhouse)  -> dist/wheelhouse/
    python packaging/build.py bundle       (make bundle)      -> dist/mnemoscope/ + .tar.gz
    python packaging/build.py smoke        the frozen build's smoke test alone

Both are built from the committed HEAD, exported with `git archive`: the build hash they
record (audit_core/build_info.json: the commit) then names exactly the source they hold;
uncommitted changes in the checkout are not in them (a warning says so). The build
tooling itself (this folder: spec, locks, scripts) is taken from the checkout.

The package index is used here, at build time, and never again: the wheelhouse holds
every wheel of packaging/requirements.lock (hash-checked on download and again on
install) and the bundle is frozen from a fresh venv installed from that wheelhouse.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import time
import venv
from datetime import UTC, datetime
from pathlib import Path

PACKAGING = Path(__file__).resolve().parent
ROOT = PACKAGING.parent
sys.path.insert(0, str(PACKAGING))
import bundle_manifest as manifest  # noqa: E402
import sbom  # noqa: E402
import smoke_test  # noqa: E402

BUILD = ROOT / "build" / "airgap"
DIST = ROOT / "dist"
WHEELHOUSE = DIST / "wheelhouse"
BUNDLE = DIST / manifest.BUNDLE_NAME
RUNTIME_LOCK = PACKAGING / "requirements.lock"
BUILD_LOCK = PACKAGING / "requirements-build.lock"  # the runtime lock + PyInstaller
WINDOWS = sys.platform == "win32"
BIN = "Scripts" if WINDOWS else "bin"
# The wheelhouse carries what install-offline needs besides the wheels.
INSTALL_SCRIPTS = ("install-offline", "install-offline.ps1")


def say(message: str) -> None:
    print(f"[airgap] {message}", flush=True)


# Every command that runs the build venv's Python does so isolated (-I) and from BUILD:
# started from the checkout, `python -c`/`-m` would put the checkout's audit_core (with
# its uncommitted changes) ahead of the exported commit installed in the venv.
def run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    say("$ " + " ".join(str(c) for c in command))
    return subprocess.run([str(c) for c in command], check=True, **kwargs)


def pip(python: Path, *args: str) -> None:
    # The machine's pip configuration (mirrors, constraints) applies at build time only.
    run([python, "-m", "pip", "--disable-pip-version-check", "--no-input", *args],
        stdout=subprocess.DEVNULL if os.environ.get("AIRGAP_QUIET_PIP") else None)


# --- source ---------------------------------------------------------------------------

def export_source(dest: Path) -> dict[str, str]:
    """HEAD as a plain folder, with its build record written into audit_core/.

    AIRGAP_SOURCE=worktree takes the checkout as it is instead (tracked and untracked,
    ignored files left out), for trying a change before committing it: such a build says
    so, its build hash is the commit followed by "-dirty"."""
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, check=True, capture_output=True,
                            text=True).stdout.strip()
    changed = subprocess.run(["git", "status", "--porcelain", "--", "audit_core", "desktop", "resources",
                              "pyproject.toml"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    worktree = os.environ.get("AIRGAP_SOURCE") == "worktree"
    if changed and not worktree:
        say(f"note: {len(changed.splitlines())} uncommitted change(s) in the checkout are NOT in this "
            f"build; it holds commit {commit[:12]} exactly")
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    if worktree:
        listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                                cwd=ROOT, check=True, capture_output=True).stdout.decode().split("\0")
        for name in filter(None, listed):
            if (ROOT / name).is_file():
                (dest / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(ROOT / name, dest / name)
    else:
        archive = subprocess.run(["git", "archive", "--format=tar", "HEAD"], cwd=ROOT, check=True,
                                 capture_output=True).stdout
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(dest, filter="data")
    info = {"commit": commit, "built_utc": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "source": "the checkout with uncommitted changes" if worktree and changed else "git archive of HEAD",
            "dirty": "true" if worktree and changed else "false"}
    (dest / "audit_core" / "build_info.json").write_text(json.dumps(info, indent=1) + "\n", encoding="utf-8")
    return info


def tool_version(source: Path) -> str:
    for line in (source / "audit_core" / "version.py").read_text(encoding="utf-8").splitlines():
        if line.startswith("__version__"):
            return line.split("=", 1)[1].strip().strip("\"'")
    return "unknown"


# --- wheelhouse -----------------------------------------------------------------------

def build_wheelhouse(out: Path = WHEELHOUSE) -> dict:
    started = time.monotonic()
    source = BUILD / "src"
    info = export_source(source)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    python = Path(sys.executable)
    # Our own wheel, from the export (setuptools of this venv: no build isolation, no index).
    pip(python, "wheel", "--no-deps", "--no-build-isolation", "--wheel-dir", out, source)
    # Every dependency, exactly as locked; pip checks each download against the lock's hashes.
    pip(python, "download", "--no-deps", "--only-binary", ":all:", "--require-hashes",
        "--dest", out, "-r", RUNTIME_LOCK)
    ours = sorted(out.glob("mnemoscope-*.whl"))
    if len(ours) != 1:
        raise SystemExit(f"expected one mnemoscope wheel in {out}, found {len(ours)}")
    # What install-offline installs: the lock plus our own wheel, every line hash-pinned.
    (out / "requirements.txt").write_text(
        RUNTIME_LOCK.read_text(encoding="utf-8")
        + f"mnemoscope=={tool_version(source)} \\\n    --hash=sha256:{sbom.sha256_of(ours[0])}\n"
        + "    # this tool, built from commit " + info["commit"] + "\n", encoding="utf-8")
    shutil.copytree(source / "resources", out / "resources",
                    ignore=shutil.ignore_patterns("__pycache__"))
    for name in INSTALL_SCRIPTS:
        shutil.copy2(PACKAGING / name, out / name)
    sbom.write(sbom.components(RUNTIME_LOCK, out), out, tool_version(source), info["commit"])
    (out / "BUILD_INFO.json").write_text(json.dumps(info, indent=1) + "\n", encoding="utf-8")
    write_sha256sums(out)
    summary = {"wheels": len(list(out.glob("*.whl"))), "bytes": folder_bytes(out),
               "seconds": round(time.monotonic() - started, 1), "commit": info["commit"]}
    say(f"wheelhouse {out}: {summary['wheels']} wheels, {summary['bytes'] / 1e6:.0f} MB "
        f"in {summary['seconds']} s")
    return summary


def write_sha256sums(folder: Path) -> Path:
    """SHA256SUMS in `sha256sum -c` format, for every file below the folder."""
    lines = [f"{sbom.sha256_of(path)}  {path.relative_to(folder).as_posix()}"
             for path in sorted(folder.rglob("*")) if path.is_file() and path.name != "SHA256SUMS"]
    target = folder / "SHA256SUMS"
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return target


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


# --- bundle ---------------------------------------------------------------------------

def build_venv(wheelhouse: Path) -> Path:
    """A fresh venv with exactly the wheelhouse's packages (installed offline, hash-checked,
    as a hospital would) plus PyInstaller from the build lock. No torch can be in it."""
    env_dir = BUILD / "venv"
    if env_dir.exists():
        shutil.rmtree(env_dir)
    venv.create(env_dir, with_pip=True)
    python = env_dir / BIN / ("python.exe" if WINDOWS else "python")
    pip(python, "install", "--no-index", "--find-links", wheelhouse, "--require-hashes",
        "-r", wheelhouse / "requirements.txt")
    tools = BUILD / "build-tools.txt"
    tools.write_text(lock_subset(BUILD_LOCK, exclude=manifest.lock_pins(RUNTIME_LOCK)), encoding="utf-8")
    pip(python, "install", "--no-deps", "--require-hashes", "-r", tools)
    return python


def lock_subset(lock: Path, exclude: dict[str, str]) -> str:
    """The entries of `lock` (pins with their hashes) that are not in `exclude`; a package
    both locks pin must be at the same version (one lock resolved differently: re-lock)."""
    pins, hashes = manifest.lock_pins(lock), manifest.lock_hashes(lock)
    for name, version in pins.items():
        if name in exclude and exclude[name] != version:
            raise SystemExit(f"{lock.name} pins {name}=={version} but the runtime lock has "
                             f"{exclude[name]}: regenerate both locks (see docs/install.md)")
    return "".join(f"{name}=={pins[name]} " + " ".join(f"--hash=sha256:{h}" for h in hashes[name]) + "\n"
                   for name in sorted(pins) if name not in exclude)


def build_bundle() -> dict:
    started = time.monotonic()
    house = build_wheelhouse()
    python = build_venv(WHEELHOUSE)
    source = BUILD / "src"
    # Seconds here rather than a failed smoke test after minutes of freezing: a commit that
    # names a module it did not include (work committed in pieces) stops the build now.
    run([python, "-I", "-c", IMPORT_ALL], env=dict(os.environ, QT_QPA_PLATFORM="offscreen"), cwd=BUILD)
    if BUNDLE.exists():
        shutil.rmtree(BUNDLE)
    env = dict(os.environ, MNEMOSCOPE_SOURCE=str(source))
    run([python, "-I", "-m", "PyInstaller", "--noconfirm", "--clean", "--log-level", "WARN",
         "--distpath", DIST, "--workpath", BUILD / "pyinstaller", PACKAGING / "mnemoscope.spec"], env=env, cwd=BUILD)
    build_seconds = round(time.monotonic() - started, 1)
    listing = check_contents(python)
    finish_bundle(python, source, house["commit"])
    system = "windows" if WINDOWS else sys.platform.rstrip("0123456789")
    tarball = DIST / (f"{manifest.BUNDLE_NAME}-{tool_version(source)}-{house['commit'][:12]}-"
                      f"{system}-{platform.machine().lower()}.tar.gz")
    with tarfile.open(tarball, "w:gz") as tar:
        tar.add(BUNDLE, arcname=manifest.BUNDLE_NAME)
    # Checked on the workstation before unpacking: `sha256sum -c <tarball>.sha256`.
    Path(f"{tarball}.sha256").write_text(f"{sbom.sha256_of(tarball)}  {tarball.name}\n", encoding="utf-8")
    summary = {"build_seconds": build_seconds, "folder_bytes": folder_bytes(BUNDLE),
               "tar_gz_bytes": tarball.stat().st_size, "tarball": str(tarball),
               "files": listing, "commit": house["commit"]}
    say(f"bundle {BUNDLE}: {summary['folder_bytes'] / 1e6:.0f} MB, {tarball.name} "
        f"{summary['tar_gz_bytes'] / 1e6:.0f} MB; built in {build_seconds} s")
    return summary


def check_contents(python: Path) -> int:
    """List every file of the bundle and every module frozen into its executables; fail if
    torch, transformers or the control builders got in. Writes the listing beside it."""
    files = sorted(p.relative_to(BUNDLE).as_posix() for p in BUNDLE.rglob("*") if p.is_file())
    modules: set[str] = set()
    for name in (manifest.CLI_NAME, manifest.GUI_NAME):
        exe = BUNDLE / (name + (".exe" if WINDOWS else ""))
        listed = subprocess.run([python, "-I", "-c", LIST_PYZ, str(exe)], capture_output=True, text=True,
                                check=True, cwd=BUILD)
        modules.update(listed.stdout.split())
    if not any(m.startswith("audit_core.probes.") for m in modules) or "desktop.main_window" not in modules:
        raise SystemExit("the executables do not hold the audit_core probes and the desktop app")
    bad = manifest.forbidden_entries(files) + manifest.forbidden_entries(sorted(modules))
    (BUILD / "bundle-files.txt").write_text("\n".join(files) + "\n", encoding="utf-8")
    (BUILD / "bundle-modules.txt").write_text("\n".join(sorted(modules)) + "\n", encoding="utf-8")
    if bad:
        raise SystemExit(f"the bundle holds what it must not: {', '.join(bad[:10])}")
    say(f"contents checked: {len(files)} files, {len(modules)} frozen modules; no torch, no "
        "transformers, no control builders (lists in build/airgap/bundle-*.txt)")
    return len(files)


# Imports every module of the installed wheel except the torch-only control builders.
IMPORT_ALL = """
import importlib, pkgutil, sys
import audit_core, desktop
failed = []
for package in (audit_core, desktop):
    for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        if module.name.startswith(("audit_core.tools.controls", "desktop.screenshots")) or module.name.endswith("__main__"):
            continue
        try:
            importlib.import_module(module.name)
        except ModuleNotFoundError as exc:
            if exc.name in ("torch", "transformers"):  # a dev-only module; the bundle has no torch
                print(f"note: {module.name} needs {exc.name} and will not work in the bundle")
            else:
                failed.append(f"{module.name}: {exc}")
        except Exception as exc:
            failed.append(f"{module.name}: {exc.__class__.__name__}: {exc}")
if failed:
    sys.exit("the source being built does not import: " + "; ".join(failed))
print("every module of the source imports")
"""


# Lists the module names in an executable's PYZ archive (PyInstaller's own reader).
LIST_PYZ = """
import sys
from PyInstaller.archive.readers import CArchiveReader
archive = CArchiveReader(sys.argv[1])
for name in archive.toc:
    if name.startswith("PYZ"):
        for module in archive.open_embedded_archive(name).toc:
            print(module)
"""


def finish_bundle(python: Path, source: Path, commit: str) -> None:
    """After PyInstaller: the SBOM, the desktop entry, the notices, then (last, since it
    hashes every file) the installation record the frozen `mnemoscope validate` checks."""
    internal = BUNDLE / "_internal"
    for name in ("sbom.cdx.json", "sbom.csv", "BUILD_INFO.json"):
        shutil.copy2(WHEELHOUSE / name, BUNDLE / name)
    linux = BUNDLE / "linux"
    linux.mkdir()
    for name in ("mnemoscope.desktop", "mnemoscope.svg", "mnemoscope.png", "install-desktop-entry"):
        shutil.copy2(PACKAGING / "linux" / name, linux / name)
    (BUNDLE / "README.txt").write_text(BUNDLE_README.format(commit=commit), encoding="utf-8")
    record = internal / "audit_core" / "tools" / "validation" / "installed_files.json"
    record.parent.mkdir(parents=True, exist_ok=True)
    run([python, "-I", "-c", RECORD, str(record), str(BUNDLE)], cwd=BUILD)


# The record as the frozen code will check it: one root, "bundle", the whole folder.
RECORD = """
import sys
from pathlib import Path
from audit_core.tools.validation.installation import record_installation
record = record_installation(Path(sys.argv[1]), roots={"bundle": Path(sys.argv[2])})
print(f"recorded {len(record['files'])} files of the bundle")
"""

BUNDLE_README = """Mnemoscope, frozen bundle (built from commit {commit})

  ./mnemoscope-desktop                     the desktop application
  ./mnemoscope --help                      the command line
  ./mnemoscope run _internal/resources/demo/plan.toml --out demo-audit
  ./mnemoscope validate                    checks this copy (every file) and the known answers
  linux/install-desktop-entry              adds it to the desktop menu

sbom.cdx.json / sbom.csv list every package inside (version, licence, SHA-256).
Needs on the workstation: Linux x86_64 with glibc 2.36 or newer, libegl1 and libgl1.
"""


# --- command line ---------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=("wheelhouse", "bundle", "smoke"))
    args = parser.parse_args(argv)
    if args.what == "wheelhouse":
        print(json.dumps(build_wheelhouse(), indent=1))
        return 0
    if args.what == "bundle":
        summary = build_bundle()
    else:
        summary = {}
    summary["smoke"] = smoke_test.run(BUNDLE, BUILD / "smoke")
    (BUILD / "bundle-summary.json").write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(summary, indent=1))
    return 0 if summary["smoke"]["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
