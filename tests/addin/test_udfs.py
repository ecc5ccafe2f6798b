"""The Excel functions, called as plain functions with what Excel hands them."""
import datetime as dt
import inspect

import numpy as np
import pytest

import calc
from addin import udfs
from addin.udfs import registry
from addin.udfs.registry import UDFS

SPEND = [["Date", "Cost", "Channel"],
         [dt.datetime(2024, 3, 1), 200.0, "Search"],
         [45353.0, 100.0, "Feed"],          # Excel serial for 2024-03-02
         [dt.datetime(2024, 3, 2), 100.0, "Search"],
         [None, None, None]]                # the blank tail of an over-sized range
LEADS = [["lead_id", "date", "channel"],
         ["L1", dt.datetime(2024, 3, 1), "Search"], ["L2", 45353.0, "Search"],
         ["L3", 45353.0, "Feed"], ["L4", "2024-03-02", None]]
DEALS = [["lead_id", "date", "revenue"], ["L1", dt.datetime(2024, 3, 11), 1000.0], ["L3", 45360.0, None]]


def excel_safe(value):
    if isinstance(value, list):
        return all(excel_safe(v) for v in value)
    return type(value) in (str, int, float, bool, dt.datetime) and not (isinstance(value, float) and np.isnan(value))


def test_registry_names_are_calc_names_in_capitals_and_args_documented():
    # every registered Excel function of every module, issue by issue
    assert set(UDFS) >= {"CONSULT_VOLUME", "CONSULT_COST", "INQUIRY_CONVERSION", "KPI_TABLE",
                         "CYCLE_ROI", "SHORT_TERM_ROI", "COHORT_TRIANGLE", "PAYBACK_DAYS", "MAX_CONSULT_COST",
                         "STABILITY", "STABILITY_VERDICT", "FUNNEL_DIAGNOSIS", "SEGMENT_TABLE", "BUDGET_SHIFT",
                         "PORTFOLIO"}
    for name, spec in UDFS.items():
        assert name == spec.calc_function.__name__.upper() or registry.NAMED_APART[name] == spec.calc_function.__name__
        assert getattr(calc, spec.calc_function.__name__) is spec.calc_function
        assert spec.adapter.__doc__, name
        body = inspect.getsource(inspect.unwrap(spec.adapter)).split('"""')[-1]
        assert len([line for line in body.splitlines() if line.strip()]) <= 10, f"{name} is more than a thin adapter"
        args = [a for a in inspect.signature(spec.adapter).parameters if a != "caller"]
        assert list(spec.arg_docs) == args and all(spec.arg_docs.values()), f"{name}: undocumented argument"


def test_key_indicators_from_excel_shaped_tables():
    # 400 spent on 4 consultations; L1 and L3 won (L3's revenue blank)
    assert udfs.CONSULT_VOLUME(LEADS) == 4
    assert udfs.CONSULT_COST(SPEND, LEADS) == 100.0
    assert udfs.INQUIRY_CONVERSION(LEADS, DEALS) == 0.5
    # 2 March only, Search only: 100 spent, one consultation (L2)
    assert udfs.CONSULT_COST(SPEND, LEADS, start_date=dt.datetime(2024, 3, 2), end_date=45353.0,
                             segment_filter="channel=Search") == 100.0
    # within 8 days: L3 (won after 7 days) yes, L1 (10 days) no; as of 11 March all four are 8 days old
    assert udfs.INQUIRY_CONVERSION(LEADS, DEALS, horizon_days=8.0) == 0.25


def test_kpi_table_spills_header_and_excel_safe_values():
    table = udfs.KPI_TABLE(SPEND, LEADS, DEALS, by="channel")
    assert table[0] == ["channel", *calc.KPI_COLUMNS]
    assert [row[0] for row in table[1:]] == ["(blank)", "Feed", "Search"]
    assert excel_safe(table)
    search = dict(zip(table[0], table[3]))
    assert search["consultations"] == 2 and search["consult_cost"] == 150.0 and search["revenue"] == 1000.0
    assert dict(zip(table[0], table[1]))["spend"] == 0.0  # a segment with leads but no spend


