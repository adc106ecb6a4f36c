"""Account vectors kept inside a stored result (JSON): a matrix as base64 of little-endian float16.

The behaviour kind keeps each account's TIES embedding and graph embedding this way so that an embedding map can
project them later without training again. float16 keeps about three significant digits, far finer than t-SNE's
neighbourhoods need, at 2 bytes a number (about 260 bytes an account at the default 64 + 32 dimensions, base64
included); JSON numbers would take about 10.
"""
from __future__ import annotations

import base64

import numpy as np

from .config import EmbeddingError

DTYPE = "<f2"
VECTOR_KINDS = ("ties", "graph")  # the behaviour kind's two account embeddings


def pack_vectors(matrix) -> dict:
    """{"dtype", "shape", "data"} of a 2-D matrix; non-finite values become 0 (float16 overflows past 65,504)."""
    values = np.asarray(matrix, dtype=np.float64)
    if values.ndim != 2:
        raise EmbeddingError(f"a matrix of vectors has 2 dimensions; got shape {values.shape}")
    values = np.nan_to_num(np.clip(values, -65_000.0, 65_000.0), nan=0.0)
    data = base64.b64encode(values.astype(DTYPE).tobytes()).decode("ascii")
    return {"dtype": "float16", "shape": [int(values.shape[0]), int(values.shape[1])], "data": data}


def unpack_vectors(packed) -> np.ndarray:
    """The float32 matrix of ``pack_vectors``; an ``EmbeddingError`` for anything else."""
    try:
        rows, columns = (int(v) for v in packed["shape"])
        raw = base64.b64decode(packed["data"], validate=True)
        if packed.get("dtype") != "float16" or len(raw) != rows * columns * 2:
            raise ValueError
    except (KeyError, TypeError, ValueError):
        raise EmbeddingError("the stored vectors are not a packed float16 matrix") from None
    return np.frombuffer(raw, dtype=DTYPE).reshape(rows, columns).astype(np.float32)


def pack_account_embeddings(built: dict, rows) -> dict:
    """{"account": ids, "ties": packed, "graph": packed} for ``rows`` of a behaviour model's output (``built``:
    ``accounts``, ``embeddings`` the TIES pooled vectors, ``graph_embeddings`` the accounts' graph vectors, when
    present)."""
    rows = np.asarray(list(rows), dtype=np.int64)
    out = {"account": [built["accounts"][i] for i in rows], "ties": pack_vectors(np.asarray(built["embeddings"])[rows])}
    if built.get("graph_embeddings") is not None:
        out["graph"] = pack_vectors(np.asarray(built["graph_embeddings"])[rows])
    return out
