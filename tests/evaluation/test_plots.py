"""Charts come back as PNG bytes, including for degenerate inputs that must not break a report."""

from __future__ import annotations

import pytest

from imbalance_jobs.evaluation import plot_calibration, plot_pr_curves, plot_roc_curves, plot_score_histograms

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("plot", [plot_pr_curves, plot_roc_curves, plot_calibration])
def test_curve_plots_return_png_for_champion_and_candidate(make_scores, plot) -> None:
    y, champion = make_scores(300, prevalence=0.1, separation=1.0)
    candidate = champion**0.5
    png = plot({"champion": (y, champion), "candidate": (y, candidate)}, title="t")
    assert png.startswith(PNG)
    assert len(png) > 1000


@pytest.mark.parametrize("plot", [plot_pr_curves, plot_roc_curves, plot_calibration])
def test_curve_plots_survive_one_class(plot) -> None:
    assert plot({"fresh": ([0, 0, 0], [0.1, 0.2, 0.3])}).startswith(PNG)


@pytest.mark.parametrize("plot", [plot_pr_curves, plot_roc_curves, plot_calibration])
def test_curve_plots_need_at_least_one_curve(plot) -> None:
    with pytest.raises(ValueError, match="at least one model"):
        plot({})


def test_plot_score_histograms_returns_png(make_scores) -> None:
    y, s = make_scores(300, prevalence=0.1, separation=1.0)
    assert plot_score_histograms(y, s, threshold=0.4, title="scores").startswith(PNG)


def test_plot_score_histograms_survives_constant_scores() -> None:
    assert plot_score_histograms([0, 1, 0], [0.5, 0.5, 0.5]).startswith(PNG)


def test_plot_calibration_rejects_scores_outside_probabilities() -> None:
    with pytest.raises(ValueError, match=r"probabilities in \[0, 1\]"):
        plot_calibration({"raw": ([0, 1], [-3.0, 4.0])})


def test_plots_are_deterministic(make_scores) -> None:
    y, s = make_scores(200, prevalence=0.1, separation=1.0)
    assert plot_pr_curves({"m": (y, s)}) == plot_pr_curves({"m": (y, s)})
