"""One call per job: events in, JSON-serialisable results out, progress through on_progress(fraction, stage)."""
from __future__ import annotations

import pandas as pd

from .charts import sweep_figure
from .coaction import CoactionConfig, coaction_network
from .compare import edge_records
from .influence import InfluenceConfig, influence_network
from .network import analyse_network


def _scaled(on_progress, low: float, high: float):
    report = on_progress or (lambda fraction, stage: None)
    return lambda fraction, stage: report(low + (high - low) * fraction, stage)


def influence_report(events: pd.DataFrame, config: InfluenceConfig = InfluenceConfig(), *,
                     on_progress=None, seed: int = 0, dask_threshold: int | None = None, dask_client=None) -> dict:
    """{"nodes", "edges", "communities", "top_influencer", "counts", "type_edges", "rule", "engine"} for a job; past
    `dask_threshold` events the compiled pair pass runs on a Dask cluster (`influence_network`'s arguments)."""
    result = influence_network(events, config, _scaled(on_progress, 0.0, 0.8), dask_threshold=dask_threshold,
                               dask_client=dask_client)
    summary = analyse_network(result.edges, events=events, seed=seed)
    _scaled(on_progress, 0.0, 1.0)(1.0, "done")
    return {**summary, "edges": edge_records(result.edges), "counts": result.counts, "rule": result.rule,
            "type_edges": {t: edge_records(e) for t, e in result.type_edges.items()}, "engine": result.engine}


def coaction_report(posts: pd.DataFrame, config: CoactionConfig = CoactionConfig(), *,
                    on_progress=None, seed: int = 0, dask_threshold: int | None = None, dask_client=None) -> dict:
    """{"nodes", "edges", "communities", "top_influencer", "counts", "type_edges", "type_counts" (per action),
    "sweep", "sweep_figure", "engine"}. Past `dask_threshold` rows the pairs are tallied on a Dask cluster
    (`coaction_network`'s arguments); "engine" says where ("local" or "dask")."""
    result = coaction_network(posts, config, _scaled(on_progress, 0.0, 0.8), dask_threshold=dask_threshold,
                              dask_client=dask_client)
    # Accounts that co-act in one action only still need a place on the page's per-action views.
    own = [e[c] for e in result.action_edges.values() for c in ("source", "target")]
    nodes = pd.unique(pd.concat(own, ignore_index=True)) if own else None
    summary = analyse_network(result.edges, nodes=nodes, seed=seed)
    _scaled(on_progress, 0.0, 1.0)(1.0, "done")
    sweep = result.sweep
    return {
        **summary,
        "edges": edge_records(result.edges),
        "counts": result.counts,
        "type_edges": {a: edge_records(e) for a, e in result.action_edges.items()},
        "type_counts": result.action_counts,
        "sweep": sweep.to_dict("records"),
        "sweep_figure": sweep_figure(sweep),
        "engine": result.engine,
    }
