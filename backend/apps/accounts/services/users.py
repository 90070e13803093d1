from django.db import transaction

from apps.accounts.models import Channel, Language, User
from apps.common.errors import InvalidInput


@transaction.atomic
def user_update_profile(
    *,
    user: User,
    name: str | None = None,
    preferred_language: str | None = None,
    preferred_channel: str | None = None,
    sms_opted_out: bool | None = None,
    whatsapp_opted_out: bool | None = None,
) -> User:
    """Change what a user may change about themselves: name, language, the channel
    they prefer, and opting out of or back in to a channel."""
    changed = []
    if preferred_channel is not None:
        if preferred_channel not in ("", *Channel.values):
            raise InvalidInput("Channel must be 'sms' or 'whatsapp'.", code="invalid_channel")
        user.preferred_channel = preferred_channel
        changed.append("preferred_channel")
    for field, value in (("sms_opted_out", sms_opted_out), ("whatsapp_opted_out", whatsapp_opted_out)):
        if value is not None:
            setattr(user, field, value)
            changed.append(field)
    if name is not None:
        user.name = name.strip()
        changed.append("name")
    if preferred_language is not None:
        if preferred_language not in Language.values:
            raise InvalidInput("Language must be 'ar' or 'en'.", code="invalid_language")
        user.preferred_language = preferred_language
        changed.append("preferred_language")
    if changed:
        user.save(update_fields=changed)
    return user
