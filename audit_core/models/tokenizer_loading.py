"""Loading a Hugging Face `tokenizer.json` from the model folder, and nothing else.

The `tokenizers` library reads the file directly: no hub, no network, no Python code
from the folder is executed.
"""

from __future__ import annotations

from pathlib import Path

from tokenizers import Tokenizer

from audit_core.data.cohort import Cohort
from audit_core.data.events import EventFeatures, align_to_tokens
from audit_core.errors import DataError, ModelError
from audit_core.models.model_files import regular_file_present
from audit_core.models.packed_ids import PackedIds

TOKENIZER_FILE = "tokenizer.json"


def load_tokenizer(folder: Path) -> Tokenizer:
    path = folder / TOKENIZER_FILE
    if not regular_file_present(path):
        raise ModelError(f"no {TOKENIZER_FILE} beside the model in {folder}: export the model "
                         "with its tokenizer (Hugging Face tokenizers format)")
    try:
        tokenizer = Tokenizer.from_file(str(path))
    except Exception as exc:  # the library raises a bare Exception for malformed files
        raise ModelError(f"{path} is not a readable tokenizer file ({exc.__class__.__name__})") from None
    # Scoring batches are padded by us; the file's own padding/truncation would cut records.
    tokenizer.no_padding()
    tokenizer.no_truncation()
    return tokenizer


_ENCODE_CHUNK = 2048


def encode_all(tokenizer: Tokenizer, sequences: list[str], source: str = "the cohort") -> PackedIds:
    """Token ids per sequence, with the special tokens the post-processor adds (BOS/EOS).

    Keeping BOS matters: the first real token is then scored too (DESIGN.md). `source`
    names the records' file in the message when the tokenizer cannot encode one.
    """
    # In chunks: an Encoding also holds token strings, offsets and masks (hundreds of
    # bytes per token), so encoding a whole large cohort at once costs far more memory
    # than the ids kept. Each chunk is still encoded in parallel by the library.
    pieces: list[PackedIds] = []
    for start in range(0, len(sequences), _ENCODE_CHUNK):
        chunk = sequences[start:start + _ENCODE_CHUNK]
        try:
            encodings = tokenizer.encode_batch(chunk, add_special_tokens=True)
        except Exception:  # the library raises a bare Exception; its text is not shown
            raise _unencodable(tokenizer, chunk, start, source) from None
        pieces.append(PackedIds.pack(e.ids for e in encodings))
        del encodings
    return PackedIds.join(pieces)


def token_events_of(tokenizer: Tokenizer, cohort: Cohort) -> list[EventFeatures] | None:
    """The cohort's per-word event features (MEDS) aligned with the tokens `encode_all`
    gives, through each encoding's word ids; None for a cohort without event features."""
    if cohort.events is None:
        return None
    aligned: list[EventFeatures] = []
    sequences = list(cohort.sequences)
    for start in range(0, len(sequences), _ENCODE_CHUNK):
        encodings = tokenizer.encode_batch(sequences[start:start + _ENCODE_CHUNK], add_special_tokens=True)
        for offset, encoding in enumerate(encodings):
            aligned.append(align_to_tokens(cohort.events[start + offset], encoding.word_ids))
        del encodings
    return aligned


def _unencodable(tokenizer: Tokenizer, chunk: list[str], start: int, source: str) -> DataError:
    """Which record the tokenizer could not encode. A vocabulary without an unknown token
    (a WordLevel or WordPiece `unk_token` missing from its vocab) cannot encode a code it
    lacks. Such a tokenizer is accepted (it is sound for records it covers, and byte-level
    tokenizers never need one); the record it cannot encode is refused by number, the
    code itself never named."""
    first = start
    for offset, sequence in enumerate(chunk):
        try:
            tokenizer.encode(sequence, add_special_tokens=True)
        except Exception:
            first = start + offset
            break
    unk = getattr(tokenizer.model, "unk_token", None)
    lacks = (f"its vocabulary has no unknown token ('{unk}' is named but missing)"
             if isinstance(unk, str) and tokenizer.token_to_id(unk) is None
             else "it has no unknown token to stand for what its vocabulary lacks")
    return DataError(f"{source}: record {first + 1} holds a code or word that the model's "
                     f"{TOKENIZER_FILE} cannot encode: {lacks}. Use the code vocabulary the model "
                     "was trained on, or export the tokenizer with an unknown token")


def unknown_token_id(tokenizer: Tokenizer) -> int | None:
    for name in ("[UNK]", "<unk>", "<|unk|>", "UNK"):
        token_id = tokenizer.token_to_id(name)
        if token_id is not None:
            return token_id
    return None


def pad_token_id(tokenizer: Tokenizer) -> int:
    for name in ("[PAD]", "<pad>", "<|pad|>", "<|endoftext|>", "</s>"):
        token_id = tokenizer.token_to_id(name)
        if token_id is not None:
            return token_id
    return 0  # right padding is masked (or causally invisible), so any id is safe
