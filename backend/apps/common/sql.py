"""The common app's hand-written SQL."""

from django.db import connection


def select_one() -> None:
    """A round trip to the database (readiness): raises when it does not answer."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
