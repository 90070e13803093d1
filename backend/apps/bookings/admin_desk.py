"""The front desk in the admin: the salon's day by staff member, and booking,
moving and cancelling from it.

Pages (added to the booking admin's URLs, ``BookingAdmin.get_urls``):
``day/`` (``?date=YYYY-MM-DD``), ``desk/book/``, ``<id>/move/``, ``<id>/cancel/``.
They are server-rendered in the admin's look, in the salon's time and the
person's language. Every change goes through the booking services, so the rules
and the messages are the API's.

Who may do what: a salon's manager sees every column of their salon and books,
moves and cancels (the "Salon managers" group's ``change_booking``); a staff
member with admin access sees their own column, read-only; a superuser picks the
salon. Another salon's booking does not exist (404).
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import F, Q
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from apps.accounts.error_codes import AccountErrorCode
from apps.accounts.models import Language, Role, User
from apps.bookings.error_codes import BookingErrorCode as Code
from apps.bookings.models import ACTIVE_STATUSES, ALLOWED_TRANSITIONS, Booking, BookingStatus, CancellationReason
from apps.bookings.schedule import day_window
from apps.bookings.selectors import availability_for_day
from apps.bookings.services import (
    BookingChanges,
    booking_change_status,
    booking_create_for_phone,
    booking_update,
)
from apps.common.admin import managed_salon_id, salon_people, zone_words
from apps.common.error_codes import CommonErrorCode
from apps.common.errors import AppError
from apps.common.phones import normalize_mobile
from apps.salons.models import Salon, SalonClosure, Service, StaffTimeOff, WorkingHours

# --- refusals in the person's language --------------------------------------------
REFUSALS = {
    Code.ACTION_NOT_ALLOWED: gettext_lazy("You may not do this to this booking."),
    Code.OTHER_SALON: gettext_lazy("You can only book at your own salon."),
    Code.BOOKING_ALREADY_STARTED: gettext_lazy("This booking has already started."),
    Code.BOOKING_NOT_STARTED: gettext_lazy(
        "This appointment has not started yet: it can be marked completed or no-show from its start time."
    ),
    Code.REASON_WITHOUT_CANCELLATION: gettext_lazy("A reason goes with a cancellation only."),
    Code.UNKNOWN_SERVICE: gettext_lazy("Unknown service."),
    Code.UNKNOWN_STAFF: gettext_lazy("Unknown staff member for this salon."),
    Code.UNKNOWN_CUSTOMER: gettext_lazy("Choose the customer this booking is for."),
    Code.STAFF_DOES_NOT_PERFORM_SERVICE: gettext_lazy("This staff member does not perform this service."),
    Code.NONEXISTENT_LOCAL_TIME: gettext_lazy("This time does not exist in the salon's time zone."),
    Code.AMBIGUOUS_LOCAL_TIME: gettext_lazy("This time happens twice in the salon's time zone."),
    Code.START_IN_PAST: gettext_lazy("The start time is in the past."),
    Code.START_TOO_FAR_AHEAD: gettext_lazy("This day is too far ahead to book."),
    Code.SALON_CLOSED: gettext_lazy("The salon is closed that day."),
    Code.OUTSIDE_WORKING_HOURS: gettext_lazy("The staff member does not work at that time."),
    Code.STAFF_TIME_OFF: gettext_lazy("The staff member is off at that time."),
    Code.SLOT_TAKEN: gettext_lazy("The staff member already has a booking at that time. Choose another time."),
    CommonErrorCode.INVALID_PHONE: gettext_lazy("Enter a valid mobile number, for example 0501234567."),
    CommonErrorCode.NOT_FOUND: gettext_lazy("Booking not found."),
    AccountErrorCode.PHONE_NOT_A_CUSTOMER: gettext_lazy(
        "This phone number belongs to a staff member or manager, not a customer."
    ),
    AccountErrorCode.ACCOUNT_DISABLED: gettext_lazy("This customer's account is disabled."),
}


def status_label(status: str) -> str:
    return str(BookingStatus(status).label)


def refusal_text(code: str, *, status: str = "", target: str = "", fallback: str = "") -> str:
    """A refusal by its code, in the active language; a transition names the
    statuses in words, never their codes."""
    if code == Code.INVALID_TRANSITION and status and target:
        allowed = ALLOWED_TRANSITIONS.get(status, ())
        text = _("A booking that is “%(status)s” cannot become “%(target)s”.") % {
            "status": status_label(status),
            "target": status_label(target),
        }
        if allowed:
            return f"{text} " + _("It can become: %(allowed)s.") % {
                "allowed": _(", ").join(status_label(s) for s in allowed)
            }
        return f"{text} " + _("It cannot change any more.")
    if code == Code.INVALID_TRANSITION:
        return _("Not possible in the booking's current status.")
    if code in REFUSALS:
        return str(REFUSALS[code])
    return fallback or _("This could not be done.")


def reason_text(reason: str) -> str:
    """A stored cancellation reason for a reader of the admin: a code in words, or as written."""
    if reason in CancellationReason.values:
        return str(CancellationReason(reason).label)
    return reason


def is_id(text: str) -> bool:
    """Whether ``text`` is a row id as we write them: ASCII digits, within 64 bits
    ("²" and "١٢" are digits to Python, not to a database)."""
    return text.isascii() and text.isdigit() and len(text) < 19


# --- who may see and do what ---------------------------------------------------------
@dataclass(frozen=True)
class DeskAccess:
    salon: Salon
    may_change: bool  # book, move, cancel
    own_column: User | None = None  # a staff member sees only theirs


def desk_access(request) -> DeskAccess:
    """The salon whose day this person may see, and whether they may change it."""
    user = request.user
    if user.is_superuser:
        salons = Salon.objects.all()
        chosen = request.GET.get("salon", "")
        salon = salons.filter(pk=chosen).first() if is_id(chosen) else None
        salon = salon or salons.first()
        if salon is None:
            raise Http404(_("No salon yet."))
        return DeskAccess(salon=salon, may_change=True)
    salon_id = managed_salon_id(user)
    if salon_id and user.has_perm("bookings.view_booking"):
        return DeskAccess(salon=user.salon, may_change=user.has_perm("bookings.change_booking"))
    if user.role == Role.STAFF and user.salon_id:
        return DeskAccess(salon=user.salon, may_change=False, own_column=user)
    raise PermissionDenied


def may_see_the_day(user) -> bool:
    """Whether the admin shows this person the link to the day view."""
    if not (user.is_authenticated and user.is_active and user.is_staff):
        return False
    if user.is_superuser:
        return True
    if user.role == Role.MANAGER:
        return user.has_perm("bookings.view_booking")
    return user.role == Role.STAFF and user.salon_id is not None


# --- the day, by staff member ----------------------------------------------------------
PIXELS_PER_MINUTE = 2.4


@dataclass
class Block:
    """Something placed in a column from ``top`` to ``top + height`` minutes."""

    kind: str  # booking, time_off, free, open
    start: datetime
    end: datetime
    top: int = 0
    height: int = 0
    booking: Booking | None = None
    label: str = ""
    bookable: bool = False
    # A booking's words and links, worked out once here (the template only prints them).
    customer: str = ""
    phone: str = ""
    service: str = ""
    status: str = ""
    coming: bool = False
    # The channel each of the booking's last messages actually used (and why not the preferred one).
    messages: str = ""
    links: dict = field(default_factory=dict)

    @property
    def style(self) -> str:
        return f"top: {self.top * PIXELS_PER_MINUTE:.1f}px; height: {max(self.height, 10) * PIXELS_PER_MINUTE:.1f}px"

    @property
    def times(self) -> str:
        return f"{self.start:%H:%M}–{self.end:%H:%M}"


@dataclass
class Column:
    staff: User
    blocks: list[Block] = field(default_factory=list)
    working: bool = False


@dataclass
class DaySheet:
    salon: Salon
    day: date
    columns: list[Column]
    first_hour: int
    last_hour: int
    closure: SalonClosure | None
    cancelled_hidden: int

    @property
    def hours(self) -> list[dict]:
        return [
            {"label": f"{hour:02d}:00", "style": f"top: {(hour - self.first_hour) * 60 * PIXELS_PER_MINUTE:.1f}px"}
            for hour in range(self.first_hour, self.last_hour)
        ]

    @property
    def height_style(self) -> str:
        return f"height: {(self.last_hour - self.first_hour) * 60 * PIXELS_PER_MINUTE:.1f}px"


def day_sheet(*, salon: Salon, day: date, own_column: User | None = None, show_cancelled: bool = False) -> DaySheet:
    """Everything the day view draws: per staff member (those who perform one of the
    salon's active services or have a booking that day; or only ``own_column``),
    their working hours, time off, bookings and the free time between, in salon
    time; the channel each booking's last message used; and the salon's closure
    that day. Six queries, whatever the size."""
    tz = salon.tz
    first, last = day_window(day, tz)
    bookings = list(
        Booking.objects.filter(salon=salon, start__gte=first, start__lt=last)
        .select_related("customer", "service")
        .order_by("start", "id")
    )
    if own_column is not None:
        people = [own_column]
    else:
        booked = {b.staff_id for b in bookings}
        people = list(
            salon_people(salon.pk)
            .filter(Q(services_performed__is_active=True, services_performed__salon=salon) | Q(pk__in=booked))
            .distinct()
            .order_by("name", "id")
        )
    ids = [person.pk for person in people]
    hours: dict[int, list[tuple[time, time]]] = {pk: [] for pk in ids}
    for row in WorkingHours.objects.filter(staff_id__in=ids, weekday=day.weekday()).order_by("start_time"):
        hours[row.staff_id].append((row.start_time, row.end_time))
    time_off = list(StaffTimeOff.objects.filter(staff_id__in=ids, start__lt=last, end__gt=first))
    closure = SalonClosure.objects.filter(salon=salon, start_date__lte=day, end_date__gte=day).first()

    def local(moment: datetime) -> datetime:
        return timezone.localtime(moment, tz)

    def at(clock: time) -> datetime:
        return datetime.combine(day, clock, tzinfo=tz)

    midnight, next_midnight = at(time(0)), at(time(0)) + timedelta(days=1)
    edges = [opens for intervals in hours.values() for opens, _closes in intervals]
    ends = [closes for intervals in hours.values() for _opens, closes in intervals]
    shown = [b for b in bookings if b.staff_id in hours and (show_cancelled or b.status != BookingStatus.CANCELLED)]
    first_hour = min([clock.hour for clock in edges] + [local(b.start).hour for b in shown] + [9])
    last_hour = max(
        [clock.hour + (1 if clock.minute else 0) for clock in ends]
        + [min(24, local(b.end).hour + 1) if local(b.end).date() == day else 24 for b in shown]
        + [21]
    )
    axis = at(time(first_hour))

    def place(block: Block) -> Block:
        start, end = max(block.start, midnight), min(block.end, next_midnight)
        block.top = int((start - axis).total_seconds() // 60)
        block.height = int((end - start).total_seconds() // 60)
        block.start, block.end = local(block.start), local(block.end)
        return block

    now = timezone.now()
    step = timedelta(minutes=settings.AVAILABILITY_STEP_MINUTES)
    language = get_language() or "en"
    links = {name: reverse(f"admin:bookings_booking_{name}", args=[0]) for name in ("change", "move", "cancel")}
    channels = _channels_used([b.pk for b in shown])
    columns = []
    for person in people:
        column = Column(staff=person, working=bool(hours[person.pk]) and closure is None)
        busy = []
        for opens, closes in hours[person.pk]:
            column.blocks.append(place(Block("open", at(opens), at(closes))))
        for off in (o for o in time_off if o.staff_id == person.pk):
            column.blocks.append(place(Block("time_off", off.start, off.end, label=off.reason)))
            busy.append((off.start, off.end))
        for booking in (b for b in shown if b.staff_id == person.pk):
            column.blocks.append(place(_booking_block(booking, language, links, channels.get(booking.pk, ""))))
            if booking.status in ACTIVE_STATUSES:
                busy.append((booking.start, booking.busy_until))
        if column.working:
            for opens, closes in hours[person.pk]:
                for gap_start, gap_end in _free(at(opens), at(closes), busy):
                    if gap_end - gap_start >= step:
                        column.blocks.append(place(Block("free", gap_start, gap_end, bookable=gap_end > now)))
        columns.append(column)
    cancelled = sum(1 for b in bookings if b.status == BookingStatus.CANCELLED and b.staff_id in hours)
    return DaySheet(
        salon=salon,
        day=day,
        columns=columns,
        first_hour=first_hour,
        last_hour=last_hour,
        closure=closure,
        cancelled_hidden=0 if show_cancelled else cancelled,
    )


def _channels_used(booking_ids: list[int]) -> dict[int, str]:
    """Per booking, the channel its latest message to the customer actually used
    (e.g. "SMS (not reachable on WhatsApp)"): one query for the day."""
    from apps.notifications.models import Notification, NotificationStatus

    latest: dict[int, Notification] = {}
    rows = (
        Notification.objects.filter(booking_id__in=booking_ids, booking__customer=F("recipient"))
        .exclude(status=NotificationStatus.SKIPPED)
        .only("booking_id", "channel", "reroute", "created_at")
        .order_by("booking_id", "-created_at", "-id")
    )
    for row in rows:
        latest.setdefault(row.booking_id, row)
    words = {}
    for booking_id, row in latest.items():
        channel = row.get_channel_display()
        words[booking_id] = f"{channel} ({row.get_reroute_display()})" if row.reroute else str(channel)
    return words


def _booking_block(booking: Booking, language: str, links: dict[str, str], messages: str = "") -> Block:
    return Block(
        "booking",
        booking.start,
        booking.end,
        booking=booking,
        customer=booking.customer.name or _("(no name)"),
        phone=booking.customer.phone or "",
        service=booking.service.display_name(language),
        status=booking.get_status_display(),
        coming=booking.customer_confirmed_at is not None and booking.is_active,
        messages=messages,
        links={name: url.replace("/0/", f"/{booking.pk}/") for name, url in links.items()},
    )


def _free(opens: datetime, closes: datetime, busy: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    """[opens, closes) minus the busy intervals."""
    free, cursor = [], opens
    for start, end in sorted(busy):
        if end <= cursor or start >= closes:
            continue
        if start > cursor:
            free.append((cursor, start))
        cursor = max(cursor, end)
    if cursor < closes:
        free.append((cursor, closes))
    return free


def chosen_day(request, salon: Salon) -> date:
    """``?date=YYYY-MM-DD``, else today in the salon's time."""
    text = request.GET.get("date", "")
    try:
        return date.fromisoformat(text) if len(text) == 10 else timezone.localtime(timezone.now(), salon.tz).date()
    except ValueError:
        return timezone.localtime(timezone.now(), salon.tz).date()


def day_url(day: date, salon: Salon | None = None, **extra) -> str:
    query = f"?date={day.isoformat()}"
    if salon is not None:
        query += f"&salon={salon.pk}"
    for key, value in extra.items():
        query += f"&{key}={value}"
    return reverse("admin:bookings_booking_day") + query


def day_view(model_admin, request):
    access = desk_access(request)
    salon = access.salon
    day = chosen_day(request, salon)
    show_cancelled = request.GET.get("cancelled") == "1"
    sheet = day_sheet(salon=salon, day=day, own_column=access.own_column, show_cancelled=show_cancelled)
    language = get_language() or "en"
    salon_param = salon if request.user.is_superuser else None
    context = {
        **model_admin.admin_site.each_context(request),
        "title": _("The day by staff member"),
        "opts": model_admin.model._meta,
        "sheet": sheet,
        "access": access,
        "salon_name": salon.display_name(language),
        "day_words": _day_words(day),
        "zone": zone_words(salon.time_zone),
        "previous_url": day_url(day - timedelta(days=1), salon_param),
        "next_url": day_url(day + timedelta(days=1), salon_param),
        "today_url": day_url(timezone.localtime(timezone.now(), salon.tz).date(), salon_param),
        "toggle_cancelled_url": day_url(day, salon_param, **({} if show_cancelled else {"cancelled": "1"})),
        "show_cancelled": show_cancelled,
        "book_url": reverse("admin:bookings_booking_desk_book")
        + f"?date={day.isoformat()}"
        + (f"&salon={salon.pk}" if salon_param else ""),
        "salons": Salon.objects.all() if request.user.is_superuser else [],
        # Words every block repeats, translated once.
        "coming": _("coming"),
        "open": _("Open"),
        "move": _("Move"),
        "cancel": _("Cancel"),
    }
    return TemplateResponse(request, "admin/bookings/booking/day.html", context)


WEEKDAYS = [
    gettext_lazy("Monday"),
    gettext_lazy("Tuesday"),
    gettext_lazy("Wednesday"),
    gettext_lazy("Thursday"),
    gettext_lazy("Friday"),
    gettext_lazy("Saturday"),
    gettext_lazy("Sunday"),
]


def _day_words(day: date):
    return format_html('{} <bdi dir="ltr">{}</bdi>', WEEKDAYS[day.weekday()], day.isoformat())


# --- forms -----------------------------------------------------------------------------
def slot_value(staff_id: int, start: datetime) -> str:
    return f"{staff_id}@{start.isoformat()}"


def offered_slots(*, salon: Salon, service: Service, day: date, staff: User | None, exclude: Booking | None = None):
    """The starts availability offers (one rule with booking), as (value, label) choices."""
    try:
        offer = availability_for_day(
            salon_id=salon.pk,
            service_id=service.pk,
            local_date=day,
            staff_id=staff.pk if staff else None,
            exclude_booking_pk=exclude.pk if exclude else None,
        )
    except AppError:
        return []
    choices = []
    for item in offer.staff:
        for start in item.starts:
            when = start.local.strftime("%H:%M")
            choices.append((slot_value(item.staff.pk, start.local), f"{when} · {item.staff.name or '—'}"))
    choices.sort(key=lambda choice: (choice[1], choice[0]))
    return choices


class SlotForm(forms.Form):
    """Day, staff member and one of the starts availability offers for them."""

    # Typed as the admin shows dates everywhere (2026-03-01), not in the browser's own format.
    date = forms.DateField(
        label=gettext_lazy("Day"),
        input_formats=["%Y-%m-%d"],
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"dir": "ltr", "size": 10}),
    )
    staff = forms.ModelChoiceField(
        label=gettext_lazy("Staff member"),
        queryset=User.objects.none(),
        required=False,
        empty_label=gettext_lazy("Anyone free"),
    )
    slot = forms.ChoiceField(label=gettext_lazy("Free start"), required=False)

    def __init__(self, *args, salon: Salon, **kwargs):
        super().__init__(*args, **kwargs)
        self.salon = salon
        self.fields["staff"].queryset = salon_people(salon.pk).order_by("name", "id")
        self.fields["staff"].label_from_instance = lambda person: person.name or person.phone or "—"

    def offer(self, service: Service | None, exclude: Booking | None = None) -> None:
        """Fill the free starts for the chosen day, service and staff member."""
        day = self.cleaned_value("date")
        if service is None or day is None:
            self.fields["slot"].choices = [("", _("Choose a service and a day first"))]
            return
        choices = offered_slots(
            salon=self.salon, service=service, day=day, staff=self.cleaned_value("staff"), exclude=exclude
        )
        empty = _("No free start that day") if not choices else _("Choose a start")
        self.fields["slot"].choices = [("", empty), *choices]

    def cleaned_value(self, name: str):
        """A field's value as typed so far (the form is shown again as it is filled in)."""
        bound = self[name]
        try:
            return self.fields[name].clean(bound.value())
        except forms.ValidationError:
            return None

    def chosen_slot(self) -> tuple[int, datetime]:
        value = self.cleaned_data.get("slot") or ""
        staff_id, _sep, start = value.partition("@")
        try:
            return int(staff_id) if is_id(staff_id) else -1, datetime.fromisoformat(start)
        except ValueError:
            raise forms.ValidationError(_("Choose one of the free starts.")) from None


