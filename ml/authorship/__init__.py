"""Authorship (docs/methods.md §authorship, the hacked AP tweet): does a post fit the account it was posted from?

Pure analysis, no Django: posts in (account, text, time[, post_id, is_retweet]), plain data out.
"""
from .config import CHARS, METHODS, SEED, SEED_RBF, AuthorshipConfig, AuthorshipError
from .data import AccountSet, account_set, own_posts, posts_frame, topic_words
from .evaluate import curve, evaluate
from .investigation import InvestigationConfig, investigation_pass
from .model import AuthorshipModel
from .report import authorship_report
from .score import out_of_fold_probability, rank_posts, score_texts
from .text import make_vectorizer, stem, stem_analyzer, tokenize

__all__ = [
    "CHARS", "METHODS", "SEED", "SEED_RBF", "AccountSet", "AuthorshipConfig", "AuthorshipError", "AuthorshipModel",
    "InvestigationConfig", "investigation_pass",
    "account_set", "authorship_report", "curve", "evaluate", "make_vectorizer", "out_of_fold_probability",
    "own_posts", "posts_frame", "rank_posts", "score_texts", "stem", "stem_analyzer", "tokenize", "topic_words",
]
