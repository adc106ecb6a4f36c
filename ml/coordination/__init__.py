"""Coordination analysis (docs/methods.md §influence model): influence-model and co-action networks,
significance-tested.

Pure numpy/scipy/pandas; no Django. A job calls `influence_report` or `coaction_report` with an
`on_progress(fraction, stage)` callback and stores the JSON they return."""
from .activity import build_activity, events_from_posts, normalise_url
from .charts import sweep_figure
from .coaction import (
    CoactionConfig,
    CoactionResult,
    coaction_network,
    coaction_pairs,
    directed_weights,
    near_duplicate_clusters,
)
from .compare import before_after, edge_records
from .evidence import coaction_evidence, edge_evidence
from .influence import InfluenceConfig, InfluenceCoordination, InfluenceResult, influence_network, pair_measure
from .model import InfluenceModel, InfluenceModelConfig, influence_matrix, network_matrix, transition_matrices
from .network import analyse_network, layout, strongest_partners
from .pipeline import coaction_report, influence_report

__all__ = [
    "build_activity",
    "events_from_posts",
    "normalise_url",
    "sweep_figure",
    "CoactionConfig",
    "CoactionResult",
    "coaction_network",
    "coaction_pairs",
    "directed_weights",
    "near_duplicate_clusters",
    "before_after",
    "edge_records",
    "coaction_evidence",
    "edge_evidence",
    "InfluenceConfig",
    "InfluenceCoordination",
    "InfluenceResult",
    "influence_network",
    "pair_measure",
    "InfluenceModel",
    "InfluenceModelConfig",
    "influence_matrix",
    "network_matrix",
    "transition_matrices",
    "analyse_network",
    "layout",
    "strongest_partners",
    "coaction_report",
    "influence_report",
]
