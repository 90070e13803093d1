"""apps/accounts/sql.py against the ORM, on whichever database the suite runs (SQLite, PostgreSQL)."""

from datetime import UTC, datetime

import pytest
from rest_framework_simplejwt.tokens import AccessToken

from apps.accounts.models import Language, Role, User
from apps.accounts.sql import user_by_id
from apps.common.channels import Channel
from apps.common.tests.factories import ManagerFactory, SalonFactory, UserFactory

pytestmark = pytest.mark.django_db

FIELDS = [field.attname for field in User._meta.concrete_fields]


def _people():
    salon = SalonFactory()
    return [
        UserFactory(),
        UserFactory(
            phone=None,
            name="عائشة",
            preferred_language=Language.ARABIC,
            preferred_channel=Channel.WHATSAPP,
            sms_opted_out=True,
            whatsapp_opted_out=True,
            whatsapp_unreachable_until=datetime(2027, 1, 2, 3, 4, 5, 678901, tzinfo=UTC),
            is_active=False,
            last_login=datetime(2026, 11, 25, 10, 0, tzinfo=UTC),
        ),
        ManagerFactory(salon=salon, is_staff=True),
        User.objects.create_superuser("+966500000999", password="a long password 123", role=Role.MANAGER, salon=salon),
    ]


def test_the_token_user_read_returns_what_the_orm_returns_field_by_field():
    people = _people()
    assert len(people) == 4
    for person in people:
        by_orm = User.objects.get(pk=person.pk)
        by_sql = user_by_id(person.pk)
        assert type(by_sql) is User
        assert not by_sql._state.adding
        for name in FIELDS:
            expected, got = getattr(by_orm, name), getattr(by_sql, name)
            assert (got, type(got)) == (expected, type(expected)), name
        assert by_sql == by_orm


def test_an_unknown_user_is_none_where_the_orm_raises():
    person = UserFactory()
    missing = person.pk + 1000
    with pytest.raises(User.DoesNotExist):
        User.objects.get(pk=missing)
    assert user_by_id(missing) is None


def test_a_token_of_a_deactivated_or_deleted_user_stops_working_at_once(api):
    person = UserFactory()
    token = str(AccessToken.for_user(person))
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    assert api.get("/api/me/", **headers).status_code == 200
    User.objects.filter(pk=person.pk).update(is_active=False)
    assert api.get("/api/me/", **headers).status_code == 401
    User.objects.filter(pk=person.pk).delete()
    assert api.get("/api/me/", **headers).status_code == 401
