from django.db import models
from django.utils import timezone


class Item(models.Model):
    name = models.CharField(max_length=100)
    starts_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.name
