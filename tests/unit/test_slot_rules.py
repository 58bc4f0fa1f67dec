"""The booked-slot rule stays served by its partial index whatever plan PostgreSQL picks."""
from sqlalchemy import select, text
from sqlalchemy.dialects import postgresql

from portal.extensions import db
from portal.models import Appointment
from portal.services.scheduling import slot_rules


def _generic_plan(query) -> str:
    """EXPLAIN the query as a prepared statement forced onto its generic plan (as after five executions)."""
    compiled = query.compile(dialect=postgresql.dialect(paramstyle="numeric_dollar"),
                             compile_kwargs={"render_postcompile": True})
    values = ", ".join(repr(compiled.params[name]) for name in compiled.positiontup)
    db.session.execute(text("SET LOCAL plan_cache_mode = force_generic_plan"))
    db.session.execute(text("SET LOCAL enable_seqscan = off"))  # an empty table must not hide the choice
    db.session.execute(text(f"PREPARE probe AS {compiled}"))
    try:
        return "\n".join(db.session.scalars(text(f"EXPLAIN EXECUTE probe({values})")))
    finally:
        db.session.rollback()


def test_the_booked_check_uses_the_partial_index_even_in_a_generic_plan(ctx):
    """A bound 'cancelled' would leave the planner unable to prove the partial index's predicate."""
    plan = _generic_plan(select(Appointment.id).where(Appointment.slot_id == 7, slot_rules.not_cancelled()))
    assert "uq_appointments_active_slot" in plan, plan
