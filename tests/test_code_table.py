"""The sorted code table finds each code's id, and -1 for any other code."""

import numpy as np

from moderation.code_table import CodeTable


def test_codes_found_in_any_order_and_others_are_minus_one():
    table = CodeTable(np.array([40, 10, 30], dtype=np.int64), np.array([4, 1, 3], dtype=np.int64))
    codes = np.array([30, 0, 10, 41, 40, 10, 25, -1], dtype=np.int64)
    assert table.find(codes).tolist() == [3, -1, 1, -1, 4, 1, -1, -1]


def test_an_empty_table_finds_nothing():
    table = CodeTable(np.array([], dtype=np.int64), np.array([], dtype=np.int64))
    assert table.find(np.array([0, 7], dtype=np.int64)).tolist() == [-1, -1]
    assert table.find(np.array([], dtype=np.int64)).tolist() == []
