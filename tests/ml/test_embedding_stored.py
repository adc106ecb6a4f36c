"""Account vectors kept in a stored result: packed as float16 and read back within float16's precision, a behaviour
model's rows kept in the order asked, and vectors made elsewhere mapped to 2-D with two groups kept apart."""
from __future__ import annotations

import json

import numpy as np
import pytest

from ml.embedding import (
    EmbeddingError,
    MapConfig,
    knn_accuracy,
    map_vectors,
    pack_account_embeddings,
    pack_vectors,
    unpack_vectors,
)


def test_vectors_come_back_within_float16_precision_through_json():
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(7, 5)).astype(np.float32)
    packed = json.loads(json.dumps(pack_vectors(vectors)))
    back = unpack_vectors(packed)
    assert packed["shape"] == [7, 5] and back.dtype == np.float32
    assert np.allclose(back, vectors, rtol=1e-3, atol=1e-3) and not np.array_equal(back, vectors)
    assert unpack_vectors(pack_vectors(np.array([[np.nan, 1e9]]))).tolist() == [[0.0, 64992.0]]


@pytest.mark.parametrize("bad", [None, {"shape": [2, 2], "data": "AAAA", "dtype": "float16"},
                                 {"shape": [1, 1], "data": "AAA=", "dtype": "float32"}, {"shape": "x", "data": ""}])
def test_anything_else_is_no_packed_matrix(bad):
    with pytest.raises(EmbeddingError, match="not a packed float16 matrix"):
        unpack_vectors(bad)


def test_a_behaviour_models_rows_are_kept_in_the_order_asked():
    built = {"accounts": [10, 11, 12], "embeddings": np.arange(6.0).reshape(3, 2),
             "graph_embeddings": np.arange(9.0).reshape(3, 3)}
    kept = pack_account_embeddings(built, [2, 0])
    assert kept["account"] == [12, 10]
    assert unpack_vectors(kept["ties"]).tolist() == [[4.0, 5.0], [0.0, 1.0]]
    assert unpack_vectors(kept["graph"]).tolist() == [[6.0, 7.0, 8.0], [0.0, 1.0, 2.0]]
    assert "graph" not in pack_account_embeddings({**built, "graph_embeddings": None}, [0])


def test_vectors_made_elsewhere_map_two_groups_apart():
    rng = np.random.default_rng(1)
    vectors = np.vstack([rng.normal(0, 0.1, (15, 8)), rng.normal(3, 0.1, (15, 8))])
    stages = []
    built = map_vectors(list(range(100, 130)), vectors, config=MapConfig(perplexity=5, n_iter=200),
                        on_progress=lambda f, stage: stages.append(f))
    assert built["ids"] == built["accounts"] == list(range(100, 130)) and built["xy"].shape == (30, 2)
    assert knn_accuracy(built["xy"], [0] * 15 + [1] * 15, k=5) == 1.0
    assert stages[0] == 0.0 and stages[-1] == pytest.approx(1.0) and built["dimensions"] == 8
    with pytest.raises(EmbeddingError, match="3 ids for vectors of shape"):
        map_vectors([1, 2, 3], vectors)
