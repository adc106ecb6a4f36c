"""Alice's case (Bob edits, Carol views) holds a note; Mallory's own case holds a pin and a note of hers.
``png()`` makes a real PNG (decodable: signature, IHDR, IDAT, IEND), padded to a size when asked."""
from __future__ import annotations

import base64
import struct
import zlib

import pytest

from apps.investigations.models import Investigation
from apps.notes.services import note_create
from apps.pins.services import pin_create


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(size: int | None = None) -> bytes:
    """A 2×2 RGB PNG; with ``size``, a text chunk pads it to exactly that many bytes (still a valid PNG)."""
    header = _chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0))
    pixels = _chunk(b"IDAT", zlib.compress(b"\x00" + b"\xff\x00\x00" * 2 + b"\x00" + b"\x00\x00\xff" * 2))
    end = _chunk(b"IEND", b"")
    body = b"\x89PNG\r\n\x1a\n" + header + pixels
    if size is not None:
        body += _chunk(b"tEXt", b"c\x00" + b"x" * (size - len(body) - len(end) - 14))
    return body + end


def data_url(data: bytes, mime: str = "image/png") -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


@pytest.fixture
def case(investigation, users):
    theirs = Investigation.objects.get(name="Mallory's own")
    return {
        "inv": investigation,
        "note": note_create(investigation=investigation, user=users["bob"], body="The **planted** community."),
        "theirs": theirs,
        "their_note": note_create(investigation=theirs, user=users["mallory"], body="hers"),
        "their_pin": pin_create(investigation=theirs, user=users["mallory"], caption="hers", state="a=1",
                                thumbnail_png=png()),
    }
