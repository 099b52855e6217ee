"""Every error, whatever raised it, becomes the contract's JSON envelope here.

The Events API doc's shape is `{"error": <reason phrase>, "message": <text>,
"statusCode": <code>}`; a validation error may add `details`. Views and helpers
raise; only this module builds error bodies.
"""

from __future__ import annotations

import logging
from typing import Any

import flask
import orjson
from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.http import HTTP_STATUS_CODES

logger = logging.getLogger(__name__)

# How long a client should wait before resending after a storage failure.
STORAGE_RETRY_AFTER_SECONDS = 5


class CollectorError(Exception):
    """A request the service refuses, with the status and message the client sees."""

    status = 400

    def __init__(self, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class BadRequest(CollectorError):
    status = 400


class PayloadTooLarge(CollectorError):
    status = 413


class UnsupportedMediaType(CollectorError):
    status = 415


class StorageUnavailable(CollectorError):
    """The events could not be stored; nothing of the request was kept."""

    status = 503


class RateLimitUnavailable(StorageUnavailable):
    """The rate limit could not be checked (memcached down) and the service fails closed."""


def error_response(
    status: int, message: str, details: Any = None, headers: dict[str, str] | None = None
) -> flask.Response:
    body: dict[str, Any] = {
        "error": HTTP_STATUS_CODES.get(status, "Unknown Error"),
        "message": message,
        "statusCode": status,
    }
    if details is not None:
        body["details"] = details
    return flask.Response(
        orjson.dumps(body, option=orjson.OPT_NON_STR_KEYS), status=status, headers=headers, mimetype="application/json"
    )


def _collector_error(error: CollectorError) -> flask.Response:
    headers = {}
    if isinstance(error, StorageUnavailable):
        headers["Retry-After"] = str(STORAGE_RETRY_AFTER_SECONDS)
    return error_response(error.status, error.message, error.details, headers)


def _http_error(error: HTTPException) -> flask.Response:
    headers = {}
    if isinstance(error, MethodNotAllowed) and error.valid_methods:
        headers["Allow"] = ", ".join(error.valid_methods)
    status = error.code or 500
    if status == 429:
        message = f"rate limit exceeded: {error.description}"
    else:
        message = error.description or HTTP_STATUS_CODES.get(status, "")
    return error_response(status, message, headers=headers)


def _unexpected_error(error: Exception) -> flask.Response:
    logger.exception("unexpected error handling %s %s", flask.request.method, flask.request.path)
    return error_response(500, "unexpected server error; see the service log")


def init_app(app: flask.Flask) -> None:
    app.register_error_handler(CollectorError, _collector_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected_error)
