"""System checks for a deployment."""
from __future__ import annotations

from django.conf import settings
from django.core.checks import Warning, register
from django.core.files.storage import storages


@register("staticfiles", deploy=True)
def collectstatic_ran(app_configs, **kwargs):
    storage = storages["staticfiles"]
    manifest = getattr(storage, "manifest_name", None)
    if settings.DEBUG or manifest is None or storage.exists(manifest):
        return []
    return [Warning(f"{settings.STATIC_ROOT} has no {manifest}: pages load no CSS or scripts.",
                    hint="Run `manage.py collectstatic --noinput` after each deploy.", id="common.W001")]
