"""Before and after an event (docs/methods.md §influence model, paper §5.4): both networks, the change of mean
coordination per type."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from .activity import to_seconds
from .influence import InfluenceConfig, filter_events, influence_network, select_accounts
from .network import analyse_network, layout


def _mean_weight(edges: pd.DataFrame) -> float | None:
    return float(edges["weight"].mean()) if len(edges) else None


def before_after(events: pd.DataFrame, split, config: InfluenceConfig = InfluenceConfig(), *,
                 seed: int = 0, on_progress=None) -> dict:
    """Split at `split` (datetime or unix seconds); one account set and one layout for both halves.

    The accounts are chosen on the whole period so a change in the network is a change in
    behaviour, not in who was counted; the layout is computed on the union of both networks so
    the two pictures can sit side by side with every account in the same place."""
    report = on_progress or (lambda fraction, stage: None)
    events = filter_events(events, config)
    accounts = select_accounts(events, config)
    at = float(to_seconds(pd.Series([split]))[0])
    seconds = to_seconds(events["time"])
    halves = {}
    for step, (name, mask) in enumerate((("before", seconds < at), ("after", seconds >= at))):
        halves[name] = influence_network(events[mask], replace(config, start=None, end=None), accounts=accounts)
        report(0.4 * (step + 1), name)
    union = pd.concat([halves["before"].edges, halves["after"].edges])
    positions = layout(union, nodes=accounts, seed=seed)
    types = sorted(set(halves["before"].type_edges) | set(halves["after"].type_edges))
    change = {}
    for t in ["all", *types]:
        def pick(r):
            return r.edges if t == "all" else r.type_edges.get(t, r.edges.iloc[:0])

        b, a = _mean_weight(pick(halves["before"])), _mean_weight(pick(halves["after"]))
        change[t] = {
            "before": b,
            "after": a,
            "ratio": (a / b) if a is not None and b else None,
            "edges_before": len(pick(halves["before"])),
            "edges_after": len(pick(halves["after"])),
        }
    out = {"split": at, "change": change}
    for name, result in halves.items():
        summary = analyse_network(result.edges, seed=seed, positions=positions)
        out[name] = {**summary, "edges": edge_records(result.edges), "counts": result.counts}
    report(1.0, "done")
    return out


def edge_records(edges: pd.DataFrame) -> list:
    """Edges as JSON-ready dicts (NaN -> None, NumPy scalars -> Python's), built a column at a time: at 100,000
    edges `DataFrame.to_dict("records")` and a per-value check took seconds a network."""
    frame = edges.drop(columns=[c for c in ("i", "j") if c in edges.columns])
    columns = []
    for name in frame.columns:
        column = frame[name]
        values = column.tolist()  # Python scalars, except in object columns
        if column.dtype == object and not all(type(v) in _PLAIN for v in values):
            values = [v.item() if isinstance(v, np.generic) else v for v in values]
        for at in np.flatnonzero(column.isna().to_numpy()):
            values[at] = None
        columns.append(values)
    names = list(frame.columns)
    return [dict(zip(names, row)) for row in zip(*columns)]


_PLAIN = frozenset((str, int, float, bool, type(None)))
