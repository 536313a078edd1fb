"""Run the moderation service for development: ``python serve.py``.

Production: ``gunicorn -w 2 -b 127.0.0.1:8000 'moderation.wsgi:app'``.
"""

import os

from moderation.api import create_app

if __name__ == "__main__":
    create_app().run(host=os.environ.get("MODERATION_HOST", "127.0.0.1"),
                     port=int(os.environ.get("MODERATION_PORT", "8000")))
