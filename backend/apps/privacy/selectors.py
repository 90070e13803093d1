"""Reads about a person's data: their export, their requests, and who was in a window of time.

The export is a dict of sections, each a function of the person. Most sections
are "the rows of a model that belong to the person", declared in one line with
``rows_of``; each is one query, so an export costs the same few queries whatever
the number of bookings and messages (a test pins the count).
"""

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.apps import apps
from django.db.models import Case, Count, F, IntegerField, Q, Value, When
from rest_framework import serializers
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from apps.accounts.models import OneTimeCode, User
from apps.bookings.models import Booking
from apps.common.errors import AppError
from apps.common.phones import normalize_mobile
from apps.notifications.models import DeliveryAttempt, InboundMessage, MarketingConsent, Notification
from apps.privacy.models import DataRequest
from apps.privacy.redaction import phone_forms


@dataclass(frozen=True)
class Section:
    """One part of the export: how to read it for a person, and its shape for the
    OpenAPI schema, from one declaration."""

    read: Callable[[User], Any]
    schema: Callable[[], serializers.Field]


def _their_booking_id():
    """A message's booking id when the booking is the person's (as customer or staff member), else null."""
    theirs = Q(booking__customer=F("recipient")) | Q(booking__staff=F("recipient"))
    return Case(When(theirs, then=F("booking_id")), default=Value(None), output_field=IntegerField())


def rows_of(
    model: str,
    *,
    owner: str | Callable[[User], Q],
    fields: Iterable[str],
    order_by: Iterable[str] = ("id",),
    one: bool = False,
    computed: dict[str, Callable[[User], Any]] | None = None,
) -> Section:
    """A section made of the rows of ``model`` ("app_label.Model") that belong to
    the person, as plain values: those whose ``owner`` field is the person (or that
    the ``owner`` function's condition selects). A field written ``"text=message"``
    is the column ``message`` (or a lookup such as ``salon__name``) under the key
    ``text``. ``one``: the first row, not a list. ``computed``: fields whose value
    is an expression of the person rather than the column (documented as the
    column). The model is looked up when the export runs, so a section may name a
    model another app adds later. One query."""
    fields = tuple(fields)
    columns = {key: column or key for key, _, column in (name.partition("=") for name in fields)}

    def read(person: User):
        condition = owner(person) if callable(owner) else Q(**{owner: person})
        rows = apps.get_model(model).objects.filter(condition).order_by(*order_by)
        extra = computed or {}
        plain = [key for key, column in columns.items() if key == column and key not in extra]
        renamed = {key: F(column) for key, column in columns.items() if key != column and key not in extra}
        # A computed value cannot take a column's own name in the query: it is read under another, then named.
        renamed |= {f"computed_{key}": expression(person) for key, expression in extra.items()}
        values = [
            {key: row[f"computed_{key}" if key in extra else key] for key in columns}
            for row in rows.values(*plain, **renamed)
        ]
        return (values[0] if values else None) if one else values

    def schema() -> serializers.Field:
        found = apps.get_model(model)
        shape = type(
            f"{found.__name__}ExportRow",
            (serializers.Serializer,),
            {key: _schema_field(found, column) for key, column in columns.items()},
        )
        return shape() if one else shape(many=True)

    return Section(read=read, schema=schema)


def _schema_field(model, lookup: str) -> serializers.Field:
    """The DRF field a model's column is read as (``booking_id``, ``salon__name``)."""
    *path, last = lookup.split("__")
    for step in path:
        model = model._meta.get_field(step).related_model
    column = model._meta.get_field(last)
    if column.is_relation:
        return serializers.IntegerField(allow_null=column.null)
    if column.choices:
        # Plain strings naming their values: the same vocabularies as enums elsewhere
        # in the schema would collide by name.
        values = ", ".join(str(value) or '""' for value, _label in column.choices)
        return serializers.CharField(allow_blank=column.blank, help_text=f"One of: {values}.")
    field_class, kwargs = serializers.ModelSerializer().build_standard_field(last, column)
    kwargs = {k: v for k, v in kwargs.items() if k not in ("validators", "read_only", "required", "default")}
    return field_class(**kwargs)


def _own_inbound_messages(person: User) -> Q:
    # Messages from their number before it had an account are theirs too.
    theirs = Q(user=person)
    if person.phone:
        theirs |= Q(user__isnull=True, phone__in=phone_forms(person.phone))
    return theirs


