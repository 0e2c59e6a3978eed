from svgkit.ids import slug_id, unique_ids


def test_slug_id():
    assert slug_id("Sales by Region!") == "sales-by-region"
    assert slug_id("  2024 totals") == "id-2024-totals"
    assert slug_id("") == "id-"


def test_unique_ids():
    assert unique_ids(["A b", "a-b", "a b", "c"]) == ["a-b", "a-b-2", "a-b-3", "c"]
