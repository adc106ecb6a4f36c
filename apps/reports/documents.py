"""The report as a document: self-contained HTML, a PDF of that HTML (WeasyPrint), and Markdown with its figures as
PNG files in a zip. One template (``templates/reports/document.html``) serves the HTML and the PDF, with print CSS:
page numbers, a running title, a table of contents whose entries carry their page numbers in the PDF.

Self-contained means the file asks nothing of any server: figures are data URLs, the CSS is inline, there is no
script, and a Content-Security-Policy in the file itself (``default-src 'none'``) forbids any fetch should a
browser open it. WeasyPrint's fetcher is given only ``data:`` to read.
"""
from __future__ import annotations

import base64
import io
import json
import logging
import re
import zipfile
from dataclasses import dataclass
from urllib.parse import quote

from django.template.loader import render_to_string
from django.urls import reverse

from apps.reports.content import Content
from apps.reports.models import Section

POST_TEXT_MAX = 400  # characters of a post shown in a table


@dataclass(frozen=True)
class Built:
    data: bytes
    pages: int | None = None


def html_document(content: Content) -> str:
    return render_to_string("reports/document.html", _context(content, figure=_data_url))


def html_build(content: Content) -> Built:
    return Built(html_document(content).encode("utf-8"))


def pdf_build(content: Content) -> Built:
    """The HTML document laid out by WeasyPrint (imported here: it loads Pango, which costs a second)."""
    # WeasyPrint logs a line per step and per page laid out (some at import): not for the worker's log.
    logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    fetcher = URLFetcher(allowed_protocols={"data"}, timeout=1)
    document = HTML(string=html_document(content), url_fetcher=fetcher, base_url=None).render()
    return Built(document.write_pdf(), pages=len(document.pages))


def _data_url(item: dict) -> str:
    return f"data:image/png;base64,{base64.b64encode(item['png']).decode('ascii')}"


def _context(content: Content, *, figure) -> dict:
    storyline = [{**item, "src": figure(item) if item.get("png") else ""} for item in content.storyline]
    methods = [{**row, "params_rows": _rows(row["params"]), "provenance_rows": _rows(row["job"]["provenance"])}
               for row in content.methods]
    return {
        "content": content,
        "investigation_url": content.link(reverse("investigation-detail", args=[content.investigation.pk])),
        "investigation": content.investigation,
        "show": {section: True for section in content.sections},
        "toc": [{"id": s, "title": Section(s).label.split(":")[0]} for s in content.sections],
        "storyline": storyline,
        "methods": methods,
        "post_text_max": POST_TEXT_MAX,
    }


def _rows(values: dict) -> list[tuple[str, str]]:
    """A parameter or provenance dict as (key, value) rows, each value compact JSON (strings as they are)."""
    return [(str(k), v if isinstance(v, str) else json.dumps(v, separators=(", ", ": "), default=str,
                                                           ensure_ascii=False))
            for k, v in sorted((values or {}).items())]


def _json(value) -> str:
    return json.dumps(value, indent=1, sort_keys=True, default=str, ensure_ascii=False)


# Markdown ---------------------------------------------------------------------------------------

MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|#!~])")


def md(text) -> str:
    """Untrusted text on one Markdown line: whitespace folded, every character with a meaning escaped."""
    return MD_SPECIAL.sub(r"\\\1", " ".join(str(text if text is not None else "").split()))


def md_build(content: Content) -> Built:
    """``report.md`` and ``figures/pin-<id>.png`` in a zip (deflated; the PNGs are stored as they are)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("report.md", markdown_text(content))
        for name, png in content.figures.items():
            archive.writestr(zipfile.ZipInfo(f"figures/{name}", date_time=(1980, 1, 1, 0, 0, 0)), png,
                             compress_type=zipfile.ZIP_STORED)
    return Built(out.getvalue())


def markdown_text(content: Content) -> str:
    lines = [f"# {md(content.investigation.name)}", "", "Case report", "",
             f"- Generated: {content.generated_at:%Y-%m-%d %H:%M} UTC" + (f" by {md(content.generated_by)}"
                                                                          if content.generated_by else ""),
             f"- Sections: {', '.join(Section(s).label.split(':')[0] for s in content.sections)}", ""]
    for section in content.sections:
        lines += [f"## {Section(section).label.split(':')[0]}", ""]
        lines += _MD_SECTIONS[section](content)
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _table(header: list[str], rows: list[list]) -> list[str]:
    if not rows:
        return ["_None._"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(md(cell) for cell in row) + " |" for row in rows]


def _fenced(text: str) -> list[str]:
    """A code block whose fence is longer than any run of backticks inside (a parameter may hold some)."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return [fence + "json", text, fence]


def md_url(url: str) -> str:
    """A link target that cannot end the Markdown link early: spaces, parentheses and angle brackets encoded."""
    return quote(url, safe=";/?:@&=+$,-_.!~*'#%[]")


def _md_summary(content: Content) -> list[str]:
    if content.investigation.description:
        out = [md(content.investigation.description), ""]
    else:
        out = []
    out += ["### Collections", ""]
    out += _table(["Collection", "Posts", "Accounts", "First post", "Last post"],
                  [[c["name"], c["posts"], c["accounts"], (c["first_post"] or "")[:10], (c["last_post"] or "")[:10]]
                   for c in content.collections])
    out += ["", "### Analyses", ""]
    out += _table(["#", "Analysis", "Collection", "Run", "Summary"],
                  [[a["id"], a["title"], a["collection"], f"{a['created_at']:%Y-%m-%d %H:%M}", a["summary"]]
                   for a in content.analyses])
    return out


