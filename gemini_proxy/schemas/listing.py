"""The query of GET /v1/responses/{id}/input_items and of GET /v1/responses/{id} (query
strings: numbers arrive as text)."""
from __future__ import annotations

from marshmallow import fields, validate

from gemini_proxy.schemas.fields import Lenient

ORDERS = ("asc", "desc")
MAX_PAGE = 100


class InputItemsQuerySchema(Lenient):
    after = fields.String(validate=validate.Length(min=1))
    # OpenAI's page size: 20 by default, 1 to 100.
    limit = fields.Integer(load_default=20, validate=validate.Range(1, MAX_PAGE),
                           error_messages={"invalid": "must be an integer"})
    order = fields.String(load_default="desc", validate=validate.OneOf(ORDERS))
    include = fields.List(fields.String())


class RetrieveQuerySchema(Lenient):
    include = fields.List(fields.String())
    # Replaying a stream (`stream=true`, `starting_after`) is for background responses only.
    stream = fields.Boolean(validate=validate.Equal(False, error="streaming a stored response is only possible "
                                                                   "for background responses, which this gateway "
                                                                   "does not run"))
    starting_after = fields.Integer(allow_none=True)
    include_obfuscation = fields.Boolean()


def query_of(args) -> dict:
    """A query string's fields as a dict for load(): `include[]=a&include[]=b` (the SDK's way) and
    `include=a` both give include=[a, b]."""
    query = {key: args.get(key) for key in args if not key.startswith("include")}
    includes = [*args.getlist("include"), *args.getlist("include[]")]
    if includes:
        query["include"] = includes
    return query
