"""Phone login by one-time code, through the HTTP API and the console provider's log."""

import logging
import re
from datetime import timedelta

import pytest
from rest_framework_simplejwt.tokens import RefreshToken

from apps.accounts.models import OneTimeCode, Role, User
from apps.common.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

REQUEST = "/api/auth/otp/request/"
VERIFY = "/api/auth/otp/verify/"


@pytest.fixture
def messages(caplog):
    caplog.set_level(logging.INFO, logger="salon.messages")

    def lines():
        return [r.getMessage() for r in caplog.records if r.name == "salon.messages"]

    return lines


def _code_from(lines) -> str:
    return re.search(r"\b(\d{6})\b", lines[-1]).group(1)


def test_request_then_verify_logs_a_new_customer_in(api, now, messages):
    requested = api.post(REQUEST, {"phone": "0501234567"})

    assert requested.status_code == 202
    assert messages()[-1].startswith("OTP SMS to 0501234567: ")
    code = _code_from(messages())

    verified = api.post(VERIFY, {"phone": "+966 50 123 4567", "code": code})

    assert verified.status_code == 200, verified.json()
    body = verified.json()
    assert body["user_created"] is True and body["access"] and body["refresh"]
    user = User.objects.get(phone="+966501234567")
    assert user.role == Role.CUSTOMER and user.preferred_language == "ar"

    api.client.credentials(HTTP_AUTHORIZATION=f"Bearer {body['access']}")
    me = api.get("/api/me/")
    assert me.status_code == 200
    assert me.json()["phone"] == "+966501234567"


def test_existing_user_logs_in_without_a_new_account(api, now, messages):
    existing = UserFactory(phone="+966501112222")
    api.post(REQUEST, {"phone": "00966501112222"})

    verified = api.post(VERIFY, {"phone": "0501112222", "code": _code_from(messages())})

    assert verified.status_code == 200
    assert verified.json()["user_created"] is False
    assert User.objects.filter(phone="+966501112222").count() == 1
    existing.refresh_from_db()
    assert existing.last_login is not None


@pytest.mark.parametrize("phone", ["0501234567", "05 0123 4567", "501234567", "966501234567", "+966501234567"])
def test_saudi_forms_normalise_to_e164(api, now, messages, phone):
    assert api.post(REQUEST, {"phone": phone}).status_code == 202
    assert OneTimeCode.objects.get().phone == "+966501234567"


@pytest.mark.parametrize("phone", ["12345", "0111234567", "hello", "", "+9665012345678901"])
def test_invalid_phone_is_a_400_and_sends_nothing(api, now, messages, phone):
    response = api.post(REQUEST, {"phone": phone})

    assert response.status_code == 400
    assert response.json()["code"] in {"invalid_phone", "invalid"}
    assert messages() == []
    assert OneTimeCode.objects.count() == 0


def test_phone_outside_allowed_countries_is_a_400(api, now, messages):
    response = api.post(REQUEST, {"phone": "+971501234567"})

    assert response.status_code == 400
    assert response.json()["code"] == "country_not_allowed"
    assert messages() == []


def test_answer_is_the_same_for_known_and_unknown_phones(api, now):
    UserFactory(phone="+966501110000")

    known = api.post(REQUEST, {"phone": "0501110000"})
    unknown = api.post(REQUEST, {"phone": "0501119999"})

    assert (known.status_code, known.content) == (unknown.status_code, unknown.content)


def test_only_a_keyed_hash_is_stored(api, now, messages):
    api.post(REQUEST, {"phone": "0501234567"})
    code = _code_from(messages())

    stored = OneTimeCode.objects.get()
    assert code not in stored.code_hash
    assert len(stored.code_hash) == 64


def test_wrong_code_then_five_strikes_kills_the_code(api, now, messages):
    api.post(REQUEST, {"phone": "0501234567"})
    code = _code_from(messages())
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"

    for _ in range(5):
        response = api.post(VERIFY, {"phone": "0501234567", "code": wrong})
        assert response.status_code == 400
        assert response.json()["code"] == "invalid_code"

    right = api.post(VERIFY, {"phone": "0501234567", "code": code})
    assert right.status_code == 400
    assert right.json()["code"] == "invalid_code"
    assert OneTimeCode.objects.get().failed_attempts == 5


def test_a_code_works_once(api, now, messages):
    api.post(REQUEST, {"phone": "0501234567"})
    code = _code_from(messages())

    assert api.post(VERIFY, {"phone": "0501234567", "code": code}).status_code == 200
    assert api.post(VERIFY, {"phone": "0501234567", "code": code}).status_code == 400


def test_an_expired_code_is_refused(api, now, messages):
    api.post(REQUEST, {"phone": "0501234567"})
    code = _code_from(messages())
    now.shift(timedelta(minutes=5, seconds=1))

    response = api.post(VERIFY, {"phone": "0501234567", "code": code})

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_code"