class BookForm(SlotForm):
    service = forms.ModelChoiceField(label=gettext_lazy("Service"), queryset=Service.objects.none())
    phone = forms.CharField(
        label=gettext_lazy("Customer's phone"),
        max_length=32,
        required=False,
        help_text=gettext_lazy("Any form: 0501234567, +966 50 123 4567."),
    )
    name = forms.CharField(
        label=gettext_lazy("Customer's name"),
        max_length=150,
        required=False,
        help_text=gettext_lazy("For a new customer; a known customer keeps theirs."),
    )
    language = forms.ChoiceField(
        label=gettext_lazy("Messages in"), choices=Language.choices, initial=Language.ARABIC, required=False
    )
    note = forms.CharField(
        label=gettext_lazy("Note"), max_length=500, required=False, widget=forms.Textarea({"rows": 2})
    )

    field_order = ["date", "service", "staff", "slot", "phone", "name", "language", "note"]

    def __init__(self, *args, salon: Salon, **kwargs):
        super().__init__(*args, salon=salon, **kwargs)
        language = get_language() or "en"
        self.fields["service"].queryset = Service.objects.filter(salon=salon, is_active=True).order_by("name")
        self.fields["service"].label_from_instance = lambda service: service.display_name(language)

    def known_customer(self) -> User | None:
        try:
            phone = normalize_mobile(self["phone"].value() or "")
        except AppError:
            return None
        return User.objects.filter(phone=phone, role=Role.CUSTOMER).first()


