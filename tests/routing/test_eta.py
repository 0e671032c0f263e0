"""Arrival predictions along the rest of a route (routing.eta)."""

import pytest

from routing.eta import estimate_arrivals
from routing.matrix import geodesic_table, travel_time_s

NOW = 1_795_400_000  # an epoch second; only differences matter
NURSE_AT = (39.1250, 117.2000)  # Binjiang Dao
PATIENT_WANG = {"lat": 39.1030, "lon": 117.1700, "duration_s": 1_800}  # Nankai University
PATIENT_LI = {"lat": 39.0600, "lon": 117.2200, "duration_s": 900}  # Meijiang


def _trip(a, b, mode="car"):
    return travel_time_s(a, (b["lat"], b["lon"]), mode)


def test_no_remaining_stops_means_no_arrivals():
    assert estimate_arrivals(NURSE_AT, NOW, []) == []


def test_the_first_arrival_is_now_plus_the_trip_from_the_last_position():
    assert estimate_arrivals(NURSE_AT, NOW, [PATIENT_WANG]) == [NOW + _trip(NURSE_AT, PATIENT_WANG)]


def test_later_arrivals_include_the_service_time_of_earlier_stops():
    first, second = estimate_arrivals(NURSE_AT, NOW, [PATIENT_WANG, PATIENT_LI])
    wang = (PATIENT_WANG["lat"], PATIENT_WANG["lon"])
    assert second == first + 1_800 + _trip(wang, PATIENT_LI)


def test_arriving_before_the_window_waits_for_it_before_the_next_stop():
    opens = NOW + 3 * 3_600
    early = {**PATIENT_WANG, "window_start_s": opens}
    first, second = estimate_arrivals(NURSE_AT, NOW, [early, PATIENT_LI])
    wang = (PATIENT_WANG["lat"], PATIENT_WANG["lon"])
    assert first < opens  # the prediction is when she reaches the door
    assert second == opens + 1_800 + _trip(wang, PATIENT_LI)


def test_a_window_already_open_costs_no_waiting():
    late_window = {**PATIENT_WANG, "window_start_s": NOW - 600}
    assert estimate_arrivals(NURSE_AT, NOW, [late_window, PATIENT_LI]) == estimate_arrivals(
        NURSE_AT, NOW, [PATIENT_WANG, PATIENT_LI]
    )


def test_a_courier_on_an_ebike_arrives_later_than_a_nurse_by_car():
    by_car = estimate_arrivals(NURSE_AT, NOW, [PATIENT_WANG], mode="car")
    by_ebike = estimate_arrivals(NURSE_AT, NOW, [PATIENT_WANG], mode="ebike")
    assert by_ebike[0] > by_car[0] > NOW


def test_arrivals_follow_the_plans_travel_table():
    durations, _ = geodesic_table([NURSE_AT, (39.1030, 117.1700), (39.0600, 117.2200)], "car")
    first, second = estimate_arrivals(NURSE_AT, NOW, [PATIENT_WANG, PATIENT_LI])
    assert first == NOW + durations[0][1]
    assert second == first + 1_800 + durations[1][2]


@pytest.mark.parametrize(
    ("stop", "message"),
    [
        ({"lat": 39.1, "duration_s": 60}, "lon"),
        ({"lat": 39.1, "lon": 117.2}, "duration_s"),
        ({"lat": 39.1, "lon": 117.2, "duration_s": -5}, "negative"),
    ],
)
def test_a_malformed_stop_is_rejected(stop, message):
    with pytest.raises(ValueError, match=message):
        estimate_arrivals(NURSE_AT, NOW, [PATIENT_WANG, stop])


def test_an_unknown_mode_is_rejected():
    with pytest.raises(ValueError, match="unknown travel mode"):
        estimate_arrivals(NURSE_AT, NOW, [PATIENT_WANG], mode="tram")


def test_arrivals_use_the_deployments_travel_model_when_given():
    from routing.travel import TravelConfig, build_travel

    slow_streets = build_travel(TravelConfig(detour_factor=2.0, handover_s=120))
    durations, _ = geodesic_table([NURSE_AT, (39.1030, 117.1700)], "car", detour_factor=2.0, handover_s=120)
    default = estimate_arrivals(NURSE_AT, NOW, [PATIENT_WANG])
    configured = estimate_arrivals(NURSE_AT, NOW, [PATIENT_WANG], travel=slow_streets)
    assert configured == [NOW + durations[0][1]]
    assert configured[0] > default[0]
