from textkit.summarize import score_sentences, summarize

TEXT = "Cats purr. Dogs bark loudly at night. Cats and dogs play. Cats sleep."


def test_score_sentences():
    assert score_sentences(TEXT) == [
        ("Cats purr.", 2.0),
        ("Dogs bark loudly at night.", 1.0),
        ("Cats and dogs play.", 1.5),
        ("Cats sleep.", 2.0),
    ]


def test_summary_keeps_the_original_order():
    assert summarize(TEXT, 2) == "Cats purr. Cats sleep."
    assert summarize(TEXT, 3) == "Cats purr. Cats and dogs play. Cats sleep."
    assert summarize(TEXT, 1) == "Cats purr."


def test_summary_edge_cases():
    assert summarize("") == ""
    assert summarize("Only one.", 5) == "Only one."
