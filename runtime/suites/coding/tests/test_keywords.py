from textkit.keywords import key_phrases, keywords

TEXT = "Machine learning is fun. Machine learning is hard. Deep learning is machine learning."


def test_keywords():
    assert keywords(TEXT, 2) == ["learning", "machine"]
    assert keywords("the and of") == []


def test_key_phrases():
    assert key_phrases(TEXT) == ["machine learning"]
    assert key_phrases("red apple green pear red apple green pear", 2) == ["apple green", "green pear"]
    assert key_phrases("") == []
