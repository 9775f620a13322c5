"""Lines that wrap (widgets.WrappedLabel): a word longer than the line breaks rather than
widening the window, markup stays whole, and the label is as tall as its lines, no taller."""

from ui.widgets import BREAK_EVERY, WrappedLabel, breakable

LINK = "https://cad.example.gov/incidents/2026-000123/attachments/scene-photo-1.jpg"


def test_a_word_longer_than_a_line_gets_break_points_and_short_words_do_not():
    said = breakable(f"Copied website: {LINK} (twice)")
    pieces = said.split(" ")[2].split("\u200b")
    assert "".join(pieces) == LINK and max(map(len, pieces)) == BREAK_EVERY
    assert breakable("Agency server not answering (connection refused).") == (
        "Agency server not answering (connection refused).")


def test_markup_and_entities_stay_whole():
    html = f'<b>Crisis line</b><br><a href="{LINK}">{"&amp;".join(["x" * 20] * 3)}</a>'
    said = breakable(html, rich=True)
    assert f'<a href="{LINK}">' in said  # the tag is not broken
    assert "&amp;" in said and "&am\u200b" not in said and "&\u200b" not in said
    assert said.replace("\u200b", "") == html


def test_the_label_keeps_the_text_as_set_and_its_height_follows_its_width(qtbot):
    label = WrappedLabel(f"Saved. {LINK} answered.")
    qtbot.addWidget(label)
    assert label.text() == f"Saved. {LINK} answered."
    label.resize(120, 20)
    label.show()
    qtbot.waitExposed(label)
    narrow = label.minimumHeight()
    label.resize(900, narrow)
    qtbot.waitUntil(lambda: label.minimumHeight() < narrow)  # one line again, not kept tall
    assert label.minimumHeight() == label.heightForWidth(900)
