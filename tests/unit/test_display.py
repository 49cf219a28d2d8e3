"""offnet.display: the one way values are shown (CLI and explorer) and typed back."""

from __future__ import annotations

import pytest

from offnet.display import days_late, duration, hex_id, money, percent, ppm_from_text, ratio, reputation, when


def test_money__exact_with_separators_at_least_two_decimals_and_the_symbol():
    assert money(2_350_000_000, 6, "tUSD") == "2,350.00 tUSD"
    assert money(1, 6, "tUSD") == "0.000001 tUSD"
    assert money(10**30 + 5, 18) == "1,000,000,000,000.000000000000000005"
    assert money(0, 0) == "0"


def test_when__iso_8601_utc_and_a_dash_for_an_unset_date():
    assert when(1_900_000_000) == "2030-03-17T17:46:40Z"
    assert when(0) == when(None) == "-"


def test_ids_ratios_and_percentages():
    assert hex_id(255) == "0x" + "0" * 62 + "ff" and hex_id(b"\x01" * 32) == "0x" + "01" * 32
    assert percent(999_500, 2) == "99.95%" and ratio(1, 3) == "33.3%" and ratio(0, 0) == "-"


def test_reputation__new_without_history_and_the_sample_size_with_it():
    assert reputation(0, 0) == "new"
    assert reputation(0, 4) == "0.0% (n=4)"  # a bad record is not a new member
    assert reputation(750_000, 3) == "75.0% (n=3)"


def test_duration_and_days_late():
    assert [duration(s) for s in (45, 600, 7_500, 3 * 86_400)] == ["45 s", "10 min", "2 h 05 min", "3.0 days"]
    assert days_late(100, 100) == days_late(100, 50) == "on time"
    assert days_late(0, 95_040) == "1.1 days late"


@pytest.mark.parametrize(("typed", "ppm"), [("0.9", 900_000), ("90%", 900_000), (" 1 ", 1_000_000), ("0", 0)])
def test_ppm_from_text__a_score_or_a_percentage(typed, ppm):
    assert ppm_from_text(typed) == ppm


@pytest.mark.parametrize("typed", ["1.5", "-0.1", "101%", "lots", ""])
def test_ppm_from_text__refuses_what_is_not_a_score(typed):
    with pytest.raises(ValueError):
        ppm_from_text(typed)
