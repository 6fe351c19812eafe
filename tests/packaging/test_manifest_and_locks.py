"""What the bundle carries and what it must not, and the lock files it is built from."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import PACKAGING

ROOT = PACKAGING.parent


def test_resources_go_where_the_frozen_code_looks(manifest) -> None:
    pairs = dict((dest, Path(src)) for src, dest in manifest.resource_datas(ROOT))
    assert set(pairs) == {"resources/demo", "resources/controls", "resources/examples"}
    # desktop.main_window and audit_core.tools.validation look for <package root>/../resources/<set>
    assert (pairs["resources/demo"] / "plan.toml").is_file()
    assert (pairs["resources/demo"] / "model" / "model.onnx").is_file()
    from audit_core.tools.validation.installation import RESOURCE_SETS

    assert set(manifest.RESOURCE_SETS) == set(RESOURCE_SETS)
    # Every control `mnemoscope validate` audits travels in a declared set.
    from audit_core.tools.validation.run import FAMILY_CONTROLS

    for control in FAMILY_CONTROLS:
        resource_set, folder = control.where.split("/", 1)
        assert resource_set in manifest.RESOURCE_SETS, control.where
        assert (pairs[f"resources/{resource_set}"] / folder / "validation.toml").is_file()


def test_a_missing_resource_set_fails_the_build(manifest, tmp_path: Path) -> None:
    (tmp_path / "resources" / "demo").mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match="controls"):
        manifest.resource_datas(tmp_path)


def test_icons_and_desktop_entry_exist(manifest) -> None:
    assert [dest for _, dest in manifest.icon_datas(PACKAGING)] == ["icons", "icons"]
    entry = (PACKAGING / "linux" / "mnemoscope.desktop").read_text(encoding="utf-8")
    assert "Exec=/opt/mnemoscope/mnemoscope-desktop" in entry and "Icon=mnemoscope" in entry


@pytest.mark.parametrize("entry", [
    "_internal/torch/lib/libtorch_cpu.so", "_internal/transformers-5.24.0.dist-info/METADATA",
    "torch", "torch.nn.functional", "transformers.models.gpt2", "audit_core.tools.controls.demo",
    "_internal/audit_core/tools/controls/demo.py",
])
def test_forbidden_entries_are_caught(manifest, entry: str) -> None:
    assert manifest.forbidden_entries([entry]) == [entry]


@pytest.mark.parametrize("entry", [
    "_internal/onnxruntime/capi/libonnxruntime.so.1", "audit_core.probes.loss", "audit_core.tools.conversion",
    "_internal/resources/controls/negative/model/model.onnx", "torchmetrics_like_name", "desktop.main_window",
])
def test_allowed_entries_pass(manifest, entry: str) -> None:
    assert manifest.forbidden_entries([entry]) == []


def test_excludes_cover_the_forbidden(manifest) -> None:
    for name in manifest.FORBIDDEN:
        assert name.replace("/", ".") in manifest.EXCLUDES


def test_runtime_lock_is_complete_hashed_and_torch_free(manifest) -> None:
    lock = PACKAGING / "requirements.lock"
    pins, hashes = manifest.lock_pins(lock), manifest.lock_hashes(lock)
    assert "torch" not in pins and "transformers" not in pins
    for required in ("numpy", "onnxruntime", "tokenizers", "pandas", "reportlab", "pikepdf",
                     "pyside6-essentials", "pyhanko", "scipy", "pyarrow"):
        assert required in pins, required
    assert all(hashes[name] for name in pins), [n for n in pins if not hashes[n]]


def test_dev_lock_pins_the_cpu_torch(manifest) -> None:
    lock = PACKAGING / "requirements-dev.lock"
    pins = manifest.lock_pins(lock)
    assert pins["torch"].startswith("2.13.0")
    assert pins["transformers"] == "5.24.0" and "pytest" in pins and "pyinstaller" in pins


def test_build_lock_agrees_with_the_runtime_lock(manifest) -> None:
    runtime = manifest.lock_pins(PACKAGING / "requirements.lock")
    build = manifest.lock_pins(PACKAGING / "requirements-build.lock")
    assert {name: build[name] for name in runtime} == runtime
    assert "pyinstaller" in set(build) - set(runtime)


def test_lock_parsing(manifest, tmp_path: Path) -> None:
    lock = tmp_path / "x.lock"
    lock.write_text("# header\nfoo-Bar==1.2 \\\n    --hash=sha256:" + "a" * 64 + " \\\n    --hash=sha256:"
                    + "b" * 64 + "\n    # via x\nbaz==3.0 \\\n    --hash=sha256:" + "c" * 64 + "\n",
                    encoding="utf-8")
    assert manifest.lock_pins(lock) == {"foo-bar": "1.2", "baz": "3.0"}
    assert manifest.lock_hashes(lock) == {"foo-bar": ["a" * 64, "b" * 64], "baz": ["c" * 64]}


@pytest.mark.parametrize(("name", "kept"), [
    ("pyarrow/libarrow_flight.so.2600", False), ("pyarrow/libarrow_python_flight.so.2600.1.0", False),
    ("pyarrow/libarrow_s3.so.2600", False), ("pyarrow/libarrow.so.2600", True),
    ("pyarrow/libparquet.so.2600", True), ("pyarrow/libarrow_python.so", True),
    ("onnxruntime/capi/libonnxruntime.so.1", True),
])
def test_network_libraries_of_pyarrow_are_dropped(manifest, name: str, kept: bool) -> None:
    assert manifest.keep_binary(name) is kept


def test_data_files_the_report_needs_are_collected(manifest) -> None:
    # pikepdf's PDF/A data is not collected by PyInstaller's hooks; without it the frozen
    # CLI wrote results.json but no report.pdf (found by the bundle's smoke test).
    hooks = pytest.importorskip("PyInstaller.utils.hooks")
    collected = set()
    for package, includes in manifest.DATA_PACKAGES.items():
        for source, _ in hooks.collect_data_files(package, excludes=list(manifest.DATA_EXCLUDES),
                                                  includes=list(includes) if includes else None):
            collected.add(Path(source).as_posix())
    for needed in ("pikepdf/pdfa/data/sRGB.icc", "pikepdf/pdfa/data/schemas/pdfa-3b.json",
                   "audit_core/report/pdf/fonts/DejaVuSansMono.ttf", "reportlab/fonts/Vera.ttf"):
        assert any(path.endswith(needed) for path in collected), needed
    assert any(path.endswith("onnxruntime/ThirdPartyNotices.txt") for path in collected)
    # no stubs, and no second copy of the runtime library collected as "data"
    assert not any(path.endswith(".pyi") or "/onnxruntime/capi/" in path for path in collected)
