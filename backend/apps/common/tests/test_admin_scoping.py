"""A salon manager in the admin sees, changes and chooses only their own salon.

Each test is one of the cross-salon attempts found by probing the admin as a
manager of another salon in the same "Salon managers" group.
"""

from decimal import Decimal

import pytest
from django.contrib.messages import get_messages

from apps.accounts.models import User
from apps.common.tests.admin_fixtures import salon_world
from apps.notifications.models import Notification, NotificationStatus
from apps.salons.models import Service, WorkingHours

pytestmark = pytest.mark.django_db


@pytest.fixture
def worlds(now):
    return salon_world("Alpha", phone_prefix="+9665411000"), salon_world("Beta", phone_prefix="+9665422000")


@pytest.fixture
def as_manager_a(client, worlds):
    client.force_login(worlds[0].manager)
    return client


def _listed(response) -> list:
    return list(response.context["cl"].result_list)


def test_another_salons_services_are_not_listed(as_manager_a, worlds):
    alpha, _beta = worlds

    listed = _listed(as_manager_a.get("/admin/salons/service/"))

    assert listed == [alpha.service]


def test_another_salons_service_cannot_be_renamed_repriced_deactivated_or_moved(as_manager_a, worlds):
    alpha, beta = worlds
    url = f"/admin/salons/service/{beta.service.pk}/change/"
    form = {
        "salon": alpha.salon.pk,
        "name": "Taken",
        "name_ar": "",
        "duration_minutes": 30,
        "buffer_minutes": 0,
        "price": "1.00",
        "staff_members": [],
    }

    assert as_manager_a.get(url).status_code == 404
    assert as_manager_a.post(url, form).status_code == 404

    beta.service.refresh_from_db()
    assert (beta.service.name, beta.service.price, beta.service.is_active, beta.service.salon) == (
        "Haircut",
        Decimal("80.00"),
        True,
        beta.salon,
    )


def test_a_service_form_offers_only_the_salons_own_staff_and_salon(as_manager_a, worlds):
    alpha, _beta = worlds

    form = as_manager_a.get(f"/admin/salons/service/{alpha.service.pk}/change/").context["adminform"].form

    assert list(form.fields["staff_members"].queryset) == [alpha.manager, alpha.staff]
    assert list(form.fields["salon"].queryset) == [alpha.salon]


def test_another_salons_working_hours_cannot_be_added_changed_or_deleted(as_manager_a, worlds):
    _alpha, beta = worlds
    before = WorkingHours.objects.filter(staff=beta.staff).count()

    added = as_manager_a.post(
        "/admin/salons/workinghours/add/",
        {"staff": beta.staff.pk, "weekday": 0, "start_time": "06:00", "end_time": "07:00"},
    )
    changed = as_manager_a.post(
        f"/admin/salons/workinghours/{beta.hours.pk}/change/",
        {"staff": beta.staff.pk, "weekday": 0, "start_time": "06:00", "end_time": "07:00"},
    )
    deleted = as_manager_a.post(f"/admin/salons/workinghours/{beta.hours.pk}/delete/", {"post": "yes"})

    assert added.status_code == 200 and "staff" in added.context["adminform"].form.errors
    assert changed.status_code == 404 and deleted.status_code == 404
    assert WorkingHours.objects.filter(staff=beta.staff).count() == before
    beta.hours.refresh_from_db()
    assert beta.hours.start_time.hour == 9


def test_the_working_hours_form_lists_no_customer_and_no_other_salons_staff(as_manager_a, worlds):
    alpha, _beta = worlds

    form = as_manager_a.get("/admin/salons/workinghours/add/").context["adminform"].form

    assert list(form.fields["staff"].queryset) == [alpha.manager, alpha.staff]


