"""Every admin model x list / view / add / delete / each action x kind of person ->
what they get, from one table.

The table is the admin's access policy in one place. `test_every_admin_model_has_a_row`
walks the admin's registry, so a model registered without a row fails the suite.
Objects are salon Alpha's; "manager" runs Alpha, "other_manager" runs Beta (same
group, same permissions), "staff" and "customer" have no admin access.
"""

from datetime import date, time, timedelta

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin

from apps.common.tests.admin_fixtures import a_login_code, salon_world
from apps.disruptions.models import BookingDisruption
from apps.notifications.consent import consent_record
from apps.notifications.models import WhatsAppTemplate
from apps.privacy.services import data_request_record
from apps.waitlist.models import WaitlistEntry

pytestmark = pytest.mark.django_db

ACTORS = ["manager", "other_manager", "staff", "customer", "superuser"]

# model -> what the manager of the object's salon may do: (list, view, add, delete).
# 200: allowed; 403: not allowed (an HTML page). The other salon's manager gets the
# same list page without the object, and 404 for the object (it does not exist for them).
MANAGER = {
    "accounts.user": (200, 200, 200, 403),
    "accounts.onetimecode": (403, 403, 403, 403),
    "auth.group": (403, 403, 403, 403),
    "token_blacklist.outstandingtoken": (403, 403, 403, 403),
    "token_blacklist.blacklistedtoken": (403, 403, 403, 403),
    "salons.salon": (200, 200, 403, 403),
    "salons.service": (200, 200, 200, 403),
    "salons.workinghours": (200, 200, 200, 200),
    "salons.salonclosure": (200, 200, 200, 200),
    "salons.stafftimeoff": (200, 200, 200, 200),
    "bookings.booking": (200, 200, 403, 403),
    "notifications.notification": (200, 200, 403, 403),
    "notifications.inboundmessage": (200, 200, 403, 403),
    "notifications.salonnotificationsettings": (200, 200, 200, 403),
    "notifications.whatsapptemplate": (200, 200, 403, 403),
    "notifications.marketingconsent": (200, 200, 200, 403),
    # Admin login lockouts and their audit (django-axes): superusers only.
    "axes.accessattempt": (403, 403, 403, 403),
    "axes.accessfailurelog": (403, 403, 403, 403),
    "axes.accesslog": (403, 403, 403, 403),
    "privacy.datarequest": (403, 403, 403, 403),  # superusers only (personal data requests)
    "waitlist.waitlistentry": (200, 200, 403, 403),
    "disruptions.bookingdisruption": (200, 200, 403, 403),
}
# Not a salon's rows: the business's WhatsApp templates, the same for every manager.
SHARED = {"notifications.whatsapptemplate"}
# What a superuser may not do either: the admin offers no such page.
NOWHERE = {
    "accounts.onetimecode": {"add"},
    "bookings.booking": {"add", "delete"},
    "notifications.notification": {"add", "delete"},
    "notifications.inboundmessage": {"add", "delete"},
    "notifications.marketingconsent": {"delete"},
    "token_blacklist.outstandingtoken": {"add", "delete"},
    "axes.accessattempt": {"add"},
    "axes.accessfailurelog": {"add"},
    "axes.accesslog": {"add"},
    "privacy.datarequest": {"delete"},  # the log of requests is kept
    "waitlist.waitlistentry": {"add", "delete"},
    "disruptions.bookingdisruption": {"add", "delete"},
}
SCOPED = {label for label, (listing, *_) in MANAGER.items() if listing == 200} - SHARED


