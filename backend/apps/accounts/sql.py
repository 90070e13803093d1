"""The accounts app's hand-written SQL."""

from django.db import connection


def lock_phone_for_login_codes(phone: str) -> None:
    """Serialise login-code requests for ``phone`` until the transaction ends
    (PostgreSQL: a transaction-level advisory lock, which PgBouncer's transaction
    pooling keeps; SQLite needs none: its write lock, taken at BEGIN, serialises)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"otp:{phone}"])
