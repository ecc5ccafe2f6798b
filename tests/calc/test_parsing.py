"""Dates and numbers as spreadsheets and exports hold them."""
import datetime as dt

import numpy as np
import pandas as pd
import pytest

from calc import InputError
from calc.parsing import parse_dates, parse_numbers


def iso(series):
    return list(series.dt.strftime("%Y-%m-%d"))


def dates(values, **kw):
    return parse_dates(pd.Series(values, dtype=object), table="Leads", column="date", **kw)


def test_day_first_proven_by_one_value():
    # 13-02-2018 can only be 13 Feb, so the whole column is day-first: 01-02-2018 is 1 Feb.
    out, note = dates(["01-02-2018", "13-02-2018"])
    assert iso(out) == ["2018-02-01", "2018-02-13"] and note is None


def test_month_first_proven_by_one_value():
    out, note = dates(["01/02/2018", "02/13/2018"])
    assert iso(out) == ["2018-01-02", "2018-02-13"] and note is None


def test_ambiguous_column_follows_setting_and_says_so():
    out, note = dates(["01-02-2018", "03-04-2018"], ambiguous="month_first")
    assert iso(out) == ["2018-01-02", "2018-03-04"]
    assert "reads either way" in note and "month-first" in note
    out, note = dates(["01-02-2018"])
    assert iso(out) == ["2018-02-01"] and "day-first" in note


def test_mixed_orders_are_an_error_naming_rows():
    with pytest.raises(InputError) as err:
        dates(["13-02-2018", "02-13-2018", "01-01-2018"])
    assert err.value.table == "Leads" and err.value.column == "date"
    assert err.value.rows == [2, 3]  # sheet rows: header is row 1
    assert "ISO" in err.value.fix


def test_excel_serials_datetimes_iso_and_local_formats():
    values = [43101, 43101.75, dt.datetime(2018, 1, 2, 15, 30), dt.date(2018, 1, 3),
              pd.Timestamp("2018-01-04 10:00", tz="Asia/Shanghai"), "2018-01-05 13:00:00", "2018/1/6",
              "2018年1月7日", "2018. 1. 8.", 20180109, "1 Jan 2018", None, ""]
    out, _ = dates(values)
    # 43101 is 2018-01-01 in Excel's 1900 system (Excel shows it so); a time of day is dropped.
    assert iso(out.dropna()) == ["2018-01-01", "2018-01-01", "2018-01-02", "2018-01-03", "2018-01-04",
                                 "2018-01-05", "2018-01-06", "2018-01-07", "2018-01-08", "2018-01-09", "2018-01-01"]
    assert out.isna().sum() == 2


def test_excel_1900_leap_bug():
    # Excel serial 1 = 1900-01-01, 59 = 1900-02-28, 61 = 1900-03-01; 60 is the phantom 1900-02-29.
    from calc.parsing import _serial_to_date
    assert [_serial_to_date(v) for v in (1, 59, 60, 61)] == \
        [dt.date(1900, 1, 1), dt.date(1900, 2, 28), None, dt.date(1900, 3, 1)]


def test_implausible_years_are_refused():
    # serial 60 (phantom day), 1787 and 2500 are typos, not business dates
    with pytest.raises(InputError, match="3 values are not a date") as err:
        dates(["2024-01-01", 60, "1787-01-01", "2500-01-01"])
    assert err.value.rows == [3, 4, 5]


def test_datetime_column_keeps_dates_and_drops_timezone():
    series = pd.Series(pd.to_datetime(["2024-03-01 23:30"]).tz_localize("UTC"))
    out, _ = parse_dates(series, table="Deals", column="date")
    assert iso(out) == ["2024-03-01"] and out.dt.tz is None


def test_garbage_dates_name_rows_and_values():
    with pytest.raises(InputError) as err:
        dates(["2018-01-01", "soon", "31-02-2018", "#N/A"])
    message = str(err.value)
    assert "'soon'" in message and err.value.rows == [3, 4, 5]


def numbers(values):
    return list(parse_numbers(pd.Series(values, dtype=object), table="Spend", column="cost"))


def test_numbers_from_text_in_many_conventions():
    assert numbers(["1,234.50", "¥88", "Rp 1.234.567", "12,5", "１２３", "15%", "(3.00)", " 7 ", None]) [:8] == \
        [1234.5, 88.0, 1234567.0, 12.5, 123.0, 0.15, -3.0, 7.0]
    assert np.isnan(numbers([None])[0])


def test_excel_errors_and_text_are_input_errors():
    with pytest.raises(InputError) as err:
        numbers([1.0, "#DIV/0!", "#N/A"])
    assert "#DIV/0!" in str(err.value) and err.value.rows == [3, 4]
    with pytest.raises(InputError, match="not a number: 'twelve'"):
        numbers([1.0, "twelve"])