@pytest.fixture
def world(now, django_user_model):
    from rest_framework_simplejwt.tokens import RefreshToken

    alpha = salon_world("Alpha", phone_prefix="+9665411000")
    beta = salon_world("Beta", phone_prefix="+9665422000")
    superuser = django_user_model.objects.create_superuser(phone="+966509999999", password="pw-for-tests-only")
    token = RefreshToken.for_user(alpha.customer)
    token.blacklist()
    from django.contrib.auth.models import Group
    from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

    seen = {"user_agent": "test", "http_accept": "*/*", "path_info": "/admin/login/"}

    objects = {
        "accounts.user": alpha.staff,
        "accounts.onetimecode": a_login_code(),
        "auth.group": Group.objects.get(name="Salon managers"),
        "token_blacklist.outstandingtoken": OutstandingToken.objects.get(),
        "token_blacklist.blacklistedtoken": BlacklistedToken.objects.get(),
        "salons.salon": alpha.salon,
        "salons.service": alpha.service,
        "salons.workinghours": alpha.hours,
        "salons.salonclosure": alpha.closure,
        "salons.stafftimeoff": alpha.time_off,
        "bookings.booking": alpha.booking,
        "notifications.notification": alpha.notification,
        "notifications.inboundmessage": alpha.inbound,
        "notifications.salonnotificationsettings": alpha.settings,
        "notifications.whatsapptemplate": WhatsAppTemplate.objects.create(
            name="booking_created_customer", language="ar"
        ),
        "notifications.marketingconsent": consent_record(
            user=alpha.customer, channel="sms", granted=True, source="admin", recorded_by=alpha.manager
        ),
        "axes.accessattempt": AccessAttempt.objects.create(
            username=alpha.manager.phone, ip_address="192.0.2.1", failures_since_start=1, **seen
        ),
        "axes.accessfailurelog": AccessFailureLog.objects.create(
            username=alpha.manager.phone, ip_address="192.0.2.1", **seen
        ),
        "axes.accesslog": AccessLog.objects.create(username=alpha.manager.phone, ip_address="192.0.2.1", **seen),
        "privacy.datarequest": data_request_record(user=alpha.customer, kind="correction", details="Fix my name"),
        "waitlist.waitlistentry": WaitlistEntry.objects.create(
            customer=alpha.customer,
            salon=alpha.salon,
            service=alpha.service,
            date=date(2026, 3, 1),
            window_start=time(9),
            window_end=time(12),
        ),
        "disruptions.bookingdisruption": BookingDisruption.objects.create(
            booking=alpha.booking,
            salon=alpha.salon,
            cause="closure",
            reason="Eid",
            cancel_at=alpha.booking.start - timedelta(hours=2),
        ),
    }
    people = {
        "manager": alpha.manager,
        "other_manager": beta.manager,
        "staff": alpha.staff,
        "customer": alpha.customer,
        "superuser": superuser,
    }
    return objects, people


# A manager's message settings are one row: the list and "Add" open it (a redirect to their own).
ONE_PER_SALON = {"notifications.salonnotificationsettings"}


def _expected(label: str, operation: str, actor: str) -> int | str:
    """The status, "listed" / "absent" for the object on the list page, or "own"
    (a redirect to the manager's own salon's row)."""
    if actor in ("staff", "customer"):
        return 302  # to the admin's login page
    if label in ONE_PER_SALON and operation in ("list", "add") and actor in ("manager", "other_manager"):
        return "own"
    if actor == "superuser":
        return 403 if operation in NOWHERE.get(label, set()) else ("listed" if operation == "list" else 200)
    allowed = MANAGER[label][("list", "view", "add", "delete").index(operation)]
    if actor == "other_manager" and label in SCOPED and operation in ("view", "delete"):
        return 404  # another salon's object does not exist for them, whatever they may do
    if operation == "list" and allowed == 200:
        return "listed" if actor == "manager" or label in SHARED else "absent"
    return allowed


CELLS = [(label, op, actor) for label in MANAGER for op in ("list", "view", "add", "delete") for actor in ACTORS]


def test_every_admin_model_has_a_row():
    registered = {f"{model._meta.app_label}.{model._meta.model_name}" for model in admin.site._registry}

    assert registered == set(MANAGER)


