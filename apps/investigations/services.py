from __future__ import annotations

import shutil

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction

from apps.audit.services import audit_record
from apps.investigations.models import Investigation, Membership, Role


@transaction.atomic
def investigation_create(*, user, name: str, description: str = "") -> Investigation:
    name = name.strip()
    if not name:
        raise ValidationError({"name": "An investigation needs a name."})
    investigation = Investigation.objects.create(name=name, description=description, created_by=user)
    Membership.objects.create(investigation=investigation, user=user, role=Role.OWNER)
    audit_record(investigation=investigation, user=user, action="investigation.create", obj=investigation,
                 summary=f"Created the investigation “{investigation.name}”.")
    return investigation


def member_set(*, investigation: Investigation, username: str, role: str, by=None) -> Membership:
    """Add a member, or change a member's role. The last owner cannot be demoted. ``by``: who did it (the
    audit trail's actor; None for a command or a fixture)."""
    if role not in Role.values:
        raise ValidationError({"role": f"Unknown role {role!r}; choose one of {', '.join(Role.values)}."})
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise ValidationError({"username": f"No user named {username!r}."})
    with transaction.atomic():
        membership = Membership.objects.select_for_update().filter(investigation=investigation, user=user).first()
        if membership and membership.role == Role.OWNER and role != Role.OWNER:
            _require_another_owner(investigation, membership)
        previous = membership.role if membership else None
        membership, _ = Membership.objects.update_or_create(
            investigation=investigation, user=user, defaults={"role": role}
        )
        if previous != role:
            change = f"from {previous} to {role}" if previous else f"as {role}"
            audit_record(investigation=investigation, user=by, action="member.set", obj=membership,
                         summary=f"{'Changed' if previous else 'Added'} {username} {change}.",
                         detail={"username": username, "role": role, "previous_role": previous})
    return membership


def member_remove(*, investigation: Investigation, username: str, by=None) -> None:
    with transaction.atomic():
        membership = Membership.objects.filter(investigation=investigation, user__username=username).first()
        if membership is None:
            raise ValidationError({"username": f"{username!r} is not a member."})
        if membership.role == Role.OWNER:
            _require_another_owner(investigation, membership)
        audit_record(investigation=investigation, user=by, action="member.remove", obj=membership,
                     summary=f"Removed {username} ({membership.role}).",
                     detail={"username": username, "role": membership.role})
        membership.delete()


def _require_another_owner(investigation: Investigation, membership: Membership) -> None:
    others = investigation.memberships.filter(role=Role.OWNER).exclude(pk=membership.pk).exists()
    if not others:
        raise ValidationError({"role": "An investigation must keep at least one owner."})


def investigation_delete(*, investigation: Investigation) -> None:
    """The investigation and everything in it; its text models' weights leave the disk once the delete has
    committed (a rolled-back delete keeps them)."""
    weights = [model.weights_dir for model in investigation.text_models.all()]
    with transaction.atomic():
        investigation.delete()
        transaction.on_commit(lambda: [shutil.rmtree(path, ignore_errors=True) for path in weights])
