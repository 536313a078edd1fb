"""Loaders for labelled comments: our own corpus and the public datasets.

Each loader yields :class:`Row` objects whose ``labels`` hold only what the
source actually says; a category a source does not label is left out, and the
model trains that category's head without those rows.
"""

from __future__ import annotations

import ast
import csv
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .errors import InputFileError

__all__ = ["Row", "SOURCES", "Source", "iter_labelled", "load_training_data", "load_source",
           "DATA_DIR_ENV"]

DATA_DIR_ENV = "MODERATION_DATA_DIR"
csv.field_size_limit(1 << 24)


@dataclass(frozen=True)
class Row:
    """One labelled comment."""

    text: str
    labels: dict[str, int]
    source: str
    group: str = ""  # e.g. the YouTube video, or "test" for an official test split
    spans: tuple[int, ...] = field(default=())  # gold toxic character offsets, if any


@dataclass(frozen=True)
class Source:
    """A public dataset in ``../shared/datasets`` and how to read it."""

    name: str
    folder: str
    licence: str
    load: Callable[[Path], Iterator[Row]]


def _read_csv(path: Path, delimiter: str = ",", quoting: int = csv.QUOTE_MINIMAL
              ) -> Iterator[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        yield from csv.DictReader(fh, delimiter=delimiter, quoting=quoting)  # type: ignore[call-overload]


def iter_labelled(path: Path) -> Iterator[tuple[str, dict[str, int]]]:
    """``(text, labels)`` from a JSONL file of ``{"text": ..., "labels": {...}}`` rows."""
    with open(path, encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                text, labels = record["text"], record["labels"]
            except (json.JSONDecodeError, KeyError, TypeError):
                raise InputFileError(f"{Path(path).name}: expected a JSON object with 'text' "
                                     "and 'labels'", line=number) from None
            if not isinstance(text, str) or not isinstance(labels, dict) or not all(
                    v in (0, 1) for v in labels.values()):
                raise InputFileError(f"{Path(path).name}: 'text' must be a string and "
                                     "'labels' 0/1 values", line=number)
            yield text, {k: int(v) for k, v in labels.items()}


def load_training_data(folder: Path) -> list[Row]:
    """Our own corpus: every ``*.jsonl`` in ``folder``; ``*_test.jsonl`` rows are group "test"."""
    files = sorted(Path(folder).glob("*.jsonl"))
    if not files:
        raise InputFileError(f"no *.jsonl files in {folder}")
    return [Row(text, labels, f"training_data/{path.name}",
                "test" if path.stem.endswith("_test") else "")
            for path in files for text, labels in iter_labelled(path)]


def _youtube(folder: Path) -> Iterator[Row]:
    for path in sorted(folder.glob("Youtube0*.csv")):
        video = path.stem.split("-", 1)[-1]
        for rec in _read_csv(path):
            yield Row(rec["CONTENT"], {"spam": int(rec["CLASS"])}, "youtube_spam", video)


def _jigsaw(folder: Path) -> Iterator[Row]:
    for rec in _read_csv(folder / "jigsaw_train_subset_union.csv"):
        # Wikipedia talk-page comments: treated as non-spam, which is near enough.
        yield Row(rec["comment_text"], {"toxic": int(rec["toxic"]), "spam": 0},
                  "jigsaw_toxic_subset", rec["id"])


def _davidson(folder: Path) -> Iterator[Row]:
    for rec in _read_csv(folder / "labeled_data.csv"):
        yield Row(rec["tweet"], {"toxic": int(rec["class"] in ("0", "1"))},
                  "davidson_hate_offensive")


def _olid(folder: Path) -> Iterator[Row]:
    for name, group in (("olid-training-v1.0.tsv", "train"),
                        ("olid-test-levela-with-labels.tsv", "test")):
        for rec in _read_csv(folder / name, delimiter="\t", quoting=csv.QUOTE_NONE):
            yield Row(rec["tweet"], {"toxic": int(rec["subtask_a"] == "OFF")},
                      "olid_offenseval2019", group)


def _stormfront(folder: Path) -> Iterator[Row]:
    for rec in _read_csv(folder / "stormfront_sentences.csv"):
        if rec["label"] in ("hate", "noHate"):
            yield Row(rec["text"], {"toxic": int(rec["label"] == "hate")},
                      "stormfront_hate_forum")


def _toxic_spans(folder: Path) -> Iterator[Row]:
    test = folder / "semeval2021" / "tsd_test.csv"
    held_out = {rec["text"] for rec in _read_csv(test)} if test.exists() else set()
    for rec in _read_csv(folder / "toxic_spans_per_comment.csv"):
        if rec["comment_text"] not in held_out:
            yield Row(rec["comment_text"],
                      {"toxic": int(rec["label_toxic_majority"]), "spam": 0},
                      "civil_comments_toxic_spans")
    for rec in _read_csv(test) if test.exists() else ():
        spans = tuple(int(i) for i in ast.literal_eval(rec["spans"]))
        yield Row(rec["text"], {"toxic": 1}, "civil_comments_toxic_spans", "test", spans)


SOURCES: dict[str, Source] = {s.name: s for s in (
    Source("youtube_spam", "youtube_spam", "CC BY 4.0", _youtube),
    Source("jigsaw_toxic_subset", "jigsaw_toxic_subset",
           "CC0 (labels); comment text CC BY-SA 3.0", _jigsaw),
    Source("davidson_hate_offensive", "davidson_hate_offensive", "MIT", _davidson),
    Source("olid_offenseval2019", "olid_offenseval2019",
           "no licence stated; hosting repository CC BY 4.0", _olid),
    Source("stormfront_hate_forum", "stormfront_hate_forum", "CC BY-SA 3.0 ES", _stormfront),
    Source("civil_comments_toxic_spans", "civil_comments_toxic_spans", "CC0", _toxic_spans),
)}


def load_source(name: str, data_dir: Path) -> list[Row]:
    """All rows of one public dataset, or a clear error if its folder is missing."""
    source = SOURCES[name]
    folder = Path(data_dir) / source.folder
    if not folder.is_dir():
        raise InputFileError(f"dataset folder {folder} not found")
    return [row for row in source.load(folder) if row.text.strip()]
