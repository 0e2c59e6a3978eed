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


def test_report_sections():
    assert report_sections(SALES, ["region"], "units", 2) == [report(SALES, "region", "units", 2)]
    both = report_sections(SALES, ["product", "region"], "units")
    assert both == [report(SALES, "product", "units"), report(SALES, "region", "units")]
    assert both[0].startswith("## sum of units by product\n")


def test_no_keys():
    try:
        report_sections(SALES, [], "units")
    except ValueError:
        return
    raise AssertionError("no keys did not raise ValueError")
