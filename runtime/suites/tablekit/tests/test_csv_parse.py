from tablekit.csv_parse import from_csv


def test_from_csv():
    text = 'a,b,c\n1,"x,y",\n,,2.5\n'
    assert from_csv(text) == [{"a": "1", "b": "x,y", "c": None}, {"a": None, "b": None, "c": "2.5"}]
    assert from_csv("a,b\n") == []
