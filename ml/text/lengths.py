"""How many tokens a classifier reads per post: ``max_length`` picked from the training posts and the model's own
tokenizer (64, or 128 where enough posts are longer). The cost of 128: docs/quality.md §max_length 64 against 128."""
from __future__ import annotations

import numpy as np

SHORT, LONG = 64, 128
# 128 only when more than a tenth of the posts are longer than 64 tokens. Batches are padded to their longest post,
# so 128 costs nearly in full long before most posts need it: at 10 % long posts, 1 − 0.9¹⁶ ≈ 81 % of batches of 16
# hold one. Below a tenth, 64 cuts the tails of few posts; above it, the model loses text on a real share of them.
LONG_SHARE = 0.10
CHUNK = 1_000  # posts tokenized at once: only their lengths are kept, so a million posts never sit as ids


def directory_tokenizer(directory):
    """The tokenizer saved in a local model directory (config.json inside), without loading the weights."""
    from transformers import AutoTokenizer

    from .config import TextModelError
    from .models import check_model_directory

    path = check_model_directory(directory)
    try:
        return AutoTokenizer.from_pretrained(str(path), local_files_only=True)
    except (OSError, ValueError, KeyError) as error:
        raise TextModelError(f"{str(path)!r} holds no usable tokenizer: {error}") from error


def token_lengths(texts, tokenizer, *, cap: int, extra_tokens: int | None = None) -> np.ndarray:
    """Each text's token count as the model reads it, counted up to ``cap`` (a longer post counts ``cap``).
    ``extra_tokens`` None: with the tokenizer's own special tokens (an encoder's [CLS] and [SEP]); a number: the
    text's tokens plus that many (GPT2Classifier adds [BOS] and [CLS] itself: 2)."""
    specials = extra_tokens is None
    limit = cap if specials else max(cap - extra_tokens, 1)
    lengths = []
    texts = list(texts)
    for start in range(0, len(texts), CHUNK):
        ids = tokenizer(texts[start:start + CHUNK], add_special_tokens=specials, truncation=True,
                        max_length=limit)["input_ids"]
        lengths += [len(row) for row in ids]
    return np.asarray(lengths, dtype=int) + (0 if specials else extra_tokens)


def choose_max_length(texts, tokenizer, *, extra_tokens: int | None = None, share: float = LONG_SHARE) -> dict:
    """``max_length`` for these posts: LONG (128) when more than ``share`` of them are longer than SHORT (64) tokens,
    else SHORT. Returns {"max_length", "auto": True, "posts", "longer_share" (past 64), "beyond_long_share" (past
    128: cut even so), "share" (the rule's), "reason" (one sentence for the pages)}."""
    lengths = token_lengths(texts, tokenizer, cap=LONG + 1, extra_tokens=extra_tokens)
    longer = float((lengths > SHORT).mean()) if len(lengths) else 0.0
    beyond = float((lengths > LONG).mean()) if len(lengths) else 0.0
    chosen = LONG if longer > share else SHORT
    if not len(lengths):
        reason = f"auto: no posts to measure, so {SHORT}"
    else:
        reason = f"auto: {_percent(longer)} of the posts are longer than {SHORT} tokens"
        if chosen == SHORT:
            reason += f" ({LONG} from more than {_percent(share)})"
        elif beyond:
            reason += f"; {_percent(beyond)} are cut at {LONG} even so"
    return {"max_length": chosen, "auto": True, "posts": len(lengths), "longer_share": longer,
            "beyond_long_share": beyond, "share": share, "reason": reason}


def _percent(x: float) -> str:
    """23 %; to a tenth of a percent under 20 %, so 10.4 % never reads as the rule's 10 %."""
    return f"{round(100 * x, 1):g} %" if x < 0.2 else f"{100 * x:.0f} %"
