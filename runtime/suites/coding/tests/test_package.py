import textkit


def test_textkit_is_a_regular_package():
    assert textkit.__file__ is not None and textkit.__file__.endswith("__init__.py")
    assert hasattr(textkit, "__path__")


def test_textkit_has_a_docstring():
    assert isinstance(textkit.__doc__, str)
    assert textkit.__doc__.strip() != ""
