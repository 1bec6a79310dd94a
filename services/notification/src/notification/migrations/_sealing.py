"""What the sealing steps share: the key ring and retention periods of the settings they were given."""

from __future__ import annotations

from greenchannel.migrations import StepContext
from greenchannel.sealing import KeyRingCipher
from notification.config import Settings


def settings_of(context: StepContext) -> Settings:
    if not isinstance(context.settings, Settings):
        raise TypeError(f"notification's migrations need notification's settings, not {type(context.settings)}")
    return context.settings


def key_ring(settings: Settings) -> KeyRingCipher:
    """The key ring the repositories seal with (``WEBHOOK_SECRET_KEYS``), its active key sealing what is migrated."""
    return KeyRingCipher.from_settings(
        settings.webhook_secret_keys.get_secret_value(), settings.webhook_secret_active_key_id
    )