class MoveForm(SlotForm):
    def __init__(self, *args, booking: Booking, **kwargs):
        super().__init__(*args, salon=booking.salon, **kwargs)
        self.fields["staff"].queryset = self.fields["staff"].queryset.filter(services_performed=booking.service_id)


class CancelForm(forms.Form):
    reason = forms.ChoiceField(
        label=gettext_lazy("Reason"),
        choices=[*CancellationReason.choices, ("other", gettext_lazy("Another reason (write it below)"))],
        widget=forms.RadioSelect,
    )
    written = forms.CharField(
        label=gettext_lazy("Reason in your words"),
        max_length=200,
        required=False,
        help_text=gettext_lazy("Named in the customer's message as you write it (shortened to fit one text)."),
    )

    def clean(self):
        data = super().clean()
        if data.get("reason") == "other" and not (data.get("written") or "").strip():
            self.add_error("written", _("Write the reason, or choose one above."))
        return data

    def chosen_reason(self) -> str:
        data = self.cleaned_data
        return data["written"].strip() if data["reason"] == "other" else data["reason"]


# --- the pages -------------------------------------------------------------------------
def _changer(request) -> DeskAccess:
    access = desk_access(request)
    if not access.may_change:
        raise PermissionDenied
    return access


def _show_refusal(form: forms.Form, exc: AppError) -> None:
    form.add_error(None, refusal_text(exc.code, fallback=exc.message))


