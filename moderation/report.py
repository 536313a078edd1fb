"""The benchmark report: a Markdown file with precision-recall, calibration and histogram plots."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from .benchmarks import Scored
from .errors import ModerationError

__all__ = ["write_report"]


def _pyplot() -> Any:
    try:
        import matplotlib
    except ImportError:
        raise ModerationError("the report needs matplotlib: pip install -e '.[bench]'") from None
    matplotlib.use("Agg")  # files only; never open a window
    import matplotlib.pyplot as plt

    return plt


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def _pooled(scored: list[Scored]) -> dict[tuple[str, str], list[Scored]]:
    groups: dict[tuple[str, str], list[Scored]] = {}
    for s in scored:
        groups.setdefault((s.benchmark, s.category), []).append(s)
    return groups


def _concat(group: list[Scored], system: str) -> tuple[np.ndarray, np.ndarray] | None:
    parts = [s for s in group if s.system == system]
    if not parts:
        return None
    return np.concatenate([s.y for s in parts]), np.concatenate([s.scores for s in parts])


def _pr_plot(plt: Any, group: list[Scored], title: str, path: Path) -> None:
    from sklearn.metrics import precision_recall_curve

    fig, ax = plt.subplots(figsize=(5, 4))
    for system in dict.fromkeys(s.system for s in group):
        y, s = _concat(group, system)  # type: ignore[misc]
        precision, recall, _ = precision_recall_curve(y, s)
        ax.plot(recall, precision, label=system)
    ax.set(xlabel="recall", ylabel="precision", title=title, xlim=(0, 1), ylim=(0, 1.02))
    ax.legend(loc="lower left")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def _reliability_plot(plt: Any, group: list[Scored], title: str, path: Path) -> None:
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", label="perfect")
    edges = np.linspace(0, 1, 11)
    for system in dict.fromkeys(s.system for s in group):
        y, s = _concat(group, system)  # type: ignore[misc]
        which = np.minimum((s * 10).astype(int), 9)
        xs = [s[which == b].mean() for b in range(10) if (which == b).any()]
        ys = [y[which == b].mean() for b in range(10) if (which == b).any()]
        ax.plot(xs, ys, marker="o", label=system)
    ax.set(xlabel="mean score in bin", ylabel="share positive", title=title,
           xticks=edges[::2], xlim=(0, 1), ylim=(0, 1))
    ax.legend(loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def _histogram(plt: Any, group: list[Scored], title: str, path: Path) -> None:
    y, s = _concat(group, "moderation") or _concat(group, group[0].system)  # type: ignore[misc]
    fig, ax = plt.subplots(figsize=(5, 4))
    bins = np.linspace(0, 1, 21)
    for label, name in ((0, "negative"), (1, "positive")):
        if (y == label).any():
            ax.hist(s[y == label], bins=bins, alpha=0.6, label=f"true {name}")
    thresholds = next(g.thresholds for g in group if g.system == "moderation")
    for key, style in (("flag_at", "--"), ("reject_at", "-")):
        if thresholds and thresholds[key] <= 1:
            ax.axvline(thresholds[key], color="black", linestyle=style, label=key)
    ax.set(xlabel="our score", ylabel="comments", title=title)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def _markdown_table(rows: list[dict[str, Any]]) -> list[str]:
    keys = ["benchmark", "category", "system", "rows", "roc_auc", "average_precision", "f1",
            "macro_f1", "recall_at_flag", "ece", "accept", "flag", "reject",
            "adversarial_roc_auc", "adversarial_drop", "span_f1", "span_f1_flagged_only", "note"]
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    for row in rows:
        cells = []
        for k in keys:
            v = row.get(k)
            cells.append("—" if v is None or v == "" else f"{v:.3f}" if isinstance(v, float)
                         else str(v))
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def write_report(folder: Path, scored: list[Scored], rows: list[dict[str, Any]],
                 version: str) -> Path:
    """Write ``report.md`` and its PNG plots into ``folder``; returns the Markdown path."""
    plt = _pyplot()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    lines = [f"# Benchmark report: model `{version}`", "",
             "Produced by `moderation evaluate --data-dir ... --report ...`. Protocols are "
             "described in the README (section \"Evaluation\").", "", *_markdown_table(rows), ""]
    for (benchmark, category), group in _pooled(scored).items():
        slug = _slug(f"{benchmark}_{category}")
        lines += [f"## {benchmark}: {category}", ""]
        y = np.concatenate([s.y for s in group if s.system == "moderation"])
        plots = [("hist", _histogram, "scores by true label")]
        if len(np.unique(y)) == 2:
            plots = [("pr", _pr_plot, "precision-recall"),
                     ("calibration", _reliability_plot, "reliability"), *plots]
        for kind, draw, caption in plots:
            name = f"{slug}_{kind}.png"
            draw(plt, group, f"{benchmark[:30]} {category}", folder / name)
            lines.append(f"![{caption}]({name})")
        lines.append("")
    path = folder / "report.md"
    tmp = folder / ".report.md.tmp"
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path
