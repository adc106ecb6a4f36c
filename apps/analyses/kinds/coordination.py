"""Coordination by the influence model (Erhardt and Pentland, 2023; docs/methods.md): who follows whom on the
same entities.

Inputs: the collection's Interaction rows with an entity target (hashtag, url, domain, mention,
image), read as tuples in batches into the events table of ``ml.coordination`` (at most
``EVENTS_CAP`` events, the latest; at most ``ACCOUNTS_CAP`` accounts, the most active). The row
stores the drawn network trimmed to the strongest edges (see ``network.py``) plus the time grid's
origin, so an edge's evidence is recomputed in the request from the two accounts' own rows
(``evidence``): a bounded query, and nothing per edge is stored.
"""

from __future__ import annotations

from datetime import datetime, timezone

from django.db.models import Max, Min

from apps.analyses.kinds import network
from apps.analyses.kinds.base import CHOICE, DATE, FLOAT, INT, LIST, Param, config_or_errors
from apps.analyses.selectors import ENTITY_ACTIONS, EVENTS_CAP, PAIR_EVENTS_CAP, coordination_events, posts_described
from apps.collections.models import Post
from apps.jobs.services import JobError

ACCOUNTS_CAP = 3_000  # pairs grow as n²: 3,000 accounts are 9 M ordered pairs, a minute or two
PAPER_TOP_K = 10  # rule "paper": each account's strongest M < 1 edges (about half of all pairs pass it)
DEFAULT_TYPES = ("hashtag", "url", "mention")
RULES = ("significant", "paper")
EVIDENCE_ROWS = 200


def config(params: dict, **extra):
    from ml.coordination import InfluenceConfig

    return InfluenceConfig(
        bin_seconds=float(params["bin_seconds"]),
        entity_types=tuple(params["entity_types"]),
        exclude_entities=tuple(params["exclude_entities"]),
        min_posts=params["min_posts"],
        rule=params["rule"],
        alpha=params["alpha"],
        paper_top_k=PAPER_TOP_K,
        **extra,
    )


def _influence_default(name: str):
    """The influence model's own default (one hour bins, alpha 0.05): the form, the API and the command show it."""
    from ml.coordination import InfluenceConfig

    return getattr(InfluenceConfig, name)


def _entities(values: list[str], errors: dict) -> list[str]:
    values = [v.lower().removeprefix("#") for v in values]
    bad = [v for v in values if v.split(":", 1)[0] not in ENTITY_ACTIONS or ":" not in v]
    if bad:
        errors["exclude_entities"] = f"Write entities as type:value (e.g. hashtag:xinjiang); not {', '.join(bad)}."
    return values


def _event_date(collection, raw, errors: dict) -> str | None:
    """An ISO date (or date-time, UTC) inside the collection's posts: both halves need data."""
    if not raw:
        return None
    when = datetime.fromisoformat(raw)
    when = when if when.tzinfo else when.replace(tzinfo=timezone.utc)
    span = Post.objects.filter(collection=collection).aggregate(first=Min("time"), last=Max("time"))
    if span["first"] is None or not span["first"] < when <= span["last"]:
        first, last = (span["first"] or when).date(), (span["last"] or when).date()
        errors["event_date"] = (
            f"event_date must fall inside the collection's posts ({first} to {last}); got {when.date()}."
        )
    return when.isoformat()


def read_events(collection, params: dict):
    """The events table, capped at the ``ACCOUNTS_CAP`` most active accounts; and what was read."""
    import pandas as pd

    events = pd.DataFrame(coordination_events(collection=collection, entity_types=params["entity_types"]))
    read = len(events)
    if read == 0:
        raise JobError(f"The collection “{collection.name}” has no {', '.join(params['entity_types'])} in its posts.")
    events["time"] = pd.to_datetime(events["time"], utc=True)
    posts = events.drop_duplicates(["account", "post_id"])["account"].value_counts()
    busiest = posts[posts >= params["min_posts"]].index[:ACCOUNTS_CAP]
    if len(busiest) < 2:
        raise JobError(
            f"Fewer than two accounts have {params['min_posts']} posts with {', '.join(params['entity_types'])}; "
            "lower min_posts or add entity types."
        )
    events = events[events["account"].isin(busiest)]
    inputs = {
        "events_read": read,
        "events_truncated": read >= EVENTS_CAP,
        "accounts": int(len(busiest)),
        "accounts_capped": int((posts >= params["min_posts"]).sum()) > ACCOUNTS_CAP,
        "events_used": int(len(events)),
    }
    return events, inputs


def _significant_first(report: dict) -> dict:
    """Under the paper rule the significant edges go first, so trimming to the strongest keeps them and the
    page's rule switch still has the significant network to show."""
    def order(edges):
        return sorted(edges, key=lambda e: (not e.get("significant"), -(e.get("weight") or 0)))

    if report["rule"] != "paper":
        return report
    return {
        **report,
        "edges": order(report["edges"]),
        "type_edges": {t: order(e) for t, e in report["type_edges"].items()},
    }


def _halves(collection, split: dict) -> dict:
    out = {"split": split["split"], "change": network.compact(split["change"])}
    for name in ("before", "after"):
        half = network.described_network(collection, split[name], edges_cap=network.TYPE_EDGES_CAP)
        out[name] = {
            k: half[k] for k in ("nodes", "edges", "edges_total", "counts", "top_influencer", "top_influencer_handle")
        }
    return out


def summary(result: dict) -> dict:
    counts = result["counts"].get("all", {})
    return {
        "accounts": len(result["nodes"]),
        "edges": result["edges_total"],
        "significant_edges": counts.get("significant"),
        "paper_edges": counts.get("paper"),
        "communities": result["communities_total"],
        "top_influencer": result["top_influencer_handle"],
        "rule": result["rule"],
    }



