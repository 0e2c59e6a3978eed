from textkit.slugify import slugify


def test_slugify_basics():
    assert slugify("Hello, World!") == "hello-world"
    assert slugify("  Crème brûlée  ") == "creme-brulee"
    assert slugify("a_b c", sep="_") == "a_b_c"
    assert slugify("!!!") == ""


def test_slugify_max_length_keeps_whole_words():
    assert slugify("the quick brown fox", max_length=15) == "the-quick-brown"
    assert slugify("the quick brown fox", max_length=14) == "the-quick"
    assert slugify("supercalifragilistic", max_length=5) == "super"
