from scoring import answer


def test_answer_holds_both_scores() -> None:
    assert answer(6, 100, 100) == {"churn": 0.5, "fraud": 0.0}
