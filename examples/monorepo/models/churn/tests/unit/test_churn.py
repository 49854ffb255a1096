from churn import churn_risk


def test_a_year_idle_is_the_highest_risk() -> None:
    assert churn_risk(12) == 1.0


def test_an_active_customer_has_no_risk() -> None:
    assert churn_risk(0) == 0.0
