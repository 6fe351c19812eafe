"""An ONNX causal language model run by onnxruntime: logits for batches, greedy decoding,
and temperature / top-p sampling of several continuations per prompt (`sample`; the
decoding loop itself is models/batch_decoding.py).

Accepts the plain signature (`input_ids`, optional `attention_mask` -> `logits`) and the
KV-cache one (plus `position_ids`, `past_*` -> `present_*`). A KV graph scores a full
sequence with an empty past, and decodes one token per step from the cache; a plain
graph decodes by recomputing the whole sequence each step (slower, same tokens).

An EHR model's side inputs (token type, age, time, visit, ...: models/side_inputs.py) are
fed from `events` when a caller gives them (one EventFeatures per row), else from the
audited records the run installed (`use_records`, models/event_lookup.py); generated
tokens extend them by the declared rule. A model without side inputs skips all of it.
"""

from __future__ import annotations

import copy
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from audit_core.data.events import EventFeatures
from audit_core.errors import ModelError
from audit_core.models.batch_decoding import RowSettings, decode_rows
from audit_core.models.device_memory import DeviceBudget
from audit_core.models.inspection import HIDDEN_STATES, ModelInfo, require_causal_lm
from audit_core.models.io_binding import Runner, device_of
from audit_core.models.precision import PRECISIONS, converted_copy
from audit_core.models.runtime import (
    CPU_PROVIDER,
    check_provider,
    intra_op_threads,
    open_session,
    resolve_provider,
)
from audit_core.models.side_inputs import SideFeed, State, describe, resolve_side_inputs, token_type_table

Events = Sequence[EventFeatures | None] | None  # one per row/prompt, aligned with its unpadded tokens


