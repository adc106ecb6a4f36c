"""After migrate, make sure the reaper runs every minute in the cluster's scheduler."""
from django.db.models.signals import post_migrate
from django.dispatch import receiver


@receiver(post_migrate)
def schedule_reaper(sender, **kwargs):
    if getattr(sender, "label", "") != "jobs":
        return
    from django_q.models import Schedule

    Schedule.objects.update_or_create(
        name="jobs-reap-stale",
        defaults={
            "func": "apps.jobs.tasks.job_reap_task",
            "schedule_type": Schedule.MINUTES,
            "minutes": 1,
            "repeats": -1,
        },
    )
