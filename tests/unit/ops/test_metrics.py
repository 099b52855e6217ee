"""The metrics declared in collector/ops/metrics.py are the ones docs/operating.md documents."""

from __future__ import annotations

import re

from prometheus_client.metrics import MetricWrapperBase

from collector.ops import metrics
from tests.processes import ROOT


def readme_metrics_table() -> dict[str, tuple[str, tuple[str, ...]]]:
    text = (ROOT / "docs" / "operating.md").read_text()
    section = text[text.index("### Metrics\n") :]
    section = section.split("\n## ", 1)[0]
    rows = re.findall(r"^\| `(collector_[a-z_]+)` \| ([a-z]+) \|([^|]*)\|", section, re.MULTILINE)
    return {name: (kind, tuple(re.findall(r"`([a-z_]+)`", labels))) for name, kind, labels in rows}


def declared_metrics() -> dict[str, tuple[str, tuple[str, ...]]]:
    declared = {}
    for metric in vars(metrics).values():
        if isinstance(metric, MetricWrapperBase):
            suffix = "_total" if metric._type == "counter" else ""
            declared[metric._name + suffix] = (metric._type, tuple(metric._labelnames))
    return declared


def test_the_readme_lists_every_metric_with_its_type_and_labels():
    assert readme_metrics_table() == declared_metrics()


def test_names_follow_prometheus_conventions():
    for name, (kind, _) in declared_metrics().items():
        assert name.startswith("collector_")
        assert name.endswith("_total") == (kind == "counter"), name
