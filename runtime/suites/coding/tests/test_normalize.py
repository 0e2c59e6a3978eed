from textkit.normalize import normalize_whitespace, strip_accents


def test_normalize_whitespace_collapses_every_kind_of_whitespace():
    assert normalize_whitespace("  hello \t\n world  ") == "hello world"
    assert normalize_whitespace("a\u00a0\u00a0b") == "a b"
    assert normalize_whitespace("") == ""
    assert normalize_whitespace("one") == "one"


def test_strip_accents():
    assert strip_accents("Café déjà vu") == "Cafe deja vu"
    assert strip_accents("naïve") == "naive"
    assert strip_accents("plain text") == "plain text"
