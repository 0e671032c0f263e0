"""The HTTP edge of steering a plan by hand (``dispatch/steering.py``)."""
from __future__ import annotations

from marshmallow import fields, validate

from doorstep.api import Schema

MAX_ID = 2**31 - 1


class SteerToWorkerArgs(Schema):
    worker_id = fields.Integer(required=True, validate=validate.Range(min=1, max=MAX_ID),
                               metadata={"description": "The worker whose route takes the task."})


