"""ml.behaviour: sequences are built in time order, cropped to the most recent steps, padded and masked; the graph
embedder's margin loss falls and true edges outscore corrupted ones; TIES separates the simulated operation's
accounts from the residents on held-out accounts; every encoder lowers its loss; bad settings name their field."""
from __future__ import annotations

import numpy as np
import pytest

from ml.behaviour import (
    ACTIONS,
    BehaviourError,
    GraphConfig,
    GraphEmbedder,
    TiesClassifier,
    TiesConfig,
    account_splits,
    archive_interactions,
    build_sequences,
    graph_edges,
    interaction_frame,
    label_array,
    train_behaviour,
)
from ml.behaviour.sequences import LOG_GAP_SCALE
from ml.checks import ParamError
from ml.simulation import OperationConfig, operation_truth, simulate_operation

DAY = 86_400.0


def frame_of(rows):
    account, action, target, time = zip(*rows)
    return interaction_frame(account, action, target, time)


def test_sequences_are_in_time_order_with_gaps_hours_and_a_mask():
    rows = [("a", "hashtag", "hashtag:dam", DAY + 6 * 3600 + 100), ("a", "post", "post:1", DAY + 6 * 3600),
            ("b", "repost", "post:1", DAY + 6 * 3600 + 5), ("a", "url", "url:x.example/1", DAY + 18 * 3600)]
    seqs = build_sequences(frame_of(rows))
    assert list(seqs.accounts) == ["a", "b"] and list(seqs.steps) == [3, 1]
    assert seqs.mask.tolist() == [[True, True, True], [True, False, False]]
    action = {i + 1: a for i, a in enumerate(ACTIONS)}
    assert [action[i] for i in seqs.actions[0]] == ["post", "hashtag", "url"] and seqs.actions[1, 1:].tolist() == [0, 0]
    index = seqs.vocab.index
    assert seqs.targets[0].tolist() == [index["post:1"], index["hashtag:dam"], index["url:x.example/1"]]
    assert seqs.targets[1, 0] == index["post:1"] and set(seqs.sources[0]) == {index["account:a"]}
    gaps = seqs.misc[0, :, 0] * LOG_GAP_SCALE
    assert np.allclose(np.expm1(gaps), [0, 100, 12 * 3600 - 100], rtol=1e-4)
    hours = np.degrees(np.arctan2(seqs.misc[0, :, 1], seqs.misc[0, :, 2])) / 15 % 24
    assert np.allclose(hours, [6, 6 + 100 / 3600, 18], atol=1e-3)
    assert not seqs.misc[1, 1:].any() and not seqs.targets[1, 1:].any()  # padding is zeros
    # the vocabulary is laid out type by type: one embedding table per type
    assert seqs.vocab.counts() == {"account": 2, "hashtag": 1, "post": 1, "url": 1}


def test_a_long_history_keeps_its_most_recent_steps():
    rows = [("busy", "hashtag", f"hashtag:t{i}", float(i)) for i in range(600)][::-1]
    rows.append(("quiet", "post", "post:q", 5.0))
    seqs = build_sequences(frame_of(rows), max_steps=512)
    assert seqs.actions.shape == (2, 512) and list(seqs.steps) == [600, 1]
    names = {v: k for k, v in seqs.vocab.index.items()}
    kept = [names[t] for t in seqs.targets[0]]
    assert kept[0] == "hashtag:t88" and kept[-1] == "hashtag:t599" and seqs.mask[0].all()
    assert seqs.mask[1].sum() == 1 and names[seqs.targets[1, 0]] == "post:q"


def test_bad_interaction_columns_are_refused():
    with pytest.raises(BehaviourError, match="unknown action"):
        frame_of([("a", "like", "post:1", 1.0)])
    with pytest.raises(BehaviourError, match="one length"):
        interaction_frame(["a"], ["post"], ["post:1", "post:2"], [1.0])
    with pytest.raises(BehaviourError, match="no interactions"):
        interaction_frame([], [], [], [])


def toy_graph(seed=0):
    """Two camps of 20 accounts; each account tags 6 of its camp's 5 hashtags and shares one of its 3 domains."""
    rng = np.random.default_rng(seed)
    rows = []
    for camp in ("red", "blue"):
        for i in range(20):
            for _ in range(6):
                rows.append((f"{camp}{i}", "hashtag", f"hashtag:{camp}{rng.integers(5)}", float(len(rows))))
            rows.append((f"{camp}{i}", "domain", f"domain:{camp}{rng.integers(3)}.example", float(len(rows))))
    frame = frame_of(rows)
    seqs = build_sequences(frame)
    return frame, seqs


