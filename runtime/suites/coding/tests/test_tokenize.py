from textkit.tokenize import sentences, tokenize


def test_tokenize_words():
    assert tokenize("Hello, World! It's 2024.") == ["hello", "world", "it's", "2024"]
    assert tokenize("Café au lait", lowercase=False) == ["Cafe", "au", "lait"]
    assert tokenize("snake_case and--dashes") == ["snake", "case", "and", "dashes"]
    assert tokenize("") == []


def test_sentences():
    assert sentences("Hello world. How are you?  Fine!") == ["Hello world.", "How are you?", "Fine!"]
    assert sentences("One line\nno stop") == ["One line no stop"]
    assert sentences("   ") == []
