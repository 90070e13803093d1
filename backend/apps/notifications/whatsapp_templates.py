"""What Meta tells us about our WhatsApp templates: approved, paused, disabled,
recategorised, their quality. The one writer of ``WhatsAppTemplate`` rows.

Fed by Meta's template webhooks (``message_template_status_update``,
``message_template_quality_update``, ``template_category_update``) and by the
errors of a send (132015 paused, 132016 disabled). A message whose template is in
an unusable state goes by SMS without a WhatsApp call (``routing``).
"""

from datetime import datetime

from django.db import transaction
from django.db.models import Q

from apps.notifications.models import (
    UNUSABLE_TEMPLATE_STATUSES,
    TemplateCategory,
    TemplateQuality,
    TemplateStatus,
    WhatsAppTemplate,
)


@transaction.atomic
def whatsapp_template_record(
    *,
    name: str,
    language: str,
    at: datetime,
    status: str = "",
    category: str = "",
    quality: str = "",
    meta_template_id: str = "",
    reason: str = "",
) -> WhatsAppTemplate | None:
    """Record what Meta said about one template at ``at``. Reports arrive late and
    out of order: one older than the last recorded change for that template
    changes nothing. Values we do not know are ignored (not stored as garbage)."""
    if not name or not language or "\x00" in name + language:
        return None
    changes = {}
    if status in TemplateStatus.values:
        changes["status"] = status
    if category in TemplateCategory.values:
        changes["category"] = category
    if quality in TemplateQuality.values:
        changes["quality"] = quality
    if not changes:
        return None
    template, created = WhatsAppTemplate.objects.select_for_update().get_or_create(
        name=name[:512], language=language[:16], defaults={**changes, "updated_at": at}
    )
    if not created:
        if at < template.updated_at:
            return template
        for field, value in changes.items():
            setattr(template, field, value)
        template.updated_at = at
    if meta_template_id:
        template.meta_template_id = str(meta_template_id)[:64]
    if "status" in changes:
        template.reason = reason[:300]
    template.save()
    return template


def template_note(name: str, language: str) -> tuple[bool, bool]:
    """(usable, marketing) for one template; a template never heard of is usable, not marketing."""
    row = WhatsAppTemplate.objects.filter(name=name, language=language).values_list("status", "category").first()
    if row is None:
        return True, False
    status, category = row
    return status not in UNUSABLE_TEMPLATE_STATUSES, category == TemplateCategory.MARKETING


def template_notes() -> dict[tuple[str, str], tuple[bool, bool]]:
    """(name, language) -> (usable, marketing) for every template that is not plainly
    usable for service messages (unusable, or recategorised MARKETING), in one read."""
    rows = WhatsAppTemplate.objects.filter(
        Q(status__in=UNUSABLE_TEMPLATE_STATUSES) | Q(category=TemplateCategory.MARKETING)
    ).values_list("name", "language", "status", "category")
    return {
        (name, language): (status not in UNUSABLE_TEMPLATE_STATUSES, category == TemplateCategory.MARKETING)
        for name, language, status, category in rows
    }
