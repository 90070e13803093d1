"""Delivery: one notification row, by its id, from ``pending`` to ``sent``,
``failed`` or ``skipped``. It never decides which rows exist: that is the outbox
(``apps.notifications.services``), which also writes the SMS that replaces a
WhatsApp message. One job per module:

- ``publishing``: hand a row's id to the broker after commit; the sweep that
  publishes again what nobody is delivering.
- ``policy``: when a message stops making sense, how long and how often it is retried.
- ``pacing``: each provider account's rate limit, held by all workers together.
- ``sending``: claim a row, call the provider, record each call as a
  ``DeliveryAttempt``, retry transient errors, fall back to SMS after a final
  WhatsApp failure.
- ``reports``: what providers tell us afterwards (delivered, read, failed), and
  the SMS after a late WhatsApp failure.
- ``resend``: send exactly one failed row again, on request.
"""
