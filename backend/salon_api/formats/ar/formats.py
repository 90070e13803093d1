# One date and time format in both languages (2026-03-01 10:00), 24-hour: what the
# messages say and what the admin's own columns show. Input formats stay Django's.
DATE_FORMAT = "Y-m-d"
TIME_FORMAT = "H:i"
DATETIME_FORMAT = "Y-m-d H:i"
SHORT_DATE_FORMAT = "Y-m-d"
SHORT_DATETIME_FORMAT = "Y-m-d H:i"