def test_a_second_request_within_a_minute_is_429_and_sends_nothing(api, now, messages):
    assert api.post(REQUEST, {"phone": "0501234567"}).status_code == 202

    again = api.post(REQUEST, {"phone": "0501234567"})

    assert again.status_code == 429
    assert again.json()["code"] == "otp_cooldown"
    assert len(messages()) == 1

    now.shift(timedelta(seconds=61))
    assert api.post(REQUEST, {"phone": "0501234567"}).status_code == 202
    assert len(messages()) == 2


def test_only_the_newest_code_counts(api, now, messages):
    api.post(REQUEST, {"phone": "0501234567"})
    old = _code_from(messages())
    now.shift(timedelta(seconds=61))
    api.post(REQUEST, {"phone": "0501234567"})
    new = _code_from(messages())

    if old != new:
        assert api.post(VERIFY, {"phone": "0501234567", "code": old}).status_code == 400
    assert api.post(VERIFY, {"phone": "0501234567", "code": new}).status_code == 200


def test_requests_are_throttled_per_phone(api, now, settings, messages):
    # 5/hour per phone by default; the cooldown is stepped over with time travel.
    for _ in range(5):
        assert api.post(REQUEST, {"phone": "0501234567"}).status_code == 202
        now.shift(timedelta(seconds=61))

    throttled = api.post(REQUEST, {"phone": "0501234567"})

    assert throttled.status_code == 429
    assert throttled.json()["code"] == "throttled"
    assert "Retry-After" in throttled.headers
    assert len(messages()) == 5


def test_requests_are_throttled_per_client_address(api, now, messages):
    statuses = [api.post(REQUEST, {"phone": f"05012300{n:02d}"}).status_code for n in range(25)]

    assert statuses[:20] == [202] * 20
    assert set(statuses[20:]) == {429}


def test_a_disabled_account_cannot_log_in(api, now, messages):
    UserFactory(phone="+966501234567", is_active=False)
    api.post(REQUEST, {"phone": "0501234567"})

    response = api.post(VERIFY, {"phone": "0501234567", "code": _code_from(messages())})

    assert response.status_code == 403
    assert response.json()["code"] == "account_disabled"


ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
EASTERN_ARABIC_INDIC = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")  # Persian and Urdu keyboards


@pytest.mark.parametrize("digits", [ARABIC_INDIC, EASTERN_ARABIC_INDIC], ids=["arabic-indic", "eastern-arabic-indic"])
def test_a_code_typed_in_arabic_digits_logs_in(api, now, messages, digits):
    api.post(REQUEST, {"phone": "0501234567".translate(digits)})
    code = _code_from(messages())
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"

    refused = api.post(VERIFY, {"phone": "0501234567", "code": wrong.translate(digits)})
    verified = api.post(VERIFY, {"phone": "0501234567".translate(digits), "code": code.translate(digits)})

    assert (refused.status_code, refused.json()["code"]) == (400, "invalid_code")
    assert verified.status_code == 200, verified.json()
    assert verified.json()["access"] and User.objects.filter(phone="+966501234567").exists()
    assert OneTimeCode.objects.get().failed_attempts == 1  # the wrong one only


def test_digit_like_characters_are_malformed_and_cost_no_attempt(api, now, messages):
    api.post(REQUEST, {"phone": "0501234567"})

    superscripts = api.post(VERIFY, {"phone": "0501234567", "code": "¹²³⁴⁵⁶"})

    assert (superscripts.status_code, superscripts.json()["code"]) == (400, "invalid_code")
    assert OneTimeCode.objects.get().failed_attempts == 0


@pytest.mark.parametrize("code", ["12345", "abcdef", "1234567", ""])
def test_malformed_code_is_a_400(api, now, code):
    response = api.post(VERIFY, {"phone": "0501234567", "code": code})

    assert response.status_code == 400


def test_refresh_rotates_and_a_used_refresh_token_is_refused(api, now, messages):
    api.post(REQUEST, {"phone": "0501234567"})
    tokens = api.post(VERIFY, {"phone": "0501234567", "code": _code_from(messages())}).json()

    refreshed = api.post("/api/auth/token/refresh/", {"refresh": tokens["refresh"]})
    assert refreshed.status_code == 200
    assert refreshed.json()["refresh"] != tokens["refresh"]

    reused = api.post("/api/auth/token/refresh/", {"refresh": tokens["refresh"]})
    assert reused.status_code == 401


def test_logout_blacklists_the_refresh_token(api, now, messages):
    api.post(REQUEST, {"phone": "0501234567"})
    tokens = api.post(VERIFY, {"phone": "0501234567", "code": _code_from(messages())}).json()
    api.client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")

    assert api.post("/api/auth/logout/", {"refresh": tokens["refresh"]}).status_code == 204
    assert api.post("/api/auth/token/refresh/", {"refresh": tokens["refresh"]}).status_code == 401


def test_deactivated_users_access_token_is_refused(api, now):
    user = UserFactory()
    api.as_user(user)
    assert api.get("/api/me/").status_code == 200

    User.objects.filter(pk=user.pk).update(is_active=False)

    assert api.get("/api/me/").status_code == 401


