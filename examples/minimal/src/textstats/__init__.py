"""Tiny text statistics: the library the minimal example describes."""


def word_count(text: str) -> int:
    return len(text.split())


def average_word_length(text: str) -> float:
    words = text.split()
    return sum(len(word) for word in words) / len(words) if words else 0.0
