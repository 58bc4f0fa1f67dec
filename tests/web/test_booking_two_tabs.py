"""One patient, two tabs on doctor pages: the portal holds one time per patient, so what one tab does ends
the other's hold. The other tab then says what happened - "you picked another time", "you already booked
this time" - when it asks (Confirm, a refresh, its poll), instead of "expired"."""
from portal.services.scheduling import holds
from tests.fixtures import clinic
from tests.web.booking_pages import hold, hold_id_in, setup_week

PICKED_ANOTHER = "You picked another time (perhaps in another tab or window), so this one was let go."
ALREADY_BOOKED = "You already booked this time: it is in your appointments."
BOOKED_ANOTHER = "You booked another time meanwhile (perhaps in another tab or window), so this one was let go."
EXPIRED = "Your hold has expired and the time was released."


def confirm(client, doctor_id, week, hold_id):
    return client.post(f"/doctors/{doctor_id}/holds/{hold_id}/confirm", {"week": str(week.monday)},
                       htmx_target="booking-panel")


def poll(client, doctor_id, week, hold_id):
    return client.htmx_get(f"/doctors/{doctor_id}/holds/{hold_id}?week={week.monday}", target="booking-panel",
                           headers={"X-Background-Poll": "1"})


def test_a_hold_in_tab_b_makes_tab_a_say_you_picked_another_time(app, web_as):
    client, _ = web_as("patient")
    doctor_id, week, (nine, ten) = setup_week(app)
    client.get(f"/doctors/{doctor_id}?week={week.monday}")
    tab_a = hold_id_in(hold(client, doctor_id, week, nine).get_data(as_text=True))
    tab_b = hold_id_in(hold(client, doctor_id, week, ten).get_data(as_text=True))

    asked = poll(client, doctor_id, week, tab_a)  # tab A's panel asks (every 20 s, or on focus)
    assert asked.status_code == 200 and asked.headers["HX-Retarget"] == "#booking-message"
    assert PICKED_ANOTHER in asked.get_data(as_text=True) and EXPIRED not in asked.get_data(as_text=True)
    assert '<div id="booking-panel" hx-swap-oob="innerHTML"></div>' in asked.get_data(as_text=True)
    assert poll(client, doctor_id, week, tab_b).status_code == 204  # tab B's hold stands

    confirmed = confirm(client, doctor_id, week, tab_a).get_data(as_text=True)
    assert PICKED_ANOTHER in confirmed and "Booked" not in confirmed
    page = client.get(f"/doctors/{doctor_id}?week={week.monday}&hold={tab_a}").get_data(as_text=True)
    assert PICKED_ANOTHER in page
    assert "Your appointment with" in confirm(client, doctor_id, week, tab_b).get_data(as_text=True)


def test_after_booking_in_tab_a_tab_b_says_the_time_is_already_booked(app, web_as):
    client, _ = web_as("patient")
    doctor_id, week, (nine, _) = setup_week(app)
    client.get(f"/doctors/{doctor_id}?week={week.monday}")
    tab_a = hold_id_in(hold(client, doctor_id, week, nine).get_data(as_text=True))
    tab_b = hold_id_in(hold(client, doctor_id, week, nine).get_data(as_text=True))
    assert tab_a == tab_b  # the same time clicked in both tabs is one hold
    assert "Your appointment with" in confirm(client, doctor_id, week, tab_a).get_data(as_text=True)

    again = confirm(client, doctor_id, week, tab_b).get_data(as_text=True)
    assert ALREADY_BOOKED in again and EXPIRED not in again
    assert ALREADY_BOOKED in poll(client, doctor_id, week, tab_b).get_data(as_text=True)


def test_booking_one_time_tells_the_tab_holding_another_that_it_was_let_go(app, web_as):
    client, me = web_as("patient")
    doctor_id, week, (nine, ten) = setup_week(app)
    client.get(f"/doctors/{doctor_id}?week={week.monday}")
    tab_a = hold_id_in(hold(client, doctor_id, week, nine).get_data(as_text=True))
    with app.app_context():  # then a second hold, as an app (the API) may place it
        tab_b = holds.place_hold(clinic.actor(me.id), ten).hold_id
    assert "Your appointment with" in confirm(client, doctor_id, week, tab_a).get_data(as_text=True)
    page = client.get(f"/doctors/{doctor_id}?week={week.monday}&hold={tab_b}").get_data(as_text=True)
    assert BOOKED_ANOTHER in page and EXPIRED not in page


def test_a_hold_that_ran_out_still_says_expired_and_another_patient_learns_nothing(app, web_as):
    client, _ = web_as("patient")
    other, _ = web_as("patient")
    doctor_id, week, (nine, ten) = setup_week(app)
    client.get(f"/doctors/{doctor_id}?week={week.monday}")
    replaced = hold_id_in(hold(client, doctor_id, week, nine).get_data(as_text=True))
    hold(client, doctor_id, week, ten)
    assert EXPIRED in confirm(client, doctor_id, week, "no-such-hold").get_data(as_text=True)
    other.get(f"/doctors/{doctor_id}?week={week.monday}")
    told = confirm(other, doctor_id, week, replaced).get_data(as_text=True)
    assert EXPIRED in told and PICKED_ANOTHER not in told
