from tablekit.csv_text import to_csv


def test_to_csv():
    table = [{"a": 1, "b": "x,y"}, {"b": None, "c": 2.5}]
    assert to_csv(table) == 'a,b,c\n1,"x,y",\n,,2.5\n'
    assert to_csv(table, ["c", "a"]) == "c,a\n,1\n2.5,\n"
    assert to_csv([]) == "\n"
