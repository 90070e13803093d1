"""OpenAPI: document the one error shape on every operation.

Every API error is ``{"code", "message", "fields"}`` (apps/common/exceptions.py);
listing it per operation keeps the schema honest for clients and for
schemathesis, which checks every answer against it.
"""

ERROR_COMPONENT = {
    "type": "object",
    "properties": {
        "code": {"type": "string", "description": "Stable machine-readable error code."},
        "message": {"type": "string", "description": "Human-readable explanation."},
        "fields": {"type": "object", "additionalProperties": True, "description": "Per-field details."},
    },
    "required": ["code", "message", "fields"],
}

ERROR_STATUSES = {
    "400": "Invalid input, a rule refused the request, or a request line over 4094 bytes.",
    "401": "Missing, invalid or expired token.",
    "403": "Not allowed for your role.",
    "404": "Not found (including what you may not see).",
    "405": "Method not allowed.",
    "406": "Not acceptable.",
    "409": "Conflict: the time is taken.",
    "413": "Request body too large.",
    "415": "Unsupported media type.",
    "429": "Too many requests.",
    "431": "Request headers too large (refused by the HTTP server).",
    "503": "A provider could not be reached.",
}


def add_error_responses(result, generator, request, public):
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_COMPONENT
    reference = {"$ref": "#/components/schemas/Error"}
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            responses = operation.setdefault("responses", {})
            for status, description in ERROR_STATUSES.items():
                responses.setdefault(
                    status, {"description": description, "content": {"application/json": {"schema": reference}}}
                )
    return result
