"""The embedding map (docs/methods.md): posts or accounts as points in 2-D, near when their texts are alike.

Post vectors are mean-pooled from an encoder (the bundled MiniLM-L6, or a stored text model's directory);
an account's vector is the mean of its posts' (or a vector made elsewhere, e.g. a behaviour model's, kept with
``pack_vectors``); openTSNE (PCA initialisation, FFT gradients) projects them.
Pure numpy/torch/openTSNE, no Django; torch, transformers and openTSNE are imported where they are used.
"""
from .config import UNITS, EmbeddingError, EncoderConfig, MapConfig
from .encoder import PostEncoder, bundled_directory, load_encoder
from .pipeline import build_map, map_vectors
from .points import account_means, knn_accuracy, knn_preservation, sample_indices, sample_per_group
from .stored import VECTOR_KINDS, pack_account_embeddings, pack_vectors, unpack_vectors
from .tsne import MIN_POINTS, Projection, effective_perplexity, project

__all__ = [
    "MIN_POINTS",
    "UNITS",
    "VECTOR_KINDS",
    "EmbeddingError",
    "EncoderConfig",
    "MapConfig",
    "PostEncoder",
    "Projection",
    "account_means",
    "build_map",
    "bundled_directory",
    "effective_perplexity",
    "knn_accuracy",
    "knn_preservation",
    "load_encoder",
    "map_vectors",
    "pack_account_embeddings",
    "pack_vectors",
    "project",
    "sample_indices",
    "sample_per_group",
    "unpack_vectors",
]
