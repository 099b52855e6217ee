"""Logging for the service's own lines: one format, to stderr, set up once."""

from __future__ import annotations

import logging.config

FORMAT = "%(asctime)s [%(process)d] [%(levelname)s] %(name)s: %(message)s"


def configure(level: str) -> None:
    logging.config.dictConfig(
        {
            "version": 1,
            "disable_existing_loggers": False,
            "formatters": {"plain": {"format": FORMAT}},
            "handlers": {
                "stderr": {"class": "logging.StreamHandler", "formatter": "plain"},
            },
            "loggers": {
                "collector": {"handlers": ["stderr"], "level": level.upper(), "propagate": False},
                "flask-limiter": {"handlers": ["stderr"], "level": "WARNING", "propagate": False},
            },
        }
    )