class OnnxCausalLM:
    def __init__(self, info: ModelInfo, threads: int = 0, *, provider: str = "auto",
                 precision: str = "fp32", inputs: Mapping[str, str] | None = None,
                 token_types: Mapping[str, int] | None = None, strict_inputs: bool = True,
                 io_binding: bool | None = None) -> None:
        """`provider`: "auto" (CUDA when available, else CPU), "cpu" or "cuda" (refused
        when unavailable). `precision` "int8" / "fp16" runs a quantized / half-precision
        copy made in a temporary folder (models/precision.py); the audited file is never
        modified. `inputs` / `token_types`: the plan's side-input tables (over
        side_inputs.json). `io_binding`: run through onnxruntime I/O binding, the KV cache
        kept on the device between decoding steps (models/io_binding.py); None: on CUDA
        only (on the CPU it gives the same bits and no clear gain; tests switch it on)."""
        require_causal_lm(info)
        # Before any slow loading: an input nobody maps is refused with how to map it.
        side, types = resolve_side_inputs(info, inputs, token_types, strict=strict_inputs)
        self._side: SideFeed | None = None
        self._side_specs = side
        # The plan's tables as given, for a second session of the same model (int8 check).
        self.side_tables = (dict(inputs or {}), dict(token_types or {}))
        if precision not in PRECISIONS:
            raise ModelError(f"'model.precision' must be one of {', '.join(PRECISIONS)} "
                             f"(got '{precision}')")
        self.precision = precision
        self.threads = intra_op_threads(threads)  # what the session runs with on this machine
        # Whether the schedule may decode in two sessions side by side (generation/streams.py);
        # the memory check turns it off where a second copy would not fit.
        self.side_by_side = True
        providers = resolve_provider(provider)  # refused before any slow quantization
        source = converted_copy(info.path, info.name, precision) if precision != "fp32" else info.path
        try:
            self.session = self._open_session(source, info.name, provider, providers)
        finally:
            if source != info.path:  # onnxruntime holds the graph in memory once loaded
                shutil.rmtree(source.parent, ignore_errors=True)
        self.provider = check_provider(provider, self.session, info.name)
        graph_inputs = {i.name: i for i in self.session.get_inputs()}
        self._past = [name for name in graph_inputs if "past" in name]
        bound = io_binding if io_binding is not None else device_of(self.provider) == "cuda"
        self._runner = Runner(self.session, device_of(self.provider), self._past) if bound else None
        self._ids_type = np.int32 if "int32" in graph_inputs["input_ids"].type else np.int64
        self._has_mask = "attention_mask" in graph_inputs
        # A mapped position_ids is fed with the side inputs (the same values).
        self._has_positions = "position_ids" in graph_inputs and all(s.name != "position_ids" for s in side)
        outputs = [o.name for o in self.session.get_outputs()]
        self._present = [name for name in outputs if "present" in name]
        self.kv_cache = bool(self._past) and len(self._past) == len(self._present)
        self.has_hidden_states = HIDDEN_STATES in outputs  # optional; the embedding probe reads it
        if self._past and not self.kv_cache:
            raise ModelError(f"{info.name} takes past key/values but returns no matching 'present' outputs")
        self._past_shapes = {}
        for name in self._past:
            shape = graph_inputs[name].shape
            if len(shape) != 4 or not all(isinstance(d, int) for d in (shape[1], shape[3])):
                raise ModelError(f"{info.name}: past input '{name}' must be [batch, heads, past, head_dim] "
                                 "with fixed heads and head_dim")
            self._past_shapes[name] = (shape[1], shape[3])
        if info.vocab_size is None:
            info = replace(info, vocab_size=self._probe_vocab_size())
            require_causal_lm(info)
        self.info = info
        self.vocab_size: int = info.vocab_size  # type: ignore[assignment]
        self.context_length: int = info.context_length  # type: ignore[assignment]
        if side:
            table = None
            if any(s.source == "type" for s in side):
                from audit_core.models.tokenizer_loading import load_tokenizer

                table = token_type_table(load_tokenizer(info.folder), types, self.vocab_size)
            self._side = SideFeed(side, table)
        # On a GPU: its free memory once the weights are there caps the batches
        # (models/device_memory.py); None on the CPU, where batches are as planned.
        self.device_budget = DeviceBudget.measure(self) if device_of(self.provider) == "cuda" else None

    @property
    def left_padding(self) -> bool:
        """Whether prompts of different lengths can share a batch, left-padded: an attention
        graph with a KV cache (not a recurrent one, whose state would read the pads) that
        reads the mask and the positions (so a pad changes nothing a real token sees), and
        no side inputs (whose rows are built right-padded)."""
        return self.kv_cache and self._has_mask and self._has_positions and self._side is None

    @property
    def side_inputs(self) -> dict[str, str]:
        """Graph input -> source for each side input ({} for a model without any)."""
        return describe(self._side.inputs) if self._side is not None else {}

    @property
    def needs_events(self) -> bool:
        """Some side input reads event data (age, time, visit): a cohort of plain codes
        cannot feed it."""
        return self._side is not None and self._side.needs_events

    def share_records(self, other: OnnxCausalLM) -> None:
        """Look events up in the records `other` was given (same model, another session)."""
        if self._side is not None and other._side is not None:
            self._side.records = other._side.records

    def use_records(self, token_ids: Sequence[np.ndarray], token_events: Sequence[EventFeatures]) -> None:
        """The audited records (ids and aligned events) that rows without explicit events
        are looked up in; nothing to do for a model without side inputs that read events."""
        if self._side is not None and self._side.needs_events:
            from audit_core.models.event_lookup import RecordIndex

            self._side.records = RecordIndex(token_ids, token_events)

    def logits(self, input_ids: np.ndarray, attention_mask: np.ndarray, events: Events = None) -> np.ndarray:
        """(B, T) right-padded ids and mask -> (B, T, V) float32 logits."""
        feed = self._feed(input_ids, attention_mask, None)
        if self._side is not None:
            feed.update(self._side.rows(input_ids, attention_mask, events)[0])
        # Only the logits are fetched: a KV export's present tensors are not copied out.
        return self._call(feed, ["logits"])[0][0]

    def greedy(self, prompts: np.ndarray, steps: int, events: Events = None) -> np.ndarray:
        """Greedy continuation of equal-length prompts (B, P) -> (B, steps) token ids."""
        batch, length = prompts.shape
        if length + steps > self.context_length:
            raise ValueError("prompt plus continuation exceeds the model's context")
        settings = RowSettings(temperature=0.0, top_p=1.0, stops=np.zeros(0, dtype=np.int64), watch=None)
        tokens, _ = decode_rows(self, np.asarray(prompts, dtype=np.int64), events, np.arange(batch),
                                np.full(batch, steps), None, settings)
        return tokens

    def sample(self, prompts: np.ndarray | Sequence[np.ndarray], steps: int, *, n: int,
               rng: np.random.Generator, temperature: float = 1.0, top_p: float = 1.0,
               stop_ids: Sequence[int] = (), watch: Sequence[np.ndarray] = (),
               batch_size: int = 64, events: Events = None) -> Samples:
        """`n` sampled continuations of `steps` tokens for each prompt.

        `prompts`: a (B, P) array or a list of B 1-D arrays of any lengths (grouped by
        length internally, because a batch shares one length). Each token is drawn from
        softmax(logits / temperature), cut to the smallest set of tokens whose probability
        reaches `top_p` (nucleus sampling, Holtzman et al. 2020); `temperature` 0 is greedy
        decoding. A continuation that emits one of `stop_ids` (EOS) keeps that token and is
        filled with -1 afterwards. `watch` lists token-id sets (e.g. a sensitive category):
        `Samples.mass[b, s, t, k]` is the probability the sampling distribution gave set k at
        step t of sample s (0 after a stop). Each prompt's draws come from `rng` in the
        order of the prompts (n x steps uniforms each), so the same generator state gives
        the same samples whatever `batch_size`; the KV cache is used when the export has
        one (the prompt is run once and its cache shared by the n samples). `events`: one
        EventFeatures (or None) per prompt, for side inputs. The audit's probes decode
        through generation/ (one schedule, a seed per request); this is the same loop.
        """
        rows = [np.asarray(p, dtype=np.int64).ravel() for p in prompts]
        if events is not None and len(events) != len(rows):
            raise ValueError("events needs one entry per prompt")
        check_sampling(self, rows, steps, n, temperature, top_p)
        settings = RowSettings(temperature=temperature, top_p=top_p,
                               stops=np.asarray(sorted(set(int(s) for s in stop_ids)), dtype=np.int64),
                               watch=watched_ids(watch, self.vocab_size) if len(watch) else None)
        draws = [rng.random((n, steps)) for _ in rows]
        tokens = np.full((len(rows), n, steps), -1, dtype=np.int64)
        mass = np.zeros((len(rows), n, steps, len(watch)), dtype=np.float64)
        per_batch = max(1, batch_size // n)
        # Groups in order of first appearance (a batch shares one prompt length).
        groups: dict[int, list[int]] = {}
        for index, row in enumerate(rows):
            groups.setdefault(len(row), []).append(index)
        for members in groups.values():
            for start in range(0, len(members), per_batch):
                chosen = members[start:start + per_batch]
                out, watched = decode_rows(
                    self, np.stack([rows[i] for i in chosen]),
                    None if events is None else [events[i] for i in chosen],
                    np.repeat(np.arange(len(chosen)), n), np.full(len(chosen) * n, steps),
                    np.concatenate([draws[i] for i in chosen]), settings)
                tokens[chosen] = out.reshape(len(chosen), n, steps)
                mass[chosen] = watched.reshape(len(chosen), n, steps, len(watch))
        return Samples(tokens=tokens, mass=mass)

    def last_hidden_states(self, input_ids: np.ndarray, attention_mask: np.ndarray,
                           events: Events = None) -> np.ndarray:
        """(B, T) right-padded ids and mask -> (B, D): the last layer's state at each row's
        last real token (a causal model's summary of the whole prompt)."""
        if not self.has_hidden_states:
            raise ModelError(f"{self.info.name} has no '{HIDDEN_STATES}' output")
        feed = self._feed(input_ids, attention_mask, None)
        feed.update(self._side_rows(input_ids, attention_mask, events)[0])
        hidden = self.session.run([HIDDEN_STATES], feed)[0]
        last = attention_mask.astype(np.int64).sum(axis=1) - 1
        return hidden[np.arange(len(last)), np.clip(last, 0, None)].astype(np.float64)

    def twin(self, threads: int) -> OnnxCausalLM:
        """This model with a session of its own of `threads` intra-op threads, for decoding
        batches side by side (generation/streams.py); everything else (side-input tables,
        records) is shared. Only an fp32 model on the CPU without I/O binding: its session
        is opened again from the audited file, which a converted copy no longer is."""
        if self.precision != "fp32" or self.provider != CPU_PROVIDER or self._runner is not None:
            raise ValueError("only an fp32 model on the CPU without I/O binding has a twin")
        twin = copy.copy(self)
        twin.threads = intra_op_threads(threads)
        twin.session = open_session(self.info.path, self.info.name, twin.threads, [CPU_PROVIDER])
        return twin

    def _open_session(self, path, name: str, provider: str, providers: list[str]):
        return open_session(path, name, self.threads, providers, fall_back_to_cpu=provider == "auto")

    def _side_rows(self, ids: np.ndarray, mask: np.ndarray,
                   events: Events) -> tuple[dict[str, np.ndarray], State | None]:
        """The side inputs of full rows and the state decoding extends ({} and None when
        the model has none)."""
        if self._side is None:
            return {}, None
        return self._side.rows(ids, mask, events)

    def _side_step(self, tokens: np.ndarray, state: State | None) -> tuple[dict[str, np.ndarray], State | None]:
        if self._side is None or state is None:
            return {}, state
        return self._side.step(tokens, state)

    @property
    def io_binding(self) -> bool:
        """Whether calls run through I/O binding (the KV cache stays on the device)."""
        return self._runner is not None

    @property
    def device_facts(self) -> dict[str, object] | None:
        """What run.json records of a GPU run (None on the CPU): I/O binding, the device's
        free memory and the batch caps it imposed."""
        if self.device_budget is None:
            return None
        return {"io_binding": self.io_binding, **self.device_budget.as_dict()}

    def _call(self, feed: Mapping[str, object], fetch: list[str],
              keep: list[str] | tuple[()] = ()) -> tuple[list[np.ndarray], list]:
        """One session call: `fetch` outputs as numpy arrays, `keep` outputs where the
        model runs (on the device with I/O binding, else numpy arrays too)."""
        if self._runner is not None:
            return self._runner.run(feed, fetch, keep)
        values = self.session.run([*fetch, *keep], feed)
        return values[:len(fetch)], values[len(fetch):]

    def _take_past(self, past: dict, index: np.ndarray) -> dict:
        """Rows `index` of a cache (rows may repeat), where it lives."""
        if self._runner is not None:
            return self._runner.take(past, index)
        return {k: v[index] for k, v in past.items()}

    def _run(self, input_ids: np.ndarray, mask: np.ndarray, past: dict[str, np.ndarray] | None,
             side: Mapping[str, np.ndarray] | None = None,
             on_device: bool = False) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Logits and presents of a full call; `on_device`: presents may stay on the
        device (the decoding loop's cache), else numpy arrays (canary exposure indexes them)."""
        feed = self._feed(input_ids, mask, past)
        if side is None and self._side is not None:  # a caller of its own (canary exposure)
            side = self._side.rows(input_ids, mask[:, -input_ids.shape[1]:], None)[0]
        feed.update(side or {})
        if on_device:
            (logits,), present = self._call(feed, ["logits"], self._present)
        else:
            (logits, *present), _ = self._call(feed, ["logits", *self._present])
        return logits, dict(zip(self._past, present))

    def _decode(self, tokens: np.ndarray, total: int, past: dict[str, np.ndarray],
                side: Mapping[str, np.ndarray] | None = None, mask: np.ndarray | None = None,
                positions: np.ndarray | None = None) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """One KV-cache step: `tokens` (B,) after `total - 1` unpadded tokens per row.

        The same feed `_run` would build from an all-ones mask, made directly: decoding
        costs about a millisecond a token, and the per-step mask cumsum and dict
        rebuilding were a few percent of it."""
        batch = len(tokens)
        feed = {"input_ids": tokens.reshape(batch, 1).astype(self._ids_type, copy=False), **past}
        # `mask` / `positions`: rows whose prompts were left-padded (models/batch_decoding.py).
        if self._has_mask:
            feed["attention_mask"] = mask if mask is not None else np.ones((batch, total), dtype=np.int64)
        if self._has_positions:
            feed["position_ids"] = (positions if positions is not None
                                    else np.full((batch, 1), total - 1, dtype=np.int64))
        feed.update(side or {})  # each row's next token's side inputs (empty without any)
        # The presents and the logits only (an export's hidden states are not copied out);
        # with I/O binding the presents stay on the device as the next step's past.
        (logits,), present = self._call(feed, ["logits"], self._present)
        return logits, dict(zip(self._past, present))

    def _feed(self, input_ids: np.ndarray, mask: np.ndarray,
              past: dict[str, np.ndarray] | None) -> dict[str, np.ndarray]:
        feed: dict[str, np.ndarray] = {"input_ids": input_ids.astype(self._ids_type, copy=False)}
        if self._has_mask:
            feed["attention_mask"] = mask.astype(np.int64, copy=False)
        if self._has_positions:
            # Positions count real tokens only; right padding gets a harmless clipped value.
            positions = np.cumsum(mask, axis=1)[:, -input_ids.shape[1]:] - 1
            feed["position_ids"] = np.clip(positions, 0, None).astype(np.int64)
        if self.kv_cache:
            feed.update(past if past is not None else self._empty_past(input_ids.shape[0]))
        return feed

    def _empty_past(self, batch: int) -> dict[str, np.ndarray]:
        return {name: np.zeros((batch, heads, 0, dim), dtype=np.float32)
                for name, (heads, dim) in self._past_shapes.items()}

    def _probe_vocab_size(self) -> int:
        ids = np.zeros((1, 1), dtype=np.int64)
        feed = self._feed(ids, np.ones((1, 1), dtype=np.int64), None)
        feed.update({s.name: np.zeros((1, 1), dtype=s.dtype) for s in self._side_specs})
        return int(self.session.run(["logits"], feed)[0].shape[-1])


@dataclass(frozen=True, slots=True)
class Samples:
    """What `OnnxCausalLM.sample` drew.

    tokens: (B, n, steps) int64; -1 after a stop token (the stop token itself is kept).
    mass: (B, n, steps, K) float64, the probability of each watched token set per step.
    """

    tokens: np.ndarray
    mass: np.ndarray


def strip_continuation(tokens: np.ndarray) -> np.ndarray:
    """One sampled continuation without the -1 fill after its stop token."""
    return tokens[tokens >= 0]


def check_sampling(model: OnnxCausalLM, prompts: Sequence[np.ndarray], steps: int, n: int,
                   temperature: float, top_p: float) -> None:
    """The refusals every sampling call makes before any decoding."""
    if n < 1 or steps < 1:
        raise ValueError("sample needs n >= 1 and steps >= 1")
    if temperature < 0 or not 0 < top_p <= 1:
        raise ValueError("temperature must be >= 0 and top_p in (0, 1]")
    if any(len(r) == 0 for r in prompts):
        raise ValueError("every prompt needs at least one token (the start token)")
    if max((len(r) for r in prompts), default=0) + steps > model.context_length:
        raise ValueError("prompt plus continuation exceeds the model's context")


def watched_ids(watch: Sequence[np.ndarray], vocab_size: int) -> tuple[np.ndarray, ...]:
    """Each watched set as sorted distinct ids inside the vocabulary."""
    out = []
    for ids in watch:
        ids = np.unique(np.asarray(ids, dtype=np.int64))
        out.append(ids[(ids >= 0) & (ids < vocab_size)])
    return tuple(out)