def test_another_salons_notifications_cannot_be_read_found_or_resent(as_manager_a, worlds):
    alpha, beta = worlds

    listed = _listed(as_manager_a.get("/admin/notifications/notification/"))
    detail = as_manager_a.get(f"/admin/notifications/notification/{beta.notification.pk}/change/")
    found = _listed(as_manager_a.get("/admin/notifications/notification/", {"q": beta.customer.phone}))
    resent = as_manager_a.post(
        "/admin/notifications/notification/", {"action": "resend_failed", "_selected_action": [beta.failed.pk]}
    )

    assert set(listed) == {alpha.notification, alpha.failed}
    assert detail.status_code == 404
    assert found == []
    assert resent.status_code == 302
    beta.failed.refresh_from_db()
    assert beta.failed.status == NotificationStatus.FAILED and beta.failed.attempts == 0


def test_a_manager_resends_their_own_salons_failed_message(as_manager_a, worlds, django_capture_on_commit_callbacks):
    alpha, _ = worlds

    with django_capture_on_commit_callbacks(execute=True):
        response = as_manager_a.post(
            "/admin/notifications/notification/", {"action": "resend_failed", "_selected_action": [alpha.failed.pk]}
        )

    assert response.status_code == 302
    alpha.failed.refresh_from_db()
    assert alpha.failed.status == NotificationStatus.SENT
    assert "Queued 1" in " ".join(str(m) for m in get_messages(response.wsgi_request))


@pytest.mark.parametrize("model", ["salonclosure", "stafftimeoff", "inboundmessage", "salonnotificationsettings"])
def test_closures_time_off_messages_and_settings_are_the_managers_salons_only(as_manager_a, worlds, model):
    alpha, beta = worlds
    mine = {"salonclosure": alpha.closure, "stafftimeoff": alpha.time_off, "inboundmessage": alpha.inbound,
            "salonnotificationsettings": alpha.settings}[model]  # fmt: skip
    theirs = {"salonclosure": beta.closure, "stafftimeoff": beta.time_off, "inboundmessage": beta.inbound,
              "salonnotificationsettings": beta.settings}[model]  # fmt: skip
    app = "notifications" if model in ("inboundmessage", "salonnotificationsettings") else "salons"

    listed = as_manager_a.get(f"/admin/{app}/{model}/", follow=True)

    if model == "salonnotificationsettings":  # one per salon: the list opens the manager's own
        assert listed.redirect_chain == [(f"/admin/{app}/{model}/{mine.pk}/change/", 302)]
    else:
        assert listed.status_code == 200 and _listed(listed) == [mine]
    assert as_manager_a.get(f"/admin/{app}/{model}/{mine.pk}/change/").status_code == 200
    assert as_manager_a.get(f"/admin/{app}/{model}/{theirs.pk}/change/").status_code == 404


def test_a_manager_adds_a_closure_for_their_salon(as_manager_a, worlds):
    alpha, _beta = worlds

    form = as_manager_a.get("/admin/salons/salonclosure/add/").context["adminform"].form
    response = as_manager_a.post(
        "/admin/salons/salonclosure/add/",
        {"salon": alpha.salon.pk, "start_date": "2026-06-06", "end_date": "2026-06-09", "reason": "Eid al-Adha"},
    )

    assert list(form.fields["salon"].queryset) == [alpha.salon]
    assert response.status_code == 302
    assert alpha.salon.closures.filter(reason="Eid al-Adha").exists()


def test_a_manager_cannot_change_their_own_role_salon_access_or_groups(as_manager_a, worlds):
    alpha, beta = worlds
    url = f"/admin/accounts/user/{alpha.manager.pk}/change/"

    form = as_manager_a.get(url).context["adminform"].form
    response = as_manager_a.post(
        url,
        {
            "phone": alpha.manager.phone,
            "name": "Still me",
            "preferred_language": "ar",
            "preferred_channel": "",
            "role": "customer",
            "salon": beta.salon.pk,
            "is_superuser": "on",
            "is_staff": "on",
            "groups": [],
        },
    )

    assert set(form.fields) == {"phone", "name", "preferred_language", "preferred_channel"}
    assert response.status_code == 302
    me = User.objects.get(pk=alpha.manager.pk)
    assert (me.name, me.role, me.salon, me.is_superuser, me.is_staff) == (
        "Still me",
        "manager",
        alpha.salon,
        False,
        True,
    )
    assert me.groups.filter(name="Salon managers").exists()


