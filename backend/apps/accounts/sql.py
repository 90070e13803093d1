"""The accounts app's hand-written SQL: the user a bearer token names, read from
the database on every authenticated request, and the lock that serialises login
codes for one phone.

Invariant: ``user_by_id`` returns exactly what ``User.objects.get(pk=...)`` would
(every concrete field, through the fields' own converters: ``User.objects.raw``
decodes the row), or None where the ORM raises ``DoesNotExist``.
``apps/accounts/tests/test_sql.py`` compares them field by field on both databases.
Why it is written once instead of built by the ORM on every request: docs/decisions.md
("The token's user read").
"""

import functools

from django.db import connection
from rest_framework_simplejwt.settings import api_settings

from apps.accounts.models import User


def user_by_id(user_id) -> User | None:
    """The user whose ``USER_ID_FIELD`` (the primary key) is ``user_id``, or None."""
    return next(iter(User.objects.raw(_user_by_id_statement(connection.vendor), [user_id])), None)


@functools.cache
def _user_by_id_statement(vendor: str) -> str:
    # Per database vendor: quoting differs (one settings module serves one vendor).
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in User._meta.concrete_fields)
    key = quote(User._meta.get_field(api_settings.USER_ID_FIELD).column)
    return f"SELECT {columns} FROM {quote(User._meta.db_table)} WHERE {key} = %s"  # noqa: S608 - our model's names


def lock_phone_for_login_codes(phone: str) -> None:
    """Serialise login-code requests for ``phone`` until the transaction ends
    (PostgreSQL: a transaction-level advisory lock, which PgBouncer's transaction
    pooling keeps; SQLite needs none: its write lock, taken at BEGIN, serialises)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"otp:{phone}"])