def book_view(model_admin, request):
    access = _changer(request)
    salon = access.salon
    data = request.POST.copy() if request.method == "POST" else None
    # From a free gap of the day view: ?date=&staff=&start=HH:MM (and ?service=).
    wanted_staff = request.GET.get("staff", "") if is_id(request.GET.get("staff", "")) else ""
    wanted_service = request.GET.get("service", "") if is_id(request.GET.get("service", "")) else ""
    initial = {"date": chosen_day(request, salon), "staff": wanted_staff or None, "service": wanted_service or None}
    form = BookForm(data, salon=salon, initial=initial)
    form.offer(form.cleaned_value("service"))
    wanted = request.GET.get("start", "")
    if wanted_staff and wanted and (data is None or not data.get("slot")):
        preset = _slot_at(form, wanted_staff, wanted)
        if data is None:
            form.fields["slot"].initial = preset
        else:
            data["slot"] = preset
    if data is not None and "_book" in data and form.is_valid():
        try:
            staff_id, start = form.chosen_slot()
            if form.cleaned_data["slot"] not in dict(form.fields["slot"].choices):
                raise forms.ValidationError(_("Choose one of the free starts."))
            booking = booking_create_for_phone(
                actor=request.user,
                service_id=form.cleaned_data["service"].pk,
                staff_id=staff_id,
                start=start,
                phone=form.cleaned_data["phone"],
                name=form.cleaned_data["name"],
                language=form.cleaned_data["language"] or Language.ARABIC,
                note=form.cleaned_data["note"],
            )
        except forms.ValidationError as exc:
            form.add_error("slot", exc)
        except AppError as exc:
            _show_refusal(form, exc)
        else:
            messages.success(request, _("Booked: %(booking)s.") % {"booking": booking_words(booking)})
            salon_param = salon if request.user.is_superuser else None
            return HttpResponseRedirect(day_url(timezone.localtime(booking.start, salon.tz).date(), salon_param))
    context = _form_context(model_admin, request, _("Book at the desk"), form, salon, form.cleaned_value("date"))
    context["known_customer"] = form.known_customer() if data else None
    context["phone_given"] = bool(data and (data.get("phone") or "").strip())
    return TemplateResponse(request, "admin/bookings/booking/desk_form.html", context)


