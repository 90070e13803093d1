"""POST/GET /api/me/data-requests/ and the superusers' list of requests in the admin."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.common.errors import AppError
from apps.common.tests.factories import ManagerFactory, UserFactory
from apps.privacy.models import DataRequest
from apps.privacy.services import OPEN_REQUESTS_LIMIT, data_request_complete, data_request_record
from apps.privacy.tests.helpers import validate_against_schema

pytestmark = pytest.mark.django_db

URL = "/api/me/data-requests/"


def test_a_customer_asks_for_a_correction_and_sees_it_due_in_30_days(api, now, customer, client):
    answer = api.as_user(customer).post(URL, {"kind": "correction", "details": "  My name is Kris, not Chris.  "})

    assert answer.status_code == 201, answer.json()
    body = answer.json()
    assert (body["kind"], body["details"], body["completed_at"], body["is_overdue"]) == (
        "correction",
        "My name is Kris, not Chris.",
        None,
        False,
    )
    saved = DataRequest.objects.get(pk=body["id"])
    assert saved.user == customer and saved.due_at == timezone.now() + timedelta(days=30)
    validate_against_schema(client, "POST", URL, answer)
    listing = api.as_user(customer).get(URL)
    assert [row["id"] for row in listing.json()["results"]] == [body["id"]]
    validate_against_schema(client, "GET", URL, listing)


def test_a_person_sees_only_their_own_requests(api, now, customer):
    other = UserFactory()
    mine = data_request_record(user=customer, kind="correction", details="mine")
    data_request_record(user=other, kind="other", details="theirs")

    rows = api.as_user(customer).get(URL).json()["results"]

    assert [(row["id"], row["details"]) for row in rows] == [(mine.pk, "mine")]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "export", "details": "x"}, "kind"),
        ({"kind": "erasure", "details": "x"}, "kind"),
        ({"kind": "deletion", "details": "x"}, "kind"),
        ({"kind": "correction", "details": ""}, "details"),
        ({"kind": "correction"}, "details"),
        ({"kind": "correction", "details": "x" * 2001}, "details"),
    ],
)
def test_wrong_requests_are_a_clear_400(api, now, customer, body, field):
    answer = api.as_user(customer).post(URL, body)

    assert answer.status_code == 400
    assert field in answer.json()["fields"]
    assert not DataRequest.objects.exists()


def test_at_most_five_requests_wait_at_once(api, now, customer):
    statuses = [
        api.as_user(customer).post(URL, {"kind": "other", "details": f"question {n}"}).status_code
        for n in range(OPEN_REQUESTS_LIMIT + 1)
    ]

    assert statuses == [201] * OPEN_REQUESTS_LIMIT + [429]
    DataRequest.objects.filter(user=customer).update(completed_at=timezone.now())
    assert api.as_user(customer).post(URL, {"kind": "other", "details": "again"}).status_code == 201


def test_staff_may_ask_too(api, now, stylist):
    assert api.as_user(stylist).post(URL, {"kind": "correction", "details": "New number"}).status_code == 201


# --- the admin ------------------------------------------------------------------------------
def test_superusers_see_what_is_overdue_and_mark_it_answered(admin_client, now, customer):
    old = data_request_record(
        user=customer, kind="correction", details="fix my name", received_at=timezone.now() - timedelta(days=31)
    )
    recent = data_request_record(user=customer, kind="other", details="a question")
    done = data_request_record(user=customer, kind="export", completed_at=timezone.now())

    overdue = admin_client.get("/admin/privacy/datarequest/", {"state": "overdue"})
    waiting = admin_client.get("/admin/privacy/datarequest/", {"state": "open"})

    assert overdue.status_code == 200
    assert list(overdue.context["cl"].result_list) == [old]
    assert set(waiting.context["cl"].result_list) == {old, recent}
    assert done not in waiting.context["cl"].result_list
    answered = admin_client.post(
        "/admin/privacy/datarequest/", {"action": "mark_answered", "_selected_action": [old.pk, done.pk]}
    )
    assert answered.status_code == 302
    old.refresh_from_db()
    admin = old.handled_by
    assert admin is not None and admin.is_superuser and old.completed_at == timezone.now()
    assert DataRequest.objects.overdue().count() == 0


def test_a_superuser_answers_one_request_on_its_page(admin_client, now, customer):
    request = data_request_record(user=customer, kind="correction", details="fix my name")

    page = admin_client.get(f"/admin/privacy/datarequest/{request.pk}/change/")
    saved = admin_client.post(
        f"/admin/privacy/datarequest/{request.pk}/change/", {"resolution": "Name corrected.", "answered": "on"}
    )

    assert page.status_code == 200 and b"fix my name" in page.content
    assert saved.status_code == 302
    request.refresh_from_db()
    assert (request.resolution, request.completed_at) == ("Name corrected.", timezone.now())


def test_a_superuser_records_a_request_received_at_the_salon(admin_client, now, customer):
    saved = admin_client.post(
        "/admin/privacy/datarequest/add/",
        {
            "user": customer.pk,
            "kind": "correction",
            "details": "Asked at the front desk",
            "received_at_0": "2026-02-27",
            "received_at_1": "10:00:00",
        },
    )

    assert saved.status_code == 302, saved.content[:2000]
    request = DataRequest.objects.get(user=customer)
    assert request.due_at == request.received_at + timedelta(days=30)


def test_managers_do_not_see_personal_data_requests(client, now, customer):
    manager = ManagerFactory(is_staff=True)
    manager.set_password("pw")
    manager.save()
    data_request_record(user=customer, kind="correction", details="x")
    client.force_login(manager)

    assert client.get("/admin/privacy/datarequest/").status_code == 403
    assert b"privacy" not in client.get("/admin/").content.lower()


def test_a_request_is_answered_once(now, customer, stylist):
    request = data_request_record(user=customer, kind="correction", details="fix my name")
    data_request_complete(request_id=request.pk, handled_by=stylist, resolution="Done.")

    with pytest.raises(AppError) as refused:
        data_request_complete(request_id=request.pk, handled_by=customer)

    assert refused.value.code == "request_already_completed"
    request.refresh_from_db()
    assert (request.handled_by, request.resolution) == (stylist, "Done.")
