"""Error codes of the waiting list: one rule, one code."""

from enum import StrEnum


class WaitlistErrorCode(StrEnum):
    CUSTOMERS_ONLY = "waitlist_customers_only"
    NOT_YOURS = "waitlist_not_yours"
    DAY_NOT_BOOKABLE = "waitlist_day_not_bookable"
    BAD_WINDOW = "waitlist_bad_window"
    TOO_MANY_ENTRIES = "waitlist_too_many_entries"
    ENTRY_BOOKED = "waitlist_entry_booked"
    ENTRY_CLOSED = "waitlist_entry_closed"
    NO_SUCH_OFFER = "waitlist_no_such_offer"
    OFFER_NOT_YET = "waitlist_offer_not_yet_valid"
    OFFER_EXPIRED = "waitlist_offer_expired"
