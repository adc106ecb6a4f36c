"""The embedding map (t-SNE): every post, or every account, as a point in 2-D, near when the texts are alike.

Post vectors are mean-pooled from the bundled MiniLM-L6 or from a text model of the investigation (its
encoder; the head is not used); an account's point is the mean of its posts' vectors. openTSNE projects them
(PCA initialisation, FFT gradients): ``ml.embedding``.

Over ``max_points`` a seeded sample is mapped, and the result says how many were left out: posts, or accounts
(then also the posts left out by the cap per account). The stand-in authors of text-only imports are no
accounts, so the account map leaves them out, and says so. The stored ``points`` are what the page draws and
``GET /api/analyses/<pk>/points/`` returns (``apps.analyses.map_apis``).

Accounts can also be mapped by what they do: ``behaviour`` names a behaviour analysis of the collection, whose
stored TIES or graph embeddings (``vectors``) are projected instead of texts. Points are coloured by a label
(``colour_by``) or by the communities of a stored network of the collection (``communities``: coordination,
co-action, retweet or hashtag network; ``apps.analyses.map_selectors``); accounts in no community are grey.
"""
from __future__ import annotations

from collections import Counter

from apps.analyses import map_selectors, selectors
from apps.analyses.kinds.base import CHOICE, FLOAT, INT, TEXT, Kind, Param, config_or_errors
from apps.analyses.kinds.train_classifier import KEY_RE
from apps.collections.models import Account, Post
from apps.common.ids import as_id
from apps.jobs.services import JobError

UNITS = ("post", "account")  # ml.embedding.UNITS
VECTORS = ("ties", "graph")  # ml.embedding.VECTOR_KINDS: a behaviour analysis's two account embeddings
VECTOR_NAMES = {"ties": "TIES embeddings", "graph": "graph embeddings"}
NO_COMMUNITY = "(no community)"
WORKSPACE_IDS_MAX = 5_000  # apps.workspace.selectors.IDS_MAX: the most accounts a workspace link can select
BUNDLED = "bundled"
BUNDLED_NAME = "bundled MiniLM-L6"
MAX_POINTS_DEFAULT, MAX_POINTS_MAX = 20_000, 100_000
MIN_POINTS = 5  # ml.embedding.MIN_POINTS
# The account map embeds at most this many posts in all (MiniLM: ~150 posts/s on 2 cores, so ~20 min), and at
# most POSTS_PER_ACCOUNT of any one account: a prolific account's mean is steady long before its 10,000th post.
POSTS_CAP, POSTS_PER_ACCOUNT = 200_000, 100
LABELS_SHOWN = 20  # the page colours the commonest labels; the rest are drawn as "other"
SNIPPET_CHARS = 140


def _map_config(params: dict):
    from ml.embedding import MapConfig

    return MapConfig(perplexity=params["perplexity"], seed=params["seed"])


def _perplexity_default() -> float:
    from ml.embedding import MapConfig

    return MapConfig.perplexity


def _source_check(investigation, source: str, errors: dict) -> dict:
    if source.lower() == BUNDLED:
        return {"source": BUNDLED, "source_name": BUNDLED_NAME}
    pk = as_id(source)
    model = selectors.text_model_of(investigation=investigation, model_id=pk) if pk else None
    if model is None:
        errors["source"] = f"source must be “bundled” or the id of a text model of this investigation; got {source!r}."
    elif not model.weights_dir.is_dir():
        errors["source"] = f"The weights of the model “{model.name}” are missing on disk; train it again."
    else:
        return {"source": str(model.pk), "source_name": model.name}
    return {"source": source, "source_name": ""}


