"""Account services: login by one-time code (``otp``), profile changes (``users``)
and the message provider adapters (``providers``, exposed through ``otp``)."""
