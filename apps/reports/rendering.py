"""Notes as a report shows them: rendered by the notes app's own sanitiser, then made fit for a file that leaves the
portal.

``apps.notes.rendering.markdown_to_html`` already removes every script, handler and ``javascript:`` URL; raw HTML in
a note is shown as text (markdown-it escapes it). A report goes further, because it is read offline, printed and
handed to other teams:

1. the text of raw ``<script>``/``<style>`` blocks a note quotes is dropped (the notes page shows it escaped, which
   is inert, but a printed report would carry the code as prose);
2. images are never fetched: an ``<img>`` becomes its alternative text and its address, as text;
3. links to other hosts become their text and their address, as text: the file makes no request of its own, and a
   reader does not reach an operation's page by a stray click (a visit can tell its owner that someone looked);
4. links into the portal (``/...``) are made absolute with the portal's address, when the report has one;
5. nh3 cleans the result again, so what steps 1–4 wrote is held to the same allow-list.
"""
from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

import nh3

from apps.notes.rendering import URL_SCHEMES, markdown_to_html

SCRIPT_TEXT = re.compile(r"&lt;(script|style)\b.*?(&lt;/\1\s*&gt;|\Z)", re.IGNORECASE | re.DOTALL)
SCRIPT_RAW = re.compile(r"<(script|style)\b.*?(</\1\s*>|\Z)", re.IGNORECASE | re.DOTALL)
IMAGE = re.compile(r"<img\b([^>]*)>", re.IGNORECASE)
LINK = re.compile(r"<a\b([^>]*)>(.*?)</a>", re.IGNORECASE | re.DOTALL)
ATTRIBUTE = re.compile(r'(\w+)="([^"]*)"')
REMOVED = "<em>[script removed]</em>"
TAGS = nh3.ALLOWED_TAGS - {"img"}


def note_report_html(body: str, *, base_url: str = "") -> str:
    """A note's Markdown as safe, self-contained HTML for a report (the steps in the module's docstring)."""
    out = SCRIPT_TEXT.sub(REMOVED, markdown_to_html(body))
    out = IMAGE.sub(_image_as_text, out)
    out = LINK.sub(lambda m: _link(m, base_url), out)
    return nh3.clean(out, tags=TAGS, url_schemes=URL_SCHEMES, link_rel="noopener noreferrer nofollow")


def note_report_markdown(body: str) -> str:
    """A note's Markdown for the Markdown report: script blocks dropped, and every ``<`` escaped so a renderer that
    does allow HTML shows a quoted tag as text, as the portal does."""
    text = SCRIPT_RAW.sub("*[script removed]*", body or "")
    return text.replace("\\<", "<").replace("<", "\\<")


def _attributes(raw: str) -> dict[str, str]:
    return {name.lower(): html.unescape(value) for name, value in ATTRIBUTE.findall(raw)}


def _image_as_text(match: re.Match) -> str:
    attrs = _attributes(match.group(1))
    alt, src = attrs.get("alt", "").strip(), attrs.get("src", "")
    return f"<span>[image{': ' + html.escape(alt) if alt else ''} — not embedded: {html.escape(src)}]</span>"


def _link(match: re.Match, base_url: str) -> str:
    href, text = _attributes(match.group(1)).get("href", ""), match.group(2)
    parts = urlsplit(href)
    if href.startswith("/") and not href.startswith("//"):
        return f'<a href="{html.escape(base_url.rstrip("/") + href)}">{text}</a>' if base_url else text
    if parts.scheme in ("http", "https") and not _same_host(parts.netloc, base_url):
        shown = html.escape(href)
        return shown if html.unescape(text).strip() == href else f"{text} <span>({shown})</span>"
    if parts.scheme in ("http", "https"):  # into the portal, given absolute
        return f'<a href="{html.escape(href)}">{text}</a>'
    return text  # mailto: and anything else: its text only


def _same_host(netloc: str, base_url: str) -> bool:
    return bool(base_url) and netloc.lower() == urlsplit(base_url).netloc.lower()
