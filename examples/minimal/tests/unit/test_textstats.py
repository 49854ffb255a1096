from textstats import average_word_length, word_count


def test_word_count():
    assert word_count("a bb  ccc") == 3
    assert word_count("") == 0


def test_average_word_length():
    assert average_word_length("a bb ccc") == 2.0
    assert average_word_length("   ") == 0.0
