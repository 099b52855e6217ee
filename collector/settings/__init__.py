"""Every COLLECTOR_* setting, declared once, read once at start-up into `Settings`."""

from .declared import SPECS, Settings, SettingsError, load_settings
from .values import is_valid_event_type

__all__ = ["SPECS", "Settings", "SettingsError", "load_settings", "is_valid_event_type"]
