"""What runs under gunicorn: its configuration as functions, the start-up checks and the server hooks.

- startup.py: gunicorn's variables from the settings, read once; the checks the
  master makes before it forks; the command `collector serve` becomes.
- hooks.py: the server hooks (the writer's life in each worker, the metrics
  directory's in the master), each a method callable without gunicorn.
- gunicorn_config.py: the configuration *file* `collector serve` hands gunicorn,
  as thin as gunicorn.conf.py at the top of a checkout: both call
  `startup.configure`.

The top floor of the package (beside cli/ and create_app): it may use
`service.of(worker.wsgi)`; nothing below imports it. Nothing is imported here,
so that a configuration file can set PROMETHEUS_MULTIPROC_DIR
(collector/metricsdir.py) before prometheus_client is first imported.
"""
