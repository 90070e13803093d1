"""Error codes of bookings and availability: one rule, one code."""

from enum import StrEnum


class BookingErrorCode(StrEnum):
    # Who may do what
    ACTION_NOT_ALLOWED = "action_not_allowed"
    OTHER_SALON = "other_salon"
    BOOKING_ALREADY_STARTED = "booking_already_started"
    BOOKING_NOT_STARTED = "booking_not_started"
    INVALID_TRANSITION = "invalid_transition"
    REASON_WITHOUT_CANCELLATION = "reason_without_cancellation"
    # What was asked for
    UNKNOWN_SERVICE = "unknown_service"
    UNKNOWN_STAFF = "unknown_staff"
    UNKNOWN_CUSTOMER = "unknown_customer"
    STAFF_DOES_NOT_PERFORM_SERVICE = "staff_does_not_perform_service"
    NONEXISTENT_LOCAL_TIME = "nonexistent_local_time"
    AMBIGUOUS_LOCAL_TIME = "ambiguous_local_time"
    # The bookability rule (schedule.slot_problem), for booking and availability alike
    START_IN_PAST = "start_in_past"
    START_TOO_FAR_AHEAD = "start_too_far_ahead"
    SALON_CLOSED = "salon_closed"
    OUTSIDE_WORKING_HOURS = "outside_working_hours"
    STAFF_TIME_OFF = "staff_time_off"
    SLOT_TAKEN = "slot_taken"
