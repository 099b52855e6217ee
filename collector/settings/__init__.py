"""Every COLLECTOR_* setting, declared once, read once at start-up into `Settings`."""

from ..eventtypes import is_valid_event_type
from .checks import risks
from .declared import Settings, declarations
from .declaring import Setting
from .error import SettingsError
from .loading import data_dir_to_read, load_settings, plan_file_to_read, suppressed_ids_file_to_read
from .tables import markdown_table, text_table

__all__ = [
    "Setting",
    "Settings",
    "SettingsError",
    "data_dir_to_read",
    "declarations",
    "is_valid_event_type",
    "load_settings",
    "markdown_table",
    "plan_file_to_read",
    "risks",
    "suppressed_ids_file_to_read",
    "text_table",
]
