"""The service as a production WSGI server loads it: ``gunicorn -w 2 'moderation.wsgi:app'``.

The app is built once per process (each worker, or gunicorn's master with ``--preload``)
from the environment, as ``create_app()`` builds it. What it then holds, the model's
vocabularies and tables and the policies, lives as long as the process, so it is moved
out of the cyclic garbage collector's sight (``gc.freeze``): otherwise every full
collection walks those objects again, a pause of tens of milliseconds for whichever
request set it off. Garbage made later is collected as usual.
"""

from __future__ import annotations

import gc

from .api import create_app

__all__ = ["app"]

app = create_app()
gc.freeze()
