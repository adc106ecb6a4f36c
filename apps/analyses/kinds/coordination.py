"""Coordination by the influence model (Erhardt and Pentland, 2023; docs/methods.md): who follows whom on the
same entities.

Inputs: the collection's interactions with an entity target (hashtag, url, domain, mention, image), read
as columns from its analysis store (``apps.collections.store``) into the events table of ``ml.coordination``:
every event (the latest ``ANALYSIS_ROWS_MAX`` only where memory forces it, and the run says what it left
out), at most ``ACCOUNTS_CAP`` accounts, the most active. The row
stores the drawn network trimmed to the strongest edges (see ``network.py``) plus the time grid's
origin, so an edge's evidence is recomputed in the request from the two accounts' own rows
(``evidence``): a bounded query, and nothing per edge is stored.

Several scales (``scales``, e.g. 60,600,3600 seconds) run the influence model once per bin size on the same
events and grid. The row's top level is then the network at the suggested scale, exactly as a one-scale run
at that bin would store it (so the exports, the workspace and the summaries read it unchanged); ``scales``
lists every scale's edge counts, communities and top influencers, ``scale_networks`` holds the other scales'
networks (capped as the main one), and ``suggestion`` says which scale the page opens on and why.
"""

from __future__ import annotations

import copy
from datetime import datetime, timezone

from django.core.exceptions import ValidationError
from django.db.models import Max, Min

from apps.analyses.kinds import network
from apps.analyses.kinds.base import CHOICE, DATE, FLOAT, INT, LIST, Param, config_or_errors
from apps.analyses.selectors import (
    ENTITY_ACTIONS,
    PAIR_EVENTS_CAP,
    analysis_list,
    coordination_event_frame,
    coordination_events,
    posts_described,
)
from apps.collections.models import Post
from apps.common.ids import as_id
from apps.jobs.services import JobError

ACCOUNTS_CAP = 3_000  # pairs grow as n²: 3,000 accounts are 9 M ordered pairs, a minute or two
PAPER_TOP_K = 10  # rule "paper": each account's strongest M < 1 edges (about half of all pairs pass it)
DEFAULT_TYPES = ("hashtag", "url", "mention")
RULES = ("significant", "paper")
EVIDENCE_ROWS = 200
BIN_MAX = network.SCALE_MAX
SCALES_MAX = 6  # each scale is one influence model over every pair: a minute or two at the accounts cap
SCALE_INFLUENCERS = 5
# What each band of bin sizes catches (ml.coordination.scales.scale_band), as the page says it.
CATCHES = {
    "seconds": "Scripted or scheduled co-posting: accounts that use the same entity within seconds of each other, "
    "faster than people read and repost.",
    "minutes": "Copy-paste amplification teams: people who pick up a leader's post and repeat it within minutes.",
    "hours": "Topical co-activity that ordinary users share too: a trending hashtag or a breaking story draws "
    "many accounts within the hour, so read these edges against the residents' own.",
}


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
    posts = Post.objects.filter(collection=collection)  # one aggregate each: SQLite then reads one index entry
    span = {**posts.aggregate(first=Min("time")), **posts.aggregate(last=Max("time"))}
    if span["first"] is None or not span["first"] < when <= span["last"]:
        first, last = (span["first"] or when).date(), (span["last"] or when).date()
        errors["event_date"] = (
            f"event_date must fall inside the collection's posts ({first} to {last}); got {when.date()}."
        )
    return when.isoformat()


def read_events(collection, params: dict):
    """The events table from the collection's analysis store (every event, unless ``ANALYSIS_ROWS_MAX`` forces
    a bound, which ``inputs`` reports), kept to the ``ACCOUNTS_CAP`` most active accounts; and what was read."""
    events, bound = coordination_event_frame(collection=collection, entity_types=params["entity_types"])
    read = len(events)
    if read == 0:
        raise JobError(f"The collection “{collection.name}” has no {', '.join(params['entity_types'])} in its posts.")
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
        "events_total": bound["total"],
        "events_left_out": bound["rows_left_out"],
        "left_out_before": bound["left_out_before"],
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
    out = {
        "accounts": len(result["nodes"]),
        "edges": result["edges_total"],
        "significant_edges": counts.get("significant"),
        "paper_edges": counts.get("paper"),
        "communities": result["communities_total"],
        "top_influencer": result["top_influencer_handle"],
        "rule": result["rule"],
        "engine": result.get("engine", "local"),
    }
    left_out = result.get("inputs", {}).get("events_left_out")
    if left_out:
        out["events_left_out"] = left_out
        out["left_out_before"] = result["inputs"]["left_out_before"]
    if result.get("scales"):
        out["scale"] = result["scale"]
        out["edges_per_scale"] = {str(row["bin_seconds"]): row["edges_total"] for row in result["scales"]}
    return out