class Coordination(network.NetworkKind):
    name, label = "coordination", "Coordination"
    has_evidence = True
    params = (
        Param(
            "entity_types",
            LIST,
            DEFAULT_TYPES,
            "Each entity is a topic: an account following another uses the same entities in the next time bin.",
            choices=ENTITY_ACTIONS,
        ),
        Param(
            "bin_seconds",
            INT,
            lambda: int(_influence_default("bin_seconds")),
            "Time bin in seconds: the paper uses one hour; a following account must act in the next bin.",
            low=1,
            high=7 * 86400,
        ),
        Param(
            "min_posts", INT, 5, "Accounts with fewer posts carrying these entities are left out.", low=1, high=100_000
        ),
        Param(
            "rule",
            CHOICE,
            "significant",
            "Which pairs are edges.",
            choices=RULES,
            choice_labels={"significant": "significant (Poisson test, FDR)", "paper": "paper: every M < 1"},
        ),
        Param(
            "alpha",
            FLOAT,
            lambda: _influence_default("alpha"),
            "False-discovery rate of the significant edges, in (0, 1).",
            low=0.0,
            high=1.0,
            open_low=True,
            open_high=True,
        ),
        Param("exclude_entities", LIST, (), "Comma-separated, e.g. hashtag:xinjiang (the search terms)."),
        Param("event_date", DATE, None, "Optional: split the network before and after this date."),
    )

    def validate(self, collection, clean: dict, errors: dict) -> dict:
        """Entities written type:value, the event date inside the posts, then the ml config built once so its
        own checks speak as field errors."""
        clean = {
            **clean,
            "exclude_entities": _entities(clean["exclude_entities"], errors),
            "event_date": _event_date(collection, clean["event_date"], errors),
        }
        if not errors:
            config_or_errors(lambda: config(clean), errors)
        return clean

    def run(self, analysis_input, progress) -> tuple[dict, dict]:
        """1. read the events; 2. ``influence_report`` on a fixed time grid; 3. name and trim the network;
        4. with an event date, ``before_after``. An ml ValueError ends the job with its message."""
        from ml.coordination import before_after, influence_report
        from ml.coordination.activity import to_seconds

        params, collection = analysis_input.params, analysis_input.collection
        progress(0.0, "Reading the interactions", force=True)
        events, inputs = read_events(collection, params)
        grid_start = float(to_seconds(events["time"]).min())
        progress.provenance(
            inputs=[{"collection": collection.pk, "name": collection.name, **inputs}],
            model={"influence": {**params, "grid_start": grid_start}},
        )

        def scaled(low, high):
            return lambda f, stage: progress(low + (high - low) * f, stage)

        try:
            report = _significant_first(
                influence_report(
                    events,
                    config(params, start=grid_start),
                    on_progress=scaled(0.1, 0.8 if params["event_date"] else 0.95),
                )
            )
            result = {
                **network.described_network(collection, report),
                "rule": report["rule"],
                "grid_start": grid_start,
                "type_edges": {
                    t: network.compact(e[: network.TYPE_EDGES_CAP]) for t, e in report["type_edges"].items()
                },
                "type_edges_total": {t: len(e) for t, e in report["type_edges"].items()},
                "inputs": inputs,
            }
            if params["event_date"]:
                split = before_after(
                    events, datetime.fromisoformat(params["event_date"]), config(params), on_progress=scaled(0.8, 0.95)
                )
                result["before_after"] = _halves(collection, split)
        except ValueError as exc:
            raise JobError(f"The coordination analysis could not run: {exc}") from None
        return result, summary(result)

    def evidence(self, analysis, source: int, target: int) -> dict:
        """source→target: each entity both used in consecutive bins (source first), with times and lags,
        recomputed from the two accounts' interactions on the stored grid."""

        from ml.coordination import edge_evidence

        params = analysis.params
        events = network.pair_events(
            coordination_events(
                collection=analysis.collection,
                entity_types=params["entity_types"],
                account_ids=[source, target],
                cap=PAIR_EVENTS_CAP,
            )
        )
        if events is None:
            return {"rows": [], "total": 0}
        rows = edge_evidence(events, source, target, config(params), start=analysis.result.get("grid_start"))
        total = len(rows)
        rows = rows.head(EVIDENCE_ROWS)
        posts = posts_described(
            collection=analysis.collection, post_ids=set(rows["post_id_source"]) | set(rows["post_id_target"])
        )
        return {
            "total": total,
            "rows": [
                {
                    "entity": r.entity,
                    "entity_type": r.entity_type,
                    "source_time": network.iso_time(r.source_time),
                    "target_time": network.iso_time(r.target_time),
                    "lag_s": float(r.lag_s),
                    "source_post": posts.get(r.post_id_source),
                    "target_post": posts.get(r.post_id_target),
                }
                for r in rows.itertuples()
            ],
        }

    def page_context(self, analysis) -> dict:
        result = analysis.result
        split = result.get("before_after")
        return {
            "report": result,
            "top_influencers": network.top_influencers(result),
            "change_rows": [{"type": t, **c} for t, c in split["change"].items()] if split else [],
            "split_date": network.iso_time(split["split"])[:10] if split else None,
            "network_data": {
                "kind": "coordination",
                "nodes": result["nodes"],
                "edges": result["edges"],
                "paper_top_k": PAPER_TOP_K,
                "type_edges": result.get("type_edges", {}),
                "counts": result["counts"],
                "rule": result["rule"],
                "label_keys": result["label_keys"],
                "timelines": [c.get("timeline", []) for c in result["communities"]],
                "before_after": {
                    h: {"nodes": split[h]["nodes"], "edges": split[h]["edges"]} for h in ("before", "after")
                }
                if split
                else None,
            },
        }
