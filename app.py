"""The WSGI entry point: `gunicorn -c gunicorn.conf.py app:app`."""

from collector import create_app

app = create_app()
