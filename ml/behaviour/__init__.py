"""Behaviour: what an account does over time, as TIES reads it (seed 003), pure ML, no Django.

``sequences`` turns interaction columns into per-account sequences (most recent ``MAX_STEPS``, padded, masked);
``graph`` embeds accounts, posts, hashtags, domains... with PyTorch-BigGraph's margin ranking objective;
``model`` is TIES (CNN, bidirectional LSTM or DeepSet encoder, attention pooling, a head); ``pipeline`` runs them
in order on account labels. torch is imported inside the functions that need it, so importing this is cheap.
"""
from .config import (
    ACTIONS,
    ENCODERS,
    MAX_STEPS,
    MIN_PER_CLASS,
    MISC_FEATURES,
    BehaviourError,
    GraphConfig,
    TiesConfig,
)
from .graph import GraphEmbedder, graph_edges
from .model import TiesClassifier
from .pipeline import account_splits, label_array, pr_figure, ranking_metrics, train_behaviour
from .sequences import EntityVocab, Sequences, build_sequences, interaction_frame
from .simulated import archive_interactions

__all__ = [
    "ACTIONS", "ENCODERS", "MAX_STEPS", "MIN_PER_CLASS", "MISC_FEATURES", "BehaviourError", "EntityVocab",
    "GraphConfig", "GraphEmbedder", "Sequences", "TiesClassifier", "TiesConfig", "account_splits",
    "archive_interactions", "build_sequences", "graph_edges", "interaction_frame", "label_array", "pr_figure",
    "ranking_metrics", "train_behaviour",
]
