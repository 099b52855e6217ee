"""The contract as an OpenAPI 3 document: generated from the request schemas (document), with the
parts apispec cannot read (parts) and the Segment-compatible routes (segment); served at GET /openapi.json."""

from __future__ import annotations

from .document import document, init_app, render

__all__ = ["document", "init_app", "render"]
