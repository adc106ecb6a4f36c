"""The classifier's max_length picked from the training posts (ml.text.lengths): 64 for posts that fit, 128 where
more than a tenth are longer than 64 tokens, counted with the bundled MiniLM's own tokenizer (no download)."""
from __future__ import annotations

import pytest

from ml.text import bundled_encoder_directory, choose_max_length, train_bpe_tokenizer
from ml.text.lengths import LONG_SHARE, directory_tokenizer, token_lengths

SHORT_POSTS = [
    "Polls close at 8pm tonight, don't forget to vote!",
    "The new bridge opens to traffic on Monday.",
    "Health officials say the vaccine is safe for children over five.",
    "Rain expected across the north this weekend.",
]
# A thread-length post: about a hundred MiniLM tokens, past 64 and within 128.
LONG_POST = (
    "BREAKING: officials in three counties have now confirmed that the ballots counted after midnight were "
    "delivered by the same courier company, which has refused to answer questions from reporters. Local "
    "volunteers say they were told to leave the counting room at 11pm and were not allowed back in until the "
    "morning. Share this before it gets taken down, the mainstream media will not report it, and ask your "
    "representative what they knew and when they knew it."
)


@pytest.fixture(scope="module")
def minilm():
    return directory_tokenizer(bundled_encoder_directory())


def test_it_counts_tokens_as_the_encoder_reads_them(minilm):
    # [CLS] polls close ... [SEP]: the tokenizer's own special tokens count, as they do against max_length.
    counted = token_lengths(SHORT_POSTS[:1], minilm, cap=129)
    assert counted.tolist() == [len(minilm(SHORT_POSTS[0])["input_ids"])]
    assert 64 < token_lengths([LONG_POST], minilm, cap=129)[0] <= 128
    assert token_lengths([LONG_POST * 3], minilm, cap=129).tolist() == [129]  # past the cap, counted as the cap


def test_short_posts_keep_64(minilm):
    choice = choose_max_length(SHORT_POSTS * 5, minilm)
    assert choice == {"max_length": 64, "auto": True, "posts": 20, "longer_share": 0.0, "beyond_long_share": 0.0,
                      "share": LONG_SHARE,
                      "reason": "auto: 0 % of the posts are longer than 64 tokens (128 from more than 10 %)"}


def test_long_posts_get_128(minilm):
    choice = choose_max_length([LONG_POST] * 3 + SHORT_POSTS, minilm)
    assert choice["max_length"] == 128 and choice["longer_share"] == pytest.approx(3 / 7)
    assert choice["reason"] == "auto: 43 % of the posts are longer than 64 tokens"


def test_a_tenth_exactly_is_not_more_than_a_tenth(minilm):
    one_in_ten = [LONG_POST] + (SHORT_POSTS * 3)[:9]
    assert choose_max_length(one_in_ten, minilm)["max_length"] == 64
    two_in_ten = [LONG_POST] * 2 + (SHORT_POSTS * 2)[:8]
    choice = choose_max_length(two_in_ten, minilm)
    assert choice["max_length"] == 128 and choice["reason"] == "auto: 20 % of the posts are longer than 64 tokens"
    eleven = choose_max_length([LONG_POST] * 11 + (SHORT_POSTS * 25)[:89], minilm)
    assert eleven["max_length"] == 128 and eleven["reason"] == "auto: 11 % of the posts are longer than 64 tokens"


def test_it_says_how_many_posts_128_still_cuts(minilm):
    choice = choose_max_length([LONG_POST * 3, LONG_POST] + SHORT_POSTS * 2, minilm)
    assert (choice["max_length"], choice["beyond_long_share"]) == (128, 0.1)
    assert choice["reason"] == "auto: 20 % of the posts are longer than 64 tokens; 10 % are cut at 128 even so"


def test_no_posts_keep_64(minilm):
    assert choose_max_length([], minilm)["max_length"] == 64


def test_gpt2_counts_the_tokens_its_classifier_adds():
    # GPT2Classifier reads [BOS] text [CLS]: its BPE adds neither, the classifier adds both.
    bpe = train_bpe_tokenizer(SHORT_POSTS + [LONG_POST], 300)
    body = len(bpe(SHORT_POSTS[0], add_special_tokens=False)["input_ids"])
    assert token_lengths(SHORT_POSTS[:1], bpe, cap=129, extra_tokens=2).tolist() == [body + 2]
    assert token_lengths([LONG_POST * 3], bpe, cap=129, extra_tokens=2).tolist() == [129]
