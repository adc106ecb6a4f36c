from __future__ import annotations

from django.db.models import QuerySet

from apps.investigations.models import Investigation, Role
from apps.investigations.selectors import member_object_get
from apps.jobs.models import Job


def job_get(*, user, job_id: int, role: str = Role.VIEWER) -> Job:
    return member_object_get(user=user, queryset=Job.objects.select_related("investigation"), pk=job_id, role=role)


def job_list(*, investigation: Investigation) -> QuerySet[Job]:
    return Job.objects.filter(investigation=investigation).select_related("created_by")
