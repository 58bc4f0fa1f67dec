"""The app keeps which hooks and views are plain functions (portal.Portal.ensure_sync), so Flask and
flask-smorest do not ask inspect again on every request; what is not plain still goes Flask's way."""
import pytest


def test_a_plain_function_runs_as_it_is_every_time(app):
    def hook():
        return "ran"

    assert app.ensure_sync(hook) is hook
    assert app.ensure_sync(hook) is hook  # the second time from what the app kept
    assert app.ensure_sync(hook)() == "ran"


def test_a_callable_that_cannot_be_kept_still_runs_as_it_is(app):
    class Unhashable:
        __hash__ = None  # an object that compares by value cannot be a key

        def __call__(self):
            return "ran"

    class Unreferenced:
        __slots__ = ()  # no weak reference to it can be made

        def __call__(self):
            return "ran"

    for hook in (Unhashable(), Unreferenced()):
        assert app.ensure_sync(hook) is hook
        assert app.ensure_sync(hook)() == "ran"


def test_a_coroutine_function_is_never_taken_for_a_plain_one(app):
    async def view():
        return "ran"

    for _ in range(2):  # without the async extra Flask refuses it, and the app keeps nothing of it
        with pytest.raises(RuntimeError, match="'async' extra"):
            app.ensure_sync(view)