def test_bad_input_reaches_the_cell_as_text():
    message = udfs.CONSULT_COST(SPEND, [["id", "when"], ["L1", 45353.0]])
    assert message.startswith("#INPUT! Leads: column 'lead_id': not found (have: id, when)")
    assert udfs.CONSULT_VOLUME(LEADS, segment_filter="region=South").startswith("#INPUT! Leads: column 'region'")
    assert udfs.CONSULT_VOLUME("not a table").startswith("#INPUT! Leads: must be a range with a header row")
    assert udfs.CONSULT_COST().startswith("#INPUT! no data")


def test_unexpected_errors_become_text_only_outside_tests(monkeypatch):
    def broken(*args, **kwargs):
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(calc, "consult_volume", broken)
    with pytest.raises(ZeroDivisionError):
        udfs.CONSULT_VOLUME(LEADS)
    monkeypatch.setattr(registry, "RAISE_BUGS", False)
    assert udfs.CONSULT_VOLUME(LEADS) == "#ERROR! ZeroDivisionError: boom"


class FakeTable:
    def __init__(self, name, rows):
        self.name, self._rows = name, rows
        self.range = self

    def options(self, **kwargs):
        return self

    @property
    def value(self):
        return self._rows


class FakeCaller:
    """What xlwings passes as `caller`: a Range whose .sheet.book.sheets[*].tables are the workbook's tables."""

    def __init__(self, **tables):
        sheet = type("Sheet", (), {"tables": [FakeTable(n, r) for n, r in tables.items()]})()
        self.sheet = type("S", (), {"book": type("B", (), {"sheets": [sheet]})()})()


def test_left_out_tables_come_from_the_calling_workbook():
    caller = FakeCaller(Spend=SPEND, Leads=LEADS, Deals=DEALS,
                        Settings=[["setting", "value"], ["as_of", dt.datetime(2024, 3, 1)]])
    # as_of 2024-03-01 from the workbook's Settings table: only L1 and 200 of spend are known
    assert udfs.CONSULT_COST(caller=caller) == 200.0
    assert udfs.CONSULT_VOLUME(caller=caller) == 1


def test_repeated_calls_reuse_prepared_data_and_edits_invalidate_it(monkeypatch):
    calls = []
    real_prepare = calc.prepare
    monkeypatch.setattr(calc, "prepare", lambda *a, **k: calls.append(1) or real_prepare(*a, **k))
    for _ in range(5):
        assert udfs.CONSULT_COST(SPEND, LEADS) == 100.0
    assert len(calls) == 1
    edited = [row[:] for row in SPEND]
    edited[1][1] = 600.0
    assert udfs.CONSULT_COST(edited, LEADS) == 200.0 and len(calls) == 2


def test_fresh_copies_of_unchanged_tables_are_recognised(monkeypatch):
    # Excel hands each call new list objects: equality of content, not identity, must decide.
    import copy
    calls = []
    real_prepare = calc.prepare
    monkeypatch.setattr(calc, "prepare", lambda *a, **k: calls.append(1) or real_prepare(*a, **k))
    assert udfs.KPI_TABLE(copy.deepcopy(SPEND), copy.deepcopy(LEADS), copy.deepcopy(DEALS), by="channel") == \
        udfs.KPI_TABLE(copy.deepcopy(SPEND), copy.deepcopy(LEADS), copy.deepcopy(DEALS), by="channel")
    assert len(calls) == 1
    # an edit in a row the sampled key does not look at (row 2 of 5) is still seen
    edited = copy.deepcopy(LEADS)
    edited[2][2] = "Feed"
    assert udfs.CONSULT_VOLUME(edited, segment_filter="channel=Feed") == 2 and len(calls) == 2


def test_results_are_reused_per_dataset(monkeypatch):
    counted = []
    real = calc.consult_cost
    monkeypatch.setattr(calc, "consult_cost", lambda *a, **k: counted.append(1) or real(*a, **k))
    monkeypatch.setattr(calc.consult_cost, "__name__", "consult_cost", raising=False)
    for _ in range(3):
        assert udfs.CONSULT_COST(SPEND, LEADS) == 100.0
    assert udfs.CONSULT_COST(SPEND, LEADS, segment_filter="channel=Search") == 150.0
    assert len(counted) == 2


