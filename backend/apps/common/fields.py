"""Input fields shared by the API: ids are bounded to what the database can hold,
so an absurd number is a 400, never a database overflow (a 500)."""

from django import forms
from django_filters import rest_framework as filters
from rest_framework import serializers

MAX_ID = 2**63 - 1  # BIGINT on PostgreSQL, INTEGER on SQLite


def IdField(**kwargs) -> serializers.IntegerField:
    return serializers.IntegerField(min_value=1, max_value=MAX_ID, **kwargs)


class IdFilter(filters.NumberFilter):
    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)
