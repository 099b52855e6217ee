"""The WSGI entry point of the installed package: `collector serve` (gunicorn) loads `collector.wsgi:app`.

Building the app on import is this module's one job, the documented
exception to "no work at import time", as app.py's in a checkout.
"""

from collector import create_app

app = create_app()
