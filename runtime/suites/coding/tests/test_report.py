from textkit.report import make_report

TEXT = "Cats purr. Dogs bark loudly at night. Cats and dogs play. Cats sleep."


def test_report_layout():
    assert make_report("Pets & Owners", TEXT) == (
        "# Pets & Owners\n"
        "\n"
        "- slug: pets-owners\n"
        "- words: 13\n"
        "- keywords: cats, dogs, bark, loudly, night\n"
        "\n"
        "## Summary\n"
        "\n"
        "Cats purr. Cats sleep.\n"
    )


def test_report_options():
    report = make_report("Pets", TEXT, n_keywords=1, max_sentences=1)
    assert "- keywords: cats\n" in report
    assert report.endswith("\n\nCats purr.\n")


def test_report_on_empty_text():
    report = make_report("Empty", "")
    assert "- words: 0\n" in report
    assert "- keywords: (none)\n" in report
    assert report.endswith("## Summary\n\n(empty)\n")