def _behaviour_check(collection, clean: dict, errors: dict) -> dict:
    """A behaviour analysis of this collection (an id, or "latest") whose ``vectors`` embeddings were stored; the
    map is then of accounts, and takes no text source. Returns the parameters it settles (the analysis's id)."""
    if not clean["behaviour"]:
        return {}
    analysis, why = map_selectors.analysis_in(investigation=collection.investigation, collection=collection,
                                              kinds=map_selectors.BEHAVIOUR_KINDS, ref=clean["behaviour"])
    if analysis is None:
        errors["behaviour"] = why
        return {}
    stored, vectors = map_selectors.embedding_kinds(analysis), clean["vectors"]
    if vectors not in stored:
        errors["behaviour"] = (
            f"Behaviour analysis #{analysis.pk} stored no {VECTOR_NAMES[vectors]}"
            + (f" (only {', '.join(VECTOR_NAMES[k] for k in stored)}: set vectors to {stored[0]})." if stored else
               " (it ran before behaviour analyses kept them): run it again to map its accounts.")
        )
    if clean["unit"] != "account":
        errors["unit"] = "A behaviour analysis embeds accounts: set unit to account."
    if clean["source"].lower() != BUNDLED:
        errors["source"] = "Map the texts (source) or a behaviour analysis's embeddings (behaviour), not both."
    return {"behaviour": str(analysis.pk), "source_name": f"{VECTOR_NAMES[vectors]} of behaviour analysis "
                                                          f"#{analysis.pk}"}


def _communities_check(collection, clean: dict, errors: dict) -> dict:
    """A stored network of this collection (an id, or "latest") to colour by; not with a label as well."""
    if not clean["communities"]:
        return {}
    analysis, why = map_selectors.analysis_in(investigation=collection.investigation, collection=collection,
                                              kinds=map_selectors.COMMUNITY_KINDS, ref=clean["communities"])
    if analysis is None:
        errors["communities"] = why
        return {}
    if clean["colour_by"]:
        errors["communities"] = "Colour by a label (colour_by) or by communities, not both."
    return {"communities": str(analysis.pk)}


def _colour_check(collection, key: str, errors: dict) -> None:
    if not key:
        return
    if not KEY_RE.match(key):
        errors["colour_by"] = f"{key!r} is not a label name (letters, digits, _ . - and spaces)."
    elif not (
        Account.objects.filter(collection=collection, labels__has_key=key).exists()
        or Post.objects.filter(collection=collection, labels__has_key=key).exists()
    ):
        errors["colour_by"] = f"No post or account of the collection “{collection.name}” has the label {key!r}."


# Reads --------------------------------------------------------------------------------------------------------


def _post_rows(collection, params: dict) -> tuple[list[int], dict]:
    """The ids of the posts to map: every text post, or a seeded sample of ``max_points`` of them."""
    from ml.embedding import sample_indices

    posts = selectors.text_posts(collection)
    ids = list(posts.order_by("id").values_list("id", flat=True)[: selectors.TEXT_ROWS_CAP])
    picked = [ids[i] for i in sample_indices(len(ids), params["max_points"], params["seed"])]
    total = posts.count() if len(ids) == selectors.TEXT_ROWS_CAP else len(ids)  # past the cap: the rest is left out
    return picked, {"candidates": total, "left_out": total - len(picked)}


