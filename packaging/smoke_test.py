"""The frozen build's smoke test (run by `make bundle`; alone: `packaging/build.py smoke`).

Runs the bundle the way a workstation will, in a clean environment (no venv, no
PYTHONPATH, a throwaway HOME) so nothing outside the bundle can stand in for a missing
part:

* start time: `mnemoscope --version` and `mnemoscope probes`, cold (the bundle's files
  dropped from the page cache first, on Linux) and warm;
* the command line audits the bundled demo: report.pdf (PDF signature and the results
  embedded in it, read back by `mnemoscope verify`), results.json (parses; the demo's
  known verdict "fail"; the build hash of this bundle) and records.csv (one row per record);
* the same audit of Parquet copies of the demo cohorts, loss probe only (pyarrow inside);
* `mnemoscope validate`: every file of the bundle against its installation record, and
  the known-answer audits of the demo, the negative control and each probe family's control;
* the desktop app on the offscreen platform loads the demo, estimates its run on the
  demo model, and quits (desktop/smoke.py), exit code 0.

Any failure (a missing library or data file shows up as one) makes the step fail.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

DEMO_VERDICT = "fail"  # the demo model memorizes ten planted records on purpose
DEMO_RECORDS = 2000  # members.csv + non_members.csv
_KEPT_ENV = ("PATH", "LANG", "LC_ALL", "TZ", "SYSTEMROOT", "TEMP", "TMP")  # SYSTEMROOT: Windows


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k in _KEPT_ENV}
    env.update(HOME=str(home), USERPROFILE=str(home), XDG_CONFIG_HOME=str(home / ".config"),
               XDG_DATA_HOME=str(home / ".local" / "share"), XDG_CACHE_HOME=str(home / ".cache"),
               QT_QPA_PLATFORM="offscreen", **extra)
    return env


def executable(bundle: Path, name: str) -> Path:
    return bundle / (name + (".exe" if sys.platform == "win32" else ""))


class Checks:
    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []

    def add(self, name: str, passed: bool, detail: str) -> bool:
        self.items.append({"check": name, "passed": bool(passed), "detail": detail})
        print(f"[smoke] {'PASS' if passed else 'FAIL'}  {name}: {detail}", flush=True)
        return passed

    @property
    def passed(self) -> bool:
        return bool(self.items) and all(item["passed"] for item in self.items)


def timed(command: list[Any], env: dict[str, str], cwd: Path, timeout: float) -> tuple[subprocess.CompletedProcess, float]:
    started = time.perf_counter()
    try:
        done = subprocess.run([str(c) for c in command], env=env, cwd=cwd, capture_output=True,
                              text=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        done = subprocess.CompletedProcess(exc.cmd, 124, exc.stdout or "", f"timed out after {timeout} s")
    return done, round(time.perf_counter() - started, 2)


def tail(done: subprocess.CompletedProcess) -> str:
    text = ((done.stdout or "") + (done.stderr or "")).strip().splitlines()
    return " | ".join(text[-4:])


def check_outputs(out: Path, expected_build: str | None) -> list[tuple[str, bool, str]]:
    """(check, passed, detail) for the three files a CLI audit writes."""
    found = []
    pdf = out / "report.pdf"
    head = pdf.read_bytes()[:5] if pdf.is_file() else b""
    found.append(("report.pdf is a PDF", head == b"%PDF-",
                  f"{pdf.stat().st_size} bytes" if pdf.is_file() else "missing"))
    try:
        results = json.loads((out / "results.json").read_text(encoding="utf-8"))
        verdict, build = results.get("overall_verdict"), results.get("tool", {}).get("build")
        found.append(("results.json has the demo's known verdict", verdict == DEMO_VERDICT,
                      f"overall_verdict {verdict!r} (expected {DEMO_VERDICT!r})"))
        if expected_build is not None:
            found.append(("results.json names this build", build == expected_build, f"build {build}"))
    except (OSError, ValueError) as exc:
        found.append(("results.json parses", False, f"{exc.__class__.__name__}: {exc}"))
    try:
        with (out / "records.csv").open(newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        found.append(("records.csv has one row per record", len(rows) == DEMO_RECORDS
                      and {"role", "id", "loss"} <= set(rows[0]), f"{len(rows)} rows"))
    except (OSError, ValueError, IndexError) as exc:
        found.append(("records.csv reads", False, f"{exc.__class__.__name__}: {exc}"))
    return found


def parquet_plan(demo_plan: Path, folder: Path) -> Path | None:
    """The demo plan with its cohorts as Parquet and the loss probe only (a quick audit that
    needs pyarrow's Parquet reader inside the bundle); None if the plan's lines moved."""
    import re

    import pandas as pd  # the build venv's, only to write the files

    text = demo_plan.read_text(encoding="utf-8")
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("members", "non_members"):
        pd.read_csv(demo_plan.parent / f"{name}.csv", dtype=str).to_parquet(folder / f"{name}.parquet")
    model = (demo_plan.parent / "model").resolve().as_posix()
    edits = [(r'(?m)^path = "model"', f'path = "{model}"'),
             (r'(?m)^members = "members\.csv"', 'members = "members.parquet"'),
             (r'(?m)^non_members = "non_members\.csv"', 'non_members = "non_members.parquet"'),
             (r"(?s)\[probes\.zlib\].*?(?=\[thresholds)", "")]
    for pattern, replacement in edits:
        text, count = re.subn(pattern, replacement, text, count=1)
        if count != 1:
            return None
    (folder / "plan.toml").write_text(text, encoding="utf-8")
    return folder / "plan.toml"


def evict_from_page_cache(folder: Path) -> bool:
    """Drops the folder's files from the OS page cache (Linux), so the first start is
    measured cold, as after a reboot; False where that is not possible."""
    if not hasattr(os, "posix_fadvise"):
        return False
    for path in folder.rglob("*"):
        if path.is_file() and not path.is_symlink():
            fd = os.open(path, os.O_RDONLY)
            try:
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)
    return True


def run(bundle: Path, work: Path) -> dict[str, Any]:
    if work.exists():
        shutil.rmtree(work)
    (work / "home").mkdir(parents=True)
    env = clean_env(work / "home")
    cli, gui = executable(bundle, "mnemoscope"), executable(bundle, "mnemoscope-desktop")
    checks, timings = Checks(), {}
    try:
        info = json.loads((bundle / "BUILD_INFO.json").read_text(encoding="utf-8"))
        build = info.get("commit", "") + ("-dirty" if info.get("dirty") == "true" else "")
    except (OSError, ValueError):
        build = None

    timings["cache_evicted"] = evict_from_page_cache(bundle)
    for label, args in (("version", ["--version"]), ("probes", ["probes"])):
        runs = []
        for _ in range(3):
            done, seconds = timed([cli, *args], env, work, 120)
            runs.append(seconds)
            if done.returncode != 0:
                break
        timings[label] = {"first_s": runs[0], "warm_s": min(runs[1:]) if len(runs) > 1 else None}
        checks.add(f"mnemoscope {' '.join(args)}", done.returncode == 0,
                   f"first {runs[0]} s, warm {timings[label]['warm_s']} s; {tail(done)[:120]}")

    demo = bundle / "_internal" / "resources" / "demo" / "plan.toml"
    done, seconds = timed([cli, "run", demo, "--out", work / "demo", "--quiet"], env, work, 900)
    timings["demo_audit_s"] = seconds
    if checks.add("frozen CLI audits the demo", done.returncode == 0, f"exit {done.returncode} in {seconds} s; {tail(done)[:200]}"):
        for name, passed, detail in check_outputs(work / "demo", build):
            checks.add(name, passed, detail)
        done, _ = timed([cli, "verify", work / "demo" / "report.pdf"], env, work, 120)
        checks.add("mnemoscope verify reads the report back", done.returncode == 0, tail(done)[:200])

    plan = parquet_plan(demo, work / "parquet-demo")
    if checks.add("demo cohorts converted to Parquet for the frozen app", plan is not None,
                  str(plan or "the demo plan's [data] or [probes] lines were not found")):
        done, seconds = timed([cli, "run", plan, "--out", work / "parquet-demo" / "out", "--quiet"], env, work, 600)
        timings["parquet_audit_s"] = seconds
        try:
            verdict = json.loads((work / "parquet-demo" / "out" / "results.json").read_text(encoding="utf-8"))["overall_verdict"]
        except (OSError, ValueError, KeyError):
            verdict = None
        checks.add("frozen CLI reads Parquet cohorts (pyarrow)", done.returncode == 0 and verdict == DEMO_VERDICT,
                   f"exit {done.returncode} in {seconds} s, verdict {verdict!r}; {tail(done)[:200]}")

    done, seconds = timed([cli, "validate", "--out", work / "validation", "--quiet"], env, work, 900)
    timings["validate_s"] = seconds
    checks.add("mnemoscope validate (bundle files vs record, known answers)", done.returncode == 0,
               f"exit {done.returncode} in {seconds} s; {tail(done)[:300]}")

    report = work / "gui-smoke.json"
    done, seconds = timed([gui], clean_env(work / "home", MNEMOSCOPE_SMOKE_TEST=str(report)), work, 300)
    timings["gui_s"] = seconds
    try:
        gui_checks = json.loads(report.read_text(encoding="utf-8"))["checks"]
    except (OSError, ValueError, KeyError):
        gui_checks = []
    for item in gui_checks:
        checks.add(f"desktop: {item['check']}", item["passed"], str(item.get("detail", ""))[:200])
    checks.add("desktop app started offscreen, loaded the demo and quit cleanly",
               done.returncode == 0 and bool(gui_checks), f"exit {done.returncode} in {seconds} s; {tail(done)[:200]}")

    return {"passed": checks.passed, "checks": checks.items, "timings": timings}


if __name__ == "__main__":
    here = Path(__file__).resolve().parent
    outcome = run(Path(sys.argv[1]) if len(sys.argv) > 1 else here.parent / "dist" / "mnemoscope",
                  Path(sys.argv[2]) if len(sys.argv) > 2 else here.parent / "build" / "airgap" / "smoke")
    print(json.dumps(outcome["timings"], indent=1))
    sys.exit(0 if outcome["passed"] else 1)
