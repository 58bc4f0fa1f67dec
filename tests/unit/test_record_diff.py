"""The readable diff between two versions of a record: words removed and added, unchanged fields left out."""
from types import SimpleNamespace

from portal.web import record_diff


def version(diagnostics="", observations=None, treatments=None, misc=None):
    return SimpleNamespace(diagnostics=diagnostics, observations=observations, treatments=treatments, misc=misc)


def test_only_the_changed_words_are_marked():
    before = version("Mild asthma, seasonal.", treatments="Salbutamol as needed")
    after = version("Moderate asthma, seasonal.", treatments="Salbutamol as needed")
    [change] = record_diff.changes(before, after)
    assert change.label == "Diagnostics"
    assert [(p.kind, p.text) for p in change.pieces] == [
        ("removed", "Mild"), ("added", "Moderate"), ("same", " asthma, seasonal.")]


def test_a_field_filled_in_or_emptied_shows_whole():
    changes = record_diff.changes(version("Flu", misc="Call back"), version("Flu", observations="Fever 39"))
    assert [(c.label, [(p.kind, p.text) for p in c.pieces]) for c in changes] == [
        ("Observations", [("added", "Fever 39")]), ("Other notes", [("removed", "Call back")])]


def test_identical_versions_have_no_changes():
    assert record_diff.changes(version("Same", "a b"), version("Same", "a b")) == []
