"""End-to-end fuzzing of `mnemoscope run` (hypothesis): hostile members/non-members files
(CSV, TSV, JSONL, Parquet) and hostile plan files (TOML, JSON) go through the real CLI.

Every record value carries a planted marker (ZZSECRET and digits). The property, whatever
the input: `main` returns 0 or 2 and raises nothing; no traceback and no marker in stdout,
stderr, log records or warnings; no input file and no file the tool did not write changes;
after exit 0 the outputs exist, every record written was audited (a stray quote must not
swallow rows silently), no id cell of records.csv can run as a spreadsheet formula, and
report.pdf and run.json hold no marker. test_fuzzing.py fuzzes the loaders and the plan
parser as functions; this module checks what a user sees. Derandomized with moderate
example counts, so a failure reproduces and the module stays within about a minute.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import math
import os
import shutil
import signal
import subprocess
import tempfile
import traceback
import warnings
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, example, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from audit_core.cli.main import main  # noqa: E402
from tests.conftest import DEMO  # noqa: E402
from tests.core.fuzz_inputs import (  # noqa: E402
    COLUMNS,
    FORMATS,
    MARK,
    MEMBERS,
    NON_MEMBERS,
    SUBGROUPS,
    Deep,
    clean_file,
    cohort_files,
    plan_text,
    write_cohort,
)

FUZZ = settings(derandomize=True, database=None, deadline=None, print_blob=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # cells a spreadsheet evaluates (OWASP)
HANG_SECONDS = 120  # a run here takes seconds; past this it waits on something that never comes


# ---- running the CLI and checking what came out ----------------------------------------
class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())
        if record.exc_info:
            self.lines.append("Traceback (logged)\n" + "".join(traceback.format_exception(*record.exc_info)))


@contextmanager
def _native_output(into: list[str]):
    """What native code (onnxruntime, arrow) writes straight to file descriptors 1 and 2,
    which sys.stdout and sys.stderr never see."""
    with tempfile.TemporaryFile() as sink:
        saved = [os.dup(1), os.dup(2)]
        os.dup2(sink.fileno(), 1)
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            for fd, copy in zip((1, 2), saved):
                os.dup2(copy, fd)
                os.close(copy)
            sink.seek(0)
            into.append(sink.read().decode("utf-8", "replace"))


class _Hung(BaseException):  # not an Exception: the CLI's internal-error handler must not take it
    pass


def _hung(*_) -> None:
    raise _Hung


def run_cli(argv: list[str]) -> tuple[int | None, str, str]:
    """(exit code or None when `main` raised, stderr with native output, logs and warnings,
    stdout). An alarm turns a hang (a named pipe waited on) into a failure, not a stalled suite."""
    out, err, logs, native = io.StringIO(), io.StringIO(), _Collect(), []
    root = logging.getLogger()
    root.addHandler(logs)
    code = None
    previous = signal.signal(signal.SIGALRM, _hung)
    try:
        with (warnings.catch_warnings(record=True) as caught, _native_output(native),
              redirect_stdout(out), redirect_stderr(err)):
            warnings.simplefilter("always")
            signal.setitimer(signal.ITIMER_REAL, HANG_SECONDS, 1.0)
            try:
                code = main(argv)
            except KeyboardInterrupt:
                raise
            except _Hung:
                err.write(f"hang: still running after {HANG_SECONDS} s\n")
            except BaseException:  # noqa: BLE001 - what escapes main is a traceback for the user
                err.write("Traceback (escaped main)\n" + traceback.format_exc())
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
    finally:
        signal.signal(signal.SIGALRM, previous)
        root.removeHandler(logs)
    notes = [str(w.message) for w in caught]
    return code, "\n".join([err.getvalue(), *native, *logs.lines, *notes]), out.getvalue()


def digests(paths: list[Path]) -> dict[Path, str | None]:
    return {p: hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else None for p in paths}


def problems(code: int | None, err: str, out: str, *, untouched: dict[Path, str | None],
             out_dir: Path, expected: list[dict]) -> list[str]:
    """What broke the property, one short label each (empty: the run behaved)."""
    found = []
    if code not in (0, 2):
        found.append("hang" if "hang: still running" in err else f"exit {code}")
    if code == 2 and not any(line.startswith("mnemoscope: error: ") for line in err.splitlines()):
        found.append("exit 2 without a one-line error")
    if "Traceback" in err + out:
        found.append("traceback")
    if MARK.casefold() in (err + out).casefold():
        found.append("record value in a message")
    found += [f"{p.name} changed" for p, before in untouched.items() if digests([p])[p] != before]
    if code == 0:
        found += [f"accepted {e['refuse']}" for e in expected if e["refuse"]]
        found += _check_outputs(out_dir, [e["records"] for e in expected])
    return found


def _check_outputs(out_dir: Path, expected_records: list[int | None]) -> list[str]:
    names = ("results.json", "run.json", "records.csv", "report.pdf")
    missing = [n for n in names if not (out_dir / n).is_file()]
    if missing:
        return [f"exit 0 without {', '.join(missing)}"]
    found = []
    results = json.loads((out_dir / "results.json").read_text(encoding="utf-8"))
    counted = [d.get("records") for d in results.get("datasets", [])]
    if any(want is not None and want != got for want, got in zip(expected_records, counted)):
        found.append(f"records lost: wrote {expected_records}, audited {counted}")
    with open(out_dir / "records.csv", encoding="utf-8", newline="") as handle:
        if any(r[1].startswith(FORMULA_START) for r in list(csv.reader(handle))[1:]):
            found.append("formula id in records.csv")
    texts = {"run.json": (out_dir / "run.json").read_text(encoding="utf-8")}
    if shutil.which("pdftotext"):  # poppler-utils; the other checks stand without it
        texts["report.pdf"] = subprocess.run(["pdftotext", str(out_dir / "report.pdf"), "-"],
                                             capture_output=True, text=True).stdout
    for name, text in texts.items():
        if MARK in text:
            found.append(f"record value in {name}")
    return found


# ---- the tests ---------------------------------------------------------------------------
def base_plan(members: Path, non_members: Path) -> dict:
    """The smallest plan that runs a whole audit: the demo model, one cheap probe."""
    return {"audit": {"title": "Fuzz", "seed": 7},
            "model": {"path": str(DEMO / "model"), "batch_size": 32},
            "data": {"members": str(members), "non_members": str(non_members),
                     "columns": {"id": "patient_id", "sequence": "codes", "kind": "codes",
                                 "subgroups": list(SUBGROUPS)}},
            "probes": {"loss": {}}}


def _verdict(argv: list[str], untouched: list[Path], out_dir: Path, expected: list[dict]) -> None:
    """Run the CLI; `expected` holds, per cohort file, what write_cohort says must happen."""
    before = digests(untouched)
    code, err, out = run_cli(argv)
    found = problems(code, err, out, untouched=before, out_dir=out_dir, expected=expected)
    assert not found, f"{found} (exit {code})\n{err[-3000:]}\n{out[-1000:]}"


def _damaged(fmt: str = ".csv", table: list | None = None, damage: list | None = None) -> dict:
    return {"format": fmt, "table": table or [], "bytes": damage or []}


CLEAN = _damaged()


@settings(FUZZ, max_examples=50)
# The cases issue 19 lists (defect numbers), always run: the generated examples may miss them.
@example(hostile=_damaged(damage=[("headerless",)]), other=CLEAN, hostile_members=True)  # 5
@example(hostile=_damaged(damage=[("stray_quote", 12)]), other=CLEAN, hostile_members=True)  # 2
@example(hostile=_damaged(table=[("rare_value", 1, "age_band")]), other=CLEAN, hostile_members=False)  # 6
@example(hostile=_damaged(table=[("formula_id", 3, "="), ("formula_id", 5, "\t=")]), other=CLEAN,
         hostile_members=True)  # 7
@example(hostile=_damaged(".parquet", [("sequence_as", "nested")]), other=CLEAN, hostile_members=True)  # 3
@example(hostile=_damaged(".jsonl", [("sequence_as", "dict")]), other=CLEAN, hostile_members=False)  # 3
@example(hostile=_damaged(table=[("repeat_column", "codes")]), other=CLEAN, hostile_members=True)  # 14
# Found by this fuzz: an escaped lone surrogate ("\udc80") in a JSON Lines id.
@example(hostile=_damaged(".jsonl", [("set", 3, "patient_id", f"\udc80{MARK}7")]), other=CLEAN,
         hostile_members=True)
@given(hostile=cohort_files, other=st.one_of(clean_file, cohort_files), hostile_members=st.booleans())
def test_hostile_cohort_files_give_a_result_or_a_clean_refusal(hostile: dict, other: dict,
                                                               hostile_members: bool) -> None:
    specs = (hostile, other) if hostile_members else (other, hostile)
    with tempfile.TemporaryDirectory(prefix="fuzz-") as tmp:
        folder = Path(tmp)
        (m, m_expected), (n, n_expected) = (write_cohort(folder, "members", specs[0], MEMBERS),
                                            write_cohort(folder, "non_members", specs[1], NON_MEMBERS))
        plan = folder / "plan.toml"
        plan.write_text(plan_text(base_plan(m, n), ".toml"), encoding="utf-8")
        out = folder / "out"
        _verdict(["run", str(plan), "--out", str(out), "--quiet"], [m, n, plan], out,
                 [m_expected, n_expected])


NUMBERS = st.sampled_from([0, 1, 2, 3, 16, 127, 128, 129, 10**6, 2**31, 2**63 - 1, 2**64, -1, 1e9, 0.5,
                           math.nan, math.inf, True, "8"])
THREADS = st.sampled_from([0, 1, 2, 10**6, 10**9, 2**31, 2**64, -1, 1e9, math.nan, True, "2"])
ANYTHING = st.one_of(st.booleans(), st.integers(-2**70, 2**70), NUMBERS, st.text(max_size=8),
                     st.lists(st.integers(-3, 3), max_size=2), st.just({"x": 1}),
                     st.builds(Deep, st.sampled_from([3, 200, 5000, 100_000])))
PATHS = st.sampled_from(["@model", "@onnx", "@missing", "@empty", "/dev/null", "", "@members",
                         "@non_members", "@plan", "@junk", "@pipe_model", "@pipe"])
FRACTIONS = st.sampled_from([0.0, 1e-300, 1e-9, 0.2, 0.5, 0.999, 1.0, 1.5, -0.1, 1, 40])
SETTING_KEYS = {  # each probe's and threshold family's own settings (the rest have none here)
    ("probes", "min_k"): ["k"], ("probes", "min_k_plus_plus"): ["k"],
    ("probes", "extraction"): ["prefix_tokens", "suffix_tokens", "batch_size"],
    ("thresholds", "membership"): ["primary_fpr", "warn_auc_lower", "fail_auc_lower", "warn_epsilon",
                                   "fail_epsilon", "min_expected_false_positives", "prior", "min_cell"],
    ("thresholds", "split_validity"): ["max_auc", "folds"],
    ("thresholds", "subgroups"): ["rare_code_max_members", "min_cell", "subgroup_fdr"],
    ("thresholds", "extraction"): ["alpha", "max_rate_upper", "fail_min_extracted"],
}


def _settings(*owner: str) -> st.SearchStrategy[dict]:
    """A settings table: its own keys (and one nobody knows) with hostile numbers."""
    return st.dictionaries(st.sampled_from([*SETTING_KEYS.get(owner, []), "bogus"]),
                           st.one_of(NUMBERS, FRACTIONS, FRACTIONS, ANYTHING), max_size=2)


NAMES = st.sampled_from([*COLUMNS, "absent", "", "Patient_ID"])
KEYS: dict[tuple[str, ...], st.SearchStrategy] = {
    ("model", "path"): PATHS, ("model", "reference"): PATHS, ("model", "threads"): THREADS,
    ("model", "context_length"): NUMBERS, ("model", "batch_size"): NUMBERS,
    ("model", "provider"): st.sampled_from(["cpu", "cuda", "CPU", ""]),
    ("model", "precision"): st.sampled_from(["int8", "fp16"]),
    ("model", "declared"): st.one_of(ANYTHING, st.dictionaries(st.text(max_size=4), ANYTHING, max_size=2)),
    ("data", "members"): PATHS, ("data", "non_members"): PATHS,
    ("data", "columns", "id"): NAMES, ("data", "columns", "sequence"): NAMES,
    ("data", "columns", "kind"): st.sampled_from(["text", "Codes", ""]),
    ("data", "columns", "subgroups"): st.one_of(st.lists(NAMES, max_size=3), ANYTHING),
    ("audit", "seed"): NUMBERS, ("audit", "release_context"): st.sampled_from(["public", "partners", "x"]),
    ("audit", "title"): st.sampled_from(["", "x" * 5000, "\x00", "T\u202eitle", "\ud800"]),
    **{("probes", p): st.one_of(st.just({}), _settings("probes", p), _settings("probes", p), ANYTHING)
       for p in ("loss", "zlib", "min_k", "min_k_plus_plus", "extraction", "nonsense")},
    **{("thresholds", f): st.one_of(_settings("thresholds", f), _settings("thresholds", f), ANYTHING)
       for f in ("membership", "split_validity", "subgroups", "extraction", "nonsense")},
    **{(top,): ANYTHING for top in ("audit", "model", "data", "probes", "thresholds", "extra")},
    ("model", "thread"): NUMBERS, ("data", "column"): st.just({"id": "patient_id"}),  # misspelt keys
}
plan_edits = st.lists(st.one_of(*[st.tuples(st.just(k), v) for k, v in KEYS.items()]), max_size=3)
OUT_MODES = ["fresh", "existing", "file", "data-folder", "foreign", "dev-null"]
FOREIGN = {"report.pdf": b"%PDF-1.4 someone else's report\n", "results.json": b'{"mine": true}\n'}


def _resolve(value: Any, files: dict[str, Path]) -> Any:
    return str(files[value[1:]]) if isinstance(value, str) and value[1:] in files else value


def _edited_plan(plan: dict, edits: list[tuple[tuple[str, ...], Any]], files: dict[str, Path]) -> dict:
    for path, value in edits:
        table = plan
        for key in path[:-1]:
            if not isinstance(table.get(key), dict):
                table[key] = {}
            table = table[key]
        table[path[-1]] = _resolve(value, files)
    return plan


def _pipe_model(folder: Path) -> Path:
    """A model folder whose model.onnx is a named pipe (reading it would wait for ever)."""
    target = folder / "pipe-model"
    target.mkdir()
    for name in ("tokenizer.json", "config.json"):
        shutil.copy(DEMO / "model" / name, target / name)
    os.mkfifo(target / "model.onnx")
    return target


def _out_folder(mode: str, folder: Path) -> tuple[Path, list[Path]]:
    """The --out folder for `mode`, and the files there the tool must leave alone."""
    out = {"data-folder": folder, "dev-null": Path("/dev/null/out")}.get(mode, folder / "out")
    if mode == "existing":
        out.mkdir()
    elif mode == "file":
        out.write_bytes(b"not a folder\n")
        return out, [out]
    elif mode == "foreign":  # outputs of something else, which a run must not replace
        out.mkdir()
        for name, data in FOREIGN.items():
            (out / name).write_bytes(data)
        return out, [out / name for name in FOREIGN]
    return out, []


def _plan_case(edits: list | None = None, out_mode: str = "fresh", *, plan_format: str = ".toml",
               stem: str = "members", long_record: bool = False) -> dict:
    return {"edits": edits or [], "plan_format": plan_format, "data_format": ".csv", "stem": stem,
            "long_record": long_record, "out_mode": out_mode, "flags": ["--quiet"]}


@settings(FUZZ, max_examples=50)
# The cases issue 19 lists (defect numbers), always run: the generated examples may miss them.
@example(**_plan_case(out_mode="file"))  # 9: --out is a file, so the error log cannot be written
@example(**_plan_case(out_mode="dev-null"))  # 9
@example(**_plan_case(out_mode="data-folder", stem="records"))  # 1: the input is named records.csv
@example(**_plan_case(out_mode="foreign"))  # 1: someone else's report.pdf and results.json
@example(**_plan_case([(("extra",), Deep(100_000))]))  # 10
@example(**_plan_case([(("model", "declared"), Deep(100_000))], plan_format=".json"))  # 10
@example(**_plan_case([(("model", "context_length"), 10**6)], long_record=True))  # 13: past the positions
@example(**_plan_case([(("model", "threads"), 10**9)]))  # 13
@example(**_plan_case([(("model", "threads"), 10**6)]))  # 13: a million threads hung, past 10 GB
@example(**_plan_case([(("model", "path"), "@pipe_model")]))  # 11
@example(**_plan_case([(("model", "threads"), 2**64)]))  # 13 (was a TypeError, exit 3)
@example(**_plan_case([(("data", "columns", "subgroups"), ["patient_id"])]))  # 6: every id a subgroup
@example(**_plan_case([(("audit", "title"), "\ud800")], plan_format=".json"))  # found by this fuzz
@given(edits=plan_edits, plan_format=st.sampled_from([".toml", ".json", ".txt"]),
       data_format=st.sampled_from(FORMATS), stem=st.sampled_from(["members", "records"]),
       long_record=st.booleans(), out_mode=st.sampled_from(OUT_MODES),
       flags=st.sampled_from([["--quiet"], [], ["--quiet", "--resume"], ["--quiet", "--restart"]]))
def test_hostile_plans_give_a_result_or_a_clean_refusal(edits, plan_format, data_format, stem,
                                                        long_record, out_mode, flags) -> None:
    with tempfile.TemporaryDirectory(prefix="fuzz-") as tmp:
        folder = Path(tmp)
        members_rows = [list(r) for r in MEMBERS]
        if long_record:  # past the model's 128 positions: scored in windows
            members_rows[0][1] = " ".join([members_rows[0][1]] * 8)
        clean = {"format": data_format, "table": [], "bytes": []}
        (m, m_expected), (n, n_expected) = (write_cohort(folder, stem, clean, members_rows),
                                            write_cohort(folder, "non_members", clean, NON_MEMBERS))
        plan = folder / f"plan{plan_format}"
        (folder / "empty").mkdir()
        (folder / "junk").mkdir()
        (folder / "junk" / "model.onnx").write_bytes(b"\x08\x07junk")
        files = {"model": DEMO / "model", "onnx": DEMO / "model" / "model.onnx", "missing": folder / "absent",
                 "empty": folder / "empty", "members": m, "non_members": n, "plan": plan,
                 "junk": folder / "junk", "pipe_model": _pipe_model(folder), "pipe": folder / "pipe.csv"}
        os.mkfifo(files["pipe"])
        raw = _edited_plan(base_plan(m, n), edits, files)
        plan.write_text(plan_text(raw, ".json" if plan_format == ".json" else ".toml"),
                        encoding="utf-8", errors="surrogatepass")
        out, theirs = _out_folder(out_mode, folder)
        moved = any(path[:2] in (("data",), ("data", "members"), ("data", "non_members")) for path, _ in edits)
        _verdict(["run", str(plan), "--out", str(out), *flags], [m, n, plan, *theirs], out,
                 [{"records": None, "refuse": None}] * 2 if moved else [m_expected, n_expected])
