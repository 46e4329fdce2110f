"""The window's size decides how large the 7-inch design is drawn, in either orientation."""

from __future__ import annotations

import pytest

from app.ui.kivy_env import SIZES, design_scale, window_size


@pytest.mark.parametrize(
    ("screen", "rotation", "scale"),
    [("7inch", 0, 1.0), ("7inch", 90, 1.0), ("touch-display-2", 0, 1.6), ("touch-display-2", 270, 1.6)],
)
def test_a_bigger_display_draws_the_same_screens_larger(screen: str, rotation: int, scale: float) -> None:
    assert design_scale(window_size(screen, rotation)) == scale


def test_the_scale_keeps_the_design_inside_the_window() -> None:
    for size in SIZES.values():
        width, height = size
        assert 800 * design_scale(size) <= width and 480 * design_scale(size) <= height
