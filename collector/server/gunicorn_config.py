"""gunicorn's configuration file for the collector, in the package: `collector serve` runs gunicorn with it.

A configuration file, not a module to import: gunicorn executes it at start
and again on every SIGHUP. Its logic is in collector/server/startup.py and
collector/metricsdir.py; gunicorn.conf.py at the top of a checkout is the same.
"""

from collector import metricsdir

# Before anything imports prometheus_client (the hooks and collector.ops do): see collector/metricsdir.py.
_own_metrics_dir = metricsdir.prepare()

from collector.server import startup  # noqa: E402  (after the metrics directory is set)

# The settings read once and checked, then gunicorn's variables (bind, workers, ...,
# logger_class) and the server hooks: collector/server/startup.py's `configure`.
globals().update(startup.configure(_own_metrics_dir))
