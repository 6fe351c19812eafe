"""The plan's and the model folder's edges (issue 19, defects 10, 11 and 13), through the
real CLI on files built here: each hostile input ends in exit 2 and one line naming the
file or the plan key, never a traceback, a hang, onnxruntime's own (coloured) text or a
record value, and no input file changes."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
from pathlib import Path

import numpy as np
import onnx
import pandas as pd
import pytest
from onnx import TensorProto, helper, numpy_helper

from audit_core.cli.main import main
from tests.conftest import DEMO, write_plan

SECRET = "ZZSECRET123"
ANSI = "\x1b["


@pytest.fixture()
def case(tmp_path: Path) -> dict[str, Path]:
    """30 members and 30 non-members of the demo, one member holding the planted code."""
    members = pd.read_csv(DEMO / "members.csv", dtype=str).head(30)
    non_members = pd.read_csv(DEMO / "non_members.csv", dtype=str).head(30)
    members.loc[4, "codes"] = members.loc[4, "codes"] + f" {SECRET}"
    files = {"members": tmp_path / "members.csv", "non_members": tmp_path / "non_members.csv"}
    members.to_csv(files["members"], index=False)
    non_members.to_csv(files["non_members"], index=False)
    return files


def _plan(folder: Path, files: dict[str, Path], model: Path = DEMO / "model",
          model_lines: str = "") -> Path:
    plan = write_plan(folder, model=model, members=files["members"],
                      non_members=files["non_members"], probes="[probes.loss]\n")
    text = plan.read_text().replace("batch_size = 32\n", f"batch_size = 32\n{model_lines}")
    plan.write_text(text)
    return plan


def _digests(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and not p.is_symlink()
            and "out" not in p.relative_to(folder).parts}


def _refused(plan: Path, capsys, timeout: int = 120) -> str:
    """Run the CLI; an alarm turns a hang into a failure instead of a stalled suite."""
    folder = plan.parent
    before = _digests(folder)

    def hangs(*_):
        raise TimeoutError("the run hangs")

    previous = signal.signal(signal.SIGALRM, hangs)
    # Again every second after the first: code that swallows the first TimeoutError and
    # blocks on the next open must not stall the suite either.
    signal.setitimer(signal.ITIMER_REAL, timeout, 1.0)
    try:
        code = main(["run", str(plan), "--out", str(folder / "out"), "--quiet"])
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    printed = capsys.readouterr()
    err = printed.err
    assert code == 2, err
    assert err.startswith("mnemoscope: error: ") and len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err and ANSI not in err
    assert SECRET not in printed.out + err
    assert _digests(folder) == before
    # Nothing that looks like a result (a run stopped mid-way keeps only its checkpoint).
    written = {p.name for p in (folder / "out").iterdir()} if (folder / "out").exists() else set()
    assert written <= {"checkpoint.sqlite"}, written
    return err


# Defect 10: a plan nested 100,000 deep ended in a RecursionError traceback (exit 1).

@pytest.mark.parametrize("suffix", [".toml", ".json"])
@pytest.mark.parametrize("depth", [40, 100_000])
def test_a_deeply_nested_plan_is_refused_naming_the_file(tmp_path: Path, case, capsys,
                                                          suffix: str, depth: int) -> None:
    # 40 parses (then nothing may walk it); 100,000 exhausts either parser's recursion.
    nested = "[" * depth + "]" * depth
    plan = tmp_path / f"plan{suffix}"
    if suffix == ".toml":
        plan.write_text(_plan(tmp_path, case).read_text()
                        + f"\n[probes.zlib]\nwindow = {nested}\n")
    else:
        plan.write_text('{"model": {"path": "m"}, "data": {"members": "a.csv", '
                        f'"non_members": "b.csv"}}, "probes": {{"loss": {{"k": {nested}}}}}}}')
    err = _refused(plan, capsys)
    assert f"plan{suffix}" in err and "nests arrays or tables more than 16 levels deep" in err


def test_a_json_plan_that_is_a_list_is_refused(tmp_path: Path, capsys) -> None:
    plan = tmp_path / "plan.json"
    plan.write_text("[1, 2, 3]")
    assert "plan.json must hold a table of settings" in _refused(plan, capsys)


# Defect 11: a FIFO in the model folder blocked the open forever.

def _fifo(path: Path) -> None:
    path.unlink(missing_ok=True)
    os.mkfifo(path)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
@pytest.mark.parametrize("name", ["model.onnx", "tokenizer.json", "config.json"])
def test_a_named_pipe_in_the_model_folder_is_refused_not_waited_on(tmp_path: Path, case, capsys,
                                                                   name: str) -> None:
    model = tmp_path / "model"
    shutil.copytree(DEMO / "model", model)
    _fifo(model / name)
    err = _refused(_plan(tmp_path, case, model), capsys)
    assert f"{name} in {model} is not a regular file (a named pipe" in err


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_a_plan_file_that_is_a_pipe_is_refused(tmp_path: Path, capsys) -> None:
    _fifo(tmp_path / "plan.toml")
    err = _refused(tmp_path / "plan.toml", capsys)
    assert f"plan file {tmp_path / 'plan.toml'} is not a regular file" in err


def _tiny_lm(folder: Path, *, positions: str = "pos_bias", rows: int = 16,
             external: str | None = None, config: bool = True) -> Path:
    """A causal LM over the demo's 801-token vocabulary: logits = a token table plus a
    per-position table of `rows` rows, named `positions` (a learned position table when
    the name says so). Past `rows` tokens the graph's Add cannot broadcast and fails."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(DEMO / "model" / "tokenizer.json", folder / "tokenizer.json")
    if config:
        shutil.copy(DEMO / "model" / "config.json", folder / "config.json")
    vocab = 801
    table = numpy_helper.from_array(np.zeros((vocab, vocab), np.float32), "tokens")
    position = numpy_helper.from_array(np.zeros((rows, vocab), np.float32), positions)
    zero = numpy_helper.from_array(np.zeros(1, np.int64), "zero")
    nodes = [helper.make_node("Gather", ["tokens", "input_ids"], ["embedded"]),
             helper.make_node("Shape", ["input_ids"], ["length"], start=1, end=2),
             helper.make_node("Slice", [positions, "zero", "length", "zero"], ["placed"]),
             helper.make_node("Add", ["embedded", "placed"], ["logits"])]
    ids = helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "sequence"])
    logits = helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", "sequence", vocab])
    graph = helper.make_graph(nodes, "tiny", [ids], [logits], initializer=[table, position, zero])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    if external is not None:
        onnx.save(model, folder / "model.onnx", save_as_external_data=True,
                  all_tensors_to_one_file=True, location=external, size_threshold=0)
    else:
        onnx.save(model, folder / "model.onnx")
    return folder


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_an_external_weights_file_that_is_a_pipe_is_refused(tmp_path: Path, case, capsys) -> None:
    model = _tiny_lm(tmp_path / "model", external="weights.bin")
    _fifo(model / "weights.bin")
    err = _refused(_plan(tmp_path, case, model), capsys)
    assert f"weights.bin in {model} is not a regular file (a named pipe" in err