def test_a_manager_sees_their_salons_people_but_no_customer(as_manager_a, worlds):
    alpha, _beta = worlds

    listed = _listed(as_manager_a.get("/admin/accounts/user/"))

    assert set(listed) == {alpha.manager, alpha.staff}
    assert as_manager_a.get(f"/admin/accounts/user/{alpha.customer.pk}/change/").status_code == 404


def test_a_staff_member_a_manager_adds_belongs_to_their_salon(as_manager_a, worlds):
    alpha, _ = worlds

    response = as_manager_a.post(
        "/admin/accounts/user/add/", {"phone": "0541234599", "name": "Noor", "preferred_language": "ar"}
    )

    assert response.status_code == 302
    noor = User.objects.get(name="Noor")
    assert (noor.role, noor.salon, noor.is_staff, noor.phone) == ("staff", alpha.salon, False, "+966541234599")


def test_another_salons_booking_is_a_404_and_its_actions_do_nothing(as_manager_a, worlds):
    _alpha, beta = worlds

    detail = as_manager_a.get(f"/admin/bookings/booking/{beta.booking.pk}/change/")
    acted = as_manager_a.post(
        "/admin/bookings/booking/", {"action": "mark_confirmed", "_selected_action": [beta.booking.pk]}
    )

    assert detail.status_code == 404 and b"<html" in detail.content.lower()  # an HTML page, not JSON
    assert acted.status_code == 302
    beta.booking.refresh_from_db()
    assert beta.booking.status == "pending"
    assert not Notification.objects.filter(booking=beta.booking, event="booking_confirmed").exists()


def test_a_superuser_sees_every_salon(admin_client, worlds):
    listed = _listed(admin_client.get("/admin/bookings/booking/"))

    assert {booking.salon for booking in listed} == {worlds[0].salon, worlds[1].salon}


def test_a_manager_without_a_permission_gets_an_html_403(as_manager_a, worlds):
    response = as_manager_a.get("/admin/accounts/onetimecode/")

    assert response.status_code == 403 and b"<html" in response.content.lower()


def test_service_changes_by_a_manager_stay_in_their_salon(as_manager_a, worlds):
    alpha, _ = worlds

    response = as_manager_a.post(
        "/admin/salons/service/add/",
        {"salon": alpha.salon.pk, "name": "Beard trim", "name_ar": "", "duration_minutes": 15,
         "buffer_minutes": 0, "price": "40.00", "is_active": "on", "staff_members": [alpha.staff.pk]},
    )  # fmt: skip

    assert response.status_code == 302
    assert Service.objects.get(name="Beard trim").salon == alpha.salon


def test_the_front_desk_shows_and_changes_only_the_managers_salon(as_manager_a, worlds):
    alpha, beta = worlds

    day = as_manager_a.get("/admin/bookings/booking/day/", {"date": "2026-03-01"}).context["sheet"]
    shown = [block.booking for column in day.columns for block in column.blocks if block.booking]

    assert day.salon == alpha.salon and shown == [alpha.booking]
    assert [column.staff for column in day.columns] == [alpha.staff]
    for action in ("move", "cancel"):
        assert as_manager_a.get(f"/admin/bookings/booking/{beta.booking.pk}/{action}/").status_code == 404
        assert as_manager_a.post(f"/admin/bookings/booking/{beta.booking.pk}/{action}/", {}).status_code == 404
    beta.booking.refresh_from_db()
    assert beta.booking.status == "pending"
