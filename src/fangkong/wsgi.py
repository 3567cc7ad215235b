"""WSGI entry point (gunicorn fangkong.wsgi:application --preload ...).

The URL configuration, and with it the API and every view module, is imported here
rather than by the first request: with `--preload` the master imports it once and the
workers start warm, so neither a cold start nor a worker restarted mid-storm makes
the first requests wait behind the imports. Nothing here touches the database.
"""

import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fangkong.settings")
application = get_wsgi_application()
get_resolver().url_patterns  # noqa: B018 - imports the URL configuration now