def _md_storyline(content: Content) -> list[str]:
    out = []
    for item in content.storyline:
        if item["text"]:
            out += [md(item["text"]), ""]
        if item["kind"] == "pin":
            out.append(f"### {item['step']}. {md(item['caption'])}")
            out.append("")
            if item["png"]:
                out += [f"![{md(item['caption'])}](figures/{item['figure']})", ""]
            out += [f"[Reopen this view]({md_url(item['url'])}) · pinned by {md(item['created_by'])} on "
                    f"{item['created_at']:%Y-%m-%d %H:%M}", ""]
        else:
            out += [f"### {item['step']}. Note #{item['note_id']}" + (f" on {md(item['target'])}"
                                                                      if item["target"] else ""), ""]
            out += [item["markdown"], "", f"_{md(item['author'])}, {item['updated_at']:%Y-%m-%d %H:%M}_", ""]
    return out or ["_The storyline is empty._"]


def _md_flagged(content: Content) -> list[str]:
    out = []
    for entry in content.flagged:
        model = entry["model"]
        out += [f"### {md(entry['title'])} #{entry['id']}: {md(model['name'])} on {md(entry['collection'])}", ""]
        out.append(f"Threshold {entry['threshold']:.2f} ({entry['threshold_from']}); {entry['above_threshold']} of "
                   f"{entry['posts_scored']} posts at or above it. Model metrics (held out): "
                   f"{model['metrics_text'] or 'none stored'}.")
        out += ["", ("**" + md(entry["trust"]["text"]) + "**") if entry["trust"]["mostly_outside"]
                else md(entry["trust"]["text"])]
        out += ["", "Top posts by score:", ""]
        out += _table(["Score", "Account", "Time", "Post"],
                      [[f"{p['score']:.3f}" + (" ⚑" if p["flagged"] else "") + (" (unreliable)" if p["unreliable"]
                                                                                else ""), p["account"],
                        f"{p['time']:%Y-%m-%d %H:%M}" if p["time"] else "", p["text"][:POST_TEXT_MAX]]
                       for p in entry["top_posts"]])
        out += ["", "Accounts by mean score:", ""]
        out += _table(["Account", "Posts", "Mean", "Max", "Share ≥ threshold"],
                      [[a.get("account"), a.get("posts"), f"{a.get('mean', 0):.3f}", f"{a.get('max', 0):.3f}",
                        f"{a.get('share_above', 0):.0%}"] for a in entry["accounts"]])
        out.append("")
    return out or ["_No score analysis in this investigation._"]


def _md_communities(content: Content) -> list[str]:
    out = []
    for entry in content.communities:
        out += [f"### {md(entry['title'])} #{entry['id']} on {md(entry['collection'])}", "",
                f"{entry['nodes']} nodes, {entry['edges_total']} edges, {entry['communities_total']} communities. "
                "Network files: " + ", ".join(f"[{e['format']}]({md_url(e['url'])})" for e in entry["exports"]), ""]
        out += _table(["Community", "Size", "Top members", "Top entities"],
                      [[c["number"], c["size"], ", ".join(c["members"]),
                        ", ".join(f"{e.get('entity')} ({e.get('count')})" for e in c["entities"])]
                       for c in entry["communities"]])
        out.append("")
    return out or ["_No network analysis in this investigation._"]


def _md_disarm(content: Content) -> list[str]:
    out = []
    for group in content.disarm:
        out += [f"### {md(group['tactic'])}", ""]
        for t in group["techniques"]:
            out += [f"- **{md(t['external_id'])} {md(t['name'])}**"]
            out += [f"  - on {md(tag['target'])}" + (f", seen {tag['seen_on']}" if tag["seen_on"] else "")
                    + (f": {md(tag['procedure'])}" if tag["procedure"] else "") for tag in t["tags"]]
        out.append("")
    return out or ["_No DISARM technique is tagged in this investigation._"]


def _md_methods(content: Content) -> list[str]:
    out = []
    for row in content.methods:
        job = row["job"]
        out += [f"### {md(row['title'])} #{row['id']} ({md(row['kind'])}) on {md(row['collection'])}", "",
                f"Run by {md(row['created_by']) or 'unknown'}; job #{job['id']}, "
                + (f"{job['duration_s']:.1f} s" if job["duration_s"] is not None else "duration unknown") + ".", ""]
        out += ["Parameters:", "", *_fenced(_json(row["params"])), ""]
        if row.get("model"):
            metrics = row["model"]["metrics_text"] or "none stored"
            out += [f"Model: {md(row['model']['name'])}; held-out metrics: {metrics}.", ""]
        out += ["Provenance:", "", *_fenced(_json(job["provenance"])), ""]
    return out or ["_No analysis cited._"]


def _md_audit(content: Content) -> list[str]:
    out = []
    if content.audit_total > len(content.audit):
        out += [f"The {len(content.audit):,} newest of {content.audit_total:,} entries.", ""]
    return out + _table(["When (UTC)", "Who", "Action", "Summary"],
                        [[f"{e['at']:%Y-%m-%d %H:%M:%S}", e["actor"], e["action"], e["summary"]]
                         for e in content.audit])


_MD_SECTIONS = {
    Section.SUMMARY: _md_summary,
    Section.STORYLINE: _md_storyline,
    Section.FLAGGED: _md_flagged,
    Section.COMMUNITIES: _md_communities,
    Section.DISARM: _md_disarm,
    Section.METHODS: _md_methods,
    Section.AUDIT: _md_audit,
}
