"""The bench result tables: per-item gas, budget verdicts, anchor ratios and the Markdown rendering."""

from bench.table import GasRow, GasTable, gas_markdown, markdown_table, thousands


def test_gas_row__batch_of_100__reports_gas_per_report_against_the_budget():
    row = GasRow("SLA report PERIOD", 973_200, per=100, budget=10_000)
    assert (row.unit_gas, row.within_budget) == (9_732, True)


def test_gas_row__over_budget__is_flagged_and_without_budget_has_no_verdict():
    assert GasRow("award", 231_283, budget=150_000).within_budget is False
    assert GasRow("withdraw", 63_389).within_budget is None


def test_gas_row__ratio_is_ours_per_item_over_the_anchor_and_absent_without_one():
    row = GasRow("SLA report", 966_100, per=100, anchor="EAS multiAttest 100", anchor_gas=348_000)
    assert round(row.ratio, 4) == round(9_661 / 348_000, 4)
    assert GasRow("reveal", 47_695).ratio is None


def test_gas_table__get_finds_a_row_by_operation_and_refuses_an_unknown_one():
    table = GasTable()
    table.add("RFQ post", 68_736, budget=70_000)
    assert table.get("RFQ post").gas == 68_736
    try:
        table.get("nope")
    except KeyError as missing:
        assert missing.args == ("nope",)
    else:
        raise AssertionError("an unknown operation must raise KeyError")


def test_to_json__carries_derived_figures():
    [data] = GasTable([GasRow("x", 1_000, per=10, budget=50, anchor="a", anchor_gas=200)]).to_json()
    assert (data["unit_gas"], data["within_budget"], data["ratio"]) == (100, False, 0.5)


def test_thousands__separates_and_marks_missing_values():
    assert (thousands(1234567), thousands(None), thousands(2.5)) == ("1,234,567", "-", "2.5")


def test_markdown__numbers_right_aligned_text_left_and_pipes_escaped():
    text = markdown_table(["name", "gas"], [["a|b", "1,000"], ["c", None]])
    lines = text.splitlines()
    assert lines[1] == "|---|---:|"
    assert lines[2] == "| a\\|b | 1,000 |"
    assert lines[3] == "| c | - |"


def test_gas_markdown__one_line_per_row_with_verdict_and_ratio():
    table = GasTable()
    table.add("RFQ post", 68_736, budget=70_000).anchor_gas = 397_491
    table.add("report", 966_100, per=100, budget=10_000)
    lines = gas_markdown(table).splitlines()
    assert len(lines) == 4
    assert "| RFQ post | 68,736 | 70,000 | ok |" in lines[2] and "0.17x" in lines[2]
    assert lines[3].startswith("| report (per report, batch of 100) | 9,661 | 10,000 | ok |")
