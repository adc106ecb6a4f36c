from django.apps import AppConfig


class TriageConfig(AppConfig):
    name = "apps.triage"
    label = "triage"
    verbose_name = "Triage queues"

    def ready(self):
        # Retraining a queue (active learning) is an analysis kind like the detectors, so the job framework, the
        # analyses API and ``run_analysis`` run it; it lives with the queues it retrains and registers itself here
        # (the analyses app, listed first, has registered its own kinds by now).
        from apps.analyses.kinds.base import register
        from apps.analyses.services import job_kinds_register
        from apps.triage.retrain import TriageRetrain

        kind = TriageRetrain()
        register(kind)
        job_kinds_register((kind,))
