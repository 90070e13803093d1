"""The floor: the cheapest DRF endpoint on the same stack (gunicorn, PostgreSQL):
a ModelViewSet that creates and lists one kind of row, with no authentication and
no middleware. Every Salon endpoint is measured against it in the same run."""

import os

import dj_database_url

SECRET_KEY = "floor-benchmark-only"  # noqa: S105 - a benchmark's own throw-away key
DEBUG = False
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS = ["django.contrib.contenttypes", "rest_framework", "floorapp"]
MIDDLEWARE: list[str] = []
ROOT_URLCONF = "floor_urls"
DATABASES = {"default": dj_database_url.parse(os.environ["DATABASE_URL"], conn_max_age=60)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "UNAUTHENTICATED_USER": None,
}
