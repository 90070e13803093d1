"""Admin password guessing (django-axes): after ADMIN_LOGIN_FAILURE_LIMIT failures for
one account (its phone in any form) or from one client address, logins there are
refused, the right password included, with a clear message in the admin's language,
until ADMIN_LOGIN_LOCKOUT_MINUTES have passed; every failure is on record."""

import logging
from datetime import timedelta

import pytest
from axes.models import AccessAttempt, AccessFailureLog
from django.test import Client

from apps.common.tests.admin_fixtures import salon_world

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/"
PASSWORD = "pw-for-tests-only"
LOCKED_EN = "Too many failed logins for this phone number or from this address. Try again in 15 minutes."
LOCKED_AR = "محاولات دخول فاشلة كثيرة لهذا الرقم أو من هذا العنوان. حاول مرة أخرى بعد 15 دقيقة."
# The manager of salon Alpha is +966541100001, typed in every form the admin accepts.
FORMS = ["0541100001", "+966 54 110 0001", "00966541100001", "966541100001", "054-110-0001"]


@pytest.fixture
def alpha(now):
    return salon_world("Alpha", phone_prefix="+9665411000")


@pytest.fixture
def beta(now):
    return salon_world("Beta", phone_prefix="+9665422000")


def _login(client: Client, phone: str, password: str, address: str = "10.0.0.1", **headers):
    return client.post(
        LOGIN, {"username": phone, "password": password, "next": "/admin/"}, REMOTE_ADDR=address, **headers
    )


def _logged_in(response) -> bool:
    return response.status_code == 302 and response["Location"] == "/admin/"


def test_five_wrong_passwords_in_any_phone_form_from_any_address_then_the_right_one_is_refused(client, alpha):
    # Five addresses (the per-address count stays below the limit): only the account's count can lock.
    wrong = [_login(client, typed, "wrong", address=f"10.0.0.{n}") for n, typed in enumerate(FORMS, start=1)]
    right = _login(client, "+966541100001", PASSWORD, address="10.0.0.99")

    assert [r.status_code for r in wrong[:4]] == [200] * 4  # the login page again, "enter the correct..."
    assert wrong[4].status_code == 429 and LOCKED_EN in wrong[4].content.decode()
    assert right.status_code == 429 and LOCKED_EN in right.content.decode()
    assert '<form action="/admin/login/" method="post" id="login-form">' in right.content.decode()
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/").status_code == 302  # still the login page's
    assert set(AccessAttempt.objects.values_list("username", flat=True)) == {"+966541100001"}


def test_four_wrong_passwords_then_the_right_one_logs_in(client, alpha):
    for typed in FORMS[:4]:
        assert _login(client, typed, "wrong").status_code == 200

    assert _logged_in(_login(client, FORMS[4], PASSWORD))


def test_odd_usernames_are_counted_never_a_500_and_arabic_digits_are_the_same_phone(client, alpha):
    client.raise_request_exception = False
    odd = ["05\x0041100001", "x" * 300, "٠٥٤١١٠٠٠٠١", "۰۵۴۱۱۰۰۰۰۱"]

    answers = [_login(client, typed, "wrong", address=f"10.1.0.{n}").status_code for n, typed in enumerate(odd)]
    arabic = _login(client, "٠٥٤١١٠٠٠٠١", PASSWORD, address="10.1.0.99")

    assert answers == [200, 200, 200, 200]
    assert _logged_in(arabic)
    assert AccessAttempt.objects.filter(username="+966541100001").count() == 2


def test_one_address_is_locked_across_different_accounts(client, alpha, beta):
    tried = ["0541100002", "0541100003", "0542200001", "0542200002", "0500000404"]  # never Alpha's manager

    wrong = [_login(client, phone, "wrong", address="203.0.113.5") for phone in tried]
    right_from_there = _login(client, "0541100001", PASSWORD, address="203.0.113.5")
    right_elsewhere = _login(Client(), "0541100001", PASSWORD, address="203.0.113.6")

    assert [r.status_code for r in wrong] == [200, 200, 200, 200, 429]
    assert right_from_there.status_code == 429 and LOCKED_EN in right_from_there.content.decode()
    assert _logged_in(right_elsewhere)


def test_a_forged_forwarded_for_does_not_escape_the_address_lockout(client, alpha, beta, settings):
    # Directly exposed (no trusted proxy): the header is the client's own text.
    for n, phone in enumerate(["0541100002", "0541100003", "0542200001", "0542200002", "0500000404"]):
        _login(client, phone, "wrong", address="198.51.100.1", HTTP_X_FORWARDED_FOR=f"10.8.0.{n}")
    direct = _login(client, "0541100001", PASSWORD, address="198.51.100.1", HTTP_X_FORWARDED_FOR="10.8.0.99")

    # Behind one trusted proxy: the client may write anything before the proxy's entry, never replace it.
    settings.TRUSTED_PROXY_COUNT = 1
    for n, phone in enumerate(["0541100002", "0541100003", "0542200001", "0542200002", "0500000404"]):
        _login(Client(), phone, "wrong", address="10.0.0.2", HTTP_X_FORWARDED_FOR=f"10.9.0.{n}, junk, 203.0.113.9")
    proxied = _login(
        Client(), "0541100001", PASSWORD, address="10.0.0.2", HTTP_X_FORWARDED_FOR="10.9.0.99, 203.0.113.9"
    )
    neighbour = _login(Client(), "0541100001", PASSWORD, address="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.10")

    assert direct.status_code == 429
    assert proxied.status_code == 429
    assert _logged_in(neighbour)  # another client behind the same proxy is not locked out
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"198.51.100.1", "203.0.113.9"}


