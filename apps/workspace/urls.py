from django.urls import path  # noqa: F401

import apps.common.converters  # noqa: F401  (registers <id:...>)

urlpatterns = []
