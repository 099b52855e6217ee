"""gunicorn's configuration for the collector from a checkout: `python -m gunicorn -c gunicorn.conf.py app:app`.

`collector serve` runs the same configuration from the installed package
(collector/server/gunicorn_config.py); the settings are the COLLECTOR_* variables
(docs/configuration.md). The logic, and why, is in collector/server/startup.py
(gunicorn's variables, the start-up checks), collector/server/hooks.py (the
server hooks) and collector/metricsdir.py (prometheus_client's directory).
gunicorn executes this file at start and on every SIGHUP.
"""

from collector import metricsdir

# Before anything imports prometheus_client (the hooks and collector.ops do): see collector/metricsdir.py.
_own_metrics_dir = metricsdir.prepare()

from collector.server import startup  # noqa: E402  (after the metrics directory is set)

# The settings read once and checked, then gunicorn's variables (bind, workers, ...,
# logger_class) and the server hooks: collector/server/startup.py's `configure`.
globals().update(startup.configure(_own_metrics_dir))
