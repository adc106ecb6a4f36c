"""Markdown to safe HTML: markdown-it-py renders, nh3 (ammonia) sanitises.

Rendering alone is not the guard: markdown-it escapes raw HTML and refuses ``javascript:`` links today,
but a plugin or an option turned on later could let either through. nh3's allow-list is the guard: no
``<script>``, no ``on*`` handler, no URL scheme but http(s) and mailto survives it.
"""
from __future__ import annotations

import nh3
from markdown_it import MarkdownIt

_MARKDOWN = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])
URL_SCHEMES = {"http", "https", "mailto"}


def markdown_to_html(body: str) -> str:
    return nh3.clean(_MARKDOWN.render(body or ""), url_schemes=URL_SCHEMES, link_rel="noopener noreferrer nofollow")
