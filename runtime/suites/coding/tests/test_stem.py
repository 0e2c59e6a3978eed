from textkit.stem import stem


def test_plural_and_verb_suffixes():
    assert stem("cats") == "cat"
    assert stem("ponies") == "pony"
    assert stem("caresses") == "caress"
    assert stem("Jumped") == "jump"
    assert stem("quickly") == "quick"


def test_words_that_keep_their_ending():
    assert stem("class") == "class"
    assert stem("sing") == "sing"
    assert stem("ties") == "ties"
    assert stem("is") == "is"