def test_a_deleted_users_token_and_a_token_without_a_user_are_refused(api, now):
    from rest_framework_simplejwt.tokens import AccessToken

    user = UserFactory()
    api.as_user(user)
    User.objects.filter(pk=user.pk).delete()
    gone = api.get("/api/me/")
    nobody = AccessToken.for_user(UserFactory())
    del nobody["user_id"]
    api.client.credentials(HTTP_AUTHORIZATION=f"Bearer {nobody}")
    unnamed = api.get("/api/me/")

    assert gone.status_code == 401 and gone.json()["code"] == "user_not_found"
    assert unnamed.status_code == 401 and unnamed.json()["code"] == "token_not_valid"


def test_a_forged_forwarded_for_header_does_not_escape_the_address_throttle(api, now, messages):
    statuses = [
        api.post(REQUEST, {"phone": f"05012300{n:02d}"}, HTTP_X_FORWARDED_FOR=f"10.0.0.{n}").status_code
        for n in range(25)
    ]

    assert statuses[:20] == [202] * 20
    assert set(statuses[20:]) == {429}


def test_a_trusted_proxy_count_reads_the_client_from_forwarded_for(api, now, settings, messages):
    settings.TRUSTED_PROXY_COUNT = 1

    statuses = [
        api.post(REQUEST, {"phone": f"05012300{n:02d}"}, HTTP_X_FORWARDED_FOR=f"203.0.113.{n}").status_code
        for n in range(25)
    ]

    assert statuses == [202] * 25  # 25 different clients behind one proxy


def test_behind_a_trusted_proxy_a_client_cannot_escape_by_writing_forwarded_for(api, now, settings, messages):
    settings.TRUSTED_PROXY_COUNT = 1

    statuses = [
        # The client wrote "10.9.9.n" (and junk); the proxy appended the address it saw.
        api.post(REQUEST, {"phone": f"05012300{n:02d}"}, HTTP_X_FORWARDED_FOR=f"10.9.9.{n}, x{n}, 203.0.113.7")
        for n in range(25)
    ]

    assert [r.status_code for r in statuses[:20]] == [202] * 20
    assert {r.status_code for r in statuses[20:]} == {429}


def _guesses(right: str, count: int = 1000) -> list[str]:
    """``count`` distinct codes, the right one at position 500."""
    wrong = (f"{n:06d}" for n in range(1_000_000) if f"{n:06d}" != right)
    guesses = [next(wrong) for _ in range(count - 1)]
    guesses.insert(500, right)
    return guesses


def test_1000_guesses_from_one_address_log_nobody_in_and_hit_the_throttle(api, now, messages):
    api.post(REQUEST, {"phone": "0501234567"})
    right = _code_from(messages())

    statuses = [api.post(VERIFY, {"phone": "0501234567", "code": code}).status_code for code in _guesses(right)]

    assert 200 not in statuses
    assert statuses[:30] == [400] * 30  # OTP_VERIFY_RATE_PER_IP: 30/hour
    assert set(statuses[30:]) == {429}
    assert OneTimeCode.objects.get().failed_attempts == 5
    assert not User.objects.filter(phone="+966501234567").exists()


def test_1000_guesses_from_1000_addresses_die_after_five_wrong_tries(api, now, messages):
    api.post(REQUEST, {"phone": "0501234567"})
    right = _code_from(messages())

    statuses = [
        api.post(VERIFY, {"phone": "0501234567", "code": code}, REMOTE_ADDR=f"198.51.{i // 250}.{i % 250}").status_code
        for i, code in enumerate(_guesses(right))
    ]

    assert statuses == [400] * 1000  # the right code, guess 501, comes after the code died
    assert OneTimeCode.objects.get().failed_attempts == 5
    assert not User.objects.filter(phone="+966501234567").exists()


def test_concurrent_wrong_guesses_cannot_pass_the_limit(postgres):
    import threading

    from django.db import connection
    from django.utils import timezone

    from apps.accounts.services.otp import _code_hash, otp_verify
    from apps.common.errors import AppError

    phone = "+966501234567"
    now = timezone.now()
    OneTimeCode.objects.create(
        phone=phone, code_hash=_code_hash(phone, "123456"), created_at=now, expires_at=now + timedelta(minutes=5)
    )
    barrier = threading.Barrier(30)
    outcomes = []

    def guess(code):
        barrier.wait()
        try:
            otp_verify(phone=phone, code=code)
            outcomes.append("in")
        except AppError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=guess, args=(f"{n:06d}",)) for n in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert outcomes.count("refused") == 30
    assert OneTimeCode.objects.get().failed_attempts == 5
    with pytest.raises(AppError):
        otp_verify(phone=phone, code="123456")  # dead: even the right code fails now


def test_deactivated_users_refresh_token_is_refused(api, now):
    user = UserFactory()
    refresh = str(RefreshToken.for_user(user))
    User.objects.filter(pk=user.pk).update(is_active=False)

    response = api.post("/api/auth/token/refresh/", {"refresh": refresh})

    assert response.status_code == 401