# The export's sections, in the order of the document. Adding one is a line here.
EXPORT_SECTIONS: dict[str, Section] = {
    "profile": rows_of(
        "accounts.User",
        owner=lambda person: Q(pk=person.pk),
        one=True,
        fields=(
            "id",
            "phone",
            "name",
            "preferred_language",
            "preferred_channel",
            "sms_opted_out",
            "whatsapp_opted_out",
            "role",
            "salon_id",
            "date_joined",
            "last_login",
        ),
    ),
    "bookings": rows_of(
        "bookings.Booking",
        owner="customer",
        fields=(
            "id",
            "salon_name=salon__name",
            "service_name=service__name",
            "staff_name=staff__name",
            "time_zone=salon__time_zone",
            "start",
            "end",
            "status",
            "note",
            "cancellation_reason",
            "customer_confirmed_at",
            "created_at",
        ),
        order_by=("start", "id"),
    ),
    "messages": rows_of(
        "notifications.Notification",
        owner="recipient",
        # A waiting list offer is filed under the freed booking, someone else's: its id is not theirs.
        computed={"booking_id": lambda person: _their_booking_id()},
        fields=(
            "id",
            "booking_id",
            "event",
            "channel",
            "phone",
            "text=message",
            "status",
            "created_at",
            "sent_at",
            "delivered_at",
            "read_at",
        ),
        order_by=("created_at", "id"),
    ),
    "inbound_messages": rows_of(
        "notifications.InboundMessage",
        owner=_own_inbound_messages,
        fields=("id", "booking_id", "channel", "phone", "text", "button_text", "action", "outcome", "received_at"),
        order_by=("received_at", "id"),
    ),
    "consents": rows_of(
        "notifications.MarketingConsent",
        owner="user",
        fields=("id", "channel", "granted", "at", "source", "wording", "version"),
        order_by=("at", "id"),
    ),
    "data_requests": rows_of(
        "privacy.DataRequest",
        owner="user",
        fields=("id", "kind", "details", "received_at", "due_at", "completed_at", "resolution"),
        order_by=("received_at", "id"),
    ),
}


def export_document(person: User, *, generated_at: datetime) -> dict:
    """Everything we hold about ``person``, one key per section, and when."""
    return {name: section.read(person) for name, section in EXPORT_SECTIONS.items()} | {"generated_at": generated_at}


def export_schema() -> type[serializers.Serializer]:
    """The export document's shape, for the OpenAPI schema: from the same sections."""
    fields = {name: section.schema() for name, section in EXPORT_SECTIONS.items()}
    return type("Export", (serializers.Serializer,), fields | {"generated_at": serializers.DateTimeField()})


def data_request_list(*, user: User):
    """A person's own requests, newest first."""
    return DataRequest.objects.filter(user=user).order_by("-received_at", "-id")


# --- a breach: whose data was in rows created or changed in a window ---------------------
@dataclass
class AffectedPerson:
    user_id: int | None
    phone: str
    name: str = ""
    role: str = ""
    rows: dict[str, int] = field(default_factory=dict)


# table -> (model, the moments a row was created or changed, the lookups naming its people)
_TOUCHED_ROWS = {
    "users": (User, ("date_joined", "last_login"), ("pk",)),
    "bookings": (Booking, ("created_at", "updated_at"), ("customer_id", "staff_id")),
    "messages": (Notification, ("created_at", "updated_at"), ("recipient_id",)),
    "delivery_attempts": (DeliveryAttempt, ("started_at", "finished_at"), ("notification__recipient_id",)),
    "inbound_messages": (InboundMessage, ("received_at", "created_at"), ("user_id",)),
    "data_requests": (DataRequest, ("received_at", "completed_at"), ("user_id",)),
    "consents": (MarketingConsent, ("at",), ("user_id",)),
    "login_tokens": (OutstandingToken, ("created_at",), ("user_id",)),
}
# Rows that name a number rather than an account.
_TOUCHED_NUMBERS = {
    "login_codes": (OneTimeCode, ("created_at", "used_at"), Q()),
    "inbound_messages": (InboundMessage, ("received_at", "created_at"), Q(user__isnull=True)),
}


def _in_window(moments: Iterable[str], start: datetime, end: datetime) -> Q:
    touched = Q()
    for moment in moments:
        touched |= Q(**{f"{moment}__gte": start, f"{moment}__lt": end})
    return touched


def _e164(raw: str) -> str:
    try:
        return normalize_mobile(raw.removeprefix("whatsapp:"))
    except AppError:
        return raw


def people_affected(*, start: datetime, end: datetime) -> list[AffectedPerson]:
    """The people whose data was in rows created or changed in ``[start, end)``,
    with how many rows of each table: what a breach report to SDAIA and the letters
    to the people need. A number that wrote to us or asked for a login code is its
    account's if it has one, else listed by itself. One aggregate query per table."""
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    for table, (model, moments, lookups) in _TOUCHED_ROWS.items():
        touched = model.objects.filter(_in_window(moments, start, end))
        for lookup in lookups:
            for row in touched.exclude(**{f"{lookup}__isnull": True}).values(lookup).annotate(n=Count("pk")):
                counts[row[lookup]][table] = counts[row[lookup]].get(table, 0) + row["n"]
    numbers: dict[str, dict[str, int]] = defaultdict(dict)
    for table, (model, moments, only) in _TOUCHED_NUMBERS.items():
        touched = model.objects.filter(only, _in_window(moments, start, end)).exclude(phone="")
        for row in touched.values("phone").annotate(n=Count("pk")):
            phone = _e164(row["phone"])
            numbers[phone][table] = numbers[phone].get(table, 0) + row["n"]
    owners = dict(User.objects.filter(phone__in=numbers).values_list("phone", "pk"))
    for phone in list(numbers):
        if phone in owners:
            for table, n in numbers.pop(phone).items():
                counts[owners[phone]][table] = counts[owners[phone]].get(table, 0) + n
    users = User.objects.in_bulk(list(counts))
    found = [
        AffectedPerson(user_id=pk, phone=user.phone or "", name=user.name, role=user.role, rows=counts[pk])
        for pk, user in sorted(users.items())
    ]
    return found + [AffectedPerson(user_id=None, phone=phone, rows=rows) for phone, rows in sorted(numbers.items())]