def test_a_weights_symlink_out_of_the_model_folder_is_still_refused(tmp_path: Path, case,
                                                                   capsys) -> None:
    model = _tiny_lm(tmp_path / "model", external="weights.bin")
    outside = tmp_path / "elsewhere.bin"
    (model / "weights.bin").rename(outside)
    (model / "weights.bin").symlink_to(outside)
    err = _refused(_plan(tmp_path, case, model), capsys)
    assert "model.onnx refers to weights outside its folder" in err


# Defect 13: a context past the position table, a tokenizer without [UNK], absurd threads.

def test_a_context_past_the_position_table_is_refused_before_the_run(tmp_path: Path, case,
                                                                     capsys) -> None:
    err = _refused(_plan(tmp_path, case, model_lines="context_length = 512\n"), capsys)
    assert ("'model.context_length' is 512 but model/model.onnx has positions for 128 tokens, "
            "per config.json (n_positions)") in err


def test_without_a_config_the_position_table_is_read_from_the_graph(tmp_path: Path, case,
                                                                    capsys) -> None:
    model = _tiny_lm(tmp_path / "model", positions="transformer.wpe.weight", config=False)
    err = _refused(_plan(tmp_path, case, model, "context_length = 64\n"), capsys)
    assert ("'model.context_length' is 64 but model/model.onnx has positions for 16 tokens, per "
            "the rows of its position table 'transformer.wpe.weight'") in err


