"""packaging/ is a folder of scripts, not a package (a package named `packaging` would
shadow the PyPI one): its modules are loaded from their files."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

PACKAGING = Path(__file__).resolve().parents[2] / "packaging"


def load(name: str):
    if str(PACKAGING) not in sys.path:
        sys.path.insert(0, str(PACKAGING))  # sbom imports bundle_manifest by name
    spec = importlib.util.spec_from_file_location(f"airgap_{name}", PACKAGING / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def manifest():
    return load("bundle_manifest")


@pytest.fixture(scope="session")
def sbom():
    return load("sbom")


@pytest.fixture(scope="session")
def smoke_test():
    return load("smoke_test")
