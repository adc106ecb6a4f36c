"""Spread (docs/methods.md §spread, paper §4.2, §5.2): propagation cascades and their metrics, the retweet and hashtag
co-occurrence networks, communities (Louvain; InfoMap when installed), layouts, virality timelines.

Pure networkx/numpy/pandas; no Django. A job calls ``propagation_report`` or ``network_report`` with
an ``on_progress(fraction, stage)`` callback and stores the JSON they return."""
from .bursts import BurstConfig, band, flag_bursts, timeline
from .cascades import Cascade, CascadeConfig, build_cascades, cascade_metrics, structural_virality, tree_positions
from .charts import cascade_figure, cascade_time_axes, distribution_figure, log_time, summary_by_label, timeline_figure
from .communities import INFOMAP_MISSING, METHODS, InfomapUnavailable, detect, infomap, infomap_available, louvain
from .layout import LayoutConfig, fruchterman_reingold, layout
from .networks import HashtagConfig, giant_component, hashtag_network, retweet_network, strongest_edges
from .pipeline import network_report, propagation_report

__all__ = [
    "BurstConfig",
    "band",
    "flag_bursts",
    "timeline",
    "Cascade",
    "CascadeConfig",
    "build_cascades",
    "cascade_metrics",
    "structural_virality",
    "tree_positions",
    "cascade_figure",
    "cascade_time_axes",
    "distribution_figure",
    "log_time",
    "summary_by_label",
    "timeline_figure",
    "INFOMAP_MISSING",
    "METHODS",
    "InfomapUnavailable",
    "detect",
    "infomap",
    "infomap_available",
    "louvain",
    "LayoutConfig",
    "fruchterman_reingold",
    "layout",
    "HashtagConfig",
    "giant_component",
    "hashtag_network",
    "retweet_network",
    "strongest_edges",
    "network_report",
    "propagation_report",
]
