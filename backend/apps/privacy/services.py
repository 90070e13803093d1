"""Personal data: a person's export, erasure and requests, and retention.

Every request a person makes about their data is a ``DataRequest`` row (the log
the implementing regulation asks for). Redactions are UPDATEs made by
``apps.privacy.redaction`` only.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from apps.accounts.models import OneTimeCode, Role, User
from apps.bookings.models import ACTIVE_STATUSES, Booking, BookingStatus
from apps.bookings.services import booking_change_status
from apps.common.errors import InvalidInput, NotFound, PermissionDenied, TooManyRequests
from apps.notifications.models import InboundMessage, Notification, NotificationStatus, SkipReason
from apps.privacy import redaction
from apps.privacy.error_codes import PrivacyErrorCode
from apps.privacy.models import ANSWER_WITHIN, DataRequest, DataRequestKind
from apps.privacy.selectors import export_document

logger = logging.getLogger(__name__)

# A person may have this many corrections and other requests waiting at once.
OPEN_REQUESTS_LIMIT = 5
# Why an erasure cancelled a booking (Booking.cancellation_reason, shown to the salon).
ACCOUNT_CLOSED = "account_closed"
# Used and expired login codes are kept this long (support: "I never got my code").
LOGIN_CODE_RETENTION = timedelta(days=1)
RETENTION_BATCH = 1000


def data_request_record(
    *,
    user: User | None,
    kind: str,
    details: str = "",
    received_at: datetime | None = None,
    completed_at: datetime | None = None,
    handled_by: User | None = None,
    resolution: str = "",
) -> DataRequest:
    """Log one request; its answer is due 30 days after it was received."""
    received_at = received_at or timezone.now()
    return DataRequest.objects.create(
        user=user,
        kind=kind,
        details=details,
        received_at=received_at,
        due_at=received_at + ANSWER_WITHIN,
        completed_at=completed_at,
        handled_by=handled_by,
        resolution=resolution,
    )


@transaction.atomic
def data_request_create(*, user: User, kind: str, details: str) -> DataRequest:
    """A person asks for a correction (or something else) about their data; a
    superuser answers it in the admin within 30 days. At most
    ``OPEN_REQUESTS_LIMIT`` of them wait at once (429 beyond)."""
    User.objects.select_for_update().filter(pk=user.pk).first()  # one person's requests one at a time
    if DataRequest.objects.open().filter(user=user).count() >= OPEN_REQUESTS_LIMIT:
        raise TooManyRequests(
            f"You have {OPEN_REQUESTS_LIMIT} requests waiting for an answer; we answer each within 30 days.",
            code=PrivacyErrorCode.TOO_MANY_OPEN_REQUESTS,
        )
    return data_request_record(user=user, kind=kind, details=details.strip())


@transaction.atomic
def data_request_complete(*, request_id: int, handled_by: User, resolution: str = "") -> DataRequest:
    """Record that a request was answered, by whom and how. Once."""
    request = DataRequest.objects.select_for_update().filter(pk=request_id).first()
    if request is None:
        raise NotFound("Request not found.")
    if request.completed_at is not None:
        raise InvalidInput("This request is already completed.", code=PrivacyErrorCode.REQUEST_ALREADY_COMPLETED)
    request.completed_at = timezone.now()
    request.handled_by = handled_by
    request.resolution = resolution.strip() or request.resolution
    request.save(update_fields=["completed_at", "handled_by", "resolution"])
    return request


def data_request_describe(*, request_id: int, resolution: str) -> None:
    """Write down what is being done about a request (before or after it is answered)."""
    DataRequest.objects.filter(pk=request_id).update(resolution=resolution.strip())


@transaction.atomic
def person_export(*, user: User) -> dict:
    """Everything we hold about ``user`` as one document (``selectors.EXPORT_SECTIONS``),
    logged as an answered data request, which the document lists too."""
    now = timezone.now()
    data_request_record(
        user=user, kind=DataRequestKind.EXPORT, received_at=now, completed_at=now, resolution="Answered at once."
    )
    return export_document(user, generated_at=now)


@transaction.atomic
def person_erase(*, user: User) -> DataRequest:
    """Erase a customer's personal data (they asked, PDPL article 4).

    Guarantees, in one transaction: nothing still waiting is sent to them, or to
    the staff about them; their future bookings are cancelled and the staff member
    hears of it as of any cancellation ("a customer"), the customer is not
    messaged; the texts of messages to them (and the staff's copies, which name
    them) and from them are redacted, and their number with them; their notes,
    login codes and earlier requests' wording go; the account stays, without name,
    phone or password, inactive, so every token of theirs is refused from the next
    request (and refresh tokens are blacklisted); past bookings stay as anonymous
    rows. A later login with the same phone makes a new, empty account. Staff,
    managers and admins are refused: the salon closes their accounts. The erasure
    is logged as a data request that holds none of the erased data.
    """
    person = User.objects.select_for_update().filter(pk=user.pk).first()
    if person is None or not person.is_active:
        raise NotFound("Account not found.")
    if person.role != Role.CUSTOMER or person.is_staff or person.is_superuser:
        raise PermissionDenied(
            "Staff and manager accounts are closed by the salon: ask your salon's manager.",
            code=PrivacyErrorCode.ERASURE_NOT_FOR_STAFF,
        )
    now = timezone.now()
    forms = redaction.phone_forms(person.phone or "")
    to_them = Notification.objects.filter(recipient=person)
    about_them = Notification.objects.filter(booking__customer=person).exclude(recipient=person)

    waiting = Notification.objects.filter(Q(recipient=person) | Q(booking__customer=person))
    waiting.filter(status=NotificationStatus.PENDING).update(
        status=NotificationStatus.SKIPPED, reason=SkipReason.PERSON_ERASED, claimed_until=None, updated_at=now
    )
    redaction.redact_notifications(to_them)
    redaction.redact_notifications(about_them, phone=False)  # the staff's own number stays
    redaction.redact_inbound(InboundMessage.objects.filter(Q(user=person) | Q(phone__in=forms)))
    bookings = Booking.objects.filter(customer=person)
    redaction.redact_booking_notes(bookings)
    redaction.redact_data_requests(DataRequest.objects.filter(user=person))
    redaction.redact_admin_log(person, forms=forms, booking_ids=list(bookings.values_list("pk", flat=True)))
    OneTimeCode.objects.filter(phone__in=forms).delete()
    _blacklist_tokens(person)
    redaction.redact_person(person)

    # After the name is gone: the staff member's cancellation says "a customer".
    future = bookings.filter(status__in=ACTIVE_STATUSES, start__gt=now).order_by("start")
    for booking_id in future.values_list("pk", flat=True):
        booking_change_status(
            actor=person,
            booking_id=booking_id,
            status=BookingStatus.CANCELLED,
            reason=ACCOUNT_CLOSED,
            tell_customer=False,
        )
    DataRequest.objects.open().filter(user=person).update(
        completed_at=now, resolution="Closed: the person erased their data."
    )
    return data_request_record(
        user=person,
        kind=DataRequestKind.ERASURE,
        received_at=now,
        completed_at=now,
        resolution="Erased at once.",
    )


def _blacklist_tokens(person: User) -> None:
    tokens = OutstandingToken.objects.filter(user=person, blacklistedtoken__isnull=True)
    BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token_id=pk) for pk in tokens.values_list("pk", flat=True)], ignore_conflicts=True
    )


# --- retention ---------------------------------------------------------------------------
@dataclass(frozen=True)
class RetentionResult:
    cutoff: datetime
    notifications: int
    inbound_messages: int
    login_codes: int
    expired_tokens: int


def retention_apply(*, batch_size: int = RETENTION_BATCH) -> RetentionResult:
    """Redact the text and phone of messages (notifications with their attempts,
    inbound messages) older than ``MESSAGE_RETENTION_DAYS``, and delete login codes
    used or expired more than a day ago and expired login tokens.

    The cutoff is the application's clock. Idempotent (a redacted row is not
    selected again) and batched: each batch is its own short transaction that
    checks its rows again, so it is safe while the system works; a message still
    pending is left to delivery."""
    now = timezone.now()
    cutoff = now - timedelta(days=settings.MESSAGE_RETENTION_DAYS)
    old_notifications = (
        Notification.objects.filter(created_at__lt=cutoff)
        .exclude(message="", phone="")
        .exclude(status=NotificationStatus.PENDING)
    )
    old_inbound = InboundMessage.objects.filter(received_at__lt=cutoff).exclude(text="", phone="", button_payload="")
    spent = now - LOGIN_CODE_RETENTION
    result = RetentionResult(
        cutoff=cutoff,
        notifications=_in_batches(old_notifications, redaction.redact_notifications, batch_size),
        inbound_messages=_in_batches(old_inbound, redaction.redact_inbound, batch_size),
        login_codes=_delete_in_batches(
            OneTimeCode.objects.filter(Q(expires_at__lt=spent) | Q(used_at__lt=spent)), batch_size
        ),
        expired_tokens=_delete_in_batches(OutstandingToken.objects.filter(expires_at__lt=now), batch_size),
    )
    logger.info(
        "Retention before %s: %s messages and %s inbound messages redacted, %s login codes and %s tokens deleted.",
        cutoff.isoformat(),
        result.notifications,
        result.inbound_messages,
        result.login_codes,
        result.expired_tokens,
    )
    return result


def _in_batches(candidates, redact, batch_size: int) -> int:
    """Walk ``candidates`` by id, ``batch_size`` at a time, redacting each batch in
    its own transaction (the UPDATE checks the candidate conditions again)."""
    done, last = 0, 0
    while True:
        ids = list(candidates.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:batch_size])
        if not ids:
            return done
        with transaction.atomic():
            done += redact(candidates.filter(pk__in=ids))
        last = ids[-1]


def _delete_in_batches(rows, batch_size: int) -> int:
    done = 0
    while True:
        ids = list(rows.order_by("pk").values_list("pk", flat=True)[:batch_size])
        if not ids:
            return done
        with transaction.atomic():
            _, per_model = rows.filter(pk__in=ids).delete()
        done += per_model.get(rows.model._meta.label, 0)
