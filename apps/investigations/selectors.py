"""Access control, once: every read of anything inside an investigation goes through here.

A user who is not a member gets ``Http404`` (the investigation might as well not exist); a member
whose role is too low for the action gets ``PermissionDenied`` (403).
"""
from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404

from apps.investigations.models import ROLE_RANK, Investigation, Membership, Role


def investigation_list(*, user) -> QuerySet[Investigation]:
    if not user.is_authenticated:
        return Investigation.objects.none()
    return Investigation.objects.filter(memberships__user=user).order_by("-created_at")


def membership_get(*, user, investigation_id: int) -> Membership:
    """The user's membership of the investigation, or 404 when there is none."""
    if not user.is_authenticated:
        raise Http404("No such investigation")
    try:
        return Membership.objects.select_related("investigation").get(investigation_id=investigation_id, user=user)
    except Membership.DoesNotExist:
        raise Http404("No such investigation") from None


def investigation_get(*, user, investigation_id: int, role: str = Role.VIEWER) -> Investigation:
    membership = membership_get(user=user, investigation_id=investigation_id)
    role_require(membership=membership, role=role)
    return membership.investigation


def role_require(*, membership: Membership, role: str) -> None:
    if not membership.allows(role):
        raise PermissionDenied(f"This needs the {role} role; you are a {membership.role} of this investigation.")


def role_of(*, user, investigation: Investigation) -> str | None:
    row = Membership.objects.filter(investigation=investigation, user=user).values_list("role", flat=True).first()
    return row


def member_object_get(*, user, queryset: QuerySet, pk: int, role: str = Role.VIEWER, via: str = "investigation"):
    """Fetch one object of ``queryset`` whose investigation (reached through ``via``) the user belongs to.

    Non-members get 404 exactly as for a missing object, so ids reveal nothing.
    """
    if not user.is_authenticated:
        raise Http404("Not found")
    obj = queryset.filter(pk=pk, **{f"{via}__memberships__user": user}).first()
    if obj is None:
        raise Http404("Not found")
    investigation_id = _follow(obj, via).pk
    role_require(membership=membership_get(user=user, investigation_id=investigation_id), role=role)
    return obj


def _follow(obj, via: str):
    for part in via.split("__"):
        obj = getattr(obj, part)
    return obj


def members_list(*, investigation: Investigation) -> QuerySet[Membership]:
    return investigation.memberships.select_related("user").order_by("user__username")


ROLES = [r for r, _ in sorted(ROLE_RANK.items(), key=lambda kv: kv[1])]