@pytest.mark.parametrize(("label", "operation", "actor"), CELLS, ids=["-".join(cell) for cell in CELLS])
def test_admin_access(client, world, label, operation, actor):
    objects, people = world
    obj = objects[label]
    client.force_login(people[actor])
    base = f"/admin/{label.replace('.', '/')}/"
    url = {
        "list": base,
        "view": f"{base}{obj.pk}/change/",
        "add": f"{base}add/",
        "delete": f"{base}{obj.pk}/delete/",
    }[operation]

    response = client.get(url)

    expected = _expected(label, operation, actor)
    if expected == "own":
        own = type(obj).objects.get(salon=people[actor].salon)
        assert response.status_code == 302 and response["Location"] == f"{base}{own.pk}/change/"
        return
    if expected in ("listed", "absent"):
        assert response.status_code == 200
        shown = list(response.context["cl"].result_list)
        assert (obj in shown) == (expected == "listed")
        return
    assert response.status_code == expected, (url, response.status_code)
    if expected == 302:
        assert response["Location"].startswith("/admin/login/")
    if expected in (403, 404):
        assert b"<html" in response.content.lower()  # refusals in the admin are pages, not JSON


# --- actions ----------------------------------------------------------------------------------
ACTIONS = [
    ("bookings.booking", "mark_confirmed", lambda o: o.status == "confirmed"),
    ("bookings.booking", "mark_cancelled", lambda o: o.status == "cancelled"),
    ("notifications.notification", "resend_failed", lambda o: o.status == "sent"),
    ("salons.workinghours", "delete_selected", None),
    ("salons.salonclosure", "delete_selected", None),
    ("salons.stafftimeoff", "delete_selected", None),
    ("waitlist.waitlistentry", "cancel_entries", lambda o: o.status == "cancelled"),
]


@pytest.mark.parametrize(("label", "action", "done"), ACTIONS, ids=[f"{a[0]}-{a[1]}" for a in ACTIONS])
@pytest.mark.parametrize("actor", ACTORS)
def test_admin_actions(client, world, django_capture_on_commit_callbacks, label, action, done, actor):
    objects, people = world
    obj = objects[label]
    if label == "notifications.notification":
        obj = obj.booking.notifications.get(status="failed")
    client.force_login(people[actor])
    data = {"action": action, "_selected_action": [obj.pk]}
    if action == "delete_selected":
        data["post"] = "yes"

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/admin/{label.replace('.', '/')}/", data)

    model = type(obj)
    acted = (not model.objects.filter(pk=obj.pk).exists()) if done is None else done(model.objects.get(pk=obj.pk))
    allowed = actor in ("manager", "superuser")
    assert acted == allowed, (actor, response.status_code)
    if actor in ("staff", "customer"):
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


# --- the front desk's pages (apps/bookings/admin_desk.py) ------------------------------------------
DESK_PAGES = ["day", "book", "move", "cancel"]
DESK_ACTORS = [*ACTORS, "staff_with_admin_access"]
# page -> what each kind of person gets. The other salon's manager has a day and a desk
# of their own salon (200) and does not see this salon's booking (404); a staff member
# with admin access sees their own column (200) and may change nothing (403).
DESK = {
    "day": {"manager": 200, "other_manager": 200, "superuser": 200, "staff_with_admin_access": 200},
    "book": {"manager": 200, "other_manager": 200, "superuser": 200, "staff_with_admin_access": 403},
    "move": {"manager": 200, "other_manager": 404, "superuser": 200, "staff_with_admin_access": 403},
    "cancel": {"manager": 200, "other_manager": 404, "superuser": 200, "staff_with_admin_access": 403},
}
DESK_CELLS = [(page, actor) for page in DESK_PAGES for actor in DESK_ACTORS]


@pytest.mark.parametrize(("page", "actor"), DESK_CELLS, ids=["-".join(cell) for cell in DESK_CELLS])
def test_front_desk_access(client, world, page, actor):
    objects, people = world
    booking = objects["bookings.booking"]
    if actor == "staff_with_admin_access":
        people[actor] = booking.staff
        booking.staff.is_staff = True
        booking.staff.save()
    client.force_login(people[actor])
    url = {
        "day": "/admin/bookings/booking/day/",
        "book": "/admin/bookings/booking/desk/book/",
        "move": f"/admin/bookings/booking/{booking.pk}/move/",
        "cancel": f"/admin/bookings/booking/{booking.pk}/cancel/",
    }[page]

    response = client.get(url)

    expected = DESK[page].get(actor, 302)  # without admin access: the login page
    assert response.status_code == expected, (url, response.status_code)
    if expected == 302:
        assert response["Location"].startswith("/admin/login/")
    if expected in (403, 404):
        assert b"<html" in response.content.lower()
