"""The HTTP reference: a bare Flask app that parses the same JSON and returns a constant.

Served by bench_http.py under the same gunicorn settings as the service.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Flask, jsonify, request

ANSWER = {"decision": "accept"}


def create_app() -> Flask:
    """The reference app."""
    app = Flask(__name__)

    @app.post("/v1/moderate")
    def moderate() -> Any:
        body = json.loads(request.get_data(cache=False).decode("utf-8"))
        if not isinstance(body, dict) or not isinstance(body.get("content"), str):
            return jsonify({"error": {"code": "invalid_request", "message": "bad"}}), 400
        return jsonify(ANSWER)

    return app
