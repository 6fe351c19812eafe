"""A tiny word-level tokenizer for the clinical-notes control, saved as `tokenizer.json`.

Same conventions as the code tokenizer (`tokenizer.py`): `[PAD] [UNK] [BOS] [EOS]` at ids
0..3, whitespace pre-tokenizer, `[BOS] $A [EOS]` template, right padding, and a decoder
that joins tokens with single spaces. The vocabulary is every whitespace token of the
training texts, ordered by frequency then spelling so the same texts give the same ids;
a word the training texts never had becomes `[UNK]` (a non-member's name, for example).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from tokenizers import (
    AddedToken,
    Tokenizer,
    decoders,
    models,
    pre_tokenizers,
    processors,
)

from audit_core.tools.controls.vocabulary import BOS, EOS, PAD, SPECIAL_TOKENS, UNK


def build_text_tokenizer(texts: Iterable[str], extra_words: Iterable[str] = ()) -> Tokenizer:
    counts = Counter(word for text in texts for word in text.split())
    counts.update({word: 0 for word in extra_words if word not in counts})
    words = sorted(counts, key=lambda w: (-counts[w], w))
    token_to_id = {token: i for i, token in enumerate(SPECIAL_TOKENS)}
    for word in words:
        token_to_id.setdefault(word, len(token_to_id))
    tokenizer = Tokenizer(models.WordLevel(vocab=token_to_id, unk_token=UNK))
    tokenizer.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{BOS} $A {EOS}",
        special_tokens=[(BOS, token_to_id[BOS]), (EOS, token_to_id[EOS])])
    tokenizer.decoder = decoders.WordPiece(prefix="##", cleanup=False)  # join with spaces
    tokenizer.add_special_tokens([AddedToken(t, special=True) for t in SPECIAL_TOKENS])
    tokenizer.enable_padding(direction="right", pad_id=token_to_id[PAD], pad_token=PAD)
    return tokenizer