def _slot_at(form: SlotForm, staff_id: str, wanted: str) -> str:
    """The offered choice for ``staff_id`` at the wall time ``HH:MM`` (from a free gap's link)."""
    for value, _label in form.fields["slot"].choices:
        if value.startswith(f"{staff_id}@") and value.partition("T")[2].startswith(wanted):
            return value
    return ""


def move_view(model_admin, request, object_id):
    _changer(request)
    booking = _booking(model_admin, request, object_id)
    data = request.POST if request.method == "POST" else None
    initial = {"date": timezone.localtime(booking.start, booking.salon.tz).date(), "staff": None}
    form = MoveForm(data, booking=booking, initial=initial)
    form.offer(booking.service, exclude=booking)
    if data is not None and "_move" in data and form.is_valid():
        try:
            staff_id, start = form.chosen_slot()
            if form.cleaned_data["slot"] not in dict(form.fields["slot"].choices):
                raise forms.ValidationError(_("Choose one of the free starts."))
            booking = booking_update(
                actor=request.user, booking_id=booking.pk, changes=BookingChanges(start=start, staff_id=staff_id)
            )
        except forms.ValidationError as exc:
            form.add_error("slot", exc)
        except AppError as exc:
            _show_refusal(form, exc)
        else:
            messages.success(request, _("Moved: %(booking)s.") % {"booking": booking_words(booking)})
            return HttpResponseRedirect(day_url(timezone.localtime(booking.start, booking.salon.tz).date()))
    day = timezone.localtime(booking.start, booking.salon.tz).date()
    context = _form_context(model_admin, request, _("Move a booking"), form, booking.salon, day)
    context["booking"] = booking
    context["booking_words"] = booking_words(booking)
    return TemplateResponse(request, "admin/bookings/booking/desk_form.html", context)


