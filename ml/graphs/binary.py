"""A network as typed arrays in one binary payload, for a browser to hand straight to WebGL (static/js/graph-gl.js).

JSON spends most of a 50,000-edge network's bytes and parse time on key names and decimal text; typed arrays
cost 8 bytes an edge and no parsing: ``new Float32Array(buffer, offset, length)`` is a view, not a copy.

Layout of the payload (every number little-endian, as every browser's typed arrays are):

    bytes 0-3    b"MNET"
    bytes 4-7    uint32 format version (1)
    bytes 8-11   uint32 header length H, in bytes
    bytes 12..   the header: UTF-8 JSON, padded with spaces so that 12 + H is a multiple of 8
    12 + H ..    the arrays, back to back, each starting at a multiple of 8 bytes

The header's ``arrays`` maps each array's name to ``{"dtype", "offset", "length"}``: ``offset`` counts bytes from
the start of the array section (byte 12 + H), ``length`` counts elements. Everything else in the header is the
caller's (node ids, names, counts; what the network endpoint puts there: apps/analyses/network_apis.py).
"""
from __future__ import annotations

import json
import struct

import numpy as np

MAGIC = b"MNET"
VERSION = 1
PREFIX = struct.Struct("<4sII")
ALIGN = 8
DTYPES = {"float32": "<f4", "uint32": "<u4", "uint16": "<u2", "uint8": "u1"}
_NAMES = {("f", 4): "float32", ("u", 4): "uint32", ("u", 2): "uint16", ("u", 1): "uint8"}


class PayloadError(ValueError):
    """Bytes that are not a network payload of this version."""


def pack(header: dict, arrays: dict[str, np.ndarray]) -> bytes:
    """The payload of ``header`` (JSON-ready) and ``arrays`` (1-D, dtypes among ``DTYPES``), in the given order."""
    chunks, table, offset = [], {}, 0
    for name, array in arrays.items():
        dtype = _NAMES.get((array.dtype.kind, array.dtype.itemsize))
        if dtype is None or array.ndim != 1:
            raise PayloadError(f"array {name!r}: 1-D {', '.join(DTYPES)} only, not {array.ndim}-D {array.dtype}")
        raw = np.ascontiguousarray(array, dtype=DTYPES[dtype]).tobytes()
        table[name] = {"dtype": dtype, "offset": offset, "length": int(array.size)}
        pad = -len(raw) % ALIGN
        chunks.append(raw + b"\0" * pad)
        offset += len(raw) + pad
    text = json.dumps({**header, "arrays": table}, separators=(",", ":"), ensure_ascii=False).encode()
    text += b" " * (-(PREFIX.size + len(text)) % ALIGN)
    return PREFIX.pack(MAGIC, VERSION, len(text)) + text + b"".join(chunks)


def unpack(payload: bytes) -> tuple[dict, dict[str, np.ndarray]]:
    """(header, {name: array}) of a payload made by ``pack``; a PayloadError for anything else."""
    if len(payload) < PREFIX.size:
        raise PayloadError("too short for a network payload")
    magic, version, length = PREFIX.unpack_from(payload)
    if magic != MAGIC or version != VERSION:
        raise PayloadError(f"not a version-{VERSION} network payload (magic {magic!r}, version {version})")
    start = PREFIX.size + length
    header = json.loads(payload[PREFIX.size : start].decode())
    arrays = {}
    for name, spec in header["arrays"].items():
        dtype = np.dtype(DTYPES[spec["dtype"]])
        begin = start + spec["offset"]
        end = begin + dtype.itemsize * spec["length"]
        if end > len(payload):
            raise PayloadError(f"array {name!r} runs past the end of the payload")
        arrays[name] = np.frombuffer(payload[begin:end], dtype=dtype)
    return header, arrays
