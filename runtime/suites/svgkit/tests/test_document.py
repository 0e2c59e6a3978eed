from svgkit.bars import bar_chart
from svgkit.document import bar_chart_document, svg_document

HEAD = '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="20" viewBox="0 0 10 20"'


def test_svg_document():
    assert svg_document(10, 20) == HEAD + "/>"
    assert svg_document(10, 20, "<g/>", background="white") == (
        HEAD + '><rect x="0" y="0" width="10" height="20" fill="white"/><g/></svg>'
    )


def test_bar_chart_document():
    assert bar_chart_document([1], ["a"]) == (
        '<svg xmlns="http://www.w3.org/2000/svg" width="200" height="120" viewBox="0 0 200 120">'
        '<rect x="0" y="0" width="200" height="120" fill="white"/>' + bar_chart([1], ["a"]) + "</svg>"
    )
