"""The air gap, enforced: a whole audit (CLI, report included) with every way of opening a
network connection made to fail, and the offline switches of the hub libraries forced on."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from audit_core.cli.main import main

ROOT = Path(__file__).resolve().parents[2]


class NetworkAttempt(AssertionError):
    pass


@pytest.fixture()
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every socket creation, connection and name lookup is recorded and refused."""
    attempts: list[str] = []

    def refuse(what: str):
        def blocked(*args, **kwargs):
            attempts.append(f"{what}{args[:2]!r}")
            raise NetworkAttempt(f"network use during an audit: {what}")
        return blocked

    class BlockedSocket(socket.socket):
        def __init__(self, *args, **kwargs) -> None:
            refuse("socket.socket")(*args)

    monkeypatch.setattr(socket, "socket", BlockedSocket)
    for name in ("create_connection", "getaddrinfo", "gethostbyname", "gethostbyname_ex",
                 "gethostbyaddr", "socketpair", "fromfd"):
        monkeypatch.setattr(socket, name, refuse(f"socket.{name}"))
    return attempts


def test_a_whole_audit_runs_with_the_network_blocked(no_network: list[str], small_plan: Path,
                                                     tmp_path: Path, capsys) -> None:
    with pytest.raises(NetworkAttempt):  # the guard itself works
        socket.create_connection(("192.0.2.1", 443))
    no_network.clear()

    out = tmp_path / "out"
    code = main(["run", str(small_plan), "--out", str(out), "--quiet"])
    assert code == 0, capsys.readouterr().err
    assert no_network == []  # nothing even tried (and swallowed the refusal)
    assert json.loads((out / "results.json").read_text())["overall_verdict"] == "fail"
    assert (out / "report.pdf").stat().st_size > 10_000


def test_importing_the_tool_forces_the_hub_libraries_offline() -> None:
    pytest.importorskip("huggingface_hub")
    code = ("import audit_core, os\n"
            "from huggingface_hub import constants\n"
            "print(constants.HF_HUB_OFFLINE, constants.HF_HUB_DISABLE_TELEMETRY,\n"
            "      [os.environ[k] for k in audit_core.OFFLINE_SWITCHES])")
    # A workstation whose environment says "online" is overruled.
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "0", "TRANSFORMERS_OFFLINE": "0",
           "HF_HUB_DISABLE_TELEMETRY": "0"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "True", "['1',", "'1',", "'1',", "'1']"]


def test_the_report_and_the_about_box_state_the_air_gap() -> None:
    from audit_core.report.sections.appendix import AIR_GAP, appendix_section

    assert "makes no network connection" in AIR_GAP and "stayed on the workstation" in AIR_GAP
    assert AIR_GAP in repr(appendix_section({"audit": {"id": "MNS-1"}}, "0" * 64))
    pytest.importorskip("PySide6")
    from desktop.about import about_text

    assert "makes no network connections" in about_text() and "offline switches" in about_text()
