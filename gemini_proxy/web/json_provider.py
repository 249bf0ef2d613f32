"""Flask's JSON answers (a view's dict, jsonify) encoded by orjson (gemini_proxy/encoding.py): keys in
the order the gateway built them, non-ASCII as UTF-8, compact. Everything else as Flask's default."""
from __future__ import annotations

from typing import Any

from flask.json.provider import DefaultJSONProvider

from gemini_proxy.encoding import json_bytes


class FastJSONProvider(DefaultJSONProvider):
    sort_keys = False
    ensure_ascii = False

    def response(self, *args: Any, **kwargs: Any):
        return self._app.response_class(json_bytes(self._prepare_response_obj(args, kwargs)), mimetype=self.mimetype)
