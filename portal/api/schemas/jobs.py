"""The job queue as an admin sees it: is it moving, and what gave up."""
import marshmallow as ma
from marshmallow import fields

from portal.api.schemas.common import enum_field
from portal.models import JobStatus


class JobSchema(ma.Schema):
    """One queued piece of work (a mail, a reminder, an offer); its payload is not shown."""

    id = fields.Integer(required=True)
    kind = fields.String(required=True, metadata={"description": "mail, reminder, password_reset, ..."})
    status = enum_field("JobStatus", [status.value for status in JobStatus], required=True)
    attempts = fields.Integer(required=True)
    last_error = fields.String(allow_none=True, required=True, metadata={
        "description": "Why the last attempt failed (null after a success)."})
    due_at = fields.DateTime(required=True)
    created_at = fields.DateTime(required=True)
    finished_at = fields.DateTime(allow_none=True, required=True)


class JobCountsSchema(ma.Schema):
    pending = fields.Integer(required=True, metadata={"description": "Waiting for their time or their next attempt."})
    running = fields.Integer(required=True)
    done = fields.Integer(required=True, metadata={"description": "Kept for JOBS_KEEP_DAYS, then purged."})
    failed = fields.Integer(required=True, metadata={"description": "Given up after JOBS_MAX_ATTEMPTS."})


class JobQueueSchema(ma.Schema):
    counts = fields.Nested(JobCountsSchema, required=True)
    oldest_due_at = fields.DateTime(allow_none=True, required=True, metadata={
        "description": "The oldest job that is due and not yet done: far in the past means no runner is running."})
    last_run_at = fields.DateTime(allow_none=True, required=True, metadata={
        "description": "When a job last finished."})
    runner = fields.String(required=True, metadata={
        "enum": ["rq", "thread", "manual"], "description": "rq: `make worker` processes; thread: the app's own."})
    failed = fields.List(fields.Nested(JobSchema), required=True, metadata={
        "description": "The 20 latest failed jobs, newest first."})
