from django.apps import AppConfig


class SalonsConfig(AppConfig):
    name = "apps.salons"
    label = "salons"
