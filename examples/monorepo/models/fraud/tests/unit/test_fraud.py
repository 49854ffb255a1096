from fraud import fraud_score


def test_the_usual_amount_scores_zero() -> None:
    assert fraud_score(50, 50) == 0.0


def test_ten_times_the_usual_amount_scores_one() -> None:
    assert fraud_score(500, 50) == 1.0
