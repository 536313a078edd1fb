"""round4 gives each value exactly what round(x, 4) gives, ties and edge values included."""

from __future__ import annotations

import math
import struct

import numpy as np
import pytest

from moderation.rounding import round4, rounded_rows


def _same(got: float, want: float) -> bool:
    """Equal to the bit (so -0.0 differs from 0.0), NaN equal to NaN."""
    return struct.pack("<d", got) == struct.pack("<d", want)


def _assert_rounds_like_python(values: list[float]) -> None:
    got = round4(np.array(values, dtype=np.float64)).tolist()
    wrong = [(x, g, round(x, 4)) for x, g in zip(values, got, strict=True)
             if not _same(g, round(x, 4))]
    assert not wrong, wrong[:5]


def test_random_probabilities() -> None:
    rng = np.random.default_rng(7)
    _assert_rounds_like_python(rng.random(200_000).tolist())


def test_values_at_and_around_every_tie() -> None:
    # k + 0.5 ten-thousandths, a few floats either side: the values whose product may
    # land on the wrong side of a half, the ones the fast path must not decide.
    values = []
    for k in range(0, 10_000, 3):
        tie = (k + 0.5) / 1e4
        values += [tie, *np.nextafter(tie, [0.0, 2.0]).tolist(),
                   tie - 1e-12, tie + 1e-12, k / 1e4, math.nextafter(k / 1e4, 1.0)]
    _assert_rounds_like_python(values)


def test_signs_magnitudes_and_non_finite_values() -> None:
    rng = np.random.default_rng(11)
    spread = (rng.standard_normal(50_000) * 10.0 ** rng.integers(-12, 20, 50_000)).tolist()
    _assert_rounds_like_python(
        [0.0, -0.0, 1.0, -1.0, 0.00005, -0.00005, 0.00004999, -0.00001, 1e-300, 2.0**40 + 0.5,
         1e300, -1e300, math.inf, -math.inf, math.nan, *spread])


@pytest.mark.parametrize("shape", [(0,), (3, 2), (2, 1, 4)])
def test_shape_kept(shape: tuple[int, ...]) -> None:
    values = np.linspace(0.0, 1.0, math.prod(shape)).reshape(shape)
    rounded = round4(values)
    assert rounded.shape == shape
    assert [round(x, 4) for x in values.ravel().tolist()] == rounded.ravel().tolist()


@pytest.mark.parametrize("rows", [0, 1, 15, 16, 300])
def test_rounded_rows_few_or_many(rows: int) -> None:
    # A few rows go through round() itself, many through round4: the same floats.
    values = np.random.default_rng(rows).random((rows, 2))
    values[::7, 0] = 0.00015  # a tie of four places
    got = rounded_rows(values)
    assert got == [[round(x, 4) for x in row] for row in values.tolist()]
    assert all(type(x) is float for row in got for x in row)
