"""What the personal-data tests share: where a phone number is held, and a schema check."""

from datetime import timedelta

import httpx
from django.apps import apps
from django.db import models
from django.db.models.functions import Cast

from apps.privacy.redaction import phone_forms

TEXT_COLUMNS = (models.CharField, models.TextField, models.JSONField)


def text_columns() -> list[tuple[type[models.Model], models.Field]]:
    """Every text, char and JSON column of every table Django knows (ours, auth,
    sessions, the admin's log, the token blacklist, many-to-many tables)."""
    return [
        (model, field)
        for model in apps.get_models(include_auto_created=True)
        if model._meta.managed and not model._meta.proxy
        for field in model._meta.concrete_fields
        if isinstance(field, TEXT_COLUMNS)
    ]


def places_holding(e164: str) -> list[str]:
    """Each column that holds the number in any of its forms: E.164, digits only
    (966...), national (05...), WhatsApp addresses, and the bare national
    significant number (5........), which every other form contains."""
    forms = [*phone_forms(e164), e164[4:]]
    found = []
    for model, field in text_columns():
        rows = model._base_manager.all()
        if isinstance(field, models.JSONField):
            rows = rows.annotate(as_text=Cast(field.attname, models.TextField()))
            column = "as_text"
        else:
            column = field.attname
        for form in forms:
            if rows.filter(**{f"{column}__contains": form}).exists():
                found.append(f"{model._meta.label}.{field.name} holds {form}")
    return found


def validate_against_schema(client, method: str, path: str, response) -> None:
    """Raise unless ``response`` (a Django test response) is what the served OpenAPI
    schema promises for the operation (schemathesis's own conformance checks)."""
    import schemathesis

    schema = schemathesis.openapi.from_dict(client.get("/api/schema/", {"format": "json"}).json())
    answer = httpx.Response(
        response.status_code,
        headers={"content-type": response.get("Content-Type", "application/json")},
        content=response.content,
        request=httpx.Request(method, f"http://testserver{path}"),
    )
    answer.elapsed = timedelta(0)
    schema[path][method].validate_response(answer)
