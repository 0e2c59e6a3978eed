from tablekit.document import report_document
from tablekit.report import report
from tablekit.sections import report_sections

SALES = [
    {"region": "north", "product": "apple", "units": 10, "price": "1.5"},
    {"region": "south", "product": "apple", "units": 20, "price": "1.25"},
    {"region": "north", "product": "pear", "units": 5, "price": None},
    {"region": "east", "product": "pear", "units": "n/a", "price": "2"},
    {"region": "south", "product": "plum", "units": 30},
    {"region": "west", "product": "plum", "units": 5, "price": "3"},
]


def test_report_document():
    text = report_document(SALES, "Sales", ["product", "region"], "units", 2)
    assert text == (
        "# Sales\n\n- sum of units by product\n- sum of units by region\n\n"
        + report(SALES, "product", "units", 2)
        + "\n\n"
        + report(SALES, "region", "units", 2)
    )


def test_counts_document():
    text = report_document(SALES, "Counts", ["region"], "units", 1, "count")
    assert text.startswith("# Counts\n\n- count of units by region\n\n## count of units by region\n")
    assert "Total: 5 over 4 groups." in text


def test_document_ends_with_the_sections():
    text = report_document(SALES, "S", ["product"], "units")
    assert text.endswith("\n\n".join(report_sections(SALES, ["product"], "units")))
