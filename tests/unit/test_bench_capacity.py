"""The capacity bench's verdict (bench/capacity/outcome.py): which load level counts as held.

The figure the lead publishes is "the highest rate with p99 under 200 ms"; a 409 is an answer the
API promises (someone else holds or booked the slot), anything else that is not 2xx is a failure and
disqualifies the level however fast it was."""
from bench.booking.wrk import Result
from bench.capacity.outcome import Step, capacity

NO_SOCKET_ERRORS = {"connect": 0, "read": 0, "write": 0, "status": 0, "timeout": 0}


def step(label: str, requests: int, p99_ms: float, counts: dict, errors: dict | None = None) -> Step:
    result = Result(path="mixed", requests=requests, seconds=10.0, bytes=0, p50_ms=p99_ms / 4, p95_ms=p99_ms,
                    p99_ms=p99_ms, mean_ms=p99_ms / 4, max_ms=p99_ms, errors=errors or NO_SOCKET_ERRORS,
                    counts=counts)
    return Step(label, result, load=0.5)


def test_the_fastest_level_under_the_p99_limit_is_the_capacity_and_conflicts_do_not_count_against_it():
    steps = [step("2", 1000, 20, {"read_200": 700, "book_201": 100}),
             step("8", 3000, 150, {"read_200": 2000, "book_201": 300, "book_409_slot_held": 4}),
             step("32", 3500, 260, {"read_200": 2400})]
    best = capacity(steps)
    assert best.label == "8"
    assert best.conflicts == {"book_409_slot_held": 4} and best.failures == {}


def test_a_level_with_a_server_error_or_a_socket_timeout_is_not_held_however_fast():
    steps = [step("2", 1000, 20, {"read_200": 1000}),
             step("8", 3000, 50, {"read_200": 2999, "hold_500_none": 1}),
             step("16", 3200, 60, {"read_200": 3200}, {**NO_SOCKET_ERRORS, "timeout": 2}),
             step("32", 3300, 70, {"read_200": 3299, "unmatched_502": 1})]
    assert capacity(steps).label == "2"
    assert [s.failures for s in steps[1:]] == [{"hold_500_none": 1}, {"socket timeout": 2}, {"unmatched_502": 1}]


def test_no_capacity_when_every_level_is_over_the_limit():
    assert capacity([step("2", 100, 200.0, {"read_200": 100})]) is None
