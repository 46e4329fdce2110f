import logging
import os
import stat
from logging.handlers import RotatingFileHandler

from hypothesis import given
from hypothesis import strategies as st

from app.logs import PanMaskingFilter, configure, mask_digits


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


def test_every_log_file_and_its_rotations_are_the_owners_only_whatever_the_umask(tmp_path):
    previous = os.umask(0o022)  # what a shell gives a process
    try:
        configure("INFO", tmp_path / "logs" / "pos.log", console_level=logging.CRITICAL)
        handler = next(h for h in logging.getLogger().handlers if isinstance(h, RotatingFileHandler))
        handler.maxBytes = 200  # rotate after a couple of lines rather than after megabytes
        for n in range(12):
            logging.getLogger("t").info("line %d of the day's log, long enough to fill a small file", n)
    finally:
        os.umask(previous)
        configure("WARNING", None)
    written = [tmp_path / "logs", *(tmp_path / "logs").iterdir()]
    assert {p.name for p in written} >= {"pos.log", "pos.log.1", "pos.log.2"}
    assert {p.name: stat.S_IMODE(p.stat().st_mode) for p in written} == {
        p.name: 0o700 if p.is_dir() else 0o600 for p in written
    }


def test_a_log_left_world_readable_by_an_older_version_is_tightened(tmp_path):
    old = tmp_path / "pos.log"
    old.write_text("yesterday\n")
    old.chmod(0o644)
    configure("INFO", old, console_level=logging.CRITICAL)
    configure("WARNING", None)
    assert stat.S_IMODE(old.stat().st_mode) == 0o600 and old.read_text().startswith("yesterday")