def cancel_view(model_admin, request, object_id):
    _changer(request)
    booking = _booking(model_admin, request, object_id)
    form = CancelForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            booking = booking_change_status(
                actor=request.user, booking_id=booking.pk, status=BookingStatus.CANCELLED, reason=form.chosen_reason()
            )
        except AppError as exc:
            form.add_error(
                None,
                refusal_text(exc.code, status=booking.status, target=BookingStatus.CANCELLED, fallback=exc.message),
            )
        else:
            messages.success(request, _("Cancelled: %(booking)s.") % {"booking": booking_words(booking)})
            return HttpResponseRedirect(day_url(timezone.localtime(booking.start, booking.salon.tz).date()))
    day = timezone.localtime(booking.start, booking.salon.tz).date()
    context = _form_context(model_admin, request, _("Cancel a booking"), form, booking.salon, day)
    context["booking"] = booking
    context["booking_words"] = booking_words(booking)
    return TemplateResponse(request, "admin/bookings/booking/cancel.html", context)


def _booking(model_admin, request, object_id) -> Booking:
    """The booking, if it is this person's salon's (404 otherwise)."""
    if not is_id(str(object_id)):
        raise Http404(_("Not found."))
    booking = (
        model_admin.get_queryset(request)
        .select_related("salon", "service", "customer", "staff")
        .filter(pk=object_id)
        .first()
    )
    if booking is None:
        raise Http404(_("Not found."))
    return booking


def _form_context(model_admin, request, title: str, form, salon: Salon, day: date | None = None) -> dict:
    return {
        **model_admin.admin_site.each_context(request),
        "title": title,
        "opts": model_admin.model._meta,
        "form": form,
        "salon_name": salon.display_name(get_language() or "en"),
        "zone": zone_words(salon.time_zone),
        "day_url": day_url(day or timezone.localtime(timezone.now(), salon.tz).date()),
    }


def booking_words(booking: Booking) -> str:
    """ "Chris, Haircut, 2026-03-01 10:00 with Sara" in the reader's language."""
    language = get_language() or "en"
    return _("%(customer)s, %(service)s, %(when)s with %(staff)s") % {
        "customer": booking.customer.name or booking.customer.phone or "—",
        "service": booking.service.display_name(language),
        "when": timezone.localtime(booking.start, booking.salon.tz).strftime("%Y-%m-%d %H:%M"),
        "staff": booking.staff.name or "—",
    }
