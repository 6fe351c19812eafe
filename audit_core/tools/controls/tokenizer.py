"""WordLevel tokenizer of the code language, saved as a single `tokenizer.json`.

The audit loads only `tokenizer.json` with the `tokenizers` library (no transformers at
audit time), so everything a faithful encode needs lives in that one file: the
whitespace pre-tokenizer, the `[BOS] $A [EOS]` template (the scoring convention keeps
BOS and scores every token after it), right padding with `[PAD]`, and a decoder that
joins tokens with single spaces so `decode(encode(text))` gives the text back.
"""

from __future__ import annotations

from pathlib import Path

from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, processors

from audit_core.tools.controls.vocabulary import BOS, EOS, PAD, SPECIAL_TOKENS, UNK, build_vocabulary

TOKENIZER_FILENAME = "tokenizer.json"


def build_tokenizer() -> Tokenizer:
    """The tokenizer over `build_vocabulary()`: ids are vocabulary positions."""
    token_to_id = build_vocabulary().token_to_id()
    tokenizer = Tokenizer(models.WordLevel(vocab=token_to_id, unk_token=UNK))
    tokenizer.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{BOS} $A {EOS}",
        special_tokens=[(BOS, token_to_id[BOS]), (EOS, token_to_id[EOS])],
    )
    # WordPiece's decoder puts a space between tokens that do not start with the prefix;
    # no token here starts with "##", and cleanup=False keeps "E11.9" from being touched
    # by its English punctuation clean-up.
    tokenizer.decoder = decoders.WordPiece(prefix="##", cleanup=False)
    # Marking them special (they already have ids 0..3) lets decode skip them and keeps
    # the pre-tokenizer from ever splitting them.
    tokenizer.add_special_tokens([AddedToken(t, special=True) for t in SPECIAL_TOKENS])
    tokenizer.enable_padding(direction="right", pad_id=token_to_id[PAD], pad_token=PAD)
    return tokenizer


def save_tokenizer(tokenizer: Tokenizer, folder: str | Path) -> Path:
    """Write `folder/tokenizer.json` (creating the folder) and return its path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / TOKENIZER_FILENAME
    tokenizer.save(str(path), pretty=True)
    return path
