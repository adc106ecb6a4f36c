"""Text models for information operations (docs/methods.md §language models, §spread), pure ML, no Django.

Classifiers in the scikit-learn shape (`fit(texts, labels, groups)` → self, then `probabilities`,
`score_accounts`, `attention`, `save`/`load`; `fit` also fits a temperature and the threshold on its validation
split: `calibration`), per-collection language models with the cross-perplexity
matrix and attribution, held-out metrics, and Plotly figures as dicts. torch and transformers are
imported inside the functions that need them, so importing this package is cheap.
"""
from .attention import head_view_html, model_view_html
from .classifier import SCORING_MODES, EncoderClassifier, GPT2Classifier
from .config import CPU, SEED_004, TINY_GPT2, ClassifierConfig, LMConfig, TextModelError, TinyGPT2, TrainConfig
from .data import check_labels, split_indices, split_summary
from .lengths import choose_max_length
from .lm import CollectionLM, attribute, cross_perplexity
from .metrics import classification_metrics
from .models import bundled_encoder_directory, check_model_directory, save_tiny_bert
from .scoring import aggregate_by_account, score_distinct, score_sorted
from .storage import read_manifest
from .trainer import Trainer
from .vocab import train_bpe_tokenizer, train_wordpiece_tokenizer

__all__ = [
    "CPU",
    "SEED_004",
    "TINY_GPT2",
    "ClassifierConfig",
    "CollectionLM",
    "EncoderClassifier",
    "GPT2Classifier",
    "LMConfig",
    "TextModelError",
    "TinyGPT2",
    "TrainConfig",
    "Trainer",
    "aggregate_by_account",
    "attribute",
    "bundled_encoder_directory",
    "check_labels",
    "check_model_directory",
    "choose_max_length",
    "classification_metrics",
    "cross_perplexity",
    "head_view_html",
    "load_text_model",
    "model_view_html",
    "read_manifest",
    "save_tiny_bert",
    "score_sorted",
    "score_distinct",
    "SCORING_MODES",
    "split_indices",
    "split_summary",
    "train_bpe_tokenizer",
    "train_wordpiece_tokenizer",
]


def load_text_model(directory):
    """Whatever `save()` wrote in `directory`: an EncoderClassifier, GPT2Classifier or CollectionLM."""
    kinds = {cls.kind: cls for cls in (EncoderClassifier, GPT2Classifier, CollectionLM)}
    manifest = read_manifest(directory)
    if manifest.get("kind") not in kinds:
        raise TextModelError(f"{str(directory)!r} holds an unknown kind of text model: {manifest.get('kind')!r}")
    return kinds[manifest["kind"]].load(directory)