def _account_rows(collection, params: dict) -> tuple[list[int], dict]:
    """The ids of the posts whose mean makes each account's point: a seeded sample of ``max_points`` accounts
    (stand-in authors left out), then at most ``per_account`` posts of each, so that at most ``POSTS_CAP`` in all."""
    from ml.embedding import sample_indices, sample_per_group

    stand_ins = selectors.placeholder_ids(collection=collection)
    posts = selectors.text_posts(collection).order_by("id")
    read = list(posts.values_list("id", "account_id")[: selectors.TEXT_ROWS_CAP])
    rows = [(pk, account) for pk, account in read if account not in stand_ins]
    accounts = sorted({account for _, account in rows})
    kept = {accounts[i] for i in sample_indices(len(accounts), params["max_points"], params["seed"])}
    rows = [(pk, account) for pk, account in rows if account in kept]
    per_account = max(1, min(POSTS_PER_ACCOUNT, POSTS_CAP // max(len(kept), 1)))
    picked = [rows[i][0] for i in sample_per_group([a for _, a in rows], per_account, params["seed"])]
    return picked, {
        "candidates": len(accounts),
        "left_out": len(accounts) - len(kept),
        "posts_per_account_cap": per_account,
        "posts_left_out": len(rows) - len(picked),
        "stand_ins_left_out": len(stand_ins),
        # Past the read cap the latest posts are not read at all: the page says so.
        "read_cap_reached": len(read) == selectors.TEXT_ROWS_CAP,
    }


def _texts(post_ids: list[int], with_labels: bool) -> dict[str, list]:
    columns: dict[str, list] = {"id": [], "text": [], "account": [], "labels": []}
    fields = ("id", "text", "account_id", "labels") if with_labels else ("id", "text", "account_id")
    for start in range(0, len(post_ids), selectors.BATCH_ROWS):
        rows = Post.objects.filter(pk__in=post_ids[start : start + selectors.BATCH_ROWS]).order_by("id")
        for row in rows.values_list(*fields):
            columns["id"].append(row[0])
            columns["text"].append(row[1])
            columns["account"].append(row[2])
            columns["labels"].append((row[3] or {}) if with_labels else {})
    return columns


def _label(key: str, post_labels: dict, account_labels: dict) -> str:
    """The post's own label, else its account's; "" when neither carries ``key``."""
    if not key:
        return ""
    for labels in (post_labels, account_labels):
        if isinstance(labels, dict) and key in labels and labels[key] not in (None, ""):
            return selectors.label_text(labels[key])
    return ""


def _commonest_post_labels(posts: dict, key: str) -> dict:
    """{account: {key: its posts' commonest value}}: an account's colour when only its posts carry the label."""
    values: dict = {}
    for account, labels in zip(posts["account"], posts["labels"]):
        value = _label(key, labels, {})
        if value:
            values.setdefault(account, Counter())[value] += 1
    return {account: {key: counts.most_common(1)[0][0]} for account, counts in values.items()}


def _community_label(community: int | None) -> str:
    return "" if community is None else f"community {community}"


def _points(collection, built: dict, posts: dict, key: str, communities: dict | None = None) -> list[dict]:
    """The stored points; the label is the post's own, else its account's (an account: its own label, else the
    commonest among its mapped posts); with ``communities`` ({account: community}), the account's community."""
    described = selectors.accounts_described(collection=collection, account_ids=set(built["accounts"]))
    unit = built["unit"]
    own_labels = dict(zip(posts["id"], posts["labels"])) if unit == "post" else _commonest_post_labels(posts, key)
    points = []
    for i, (pk, account) in enumerate(zip(built["ids"], built["accounts"])):
        who = described.get(account, {})
        own, theirs = (own_labels.get(pk, {}), who.get("labels", {}))
        if unit == "account":
            own, theirs = theirs, own_labels.get(account, {})
        point = {"id": pk, "account": account, "handle": who.get("handle", str(account)),
                 "x": round(float(built["xy"][i, 0]), 4), "y": round(float(built["xy"][i, 1]), 4),
                 "label": _label(key, own, theirs) if communities is None else _community_label(
                     communities.get(account))}
        if built["unit"] == "account":
            point["posts"] = built["posts"][i]
        points.append(point)
    return points


def summary(result: dict) -> dict:
    out = {"unit": result["unit"], "points": len(result["points"]), "left_out": result["left_out"],
           "posts_embedded": result["posts_embedded"], "source": result["source_name"],
           "perplexity": result["perplexity"], "labels": result["labels_total"]}
    if result["unit"] == "account" and "posts_left_out" in result:
        out["posts_left_out"] = result["posts_left_out"]
    if result.get("behaviour"):
        out.update(behaviour=result["behaviour"]["id"], vectors=result["behaviour"]["vectors"])
    if result.get("communities_from"):
        out["communities_from"] = result["communities_from"]["id"]
    return out


def left_out_sentence(result: dict) -> str:
    """What the cap and the unit left off the map, in words ("" when nothing was)."""
    noun = "posts" if result["unit"] == "post" else "accounts"
    parts = []
    if result.get("not_in_collection"):
        parts.append(f"{result['not_in_collection']:,} accounts the behaviour analysis embedded are no longer accounts "
                     "of the collection")
    if result["left_out"]:
        parts.append(f"{result['left_out']:,} of {result['candidates']:,} {noun} were left out by the cap of "
                     f"{result['max_points']:,} (a seeded sample is mapped)")
    if result.get("posts_left_out"):
        parts.append(f"{result['posts_left_out']:,} posts were left out by the cap of "
                     f"{result['posts_per_account_cap']:,} posts per account")
    if result.get("read_cap_reached"):
        parts.append(f"only the first {selectors.TEXT_ROWS_CAP:,} posts with text were read")
    if result.get("stand_ins_left_out"):
        parts.append(f"{result['stand_ins_left_out']:,} stand-in authors of text-only posts were left out (they are "
                     "no accounts)")
    return "; ".join(parts)


class EmbeddingMap(Kind):
    name, label = "embedding_map", "Embedding map (t-SNE)"
    internal = frozenset({"source_name"})
    params = (
        Param("unit", CHOICE, "post", "Map each post, or each account (the mean of its posts).", choices=UNITS,
              choice_labels={"post": "posts", "account": "accounts (mean of their posts)"}),
        Param("source", TEXT, BUNDLED, "“bundled” (MiniLM-L6) or the id of a text model of this investigation.",
              max_length=40),
        Param("perplexity", FLOAT, _perplexity_default, "t-SNE's effective number of neighbours (2–100).",
              low=2, high=100),
        Param("max_points", INT, MAX_POINTS_DEFAULT, "Over this, a seeded sample is mapped (the page says how many "
              "were left out).", low=MIN_POINTS, high=MAX_POINTS_MAX),
        Param("behaviour", TEXT, "", "Or map accounts by what they do: the id of a behaviour analysis of this "
              "collection (or “latest”); its accounts' embeddings are mapped instead of texts (unit account).",
              max_length=40),
        Param("vectors", CHOICE, "ties", "Which embedding of the behaviour analysis.", choices=VECTORS,
              choice_labels={"ties": "TIES (the account's pooled sequence vector)",
                             "graph": "graph (the account's margin-ranking embedding)"}),
        Param("colour_by", TEXT, "", "A label key to colour by (a post's own, else its account's; an account's own, "
              "else its posts' commonest); blank: none.", max_length=100),
        Param("communities", TEXT, "", "Or colour by community: the id of a coordination, co-action, retweet or "
              "hashtag network analysis of this collection (or “latest”); each account (a post: its account) takes "
              "its community there, accounts in none are grey.", max_length=40),
        Param("seed", INT, 0, "The sample's and t-SNE's seed.", low=0, high=2**31 - 1, form=False),
    )

    def validate(self, collection, clean: dict, errors: dict) -> dict:
        """The source must be the bundled encoder or a model of the collection's investigation with its weights,
        or else a behaviour analysis of the collection that stored its embeddings; the colour label must exist on
        the collection, or the network analysis be of it; ml's MapConfig checks the rest once more."""
        source = _source_check(collection.investigation, clean["source"], errors)
        behaviour = _behaviour_check(collection, clean, errors)
        _colour_check(collection, clean["colour_by"], errors)
        communities = _communities_check(collection, clean, errors)
        config_or_errors(lambda: _map_config(clean), errors)
        return {**clean, **source, **behaviour, **communities}

    def run(self, analysis_input, progress) -> tuple[dict, dict]:
        """1. pick the posts (sample under the cap); 2. read their texts; 3. embed, average per account when
        asked, t-SNE (``ml.embedding.build_map``, progress per batch and per 25 iterations); 4. the points."""
        from ml.embedding import EmbeddingError, PostEncoder, build_map

        params, collection = analysis_input.params, analysis_input.collection
        if params.get("behaviour"):
            return self._run_behaviour(analysis_input, progress)
        progress(0.0, "Choosing the posts to map", force=True)
        picked, counts = (_post_rows if params["unit"] == "post" else _account_rows)(collection, params)
        if not picked:
            raise JobError(f"The collection “{collection.name}” has no posts with text to map.")
        points = counts["candidates"] - counts["left_out"]
        if points < MIN_POINTS:
            noun = "posts with text" if params["unit"] == "post" else "accounts with posts"
            raise JobError(f"A map needs at least {MIN_POINTS} points; the collection “{collection.name}” has "
                           f"{points} {noun}.")
        posts = _texts(picked, with_labels=bool(params["colour_by"]))
        encoder = PostEncoder(self._encoder_dir(analysis_input))
        progress.provenance(
            inputs=[{**selectors.collection_fingerprint(collection), "posts_embedded": len(posts["id"]), **counts}],
            model={"encoder": params["source_name"], "source": params["source"], **_map_config(params).as_dict(),
                   **encoder.config.as_dict()},
        )
        progress(0.03, f"Loading the encoder ({params['source_name']})", force=True)
        try:
            built = build_map(posts["text"], posts["account"], posts["id"], unit=params["unit"], encoder=encoder,
                              config=_map_config(params),
                              on_progress=lambda f, stage: progress(0.05 + 0.93 * f, stage))
        except EmbeddingError as exc:
            raise JobError(f"No map: {exc}.") from None
        return self._outcome(analysis_input, built, posts, counts)

    def _run_behaviour(self, analysis_input, progress) -> tuple[dict, dict]:
        """1. the behaviour analysis's stored embeddings of the collection's accounts (a seeded sample under the
        cap); 2. t-SNE (``ml.embedding.map_vectors``); 3. each account's posts (the hover's count) and, to colour
        by a label, its labelled posts; 4. the points."""
        from ml.embedding import EmbeddingError, map_vectors, sample_indices

        params, collection = analysis_input.params, analysis_input.collection
        progress(0.0, "Reading the behaviour embeddings", force=True)
        accounts, vectors = self._behaviour_vectors(analysis_input)
        own = map_selectors.own_accounts(collection=collection, account_ids=accounts)
        rows = [i for i, account in enumerate(accounts) if account in own]
        if len(rows) < MIN_POINTS:
            raise JobError(f"A map needs at least {MIN_POINTS} points; behaviour analysis #{params['behaviour']} "
                           f"embedded {len(rows)} accounts of the collection “{collection.name}”.")
        rows = [rows[i] for i in sample_indices(len(rows), params["max_points"], params["seed"])]
        ids = [accounts[i] for i in rows]
        counts = {"candidates": len(own), "left_out": len(own) - len(ids),
                  "not_in_collection": len(accounts) - len(own)}
        progress.provenance(
            inputs=[{**selectors.collection_fingerprint(collection), "behaviour_analysis": int(params["behaviour"]),
                     "vectors": params["vectors"], **counts}],
            model={"vectors": params["source_name"], **_map_config(params).as_dict()},
        )
        try:
            built = map_vectors(ids, vectors[rows], config=_map_config(params),
                                on_progress=lambda f, stage: progress(0.05 + 0.9 * f, stage))
        except EmbeddingError as exc:
            raise JobError(f"No map: {exc}.") from None
        progress(0.96, "Counting each account's posts", force=True)
        posts_of = map_selectors.posts_per_account(collection=collection, account_ids=ids)
        built["posts"] = [posts_of.get(account, 0) for account in ids]
        posts = (map_selectors.account_post_labels(collection=collection, account_ids=ids, key=params["colour_by"])
                 if params["colour_by"] else {"id": [], "account": [], "labels": []})
        return self._outcome(analysis_input, built, posts, counts)

    def _behaviour_vectors(self, analysis_input):
        """(account ids, their vectors) stored by the behaviour analysis, which may have gone since the start."""
        from ml.embedding import EmbeddingError, unpack_vectors

        params, collection = analysis_input.params, analysis_input.collection
        analysis, _ = map_selectors.analysis_in(investigation=analysis_input.investigation, collection=collection,
                                                kinds=map_selectors.BEHAVIOUR_KINDS, ref=params["behaviour"])
        if analysis is None:
            raise JobError(f"Behaviour analysis #{params['behaviour']} was deleted before the map ran.")
        accounts, packed = map_selectors.behaviour_vectors(analysis=analysis, which=params["vectors"])
        try:
            vectors = unpack_vectors(packed) if packed is not None else None
        except EmbeddingError as exc:
            raise JobError(f"Behaviour analysis #{analysis.pk}: {exc}.") from None
        if vectors is None or len(vectors) != len(accounts):
            raise JobError(f"Behaviour analysis #{analysis.pk} stored no {VECTOR_NAMES[params['vectors']]} to map.")
        return accounts, vectors

    def _communities(self, analysis_input, accounts) -> tuple[dict | None, dict | None]:
        """({account: community}, what the page says of the network), or (None, None) without ``communities``."""
        params = analysis_input.params
        if not params.get("communities"):
            return None, None
        network, _ = map_selectors.analysis_in(investigation=analysis_input.investigation,
                                               collection=analysis_input.collection,
                                               kinds=map_selectors.COMMUNITY_KINDS, ref=params["communities"])
        if network is None:
            raise JobError(f"Network analysis #{params['communities']} was deleted before the map ran.")
        found = map_selectors.account_communities(analysis=network, account_ids=accounts)
        return found, {"id": network.pk, "kind": network.kind, "title": network.title}

    def _encoder_dir(self, analysis_input):
        """None for the bundled MiniLM, else the model's weights (which may have been deleted since the start)."""
        params = analysis_input.params
        if params["source"] == BUNDLED:
            return None
        model = selectors.text_model_of(investigation=analysis_input.investigation, model_id=params["source"])
        if model is None or not model.weights_dir.is_dir():
            raise JobError(f"The text model “{params['source_name']}” was deleted before the map ran.")
        return model.weights_dir

    def _outcome(self, analysis_input, built: dict, posts: dict, counts: dict) -> tuple[dict, dict]:
        params, collection = analysis_input.params, analysis_input.collection
        communities, network = self._communities(analysis_input, set(built["accounts"]))
        points = _points(collection, built, posts, params["colour_by"], communities)
        labels = Counter(p["label"] for p in points)
        behaviour = params.get("behaviour")
        result = {
            "unit": params["unit"],
            "points": points,
            **counts,
            "max_points": params["max_points"],
            "posts_embedded": 0 if behaviour else len(posts["id"]),
            "source": params["source"],
            "source_name": params["source_name"],
            "behaviour": {"id": int(behaviour), "vectors": params["vectors"]} if behaviour else None,
            "colour_by": params["colour_by"],
            "communities_from": network,
            "labels": dict(labels.most_common(LABELS_SHOWN * 5)),
            "labels_total": len(labels),
            "perplexity_asked": params["perplexity"],
            "perplexity": built["perplexity"],
            "kl_divergence": built["kl_divergence"],
            "dimensions": built["dimensions"],
            "seed": params["seed"],
            "seconds": {k: round(v, 2) for k, v in built["seconds"].items()},
        }
        return result, summary(result)

    def page_context(self, analysis) -> dict:
        """The map's data as columns (a 100,000-point map is a third of the size it is as objects), post texts cut
        to a snippet for the hover, the labels by count."""
        from django.urls import reverse

        result = analysis.result
        points = result["points"]
        texts = _snippets([p["id"] for p in points]) if result["unit"] == "post" else {}
        shown = [label for label, _ in Counter(p["label"] for p in points).most_common(LABELS_SHOWN)]
        data = {
            "unit": result["unit"],
            "colour_by": result.get("colour_by", ""),
            "x": [p["x"] for p in points],
            "y": [p["y"] for p in points],
            "id": [p["id"] for p in points],
            "account": [p["account"] for p in points],
            "handle": [p["handle"] for p in points],
            "label": [p["label"] if p["label"] in shown else "(other)" for p in points],
            "posts": [p.get("posts", 1) for p in points],
            "text": [texts.get(p["id"], "") for p in points] if texts else [],
            "none_label": NO_COMMUNITY if result.get("communities_from") else "",
            # The selection opens in the workspace's posts table: ?c=<collection>&accounts=<ids> (workspace.js).
            "workspace_url": reverse("workspace", args=[analysis.investigation_id]),
            "collection": analysis.collection_id,
            "ids_max": WORKSPACE_IDS_MAX,
        }
        return {"report": result, "map_data": data, "left_out_sentence": left_out_sentence(result),
                "label_rows": sorted(Counter(data["label"]).items(), key=lambda kv: (-kv[1], kv[0]))}


def _snippets(post_ids: list[int]) -> dict[int, str]:
    out = {}
    for start in range(0, len(post_ids), selectors.BATCH_ROWS):
        rows = Post.objects.filter(pk__in=post_ids[start : start + selectors.BATCH_ROWS]).values_list("id", "text")
        out.update({pk: text if len(text) <= SNIPPET_CHARS else f"{text[: SNIPPET_CHARS - 1]}…" for pk, text in rows})
    return out
