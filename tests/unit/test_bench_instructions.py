"""The instruction counter's bookkeeping (bench/booking/instructions.py): reads it counts are each computed (no
URL repeats, so the answer cache cannot answer one), and each count is read from the dump of its own label."""
from bench.booking.instructions import _totals, _urls
from bench.booking.roundtrips import Probe


def test_each_counted_read_asks_for_something_the_answer_cache_has_not_seen():
    week = Probe("doctor-week", "GET", "/api/v1/doctors/7/slots?from=2026-12-07&to=2026-12-13")
    window = Probe("speciality-window", "GET", "/api/v1/specialities/Cardiology/slots?"
                                               "start=2026-12-08T00%3A00%3A00%2B01%3A00&end=2026-12-09T00%3A00%3A00%2B01%3A00")
    for probe in (week, window):
        urls = _urls(probe, 35)
        assert len(set(urls)) == 35 and all(url.split("?")[0].endswith("/slots") for url in urls)
    assert _urls(week, 2) == ["/api/v1/doctors/1/slots?from=2026-12-07&to=2026-12-13",
                              "/api/v1/doctors/2/slots?from=2026-12-07&to=2026-12-13"]
    assert _urls(window, 2)[1] == ("/api/v1/specialities/Cardiology/slots?start=2026-12-09T00%3A00%3A00%2B01%3A00"
                                   "&end=2026-12-10T00%3A00%3A00%2B01%3A00")


def test_each_count_comes_from_the_dump_of_its_label(tmp_path):
    for name, label, total in (("callgrind.41", "path", 123456), ("callgrind.41.2", "healthz", 789),
                               ("callgrind.41.3", None, 5)):
        trigger = f"dump {label}" if label else "Program termination"
        (tmp_path / name).write_text(f"version: 1\ndesc: Trigger: {trigger}\nsummary: 0\ntotals: {total}\n")
    assert _totals(tmp_path) == {"path": 123456, "healthz": 789}
