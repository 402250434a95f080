"""The sprint review's chart: pure, so tested without a browser."""

from __future__ import annotations

from dashboard.figures.review import delivered_chart


def test_committed_beside_delivered_stacked_by_kind() -> None:
    # 22 committed; 8 delivered: increments 3 + intermediate deliveries 2 + experiments 3
    fig = delivered_chart(22.0, {"increment": 3.0, "delivery": 2.0, "experiment": 3.0})
    bars = [(t.name, t.y[0], t.x[0], t.text[0]) for t in fig.data]
    assert bars == [("committed", "committed", 22.0, "22"),
                    ("Increments", "delivered", 3.0, "3"),
                    ("Intermediate deliveries", "delivered", 2.0, "2"),
                    ("Experiments", "delivered", 3.0, "3")]
    assert fig.layout.barmode == "stack"
    assert sum(t.x[0] for t in fig.data[1:]) == 8.0


def test_an_empty_kind_draws_no_label() -> None:
    fig = delivered_chart(5.0, {"increment": 5.0})
    assert [t.text[0] for t in fig.data] == ["5", "5", "", ""]
