"""Entry points for process managers: ``gunicorn doorstep.wsgi:app`` and
``celery -A doorstep.wsgi:celery worker``. The only module that builds an app on import."""
from doorstep.app import create_app

app = create_app()
celery = app.extensions["celery"]
