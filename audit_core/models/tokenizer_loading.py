"""Loading a Hugging Face `tokenizer.json` from the model folder, and nothing else.

The `tokenizers` library reads the file directly: no hub, no network, no Python code
from the folder is executed.
"""

from __future__ import annotations

from pathlib import Path

from tokenizers import Tokenizer

from audit_core.errors import ModelError
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


def encode_all(tokenizer: Tokenizer, sequences: list[str]) -> PackedIds:
    """Token ids per sequence, with the special tokens the post-processor adds (BOS/EOS).

    Keeping BOS matters: the first real token is then scored too (DESIGN.md).
    """
    # In chunks: an Encoding also holds token strings, offsets and masks (hundreds of
    # bytes per token), so encoding a whole large cohort at once costs far more memory
    # than the ids kept. Each chunk is still encoded in parallel by the library.
    pieces: list[PackedIds] = []
    for start in range(0, len(sequences), _ENCODE_CHUNK):
        encodings = tokenizer.encode_batch(sequences[start:start + _ENCODE_CHUNK],
                                           add_special_tokens=True)
        pieces.append(PackedIds.pack(e.ids for e in encodings))
        del encodings
    return PackedIds.join(pieces)


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
