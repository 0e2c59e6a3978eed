from tablekit.mutate import add_column


def test_add_column():
    table = [{"price": 2, "qty": 3}, {"price": 5, "qty": 1}]
    result = add_column(table, "total", lambda row: row["price"] * row["qty"])
    assert result == [{"price": 2, "qty": 3, "total": 6}, {"price": 5, "qty": 1, "total": 5}]
    assert table == [{"price": 2, "qty": 3}, {"price": 5, "qty": 1}]
    assert add_column(result, "total", lambda row: 0)[0]["total"] == 0
