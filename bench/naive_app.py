"""The naive reference: the service a team could write in an afternoon.

Flask, a marshmallow schema, flask-limiter with in-memory storage and a plain
file append, nothing else: no fast path, no durability (no fsync, no file
rotation, no crash recovery), limits counted per worker process (so with two
workers a client gets twice its limit), no idempotency, no metrics. bench/run.py
runs it under gunicorn's sync workers, as such a team would, beside the
collector, so that every figure also says how the collector compares with it.
"""

import json
import os
import threading
import uuid

from flask import Flask, jsonify, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from marshmallow import INCLUDE, Schema, ValidationError, fields

app = Flask(__name__)
limiter = Limiter(get_remote_address, app=app, storage_uri="memory://", headers_enabled=True)
_dir = os.environ.get("COLLECTOR_DATA_DIR", ".")
os.makedirs(_dir, exist_ok=True)
_path = os.path.join(_dir, f"naive-{os.getpid()}.jsonl")
_lock = threading.Lock()


class EventSchema(Schema):
    class Meta:
        unknown = INCLUDE

    eventType = fields.String(required=True)
    eventId = fields.String()
    timestamp = fields.String()
    userId = fields.String()
    properties = fields.Dict()
    context = fields.Dict()


class PayloadSchema(Schema):
    messageheader = fields.Dict()
    messageBody = fields.List(fields.Nested(EventSchema), required=True)


_schema = PayloadSchema()


@app.post("/collect/event")
@limiter.limit(os.environ.get("COLLECTOR_RATE_LIMIT", "100000000 per hour"))
def collect_event():
    try:
        payload = _schema.load(request.get_json())
    except ValidationError as error:
        return jsonify(error="Bad Request", message=str(error.messages), statusCode=400), 400
    ping_id = str(uuid.uuid4())
    lines = "".join(json.dumps({"pingId": ping_id, **event}) + "\n" for event in payload["messageBody"])
    with _lock, open(_path, "a") as out:
        out.write(lines)
    return jsonify(headers={}, value=json.dumps({"pingId": ping_id})), 201


@app.get("/healthz")
@limiter.exempt
def healthz():
    return {"status": "ok"}
