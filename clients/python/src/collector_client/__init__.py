"""collector-client: send events to a collector from Python jobs and services.

    from collector_client import Client
    client = Client("https://collect.example.com", write_key="...")
    client.track("invoice_paid", {"amount": 1200}, userId="u-42")

See the package's README for options, delivery guarantees and what is dropped.
"""

from __future__ import annotations

__version__ = "0.1.0"

from .buffer import Limits
from .client import Client
from .retry import Policy

__all__ = ["Client", "Limits", "Policy", "__version__"]