# Scales ----------------------------------------------------------------------------------------


def scale_list(params: dict) -> list[int]:
    """The bin sizes a run covers: its scales, else its one ``bin_seconds`` (rows from before scales existed)."""
    return list(params.get("scales") or []) or [params["bin_seconds"]]


def scales_run(analysis) -> list[int]:
    """The bin sizes a stored run covered, shortest first."""
    return [row["bin_seconds"] for row in analysis.result.get("scales", [])] or [analysis.params.get("bin_seconds")]


def _network_at(collection, events, params: dict, bin_seconds: int, grid_start: float, on_progress) -> dict:
    """One scale's network as the row stores it: the influence report at ``bin_seconds`` on the shared grid,
    named and trimmed."""
    from ml.coordination import influence_report

    report = _significant_first(
        influence_report(
            events, config({**params, "bin_seconds": bin_seconds}, start=grid_start), on_progress=on_progress,
            **network.dask_options(),
        )
    )
    return {
        **network.described_network(collection, report),
        "rule": report["rule"],
        "engine": report["engine"],
        "grid_start": grid_start,
        "type_edges": {t: network.compact(e[: network.TYPE_EDGES_CAP]) for t, e in report["type_edges"].items()},
        "type_edges_total": {t: len(e) for t, e in report["type_edges"].items()},
    }


def _networks(collection, events, params: dict, grid_start: float, on_progress) -> dict[int, dict]:
    """Each scale's network, in order, progress shared out between them (named per scale when there are several)."""
    from ml.coordination.scales import duration_text

    scales = scale_list(params)

    def share(i: int, bin_seconds: int):
        prefix = f"{duration_text(bin_seconds)} bins ({i + 1} of {len(scales)}): " if len(scales) > 1 else ""
        return lambda f, stage: on_progress((i + f) / len(scales), prefix + stage)

    return {s: _network_at(collection, events, params, s, grid_start, share(i, s)) for i, s in enumerate(scales)}


def _with_scales(collection, events, params: dict, networks: dict[int, dict]) -> dict:
    """A multi-scale row: the suggested scale's network at the top (as a one-scale run at that bin stores it), the
    table of every scale, the other scales' networks, and the suggestion."""
    scales = list(networks)
    suggestion = suggest_scale(collection, events, params, scales)
    main = suggestion["bin_seconds"]
    shared = ("rule", "grid_start")  # the same at every scale: kept once, at the top
    return {
        **networks[main],
        "scale": main,
        "scales": [_scale_row(s, net) for s, net in networks.items()],
        "scale_networks": {
            str(s): {k: v for k, v in net.items() if k not in shared} for s, net in networks.items() if s != main
        },
        "suggestion": suggestion,
    }


def _scale_row(bin_seconds: int, net: dict) -> dict:
    """A line of the page's "edges per scale" table: counts, communities, top influencers, what the scale catches."""
    from ml.coordination.scales import duration_text, scale_band

    counts, band = net["counts"].get("all", {}), scale_band(bin_seconds)
    largest = net["communities"][0] if net["communities"] else None
    return {
        "bin_seconds": bin_seconds,
        "label": duration_text(bin_seconds),
        "band": band,
        "catches": CATCHES[band],
        "significant": counts.get("significant", 0),
        "paper": counts.get("paper", 0),
        "edges_total": net["edges_total"],
        "accounts": len(net["nodes"]),
        "communities_total": net["communities_total"],
        "largest_community": {"size": largest["size"], "make_up": largest["make_up"]} if largest else None,
        "top_influencers": [
            {"id": n["id"], "handle": n["handle"], "influence": n["influence"]}
            for n in network.top_influencers(net, SCALE_INFLUENCERS)
        ],
    }


def _latest_sweep(collection):
    """The newest co-action analysis of the collection (its window sweep), or None."""
    analyses = analysis_list(investigation=collection.investigation, kind="coaction").filter(collection=collection)
    latest = analyses.select_related(None).only("id", "result").first()
    return latest if latest is not None and latest.result.get("sweep") else None


FAST_GAP_QUANTILE = 0.1


