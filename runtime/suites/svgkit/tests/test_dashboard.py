from svgkit.dashboard import dashboard
from svgkit.document import svg_document
from svgkit.titled import with_title

NS = 'xmlns="http://www.w3.org/2000/svg"'
PANELS = [svg_document(10, 10), svg_document(10, 10, "<g/>")]


def test_side_by_side():
    assert dashboard(PANELS, "D", columns=2, cell_width=10, cell_height=10) == with_title(
        svg_document(
            20,
            10,
            f'<svg x="0" y="0" {NS} width="10" height="10" viewBox="0 0 10 10"/>',
            f'<svg x="10" y="0" {NS} width="10" height="10" viewBox="0 0 10 10"><g/></svg>',
        ),
        "D",
    )


def test_stacked():
    doc = dashboard(PANELS, "D", columns=1, cell_width=10, cell_height=10)
    assert doc.startswith(f'<svg {NS} width="10" height="20" viewBox="0 0 10 20"><title>D</title>')
    assert '<svg x="0" y="10"' in doc


def test_bad_panels():
    for panels in [[], ["<g/>"]]:
        try:
            dashboard(panels, "D")
        except ValueError:
            continue
        raise AssertionError(f"dashboard({panels}) did not raise ValueError")
