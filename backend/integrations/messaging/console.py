import logging
import uuid

from apps.common.channels import Channel, MessageClass
from apps.common.phones import national_display
from integrations.messaging.base import MessageProvider, SentMessage, Template

logger = logging.getLogger("salon.messages")


class ConsoleProvider(MessageProvider):
    """Development provider: one INFO log line per message, nothing leaves the machine.

    The line names channel, phone and text, e.g.
    ``OTP SMS to 0500000002: Your booking request is received for ...``.
    """

    name = "console"
    channels = frozenset({Channel.SMS, Channel.WHATSAPP})

    def send(
        self,
        phone: str,
        text: str,
        channel: str,
        template: Template | None = None,
        *,
        message_class: str = MessageClass.SERVICE,
    ) -> SentMessage:
        self.check_channel(channel)
        logger.info("OTP %s to %s: %s", channel.upper(), national_display(phone), text)
        return SentMessage(message_id=f"console-{uuid.uuid4().hex}")
