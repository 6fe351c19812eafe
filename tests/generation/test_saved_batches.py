"""The generation step's finished batches in the checkpoint (issue 18: `--resume` after
losing the driver continues where it stopped): a resumed run reads back what was decoded,
whatever batches it would make now, decodes only the rest, and gets the same answers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from audit_core.generation import GenerationSchedule, Request, Watch, saved_batches
from audit_core.models.inspection import inspect_model
from audit_core.models.onnx_causal_lm import OnnxCausalLM
from audit_core.run.fingerprint import Fingerprint
from audit_core.work.checkpoints import CheckpointRequest
from audit_core.work.progress import Progress

_KEY = Fingerprint({"plan": "saved-batches"})


@pytest.fixture(scope="module")
def demo_model(demo_dir: Path) -> OnnxCausalLM:
    return OnnxCausalLM(inspect_model(demo_dir / "model"), threads=1)


def _requests(count: int, first: int = 0) -> list[Request]:
    watch = Watch.of([np.arange(10, 60)])
    rng = np.random.default_rng(3)
    prompts = [np.r_[2, rng.integers(5, 800, size=6 + i % 5)] for i in range(first + count)]
    return [Request(prompt=prompts[i], steps=8, n=2, temperature=1.0, top_p=0.95, stops=(3,),
                    watch=watch, seed=(5, i)) for i in range(first, first + count)]


def test_a_resumed_run_reads_back_the_finished_batches(demo_model, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(saved_batches, "SAVE_AFTER_SECONDS", 0.0)  # every batch is saved
    fresh = GenerationSchedule(demo_model).generate(_requests(12))
    first = CheckpointRequest(tmp_path).open(_KEY)
    stopped = GenerationSchedule(demo_model, batch_rows=6, checkpoint=first)
    stopped.generate(_requests(8))  # the run stops after these
    first.close()
    assert stopped.counts.calls > 0

    again = CheckpointRequest(tmp_path, resume=True).open(_KEY)
    resumed = GenerationSchedule(demo_model, checkpoint=again)  # other batches than before
    resumed.declare("probe", _requests(12))
    resumed.run(Progress())
    answers = resumed.generate(_requests(12))
    for ours, theirs in zip(answers, fresh, strict=True):
        np.testing.assert_array_equal(ours.tokens, theirs.tokens)
        np.testing.assert_array_equal(ours.mass, theirs.mass)
    assert resumed.counts.rows == 4 * 2  # only the 4 requests the stopped run never reached
    assert again.resumed > 0
    again.close()


def test_quick_batches_are_not_saved(demo_model, tmp_path: Path) -> None:
    checkpoint = CheckpointRequest(tmp_path).open(_KEY)
    GenerationSchedule(demo_model, checkpoint=checkpoint).generate(_requests(2))
    assert checkpoint.names(saved_batches.PREFIX) == []  # milliseconds: cheaper to decode again
    checkpoint.close()
