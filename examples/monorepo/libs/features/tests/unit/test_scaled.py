import pytest

from features import scaled


def test_scaled_maps_the_range_onto_zero_to_one() -> None:
    assert scaled(5, 0, 10) == 0.5


def test_scaled_clips_outside_the_range() -> None:
    assert (scaled(-3, 0, 10), scaled(30, 0, 10)) == (0.0, 1.0)


def test_scaled_refuses_an_empty_range() -> None:
    with pytest.raises(ValueError):
        scaled(1, 2, 2)
