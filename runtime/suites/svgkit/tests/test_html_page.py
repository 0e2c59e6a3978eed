from svgkit.dashboard import dashboard
from svgkit.document import svg_document
from svgkit.html_page import dashboard_html

PANELS = [svg_document(10, 10), svg_document(10, 10)]


def test_dashboard_html():
    assert dashboard_html(PANELS, "A<B") == (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>A&lt;B</title></head><body>'
        + dashboard(PANELS, "A<B")
        + "</body></html>"
    )


def test_columns_are_passed_on():
    assert dashboard(PANELS, "A", 1) in dashboard_html(PANELS, "A", columns=1)
