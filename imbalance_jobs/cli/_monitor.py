"""``imbalance-jobs monitor``: champion health on the newest labeled data (filled in by the monitoring stage)."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Monitoring is registered once the monitoring stage exists."""
