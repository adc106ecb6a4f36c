"""Case report build time: the demo investigation with 10 pins and 3 analyses, as HTML and as PDF.

    .venv/bin/python bench/report.py [--pins 10] [--repeat 3]

Setup, not measured: a fresh SQLite file in a temp VAR dir (the embedded default), ``manage.py demo_setup
--no-analyses`` (the simulated operation, about 20,000 posts), the demo's three analyses run in this process
(coordination on one-minute bins, co-action, hashtag network), a DISARM technique tagged on a note and on an
account, three notes, and ``--pins`` pins whose thumbnails are 640×400 PNG charts (as the workspace captures them),
told in a storyline with the notes between them.

Measured: ``manage.py build_report``'s own path (the report job, in this process) for every section, as HTML and
as PDF, the median of ``--repeat`` runs each; the PDF's page count. Also the Markdown zip and the STIX bundle, once.
Ends with one JSON line: ``{"bench": "report", "html_s": ..., "pdf_s": ..., "pages": ...}``.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def thumbnail(seed: int) -> bytes:
    """A chart-like PNG: axes, a noisy time series and a scatter, 640×400 (tens of KB, like a captured view)."""
    from PIL import Image, ImageDraw

    rng = random.Random(seed)
    image = Image.new("RGB", (640, 400), "white")
    draw = ImageDraw.Draw(image)
    draw.line([(40, 20), (40, 370), (620, 370)], fill="black", width=2)
    y, points = 200.0, []
    for x in range(42, 620, 3):
        y = min(360.0, max(30.0, y + rng.gauss(0, 8)))
        points.append((x, y))
    draw.line(points, fill=(36, 87, 166), width=2)
    for _ in range(400):
        x, y = rng.uniform(45, 615), rng.uniform(25, 365)
        r = rng.uniform(1.5, 5)
        draw.ellipse([x - r, y - r, x + r, y + r], fill=(rng.randrange(256), 80, 40))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def setup(pins: int) -> dict:
    """The demo investigation, its three analyses, DISARM tags, notes and a storyline of ``pins`` pins."""
    from django.core.management import call_command

    from apps.analyses.services import analysis_start
    from apps.collections.models import Account, Collection
    from apps.investigations.management.commands.demo_setup import DEMO_ANALYSES, DEMO_COLLECTION, DEMO_USER
    from apps.investigations.models import Investigation
    from apps.jobs.services import job_execute
    from apps.notes.models import DisarmTactic, DisarmTechnique
    from apps.notes.services import note_create, tag_add
    from apps.pins.services import pin_create, storyline_set

    started = time.perf_counter()
    call_command("demo_setup", "--no-analyses", stdout=io.StringIO())
    investigation = Investigation.objects.get(memberships__user__username=DEMO_USER)
    user = investigation.memberships.get().user
    collection = Collection.objects.get(investigation=investigation, name=DEMO_COLLECTION)
    import_s = time.perf_counter() - started
    started = time.perf_counter()
    for kind, params in DEMO_ANALYSES:
        job = job_execute(job_id=analysis_start(investigation=investigation, user=user, kind=kind,
                                                collection=collection, params=params, enqueue=False).pk)
        assert job.status == "succeeded", job.error
    analyses_s = time.perf_counter() - started
    tactic = DisarmTactic.objects.create(external_id="TA17", name="Maximise Exposure", shortname="maximise-exposure")
    DisarmTechnique.objects.create(external_id="T0049", name="Flood Information Space", tactic=tactic)
    notes = [note_create(investigation=investigation, user=user, body=body) for body in (
        "The **seed accounts** post first; the operation's accounts repeat them within a minute.",
        "Co-action: the same hashtags in the same windows, see the network's largest community.",
        "Hashtag network: the operation's tags form their own community.\n\n- #damdeal\n- #wakeup",
    )]
    tag_add(investigation=investigation, user=user, technique="T0049", target_type="note",
            target={"note": notes[0].pk}, procedure="Bursts of identical posts")
    account = Account.objects.filter(collection=collection, placeholder=False).order_by("id").first()
    tag_add(investigation=investigation, user=user, technique="T0049", target_type="account",
            target={"account": account.pk}, procedure="Seeds the bursts")
    made = [pin_create(investigation=investigation, user=user, caption=f"View {i + 1}: evidence of the burst",
                       state=f"collection={collection.pk}&view={i}", thumbnail_png=thumbnail(i), add_to_storyline=False)
            for i in range(pins)]
    items = [{"pin": p.pk} for p in made]
    for i, note in enumerate(notes):
        items.insert(min(len(items), 3 * i + 2), {"note": note.pk, "text": f"Step {i + 1} of the argument."})
    storyline_set(investigation=investigation, user=user, items=items)
    return {"investigation": investigation.name, "user": user.username, "posts": collection.stats.get("posts"),
            "import_s": round(import_s, 1), "analyses_s": round(analyses_s, 1)}


def build(case: dict, fmt: str) -> tuple[float, dict]:
    from django.core.management import call_command

    out = io.StringIO()
    started = time.perf_counter()
    call_command("build_report", "--investigation", case["investigation"], "--user", case["user"], "--format", fmt,
                 "--base-url", "https://portal.example/", stdout=out)
    seconds = time.perf_counter() - started
    summary = json.loads(out.getvalue().strip().splitlines()[-1])
    assert summary["status"] == "succeeded", summary
    return seconds, summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pins", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-report-") as tmp:
        os.environ.update({"MURMURATION_VAR_DIR": tmp, "DJANGO_SETTINGS_MODULE": "analyst_portal.settings",
                           "HF_HUB_OFFLINE": "1"})
        for name in ("DATABASE_URL", "REDIS_URL", "MEDIA_ROOT"):
            os.environ.pop(name, None)
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", "--no-input", verbosity=0)
        case = setup(args.pins)
        print(f"setup: {case}", flush=True)
        runs = {fmt: [build(case, fmt) for _ in range(args.repeat if fmt in ("html", "pdf") else 1)]
                for fmt in ("html", "pdf", "md", "stix")}
    seconds = {fmt: statistics.median(s for s, _ in rows) for fmt, rows in runs.items()}
    last = {fmt: rows[-1][1] for fmt, rows in runs.items()}
    for fmt in runs:
        print(f"{fmt}: {seconds[fmt]:.2f} s, {last[fmt]['size']:,} bytes", flush=True)
    print(json.dumps({
        "bench": "report",
        "html_s": round(seconds["html"], 2),
        "pdf_s": round(seconds["pdf"], 2),
        "pages": last["pdf"]["pages"],
        "md_s": round(seconds["md"], 2),
        "stix_s": round(seconds["stix"], 2),
        "html_bytes": last["html"]["size"],
        "pdf_bytes": last["pdf"]["size"],
        "pins": args.pins,
        "analyses": 3,
        "posts": case["posts"],
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}",
    }))


if __name__ == "__main__":
    main()
