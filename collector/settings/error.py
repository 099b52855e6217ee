"""The one error the settings raise: its message is the one line start-up, gunicorn and `collector settings` print."""

from __future__ import annotations


class SettingsError(ValueError):
    """A COLLECTOR_* variable has a value the service cannot use."""
