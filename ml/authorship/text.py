"""Turning posts into vectors: the seed's Porter-stemmed word presence, or character n-grams."""
from __future__ import annotations

import re
from functools import lru_cache

import numpy as np
from nltk.stem.porter import PorterStemmer
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer

from .config import AuthorshipConfig

URL = re.compile(r"https?://\S+|www\.\S+", re.IGNORECASE)
URL_MARK = "_url_"
# Hashtags and mentions stay whole: "#maga" and "@ap" say more about an author than "maga" does.
TOKEN = re.compile(r"[#@]?\w+(?:'\w+)?")
# The seed used the classic algorithm (Centivus.EnglishStemmer); NLTK's default adds its own extensions.
_STEMMER = PorterStemmer(PorterStemmer.ORIGINAL_ALGORITHM)


def normalise(text: str) -> str:
    """Lower-case with links collapsed to one mark, the key the seed de-duplicated on."""
    return " ".join(URL.sub(URL_MARK, text.lower()).split())


def tokenize(text: str) -> list[str]:
    return TOKEN.findall(normalise(text))


@lru_cache(maxsize=200_000)
def stem(token: str) -> str:
    if not token.isalpha():  # hashtags, mentions, numbers and the link mark are kept as written
        return token
    return _STEMMER.stem(token)


def stem_analyzer(text: str) -> list[str]:
    """The seed's tokens: lower-cased words reduced to their Porter stems."""
    return [stem(token) for token in tokenize(text)]


def char_preprocessor(text: str) -> str:
    # Case is kept on purpose: the seed noted "Breaking" where AP writes "BREAKING".
    return " ".join(URL.sub(URL_MARK, text).split())


def make_vectorizer(config: AuthorshipConfig):
    """A fresh, unfitted vectoriser; its vocabulary comes from whatever it is fitted on."""
    binary = config.weighting == "binary"
    if config.features == "words":
        cls = CountVectorizer if binary else TfidfVectorizer
        return cls(analyzer=stem_analyzer, binary=True, min_df=config.min_df, dtype=np.float64)
    if config.features == "chars":
        cls = CountVectorizer if binary else TfidfVectorizer
        options = {} if binary else {"sublinear_tf": True}
        return cls(analyzer="char_wb", ngram_range=tuple(config.char_ngrams), preprocessor=char_preprocessor,
                   lowercase=False, binary=binary, min_df=config.min_df, dtype=np.float64, **options)
    raise ValueError(f"unknown features {config.features!r}: use 'words' or 'chars'")
