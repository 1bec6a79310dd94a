"""CSV cells that a spreadsheet would run as formulas are written as text; everything else as it was."""

from __future__ import annotations

import csv
import io

import pytest

from greenchannel.csv_cells import FORMULA_STARTS, SafeWriter, safe_cell

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("start", FORMULA_STARTS)
def test_a_text_cell_that_starts_a_formula_gets_a_quote(start):
    assert (
        safe_cell(f'{start}HYPERLINK("http://example.com","点击")')
        == f'\'{start}HYPERLINK("http://example.com","点击")'
    )


@pytest.mark.parametrize("value", ["投诉", "a=b", " =1", "'already", "", 5, -3, 1.5, True, None])
def test_other_cells_are_unchanged(value):
    assert safe_cell(value) == value


def test_the_writer_quotes_every_dangerous_cell_and_the_reader_gets_them_back_as_text():
    out = io.StringIO()
    writer = SafeWriter(out, lineterminator="\n")
    writer.writerow(["number", "narrative", "answer", "figure"])
    writer.writerows([["GC-1", "=1+1", "@SUM(A1:A9)", -4], ["GC-2", "\t=cmd|' /C calc'!A0", "+86 正常", 3]])
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows[1] == ["GC-1", "'=1+1", "'@SUM(A1:A9)", "-4"]
    assert rows[2] == ["GC-2", "'\t=cmd|' /C calc'!A0", "'+86 正常", "3"]
    assert not any(cell.startswith(FORMULA_STARTS) for row in rows for cell in row if cell != "-4")