# --- the data handle ------------------------------------------------------------------------------

SETTINGS = [["setting", "value"], ["gross_margin", 0.5]]
TABLES = {"spend": SPEND, "leads": LEADS, "deals": DEALS, "settings": SETTINGS}


def test_every_function_gives_the_same_answer_from_the_handle_as_from_the_tables():
    handle = udfs.CYCLE_DATA(SPEND, LEADS, DEALS, SETTINGS)
    assert registry.is_handle(handle) and len(handle) < 40
    for name, spec in UDFS.items():
        if name == "CYCLE_DATA":
            continue
        tables = [a for a in spec.arg_docs if a in registry.TABLE_ARGS]
        explicit = spec.adapter(**{t: TABLES[t] for t in tables})
        assert spec.adapter(**{tables[0]: handle}) == explicit, name
    # settings travel with the handle: gross margin 0.5 of 1000 revenue (L1's deal; L3's has none)
    assert udfs.KPI_TABLE(handle)[1][6] == 500.0


def test_a_new_fingerprint_after_any_edit_and_the_same_one_in_a_fresh_process():
    handle = udfs.CYCLE_DATA(SPEND, LEADS, DEALS, SETTINGS)
    edited = [row[:] for row in LEADS]
    edited[3][2] = "Search"
    assert udfs.CYCLE_DATA(SPEND, edited, DEALS, SETTINGS) != handle
    # blake2b over the cells' repr: no per-process salt (Python's hash() of text has one)
    assert registry.fingerprint(SPEND, LEADS, DEALS, SETTINGS) == handle.removeprefix(registry.HANDLE_PREFIX)


class FakeRange:
    def __init__(self, value=None, formula=None):
        self.value, self.formula = value, formula

    def options(self, **kwargs):
        return self


class FakeSheet:
    def __init__(self, name, cells, book):
        self.name, self.cells, self.book = name, cells, book

    def range(self, address):
        return self.cells[address]


class HandleCaller:
    """What xlwings passes as `caller` for a cell: .sheet (name, book.sheets[...]) and .address."""

    def __init__(self, address, formula, tables):
        cells = {f"{n.capitalize()}[#All]": FakeRange(rows) for n, rows in tables.items()}
        self.book = type("Book", (), {})()
        self.sheet = FakeSheet("Start", {**cells, "$A$13": FakeRange(formula=formula)}, self.book)
        self.book.sheets = {"Start": self.sheet}
        self.address = address


def test_a_handle_whose_data_was_lost_recovers_from_its_cell(monkeypatch):
    formula = "=CYCLE_DATA(Spend[#All],Leads[#All],Deals[#All],Settings[#All])"
    caller = HandleCaller("$A$13", formula, TABLES)
    handle = udfs.CYCLE_DATA(SPEND, LEADS, DEALS, SETTINGS, caller=caller)
    assert handle.endswith("@'Start'!$A$13")
    expected = udfs.KPI_TABLE(handle, caller=caller)
    registry.clear_cache()  # Python restarted: the handle text is all that is left in the cell
    prepared = []
    real_prepare = calc.prepare
    monkeypatch.setattr(calc, "prepare", lambda *a, **k: prepared.append(1) or real_prepare(*a, **k))
    assert udfs.KPI_TABLE(handle, caller=caller) == expected
    assert udfs.CONSULT_COST(handle, caller=caller) == 100.0 and len(prepared) == 1  # recovered once, then held
    # the cell no longer holds CYCLE_DATA (and nothing to read it from): a message, not a wrong number
    registry.clear_cache()
    caller.sheet.cells["$A$13"] = FakeRange(value=3.0, formula="3")
    message = udfs.CONSULT_COST(handle, caller=caller)
    assert message.startswith("#INPUT! the data of cycle-data:") and "Ctrl+Alt+F9" in message
