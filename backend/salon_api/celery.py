"""The Celery app: everything that leaves the request path (sending messages,
retries, the sweep of stale messages).

Configured from Django settings (``CELERY_*``). Without ``CELERY_BROKER_URL``
nothing is queued: delivery runs in-process after commit (see
``apps.notifications.services.enqueue_delivery``).
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salon_api.settings")

app = Celery("salon_api")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
