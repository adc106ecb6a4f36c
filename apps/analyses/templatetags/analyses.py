"""Analyses on other apps' pages without touching their views: the investigation's table, role checks."""
from __future__ import annotations

from django import template

from apps.analyses.selectors import analysis_list, text_model_list
from apps.investigations.models import ROLE_RANK
from apps.investigations.selectors import role_of

register = template.Library()
RECENT_ANALYSES = 20


@register.inclusion_tag("analyses/_table.html")
def analyses_table(investigation, limit: int = RECENT_ANALYSES):
    """The page calling this has already checked that the user is a member of ``investigation``."""
    return {"analyses": list(analysis_list(investigation=investigation)[:limit]), "investigation": investigation}


@register.simple_tag
def role_allows(user, investigation, role: str) -> bool:
    mine = role_of(user=user, investigation=investigation) if user.is_authenticated else None
    return bool(mine) and ROLE_RANK[mine] >= ROLE_RANK[role]


@register.inclusion_tag("analyses/_text_models_card.html")
def text_models_card(investigation, limit: int = 10):
    """The investigation's text models (the calling page has checked membership)."""
    models = list(text_model_list(investigation=investigation)[:limit + 1])
    return {"text_models": models[:limit], "more": len(models) > limit, "investigation": investigation}
