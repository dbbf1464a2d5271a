import numpy as np
import pytest

from pixelseg.errors import ConfigurationError
from pixelseg.utils.sizes import parse_size


@pytest.mark.parametrize("value, expected", [
    (None, None), ("360x480", (360, 480)), ("360X480", (360, 480)), ("360,480", (360, 480)),
    ((360, 480), (360, 480)), ([360.0, 480.0], (360, 480)), (np.array([2, 3]), (2, 3)),
])
def test_parse_size_accepts(value, expected):
    assert parse_size(value) == expected


def test_parse_size_square_only_when_asked():
    assert parse_size(7, square=True) == (7, 7)
    assert parse_size(np.int64(7), square=True) == (7, 7)
    with pytest.raises(ConfigurationError, match="input_size"):
        parse_size(7, "input_size")


@pytest.mark.parametrize("value", ["360", "0x4", "axb", "1x2x3", (1.5, 2), (True, 2), True, b"3x4", (0, 0),
                                   (-1, 4), "1e99x3", [float("inf"), 2]])
def test_parse_size_refuses_with_the_name(value):
    with pytest.raises(ConfigurationError, match="--image-size") as info:
        parse_size(value, "--image-size")
    assert repr(value) in str(info.value)


def test_parse_size_maximum():
    assert parse_size((16, 16), maximum=16) == (16, 16)
    with pytest.raises(ConfigurationError, match="from 1 to 16"):
        parse_size((17, 16), maximum=16)
