import logging

from hypothesis import given
from hypothesis import strategies as st

from app.logs import PanMaskingFilter, mask_digits


def test_pan_and_track_data_are_masked_in_any_message():
    assert mask_digits("card 4761739001010010 ok") == "card 476173******0010 ok"
    masked = mask_digits("t2=4761739001010010=28122010000000000")
    assert "4761739001010010" not in masked and "2812201" not in masked


@given(st.text(alphabet="0123456789", min_size=13, max_size=19))
def test_no_digit_run_of_card_length_survives(run):
    masked = mask_digits(f"x {run} y")
    assert run not in masked


def test_the_filter_masks_arguments_and_tracebacks():
    record = logging.LogRecord("t", logging.ERROR, __file__, 1, "pan %s", ("4761739001010010",), None)
    try:
        raise ValueError("bad 5413330089010608")
    except ValueError:
        import sys

        record.exc_info = sys.exc_info()
    PanMaskingFilter().filter(record)
    text = record.getMessage()
    assert "4761739001010010" not in text and "5413330089010608" not in text
    assert "541333******0608" in text