@pytest.mark.parametrize("operator", ["diagonal", "translation"])
def test_the_margin_loss_falls_and_true_edges_outscore_corrupted_ones(operator):
    frame, seqs = toy_graph()
    src, rel, dst, names = graph_edges(frame, seqs.vocab)
    assert names == ["domain>domain", "hashtag>hashtag"]
    embedder = GraphEmbedder(GraphConfig(dim=8, epochs=30, batch_size=64, operator=operator, seed=1))
    embedder.fit(seqs.vocab, src, rel, dst, n_relations=len(names))
    assert embedder.losses_[-1] < 0.5 * embedder.losses_[0]
    # corrupt each edge's target with an entity of the same type from the other camp
    index = seqs.vocab.index
    flipped = {name: name.replace("red", "BLUE").replace("blue", "red").replace("BLUE", "blue") for name in index}
    inverse = {v: k for k, v in index.items()}
    fake = np.array([index[flipped[inverse[d]]] for d in dst])
    true_scores, fake_scores = embedder.score(src, rel, dst), embedder.score(src, rel, fake)
    assert (true_scores > fake_scores).mean() > 0.95
    assert embedder.vectors_.shape == (len(seqs.vocab) + 1, 8) and not embedder.vectors_[0].any()
    assert np.linalg.norm(embedder.vectors_, axis=1).max() <= 1.0 + 1e-5


@pytest.fixture(scope="module")
def simulated():
    """The demo generator's town, shrunk: 80 residents, an operation of 20 (2 seeds) whose amplifiers retweet the
    seeds within seconds to minutes; 8 days."""
    config = OperationConfig(seed=11, days=8, organic_accounts=80, operation_accounts=20, seed_accounts=2)
    columns = archive_interactions(simulate_operation(config))
    operation = set(operation_truth(config)["operation_userids"])
    return columns, {account: account in operation for account in set(columns["account"])}


def test_ties_separates_the_operation_from_residents_on_held_out_accounts(simulated):
    columns, labels = simulated
    built = train_behaviour(columns, labels, GraphConfig(dim=8, epochs=3), TiesConfig(hidden=16, epochs=12))
    test = built["metrics"]["test"]
    assert test["n"] >= 15 and test["positives"] >= 3
    assert test["auc"] > 0.8 and test["pr_auc"] > 0.6
    # account-disjoint: each labelled account is in exactly one split
    splits = dict(zip(built["accounts"], built["split"]))
    assert {s for a, s in splits.items() if a in labels} == {"train", "val", "test"}
    assert len(built["scores"]) == len(built["accounts"]) == built["embeddings"].shape[0]
    assert built["embeddings"].shape[1] == 16 and built["graph"]["losses"][-1] < built["graph"]["losses"][0]


@pytest.mark.parametrize("encoder", ["cnn", "rnn", "deepset"])
def test_each_encoder_lowers_its_loss(simulated, encoder):
    columns, labels = simulated
    seqs = build_sequences(interaction_frame(**columns), max_steps=64)
    y = label_array(seqs.accounts, labels)
    rows = np.arange(len(seqs))
    vectors = np.random.default_rng(0).normal(0, 0.3, (len(seqs.vocab) + 1, 4)).astype(np.float32)
    model = TiesClassifier(TiesConfig(encoder=encoder, hidden=8, epochs=6, lr=5e-3, batch_size=16))
    model.fit(seqs, y, rows, rows[:20], vectors)
    losses = [h["train_loss"] for h in model.history_]
    assert losses[-1] < losses[0]
    scores, embeddings = model.predict(seqs.take(rows[:5]))
    assert scores.shape == (5,) and ((scores >= 0) & (scores <= 1)).all() and embeddings.shape == (5, 8)


def test_splits_are_account_disjoint_and_stratified():
    y = np.array([1] * 10 + [0] * 30 + [-1] * 5)
    parts = account_splits(y, seed=3)
    together = np.concatenate(list(parts.values()))
    assert len(together) == len(set(together)) == 40 and not (y[together] == -1).any()
    assert all(set(y[rows]) == {0, 1} for rows in parts.values())


def test_one_class_is_refused(simulated):
    columns, labels = simulated
    with pytest.raises(BehaviourError, match="at least 5 labelled accounts .* in each class; got 0 positive"):
        train_behaviour(columns, {a: False for a in labels})


@pytest.mark.parametrize(
    ("make", "field"),
    [(lambda: TiesConfig(encoder="gru"), "encoder"), (lambda: TiesConfig(epochs=0), "epochs"),
     (lambda: TiesConfig(cnn_layers=4), "cnn_layers"), (lambda: TiesConfig(kernel=4), "kernel"),
     (lambda: GraphConfig(dim=1), "embedding_dim"), (lambda: GraphConfig(operator="complex"), "operator"),
     (lambda: GraphConfig(seed=-1), "seed")],
)
def test_bad_settings_name_their_field(make, field):
    with pytest.raises(ParamError) as caught:
        make()
    assert caught.value.field == field