def test_a_run_failure_of_onnxruntime_is_told_without_its_text(tmp_path: Path, case,
                                                               capsys) -> None:
    """A table the tool cannot recognise: onnxruntime fails mid-run. Its own message (in
    colour, quoting shapes or token ids) is not shown; the tool's names the model and key."""
    model = _tiny_lm(tmp_path / "model", config=False)
    err = _refused(_plan(tmp_path, case, model, "context_length = 64\n"), capsys)
    assert ("onnxruntime could not score the records of members.csv with model.onnx "
            "(Fail)") in err and "'model.context_length'" in err
    assert "Add" not in err and "broadcast" not in err.lower()


def _without_unk(folder: Path) -> Path:
    shutil.copytree(DEMO / "model", folder)
    tokenizer = json.loads((folder / "tokenizer.json").read_text())
    del tokenizer["model"]["vocab"]["[UNK]"]
    tokenizer["added_tokens"] = [t for t in tokenizer["added_tokens"] if t["content"] != "[UNK]"]
    (folder / "tokenizer.json").write_text(json.dumps(tokenizer))
    return folder


def test_a_code_a_tokenizer_without_unk_cannot_encode_is_refused_by_record(tmp_path: Path, case,
                                                                          capsys) -> None:
    err = _refused(_plan(tmp_path, case, _without_unk(tmp_path / "model")), capsys)
    assert ("members.csv: record 5 holds a code or word that the model's tokenizer.json cannot "
            "encode: its vocabulary has no unknown token ('[UNK]' is named but missing)") in err


def test_a_tokenizer_without_unk_is_used_when_it_knows_every_code(tmp_path: Path, case,
                                                                  capsys) -> None:
    members = pd.read_csv(case["members"], dtype=str)
    members.loc[4, "codes"] = members.loc[4, "codes"].replace(f" {SECRET}", "")
    members.to_csv(case["members"], index=False)
    plan = _plan(tmp_path, case, _without_unk(tmp_path / "model"))
    assert main(["run", str(plan), "--out", str(tmp_path / "out"), "--quiet"]) == 0, \
        capsys.readouterr().err
    assert (tmp_path / "out" / "results.json").is_file()


@pytest.mark.parametrize("value", ["1000000000", "1e9", "-1", "true"])
def test_absurd_thread_counts_are_refused_naming_the_key(tmp_path: Path, case, capsys,
                                                         value: str) -> None:
    err = _refused(_plan(tmp_path, case, model_lines=f"threads = {value}\n"), capsys)
    assert "plan.toml: 'model.threads' must be" in err
    if value == "1000000000":
        assert "at most 1024" in err


def test_a_plan_from_a_larger_machine_runs_with_the_cores_here(tmp_path: Path) -> None:
    """The bound does not depend on the machine (a plan written on a 64-core server runs
    on a laptop); the session takes at most this machine's logical cores."""
    from audit_core.models.runtime import intra_op_threads, session_options
    from audit_core.plan.parsing import plan_from_dict

    cores = os.cpu_count() or 1
    plan = plan_from_dict({"model": {"path": "m", "threads": 64 * cores},
                           "data": {"members": "a.csv", "non_members": "b.csv"}}, base=tmp_path)
    assert plan.model.threads == 64 * cores
    assert intra_op_threads(plan.model.threads) == cores
    assert session_options(plan.model.threads).intra_op_num_threads == cores
    assert intra_op_threads(1) == 1
