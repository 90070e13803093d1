from django.db import transaction

from apps.accounts.models import Language, User
from apps.common.errors import InvalidInput


@transaction.atomic
def user_update_profile(*, user: User, name: str | None = None, preferred_language: str | None = None) -> User:
    """Change what a user may change about themselves: their name and language."""
    changed = []
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