def suggest_scale(collection, events, params: dict, scales: list[int]) -> dict:
    """The scale the page opens on, and why: {"bin_seconds" (a scale run), "label" ("1 min"), "seconds" (what was
    measured), "source" ("coaction", "gaps" or "none"), "analysis" (the co-action analysis read), "reason"}.

    1. the newest co-action analysis of the collection: its window sweep's knee (``sweep_knee``);
    2. else (none, or no knee) the fast end of the gaps between an account's use of an entity and the nearest
       use of it by another account (``entity_gaps``; their tenth percentile, ``FAST_GAP_QUANTILE``): the typical
       gap is residents' pace, and a small fast group among many residents is what the analysis is for;
    either matched to the nearest scale run (on a log scale)."""
    from ml.coordination.scales import duration_text, sweep_knee

    coaction = _latest_sweep(collection)
    knee = sweep_knee(coaction.result["sweep"]) if coaction else None
    if knee:
        suggestion = _from_sweep(coaction, knee, scales)
    else:
        lead = (
            "The co-action sweep of this collection has no clear knee"
            if coaction
            else "This collection has no co-action analysis (its window sweep would say more)"
        )
        suggestion = {**_from_gaps(events, params, scales, lead), "analysis": coaction.pk if coaction else None}
    return {**suggestion, "label": duration_text(suggestion["bin_seconds"])}


def _from_sweep(coaction, knee: dict, scales: list[int]) -> dict:
    from ml.coordination.scales import duration_text, nearest_scale

    scale = int(nearest_scale(knee["window"], scales))
    around = " and ".join(f"{n:,} at {duration_text(w)}" for w, n in (knee["before"], knee["after"]))
    return {
        "bin_seconds": scale,
        "seconds": knee["window"],
        "source": "coaction",
        "analysis": coaction.pk,
        "reason": (
            f"The co-action window sweep of this collection (analysis #{coaction.pk}) stops growing fastest at "
            f"{duration_text(knee['window'])}: {knee['edges']:,} {knee['counted']} there against {around}. "
            "Coordinated pairs are all found once the window covers their lag; chance pairs keep coming slowly "
            f"after it. The nearest scale run is {duration_text(scale)}."
        ),
    }


