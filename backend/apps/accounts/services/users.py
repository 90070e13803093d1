from django.db import transaction

from apps.accounts.error_codes import AccountErrorCode
from apps.accounts.models import Language, Role, User
from apps.common.channels import Channel
from apps.common.errors import InvalidInput
from apps.common.phones import normalize_mobile


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
            raise InvalidInput("Channel must be 'sms' or 'whatsapp'.", code=AccountErrorCode.INVALID_CHANNEL)
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
            raise InvalidInput("Language must be 'ar' or 'en'.", code=AccountErrorCode.INVALID_LANGUAGE)
        user.preferred_language = preferred_language
        changed.append("preferred_language")
    if changed:
        user.save(update_fields=changed)
    return user


def user_opt_out(*, user_id: int, channel: str) -> None:
    """Stop messaging a person on ``channel`` (they replied STOP, or the provider
    says they did); they may opt back in at /api/me/."""
    field = "whatsapp_opted_out" if channel == Channel.WHATSAPP else "sms_opted_out"
    User.objects.filter(pk=user_id).update(**{field: True})


def user_whatsapp_unreachable(*, user_id: int, until) -> None:
    """WhatsApp said this number cannot get our messages: SMS first until ``until``."""
    User.objects.filter(pk=user_id).update(whatsapp_unreachable_until=until)


def user_whatsapp_reachable(*, user_id: int) -> None:
    """The person wrote to us on WhatsApp, or a WhatsApp message reached them: try it again."""
    User.objects.filter(pk=user_id, whatsapp_unreachable_until__isnull=False).update(whatsapp_unreachable_until=None)


@transaction.atomic
def customer_for_phone(*, phone: str, name: str = "", language: str = Language.ARABIC) -> User:
    """The customer with this phone (any form people write it in), made on the spot
    when there is none: a walk-in or a caller at the front desk, who may never
    have logged in. An existing customer keeps their language, and their name
    unless they had none. A staff member's or manager's phone is not a customer's
    (400), nor is a disabled account's."""
    e164 = normalize_mobile(phone)
    if language not in Language.values:
        raise InvalidInput("Language must be 'ar' or 'en'.", code=AccountErrorCode.INVALID_LANGUAGE)
    user, created = User.objects.get_or_create(
        phone=e164, defaults={"role": Role.CUSTOMER, "name": name.strip(), "preferred_language": language}
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
        return user
    if user.role != Role.CUSTOMER:
        raise InvalidInput(
            "This phone number belongs to a staff member or manager, not a customer.",
            code=AccountErrorCode.PHONE_NOT_A_CUSTOMER,
            fields={"phone": ["Not a customer's phone number."]},
        )
    if not user.is_active:
        raise InvalidInput(
            "This customer's account is disabled.",
            code=AccountErrorCode.ACCOUNT_DISABLED,
            fields={"phone": ["Disabled account."]},
        )
    if name.strip() and not user.name:
        user.name = name.strip()
        user.save(update_fields=["name"])
    return user