def test_the_lockout_ends_after_its_minutes_without_tries(client, alpha, now):
    for typed in FORMS:
        _login(client, typed, "wrong")
    assert _login(client, "0541100001", PASSWORD).status_code == 429

    now.shift(timedelta(minutes=14))
    still = _login(client, "0541100001", PASSWORD)  # a try while locked starts the 15 minutes again
    now.shift(timedelta(minutes=14))
    again = _login(client, "0541100001", PASSWORD)
    now.shift(timedelta(minutes=15, seconds=1))
    after = _login(client, "0541100001", PASSWORD)

    assert still.status_code == 429 and again.status_code == 429
    assert _logged_in(after)


def test_the_limit_and_the_minutes_are_settings(client, alpha, now, settings):
    settings.AXES_FAILURE_LIMIT = 2
    settings.AXES_COOLOFF_TIME = timedelta(minutes=1)

    statuses = [_login(client, "0541100001", "wrong").status_code for _ in range(2)]
    locked = _login(client, "0541100001", PASSWORD)
    now.shift(timedelta(minutes=1, seconds=1))

    assert statuses == [200, 429]
    assert locked.status_code == 429 and "Try again in 1 minute." in locked.content.decode()
    assert _logged_in(_login(client, "0541100001", PASSWORD))


@pytest.mark.parametrize(
    "headers",
    [{"HTTP_ACCEPT_LANGUAGE": "ar-SA,ar;q=0.9,en;q=0.5"}, {"HTTP_COOKIE": "django_language=ar"}],
    ids=["browser-in-arabic", "switched-to-arabic"],
)
def test_an_arabic_manager_reads_the_lockout_in_arabic(client, alpha, headers):
    if "HTTP_COOKIE" in headers:
        client.cookies["django_language"] = "ar"
        headers = {}
    login_page = client.get(LOGIN, **headers).content.decode()
    for typed in FORMS:
        _login(client, typed, "wrong", **headers)

    refused = _login(client, "0541100001", PASSWORD, **headers).content.decode()

    assert '<html lang="ar" dir="rtl">' in login_page
    assert '<html lang="ar" dir="rtl">' in refused and LOCKED_AR in refused and LOCKED_EN not in refused


def test_every_failure_is_on_record_for_superusers_and_phones_stay_out_of_the_log(client, alpha, caplog):
    caplog.set_level(logging.INFO)
    for n, typed in enumerate(FORMS):
        _login(client, typed, f"wrong-{n}", address="192.0.2.7")
    _login(client, "0541100001", PASSWORD, address="192.0.2.7")

    records = AccessFailureLog.objects.order_by("attempt_time", "id")
    assert [(r.username, r.ip_address, r.locked_out) for r in records] == [
        ("+966541100001", "192.0.2.7", False),
        ("+966541100001", "192.0.2.7", False),
        ("+966541100001", "192.0.2.7", False),
        ("+966541100001", "192.0.2.7", False),
        ("+966541100001", "192.0.2.7", True),
        ("+966541100001", "192.0.2.7", True),  # the right password, refused
    ]
    attempt = AccessAttempt.objects.get()
    assert attempt.failures_since_start == 6 and "wrong-" not in attempt.post_data  # passwords are masked
    assert "541100001" not in caplog.text and "wrong-" not in caplog.text

    superuser = alpha.manager.__class__.objects.create_superuser(phone="+966509999999", password=PASSWORD)
    reader = Client()
    reader.force_login(superuser)
    listed = reader.get("/admin/axes/accessfailurelog/")
    reader.force_login(alpha.manager)
    refused = reader.get("/admin/axes/accessfailurelog/")

    assert listed.status_code == 200 and len(listed.context["cl"].result_list) == 6
    assert refused.status_code == 403


@pytest.mark.services
def test_the_lockout_holds_across_gunicorn_workers(postgres, tmp_path, settings):
    """Two gunicorn workers, each request on a new connection: the counts are in the
    database, so no worker lets a sixth guess through."""
    import re

    import httpx
    from django.db import connection

    from apps.accounts.models import Role, User
    from apps.common.tests.factories import SalonFactory
    from apps.common.tests.live import database_url, stack_env, start_web

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]  # what the server checks
    manager = User.objects.create_user(
        phone="+966541100001", password=PASSWORD, role=Role.MANAGER, is_staff=True, salon=SalonFactory()
    )
    env = stack_env(
        database=database_url(connection.settings_dict),
        broker="filesystem://localhost/",
        queue="salon",
        SALON_RUN_DIR=str(tmp_path),
    )
    web, base = start_web(env, workers=2)

    def login(phone: str, password: str) -> httpx.Response:
        with httpx.Client(base_url=base, timeout=30) as browser:
            page = browser.get(LOGIN)
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
            form = {"csrfmiddlewaretoken": token, "username": phone, "password": password, "next": "/admin/"}
            return browser.post(LOGIN, data=form)

    try:
        wrong = [login(typed, "wrong") for typed in FORMS]
        right = login("0541100001", PASSWORD)
    finally:
        web.stop()

    assert [r.status_code for r in wrong] == [200, 200, 200, 200, 429]
    assert right.status_code == 429 and LOCKED_EN in right.text
    assert AccessFailureLog.objects.filter(username=manager.phone).count() == 6
    assert "Traceback" not in web.log()
