"""What a pin and a layout accept: a workspace state that is a query string, a caption, a PNG thumbnail.

Each refusal is a ``ValidationError({field: sentence})``, so a page shows it on the field and the API
answers 400 naming it.
"""
from __future__ import annotations

import base64
import binascii
import re
from urllib.parse import parse_qsl

from django.core.exceptions import ValidationError

STATE_MAX = 8_000
CAPTION_MAX = 300
TEXT_MAX = 2_000
THUMBNAIL_MAX = 300 * 1024
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
DATA_URL_PREFIX = "data:image/png;base64,"

# Printable ASCII but for what a URL cannot carry raw in its query (WHATWG's query percent-encode set and
# the backslash): anything else must come percent-encoded, as the browser's URLSearchParams writes it.
_NOT_IN_QUERY = re.compile(r'[^\x21-\x7e]|["#<>`\\]')
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")


def state_clean(state, *, field: str = "state") -> str:
    """The workspace query string without its "?" (one leading "?" is dropped), or a ValidationError.

    It is only ever used after ``/investigations/<pk>/workspace/?``, so its content is not interpreted here:
    ``javascript:alert(1)`` is a query with one odd key, harmless. What is refused is what is not a query
    string at all: raw spaces, quotes, "#", "<", ">", control or non-ASCII characters, a "%" not followed by
    two hex digits, escapes that do not decode to UTF-8, and more than STATE_MAX characters.
    """
    if not isinstance(state, str):
        raise ValidationError({field: "The state must be text: the workspace URL's query string."})
    state = state.removeprefix("?")
    if len(state) > STATE_MAX:
        raise ValidationError({field: f"The state holds at most {STATE_MAX:,} characters (this one: {len(state):,})."})
    bad = _NOT_IN_QUERY.search(state)
    if bad:
        raise ValidationError({field: f"The state is not a query string: {bad.group()!r} at position {bad.start()} "
                                      "must be percent-encoded."})
    bad = _BAD_ESCAPE.search(state)
    if bad:
        raise ValidationError({field: f"The state is not a query string: the '%' at position {bad.start()} is not "
                                      "followed by two hex digits."})
    try:
        parse_qsl(state, keep_blank_values=True, errors="strict", max_num_fields=STATE_MAX)
    except (UnicodeDecodeError, ValueError) as exc:
        raise ValidationError({field: f"The state is not a query string ({exc.__class__.__name__})."}) from None
    return state


def caption_clean(caption) -> str:
    caption = (caption or "").strip() if isinstance(caption, str | None) else None
    if not caption:
        raise ValidationError({"caption": "A pin needs a caption."})
    if len(caption) > CAPTION_MAX:
        raise ValidationError({"caption": f"A caption holds at most {CAPTION_MAX} characters."})
    if "\x00" in caption:
        raise ValidationError({"caption": "A caption cannot hold a NUL character."})
    return caption


def text_clean(text, *, field: str) -> str:
    text = (text or "").strip() if isinstance(text, str | None) else None
    if text is None:
        raise ValidationError({field: "The connecting text must be text."})
    if len(text) > TEXT_MAX:
        raise ValidationError({field: f"The connecting text holds at most {TEXT_MAX:,} characters."})
    if "\x00" in text:
        raise ValidationError({field: "The connecting text cannot hold a NUL character."})
    return text


def png_check(data: bytes | None) -> bytes | None:
    """``data`` when it is a PNG (its signature, then the IHDR chunk every PNG starts with) of at most
    THUMBNAIL_MAX bytes; None stays None. The page serves it as image/png with nosniff, so nothing else may in."""
    if data is None:
        return None
    if len(data) > THUMBNAIL_MAX:
        raise ValidationError({"thumbnail": f"A thumbnail is at most {THUMBNAIL_MAX // 1024} KB "
                                            f"(this one: {len(data) / 1024:,.0f} KB)."})
    if not (data.startswith(PNG_SIGNATURE) and data[12:16] == b"IHDR"):
        raise ValidationError({"thumbnail": "A thumbnail must be a PNG image."})
    return bytes(data)


def png_from_data_url(text: str | None) -> bytes | None:
    """The bytes of a ``data:image/png;base64,...`` URL (what ``canvas.toDataURL()`` gives); None or "" → None."""
    if not text:
        return None
    if not text.startswith(DATA_URL_PREFIX):
        raise ValidationError({"thumbnail": "A thumbnail must be a data URL: data:image/png;base64,..."})
    payload = text[len(DATA_URL_PREFIX):]
    if len(payload) > (THUMBNAIL_MAX + 2) // 3 * 4 + 4:  # refuse before decoding what cannot fit
        raise ValidationError({"thumbnail": f"A thumbnail is at most {THUMBNAIL_MAX // 1024} KB."})
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError({"thumbnail": "The thumbnail's data URL is not valid base64."}) from None
    return png_check(data)
