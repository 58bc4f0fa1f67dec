"""In the portal a patient holds one time at a time: a new hold from a doctor page lets go of the others (with any
doctor), and booking lets go of all of them, so nothing the patient clicked away from blocks anyone."""
import re

from portal.services.scheduling import holds
from tests.fixtures import clinic
from tests.web.booking_pages import hold, hold_id_in, setup_week


def held(app, slot_ids):
    with app.app_context():
        return holds.held_slot_ids(slot_ids)


def test_clicking_a_second_time_releases_the_first_and_the_grid_says_so(app, web_as, factories):
    client, _ = web_as("patient")
    rival = factories.user("patient")
    doctor_id, week, (nine, ten, _) = setup_week(app, (9, 10, 11))
    client.get(f"/doctors/{doctor_id}?week={week.monday}")
    first = hold_id_in(hold(client, doctor_id, week, nine).get_data(as_text=True))
    html = hold(client, doctor_id, week, ten).get_data(as_text=True)
    assert "Confirm your appointment" in html and "10:00 CET" in html
    assert html.count('<span class="slot-note">your hold</span>') == 1  # only the time in the panel
    assert re.search(rf'name="slot_id" value="{nine}">\s*<input type="hidden" name="week"[^>]*>\s*'
                     r'<button type="submit" class="slot-button">09:00', html)  # free again, not "your hold"
    assert held(app, [nine, ten]) == {ten}
    with app.app_context():
        assert holds.get_hold(first) is None
        assert holds.place_hold(clinic.actor(rival.id), nine).slot_id == nine  # others may take it at once


def test_clicking_the_held_time_again_keeps_the_same_hold(app, web_as):
    client, _ = web_as("patient")
    doctor_id, week, (nine, _, _) = setup_week(app, (9, 10, 11))
    client.get(f"/doctors/{doctor_id}?week={week.monday}")
    first = hold_id_in(hold(client, doctor_id, week, nine).get_data(as_text=True))
    assert hold_id_in(hold(client, doctor_id, week, nine).get_data(as_text=True)) == first


def test_holds_with_other_doctors_neither_linger_nor_count_against_a_hidden_cap(app, web_as, monkeypatch):
    client, me = web_as("patient")
    monkeypatch.setitem(app.config, "MAX_HOLDS_PER_PATIENT", 3)
    elsewhere = [setup_week(app, (8,), name=f"Dr Other {n}") for n in range(3)]
    elsewhere_slots = [slot_id for _, _, (slot_id,) in elsewhere]
    doctor_id, week, (nine, _, _) = setup_week(app, (9, 10, 11))
    for other_id, other_week, (slot_id,) in elsewhere:
        client.get(f"/doctors/{other_id}?week={other_week.monday}")
        hold(client, other_id, other_week, slot_id)
    assert held(app, elsewhere_slots) == {elsewhere_slots[-1]}
    with app.app_context():  # the API may hold up to the cap; the portal still holds just one
        for slot_id in elsewhere_slots:
            holds.place_hold(clinic.actor(me.id), slot_id)
    response = hold(client, doctor_id, week, nine)
    assert "Confirm your appointment" in response.get_data(as_text=True)
    assert held(app, [nine, *elsewhere_slots]) == {nine}


def test_booking_lets_go_of_every_other_hold(app, web_as):
    client, me = web_as("patient")
    doctor_id, week, (nine, ten, eleven) = setup_week(app, (9, 10, 11))
    with app.app_context():  # holds placed elsewhere (the API) before the patient books here
        for slot_id in (ten, eleven):
            holds.place_hold(clinic.actor(me.id), slot_id)
    client.get(f"/doctors/{doctor_id}?week={week.monday}")
    with app.app_context():
        hold_id = holds.place_hold(clinic.actor(me.id), nine).hold_id  # as the panel of an earlier visit left it
    page = client.get(f"/doctors/{doctor_id}?week={week.monday}&hold={hold_id}").get_data(as_text=True)
    assert "Confirm your appointment" in page
    done = client.post(f"/doctors/{doctor_id}/holds/{hold_id}/confirm", {"week": str(week.monday)},
                       htmx_target="booking-panel").get_data(as_text=True)
    assert "Your appointment with Dr Adam Baker is on" in done and "your hold" not in done
    assert held(app, [nine, ten, eleven]) == set()
    for slot_id in (ten, eleven):
        assert f'name="slot_id" value="{slot_id}"' in done  # the grid offers them as free again
