"""The hybrid account score's start page: the kind's generated form, with the analyses it stacks (behaviour, score,
network, authorship) offered as selects of the collection's own analyses, newest first. The kind checks what is
posted, as for the API and ``run_analysis hybrid``; the selects only save typing ids."""
from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required

from apps.analyses.forms import ParamsForm
from apps.analyses.hybrid_selectors import NETWORK_KINDS
from apps.analyses.kinds.base import kind_get
from apps.analyses.selectors import analysis_list
from apps.analyses.views import START_TEMPLATES, start_page
from apps.collections.selectors import collection_get
from apps.investigations.models import Role

AUTHORSHIP_SHOWN = 200  # newest authorship analyses offered one by one ("all" covers every one)


class HybridStartForm(ParamsForm):
    """``ParamsForm`` with the stacked analyses as selects: the behaviour analysis is required (the newest is
    preselected); the content, network and authorship signals may be left out ("none")."""

    def __init__(self, data=None, *, collection, **kwargs):
        choices = hybrid_choices(collection)
        super().__init__(data, kind=kind_get("hybrid"), choices=choices, **kwargs)
        none_yet = [("", "— none yet: run Behaviour (TIES) on this collection first —")]
        self._select("behaviour", choices["behaviour"] or none_yet)
        self.fields["behaviour"].initial = choices["behaviour"][0][0] if choices["behaviour"] else ""
        for name in ("score", "network"):
            self._select(name, [("", "none"), *choices[name]])
        if choices["authorship"]:
            self._select("authorship", choices["authorship"], multiple=True)
            self.fields["authorship"].initial = []
        else:  # nothing to pick: the signal is left out
            del self.fields["authorship"]

    def _select(self, name: str, options: list, *, multiple: bool = False) -> None:
        attrs = {"data-testid": f"hybrid-{name}", **({"size": min(6, len(options))} if multiple else {})}
        self.fields[name].widget = (forms.SelectMultiple if multiple else forms.Select)(choices=options, attrs=attrs)


def hybrid_choices(collection) -> dict[str, list[tuple[str, str]]]:
    """(id, label) options of each stacked analysis, the collection's own only, newest first."""
    mine = analysis_list(investigation=collection.investigation).filter(collection=collection)

    def options(kinds, limit=None):
        found = mine.filter(kind__in=kinds)
        return [(str(a.pk), option_label(a)) for a in (found[:limit] if limit else found)]

    authorship = options(["authorship"], AUTHORSHIP_SHOWN)
    return {
        "behaviour": options(["behaviour"]),
        "score": options(["score"]),
        "network": options(NETWORK_KINDS),
        "authorship": [("all", "all (the newest of each account)"), *authorship] if authorship else [],
    }


def option_label(analysis) -> str:
    """“#12 · 2024-03-01 10:00 · Behaviour (TIES) · role ∈ operation · test PR-AUC 0.812”."""
    params, summary = analysis.params, analysis.summary or {}
    parts = [f"#{analysis.pk}", analysis.created_at.strftime("%Y-%m-%d %H:%M"), analysis.title]
    if params.get("label_key"):
        parts.append(f"{params['label_key']} ∈ {', '.join(map(str, params.get('positive_values') or []))}")
    if summary.get("test_pr_auc") is not None:
        parts.append(f"test PR-AUC {summary['test_pr_auc']:.3f}")
    return " · ".join(parts)


@login_required
def hybrid_start_view(request, pk: int):
    """Start a hybrid account score of the collection (editors)."""
    collection = collection_get(user=request.user, collection_id=pk, role=Role.EDITOR)
    form = HybridStartForm(request.POST or None, collection=collection)
    return start_page(request, collection, "hybrid", form, START_TEMPLATES["hybrid"])
