"""GET /openapi.json (this gateway's OpenAPI 3.1 document) and GET /docs (Swagger UI reading
it). Swagger UI's files come from the flask-swagger-ui package and are served by the app, so
the page works offline and behind a firewall: it names no other host."""
from __future__ import annotations

import html
import importlib.resources
import json

from flask import Blueprint, Response, current_app, send_from_directory, url_for

from gemini_proxy.openapi.document import TITLE, Document

bp = Blueprint("docs", __name__)

EXTENSION = "gemini_proxy.openapi.document"
ASSET_PACKAGE = "flask_swagger_ui"
ASSET_MAX_AGE = 24 * 3600

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{title} API reference</title>
  <link rel="stylesheet" href="{css}">
  <link rel="icon" type="image/png" href="{icon}">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="{bundle}"></script>
  <script>
    window.ui = SwaggerUIBundle({config});
  </script>
</body>
</html>
"""


@bp.record_once
def _document_cache(state) -> None:
    state.app.extensions[EXTENSION] = Document()


@bp.get("/openapi.json")
def openapi_json():
    return current_app.extensions[EXTENSION].get(current_app)


@bp.get("/docs")
def docs_page():
    config = {
        "url": url_for("docs.openapi_json"),
        "dom_id": "#swagger-ui",
        "deepLinking": True,
        # Swagger UI would otherwise send the document to validator.swagger.io for a badge.
        "validatorUrl": None,
    }
    page = PAGE.format(title=html.escape(TITLE), css=url_for("docs.asset", filename="swagger-ui.css"),
                       icon=url_for("docs.asset", filename="favicon-32x32.png"),
                       bundle=url_for("docs.asset", filename="swagger-ui-bundle.js"),
                       config=json.dumps(config).replace("</", "<\\/"))
    return Response(page, mimetype="text/html")


@bp.get("/docs/<path:filename>")
def asset(filename: str):
    directory = importlib.resources.files(ASSET_PACKAGE) / "dist"
    return send_from_directory(str(directory), filename, max_age=ASSET_MAX_AGE)
