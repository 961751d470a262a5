"""The OpenAPI 3 description of the JSON API, kept next to the code it describes.

tests/api tests the API against this document with schemathesis, so a change to either that
does not match the other fails the suite.
"""

from __future__ import annotations

from typing import Any

_ERROR = {"$ref": "#/components/responses/Error"}
_NULLABLE_STRING = {"type": ["string", "null"]}
# Every answer to a working token says when it stops working.
_TOKEN_HEADERS = {"X-Kopir-Token-Expires": {"$ref": "#/components/headers/TokenExpires"}}


def _errors(*codes: int) -> dict[str, Any]:
    return {str(code): _ERROR for code in codes}


def document() -> dict[str, Any]:
    """Return the OpenAPI document."""
    omobility_id = {
        "name": "omobility_id",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "maxLength": 64},
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Kopir partner API",
            "version": "1.0.0",
            "description": (
                "Nominations that concern the token's institution (as sending or receiving "
                "university), their documents, and the receiving university's answer. "
                "Authenticate with `Authorization: Bearer <token>`; tokens are made in the "
                "partner portal, for 30, 90, 180 or 365 days. Every answer to a working token "
                "carries `X-Kopir-Token-Expires` (ISO 8601, UTC); an expired token is refused "
                'with 401 and `"error": "token_expired"`. A token has one budget of requests '
                "(300 a minute by default) across this API and the EWP endpoints; past it the "
                "answer is 429 with `Retry-After`."
            ),
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": {
            "/nominations": {
                "get": {
                    "operationId": "listNominations",
                    "summary": "List nominations, newest change first",
                    "parameters": [
                        {
                            "name": "modified_since",
                            "in": "query",
                            "schema": {"type": "string", "format": "date-time"},
                            "description": "Only nominations changed after this moment.",
                        },
                        {
                            "name": "academic_year",
                            "in": "query",
                            "schema": {"type": "string", "pattern": "^[0-9]{4}/[0-9]{4}$"},
                        },
                        {
                            "name": "status",
                            "in": "query",
                            "schema": {"enum": ["nomination", "live", "cancelled"]},
                        },
                        {
                            "name": "page",
                            "in": "query",
                            "schema": {"type": "integer", "minimum": 1, "maximum": 100000},
                        },
                        {
                            "name": "per_page",
                            "in": "query",
                            "schema": {"type": "integer", "minimum": 1, "maximum": 200},
                        },
                    ],
                    "responses": {
                        "200": {
                            "description": "A page of nominations",
                            "headers": _TOKEN_HEADERS,
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/NominationPage"}
                                }
                            },
                        },
                        **_errors(400, 401, 429),
                    },
                }
            },
            "/nominations/{omobility_id}": {
                "get": {
                    "operationId": "getNomination",
                    "summary": "Get one nomination",
                    "parameters": [omobility_id],
                    "responses": {
                        "200": {
                            "description": "The nomination",
                            "headers": _TOKEN_HEADERS,
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Nomination"}
                                }
                            },
                        },
                        **_errors(401, 404, 429),
                    },
                }
            },
            "/nominations/{omobility_id}/documents": {
                "get": {
                    "operationId": "listDocuments",
                    "summary": "List the nominee's documents",
                    "parameters": [omobility_id],
                    "responses": {
                        "200": {
                            "description": "The documents",
                            "headers": _TOKEN_HEADERS,
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "array",
                                        "items": {"$ref": "#/components/schemas/Document"},
                                    }
                                }
                            },
                        },
                        **_errors(401, 404, 429),
                    },
                }
            },
            "/nominations/{omobility_id}/documents/{document_id}": {
                "get": {
                    "operationId": "downloadDocument",
                    "summary": "Download one document",
                    "parameters": [
                        omobility_id,
                        {
                            "name": "document_id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "integer", "minimum": 1},
                        },
                    ],
                    "responses": {
                        "200": {
                            "description": "The file, as uploaded",
                            "headers": _TOKEN_HEADERS,
                            "content": {
                                media: {"schema": {"type": "string", "format": "binary"}}
                                for media in ("application/pdf", "image/jpeg", "image/png")
                            },
                        },
                        **_errors(401, 404, 429),
                    },
                }
            },
            "/nominations/{omobility_id}/answer": {
                "post": {
                    "operationId": "answerNomination",
                    "summary": "Verify or reject a nomination (receiving university only)",
                    "description": (
                        "A first answer may be given at any time. A verification may later be "
                        "changed to a rejection, with a comment, until the mobility starts "
                        "(its planned arrival); a rejection is final. Every answer is kept in "
                        "the nomination's history with the token that gave it."
                    ),
                    "parameters": [omobility_id],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/AnswerRequest"}
                            }
                        },
                    },
                    "responses": {
                        "200": {
                            "description": "The nomination with its answer",
                            "headers": _TOKEN_HEADERS,
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Nomination"}
                                }
                            },
                        },
                        **_errors(400, 401, 403, 404, 409, 422, 429),
                    },
                }
            },
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "headers": {
                "TokenExpires": {
                    "description": "When the token used stops working (ISO 8601, UTC).",
                    "required": True,
                    "schema": {"type": "string", "format": "date-time"},
                }
            },
            "responses": {
                "Error": {
                    "description": "What went wrong",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                    },
                }
            },
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error", "message"],
                    "properties": {
                        "error": {
                            "type": "string",
                            "description": (
                                "A stable code: bad_request, unauthorized, token_expired, "
                                "forbidden, not_found, method_not_allowed, conflict (the "
                                "answer cannot change: already given, a rejection, or the "
                                "mobility has started), comment_required (422: a "
                                "rejection without a comment), too_many_requests."
                            ),
                        },
                        "message": {"type": "string"},
                    },
                },
                "AnswerRequest": {
                    "type": "object",
                    "required": ["answer"],
                    "properties": {
                        "answer": {"enum": ["verified", "rejected"]},
                        "comment": {
                            "type": "string",
                            "maxLength": 2000,
                            "description": "Required to reject (422 without it).",
                        },
                    },
                },
                "Document": {
                    "type": "object",
                    "required": ["id", "kind", "name", "media_type", "size", "sha256", "url"],
                    "properties": {
                        "id": {"type": "integer"},
                        "kind": {"type": "string"},
                        "name": {"type": "string"},
                        "media_type": {"type": "string"},
                        "size": {"type": "integer"},
                        "sha256": {"type": "string"},
                        "url": {"type": "string"},
                    },
                },
                "NominationPage": {
                    "type": "object",
                    "required": ["items", "page", "per_page", "total"],
                    "properties": {
                        "items": {
                            "type": "array",
                            "items": {"$ref": "#/components/schemas/Nomination"},
                        },
                        "page": {"type": "integer"},
                        "per_page": {"type": "integer"},
                        "total": {"type": "integer"},
                    },
                },
                "Nomination": {
                    "type": "object",
                    "required": [
                        "omobility_id",
                        "sending_hei_id",
                        "receiving_hei_id",
                        "receiving_academic_year_id",
                        "student",
                        "status",
                        "answer",
                        "modified_at",
                    ],
                    "properties": {
                        "omobility_id": {"type": "string"},
                        "programme": {"type": "string"},
                        "sending_hei_id": {"type": "string"},
                        "receiving_hei_id": {"type": "string"},
                        "receiving_academic_year_id": {"type": "string"},
                        "sending_academic_term_ewp_id": _NULLABLE_STRING,
                        "student": {
                            "type": "object",
                            "required": ["given_names", "family_name", "global_id"],
                            "properties": {
                                "given_names": {"type": "string"},
                                "family_name": {"type": "string"},
                                "given_names_native": _NULLABLE_STRING,
                                "family_name_native": _NULLABLE_STRING,
                                "native_lang": _NULLABLE_STRING,
                                "birth_date": {"type": ["string", "null"], "format": "date"},
                                "citizenship": _NULLABLE_STRING,
                                "gender": {"type": ["integer", "null"]},
                                "email": _NULLABLE_STRING,
                                "global_id": {"type": "string"},
                            },
                        },
                        "activity_type": {"type": "string"},
                        "activity_attributes": {"type": "string"},
                        "eqf_level": {"type": ["integer", "null"]},
                        "isced_code": _NULLABLE_STRING,
                        "language_skills": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {
                                    "language": {"type": "string"},
                                    "cefr": _NULLABLE_STRING,
                                },
                            },
                        },
                        "planned_arrival": {"type": ["string", "null"], "format": "date"},
                        "planned_departure": {"type": ["string", "null"], "format": "date"},
                        "status": {"enum": ["nomination", "live", "cancelled"]},
                        "answer": {"enum": ["pending", "verified", "rejected"]},
                        "answer_comment": _NULLABLE_STRING,
                        "answered_at": {"type": ["string", "null"]},
                        "modified_at": {"type": "string"},
                    },
                },
            },
        },
    }
