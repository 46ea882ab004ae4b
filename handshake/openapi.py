"""The OpenAPI 3.1 document of balupi-handshake, served at /api/openapi.json.

tests/test_handshake_api.py checks that it names exactly the routes the app serves.
"""

from __future__ import annotations

from functools import cache

from balupi import __version__

_ERROR = {
    "description": "refused; nothing changed",
    "content": {
        "application/json": {
            "schema": {"type": "object", "properties": {"error": {"type": "string"}}}
        }
    },
}
_SIGNED: list[dict[str, list[str]]] = [{"balupiTimestamp": [], "balupiSignature": []}]
_SIGNED_ERRORS = {
    "400": {**_ERROR, "description": "invalid snapshot (not a JSON object, unknown version)"},
    "401": {**_ERROR, "description": "missing, wrong, stale, future or replayed signature"},
    "413": {**_ERROR, "description": "body larger than handshake.snapshot_max_bytes"},
}
_SNAPSHOT_BODY = {"application/json": {"schema": {"$ref": "#/components/schemas/Snapshot"}}}
_ACK_PROPERTIES: dict[str, object] = {
    "acknowledged": {"const": True},
    "nas_state": {"$ref": "#/components/schemas/NasState"},
    "dns_switched": {"type": "boolean"},
    "dns_error": {"type": ["string", "null"]},
}
_ACK = {"type": "object", "properties": _ACK_PROPERTIES}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _going_offline() -> dict:
    props = {**_ACK_PROPERTIES, "snapshot_stored": {"type": "boolean"}}
    return {
        "post": {
            "summary": "The NAS announces its shutdown (BaluHost's shutdown hook)",
            "description": "Stores the snapshot (if any), moves DNS to the Pi, then answers.",
            "security": _SIGNED,
            "requestBody": {
                "required": False,
                "content": _SNAPSHOT_BODY,
            },
            "responses": {
                "200": _json({**_ACK, "properties": props}, "acknowledged"),
                **_SIGNED_ERRORS,
            },
        }
    }


def _coming_online() -> dict:
    props = {
        **_ACK_PROPERTIES,
        "inbox_flush_started": {"type": "boolean"},
        "inbox_flushed": {"type": "boolean"},
        "files_transferred": {"type": "integer"},
        "inbox_files": {"type": "integer"},
    }
    return {
        "post": {
            "summary": "The NAS announces it is up; DNS moves back to the NAS",
            "security": _SIGNED,
            "responses": {"200": _json({**_ACK, "properties": props}, "acknowledged"),
                          **_SIGNED_ERRORS},
        }
    }  # fmt: skip


def _wake() -> dict:
    body = {
        "type": "object",
        "properties": {
            "wol_sent": {"type": "boolean"},
            "nas_previous_state": {"$ref": "#/components/schemas/NasState"},
            "nas_state": {"$ref": "#/components/schemas/NasState"},
            "wake_elapsed_seconds": {"type": ["number", "null"]},
            "wake_timeout_seconds": {"type": "number"},
            "reason": {"type": "string"},
            "error": {"type": "string"},
        },
    }
    return {
        "post": {
            "summary": "Wake the NAS with a magic packet, then poll its health",
            "responses": {
                "202": _json(body, "magic packet sent; the state is now waking"),
                "200": _json(body, "nothing sent: the NAS is online or already waking"),
                "429": _json(body, "rate-limited (Retry-After says when)"),
                "502": _json(body, "the magic packet could not be sent"),
                **_CROSS_SITE,
            },
        }
    }


# The unsigned buttons answer 403 to a request without the dashboard's header (cross_site.py).
_CROSS_SITE = {
    "403": _json(
        {"type": "object"}, "a cross-site request, or no X-Requested-With: balupi-dashboard"
    )
}


@cache
def openapi_document() -> dict:
    going, coming, wake = _going_offline(), _coming_online(), _wake()
    obj = {"type": "object"}
    return {
        "openapi": "3.1.0",
        "info": {"title": "balupi-handshake", "version": __version__},
        "paths": {
            "/api/handshake/nas-going-offline": going,
            "/api/nas-going-offline": going,
            "/api/handshake/nas-coming-online": coming,
            "/api/nas-coming-online": coming,
            "/api/handshake/snapshot": {
                "post": {
                    "summary": "Store a snapshot sent on its own",
                    "security": _SIGNED,
                    "requestBody": {
                        "required": True,
                        "content": _SNAPSHOT_BODY,
                    },
                    "responses": {"200": _json(obj, "stored"), **_SIGNED_ERRORS},
                }
            },
            "/api/wake-nas": wake,
            "/api/nas/wol": wake,
            "/api/inbox/flush": {
                "post": {
                    "summary": "Move the inbox to the NAS now (one flush at a time)",
                    "responses": {
                        "200": _json(obj, "the flush's report: moved, renamed, left and why"),
                        "404": _json(obj, "no [inbox] section: nothing to flush to"),
                        "409": _json(obj, "the NAS is not online, or another flush runs"),
                        **_CROSS_SITE,
                    },
                }
            },
            "/api/status": {"get": {"summary": "NAS state, DNS target, wake, heartbeat, inbox",
                                    "responses": {"200": _json(obj, "status")}}},
            "/api/handshake/status": {
                "get": {
                    "summary": "The fields BaluHost's Pi dashboard reads",
                    "responses": {"200": _json({
                        "type": "object",
                        "properties": {
                            "nas_state": {"$ref": "#/components/schemas/NasState"},
                            "since": {"type": "string", "format": "date-time"},
                            "last_snapshot": {"type": ["string", "null"], "format": "date-time"},
                            "inbox_size_mb": {"type": "number"},
                            "inbox_files": {"type": "integer"},
                        },
                    }, "status")},
                }
            },
            "/api/health": {"get": {"summary": "{status, version, hostname}",
                                    "responses": {"200": _json(obj, "healthy")}}},
            "/api/openapi.json": {"get": {"summary": "This document",
                                          "responses": {"200": _json(obj, "OpenAPI 3.1")}}},
            "/metrics": {"get": {"summary": "Prometheus metrics (balupi_*)",
                                 "responses": {"200": {"description": "text exposition"}}}},
        },
        "components": {
            "schemas": {
                "NasState": {
                    "type": "string",
                    "enum": ["online", "shutting_down", "offline", "waking", "unreachable"],
                },
                "Snapshot": {
                    "type": "object",
                    "description": "BaluHost's snapshot, version 1 (at most snapshot_max_bytes)",
                    "required": ["version"],
                    "properties": {
                        "version": {"const": 1},
                        "generated_at": {"type": "string"},
                        "baluhost_version": {"type": "string"},
                        "system": obj, "storage": obj, "smart_health": obj,
                        "services": obj, "users": obj, "files_summary": obj,
                    },
                },
            },
            "securitySchemes": {
                "balupiTimestamp": {"type": "apiKey", "in": "header", "name": "X-Balupi-Timestamp",
                                    "description": "Unix seconds, within ±60 s"},
                "balupiSignature": {
                    "type": "apiKey", "in": "header", "name": "X-Balupi-Signature",
                    "description": (
                        "hex HMAC-SHA256(secret, METHOD:path:timestamp:sha256hex(body)); the body "
                        "hash may be of the raw body or of its canonical JSON (sorted keys, no "
                        "spaces)"
                    ),
                },
            },
        },
    }  # fmt: skip
