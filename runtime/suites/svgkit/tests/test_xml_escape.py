from svgkit.xml_escape import escape_xml, unescape_xml


def test_escape_xml():
    assert escape_xml("a & b < c > 'd' \"e\"") == "a &amp; b &lt; c &gt; &#39;d&#39; &quot;e&quot;"
    assert escape_xml("&lt;") == "&amp;lt;"


def test_unescape_round_trip():
    assert unescape_xml("&amp;lt;") == "&lt;"
    for text in ["a & b", "<tag attr='1'>", '"&amp;"']:
        assert unescape_xml(escape_xml(text)) == text