def _from_gaps(events, params: dict, scales: list[int], lead: str) -> dict:
    import numpy as np

    from ml.coordination.influence import filter_events
    from ml.coordination.scales import duration_text, entity_gaps, nearest_scale

    gaps = entity_gaps(filter_events(events, config(params)))
    if not len(gaps):
        return {
            "bin_seconds": scales[0],
            "seconds": None,
            "source": "none",
            "reason": f"{lead}, and no entity is used by two accounts: the page opens on the shortest scale, "
            f"{duration_text(scales[0])}.",
        }
    fast, median = float(np.quantile(gaps, FAST_GAP_QUANTILE)), float(np.median(gaps))
    scale = int(nearest_scale(fast, scales))
    return {
        "bin_seconds": scale,
        "seconds": fast,
        "source": "gaps",
        "reason": (
            f"{lead}, so the suggestion comes from the collection's inter-event times: one use in ten of an entity "
            f"follows another account's use of it within {duration_text(fast)} (the median gap is "
            f"{duration_text(median)}, over {len(gaps):,} uses). The nearest scale run is {duration_text(scale)}. "
            "The fast end, not the median: the median is the typical account's pace, residents' included, and a "
            "small fast group among many residents is what a coordination analysis looks for (see the table)."
        ),
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
            high=BIN_MAX,
        ),
        Param(
            "scales",
            LIST,
            (),
            "Several bin sizes in seconds, e.g. 60,600,3600: one influence model per scale, compared on one page "
            "(empty: bin_seconds only; one value is the same as bin_seconds).",
            item=INT,
            low=1,
            high=BIN_MAX,
            max_items=SCALES_MAX,
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
        """Entities written type:value, the event date inside the posts, the scales in order (one scale is the
        bin), then the ml config built once so its own checks speak as field errors."""
        scales = sorted(clean["scales"])
        clean = {
            **clean,
            "exclude_entities": _entities(clean["exclude_entities"], errors),
            "event_date": _event_date(collection, clean["event_date"], errors),
            "scales": scales if len(scales) > 1 else [],
            "bin_seconds": scales[0] if len(scales) == 1 else clean["bin_seconds"],
        }
        if not errors:
            config_or_errors(lambda: config(clean), errors)
        return clean

    def run(self, analysis_input, progress) -> tuple[dict, dict]:
        """1. read the events; 2. ``influence_report`` at each scale on one time grid; 3. name and trim each
        network; 4. with several scales, suggest one (``suggest_scale``) and store its network at the top;
        5. with an event date, ``before_after`` at that scale. An ml ValueError ends the job with its message."""
        from ml.coordination import before_after
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

        scales, end = scale_list(params), 0.8 if params["event_date"] else 0.95
        try:
            networks = _networks(collection, events, params, grid_start, scaled(0.1, end))
            result = {**networks[scales[0]], "inputs": inputs}
            if len(scales) > 1:
                result = {**_with_scales(collection, events, params, networks), "inputs": inputs}
            if params["event_date"]:
                split = before_after(
                    events,
                    datetime.fromisoformat(params["event_date"]),
                    config({**params, "bin_seconds": result.get("scale", scales[0])}),
                    on_progress=scaled(0.8, 0.95),
                )
                result["before_after"] = _halves(collection, split)
        except ValueError as exc:
            raise JobError(f"The coordination analysis could not run: {exc}") from None
        return result, summary(result)

    def at_scale(self, analysis, scale: int | None):
        """The analysis as seen at ``scale`` (seconds): itself at its main scale (or with no scale asked), else an
        unsaved copy whose result is that scale's network (no before/after split: that runs at the main scale
        only). A ValidationError naming ``scale`` for a scale the run did not cover."""
        result = analysis.result
        main = result.get("scale", analysis.params.get("bin_seconds"))
        if scale is None or scale == main:
            return analysis
        networks = result.get("scale_networks") or {}
        if str(scale) not in networks:
            ran = ", ".join(map(str, scales_run(analysis)))
            raise ValidationError(
                {"scale": [f"scale must be a bin size analysis {analysis.pk} ran ({ran} seconds); got {scale}."]}
            )
        view = copy.copy(analysis)
        kept = {k: v for k, v in result.items() if k not in ("before_after", "scale_networks")}
        view.result = {**kept, **networks[str(scale)], "scale": scale}
        return view

    def evidence(self, analysis, source: int, target: int) -> dict:
        """source→target: each entity both used in consecutive bins (source first), with times and lags,
        recomputed from the two accounts' interactions on the stored grid. With several scales the top level is
        the main scale's and ``scales`` holds each scale's {"total", "rows"} (the page shows the one it draws)."""

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
        found = {}
        for s in scale_list(params):
            rows = edge_evidence(
                events, source, target, config({**params, "bin_seconds": s}), start=analysis.result.get("grid_start")
            )
            found[s] = (len(rows), rows.head(EVIDENCE_ROWS))
        posts = posts_described(
            collection=analysis.collection,
            post_ids={p for _, rows in found.values() for c in ("post_id_source", "post_id_target") for p in rows[c]},
        )
        described = {s: {"total": total, "rows": _evidence_rows(rows, posts)} for s, (total, rows) in found.items()}
        main = analysis.result.get("scale", params["bin_seconds"])
        if len(described) == 1:
            return described[main]
        return {**described[main], "scales": {str(s): d for s, d in described.items()}}

    def page_context(self, analysis) -> dict:
        result = analysis.result
        split = result.get("before_after")
        scale = result.get("scale", analysis.params.get("bin_seconds"))
        return {
            "report": result,
            "top_influencers": network.top_influencers(result),
            "change_rows": [{"type": t, **c} for t, c in split["change"].items()] if split else [],
            "split_date": network.iso_time(split["split"])[:10] if split else None,
            "scale": scale,
            "scale_rows": result.get("scales") or [],
            "scale_note": _scale_note(result.get("scales") or [], scale),
            "suggestion": result.get("suggestion"),
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
                "scales": scales_run(analysis),
                "scale": scale,
            },
        }

    def page_query(self, analysis, query) -> dict:
        """``?scale=<seconds>``: the page drawn at another scale the run covered; a bad one keeps the main scale
        and says why."""
        raw = (query.get("scale") or "").strip()
        if not raw:
            return {}
        try:
            return self.page_context(self.at_scale(analysis, as_id(raw) or raw))
        except ValidationError as exc:
            return {"scale_error": exc.message_dict["scale"][0]}


def _scale_note(rows: list[dict], scale) -> str | None:
    """A warning when the scale shown finds no significant pair and another scale does."""
    shown = next((r for r in rows if r["bin_seconds"] == scale), None)
    busiest = max(rows, key=lambda r: r["significant"], default=None)
    if shown is None or shown["significant"] or not busiest["significant"]:
        return None
    why = (
        "a follower this fast acts inside its leader's bin, where the model cannot see it"
        if busiest["bin_seconds"] < shown["bin_seconds"]
        else "a follower this slow acts bins after its leader, not in the next one"
    )
    return (
        f"No pair of accounts is significant at {shown['label']} bins, while {busiest['label']} bins find "
        f"{busiest['significant']:,} edges: {why}."
    )


def _evidence_rows(rows, posts: dict) -> list[dict]:
    return [
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
    ]
