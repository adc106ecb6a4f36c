"""The workspace page: one page per investigation whose panels (posts table, timeline, stored networks,
embedding maps, account, post, notes, pins) share one selection. The page is a shell: static/js/workspace.js
draws every panel from the JSON API (apps.workspace.apis, apps.pins.apis, apps.notes.apis) and keeps the whole
view state in the URL's query string, so a link or a pin reopens the same view for any member."""
from __future__ import annotations

import plotly
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_GET

from apps.analyses.kinds.network import GL_MIN_EDGES
from apps.analyses.selectors import analysis_list
from apps.collections.selectors import collection_list
from apps.investigations.models import Role
from apps.investigations.selectors import membership_get
from apps.notes.models import DisarmTechnique
from apps.workspace.selectors import NETWORK_KINDS

MAP_KIND = "embedding_map"
SCORE_KIND = "score"


def workspace_config(membership) -> dict:
    """What the page needs before its first request: the role, the collections, the analyses each panel can show."""
    investigation = membership.investigation
    analyses = list(analysis_list(investigation=investigation).defer("result"))

    def listed(analysis) -> dict:
        return {"id": analysis.pk, "kind": analysis.kind, "title": analysis.title, "collection": analysis.collection_id,
                "created_at": analysis.created_at.isoformat()}

    def network_listed(analysis) -> dict:
        # The edges the run found (its summary: the result stays unread) pick the panel's renderer before any request.
        summary = analysis.summary if isinstance(analysis.summary, dict) else {}
        return {**listed(analysis), "edges": summary.get("edges")}

    return {
        "investigation": investigation.pk,
        "name": investigation.name,
        "can_edit": membership.allows(Role.EDITOR),
        "collections": [{"id": c.pk, "name": c.name, "posts": (c.stats or {}).get("posts", 0)}
                        for c in collection_list(investigation=investigation)],
        "networks": [network_listed(a) for a in analyses if a.kind in NETWORK_KINDS],
        # From this many edges a network panel draws with graph-gl.js from the binary payload, as the network page does.
        "gl_min_edges": GL_MIN_EDGES,
        "scores": [listed(a) for a in analyses if a.kind == SCORE_KIND],
        "maps": [listed(a) for a in analyses if a.kind == MAP_KIND],
    }


@login_required
@require_GET
def workspace_view(request, pk: int):
    membership = membership_get(user=request.user, investigation_id=pk)
    return render(request, "workspace/workspace.html", {
        "investigation": membership.investigation,
        "membership": membership,
        "config": workspace_config(membership),
        # The technique picker's choices (the framework is imported with `manage.py import_disarm`; none until then).
        "techniques": DisarmTechnique.objects.values_list("external_id", "name"),
        "plotly_version": plotly.__version__,
    })
