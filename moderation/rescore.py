"""Re-scoring comments in files: JSONL or CSV in, JSONL out, streamed in batches.

The output is written to a temporary file beside the target and renamed into
place only when the run finishes, so a failed run never leaves a half file.
"""

from __future__ import annotations

import csv
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .comment import FIELDS, parse_comment
from .errors import InputFileError, ModerationError
from .moderator import Moderator
from .parallel import BatchModerator

__all__ = ["RescoreReport", "read_records", "rescore_file", "FORMATS"]

FORMATS = ("jsonl", "csv")


@dataclass
class RescoreReport:
    """What a file run did."""

    rows: int = 0
    decisions: dict[str, int] = field(default_factory=lambda: {"accept": 0, "flag": 0,
                                                                "reject": 0})
    errors: list[str] = field(default_factory=list)


def _format_of(path: Path, fmt: str | None) -> str:
    fmt = fmt or path.suffix.lower().lstrip(".")
    if fmt == "json":
        fmt = "jsonl"
    if fmt not in FORMATS:
        raise InputFileError(f"{path}: unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    return fmt


def read_records(path: Path, fmt: str | None = None) -> Iterator[tuple[int, Any]]:
    """``(line number, record)`` pairs; a record that cannot be decoded is an exception
    instance in place of the record, so the caller decides whether to stop."""
    fmt = _format_of(path, fmt)
    with open(path, encoding="utf-8", newline="" if fmt == "csv" else None,
              errors="strict") as fh:
        try:
            if fmt == "jsonl":
                for number, line in enumerate(fh, start=1):
                    if line.strip():
                        try:
                            yield number, json.loads(line)
                        except (json.JSONDecodeError, RecursionError) as exc:
                            yield number, InputFileError(f"invalid JSON: {exc.args[0]}", number)
            else:
                reader = csv.DictReader(fh)
                if reader.fieldnames is None:
                    return
                for record in reader:
                    number = reader.line_num
                    if None in record:
                        yield number, InputFileError("more values than header columns", number)
                    else:
                        yield number, {k: (v if v != "" else None) for k, v in record.items()}
        except UnicodeDecodeError as exc:
            raise InputFileError(f"{path}: not valid UTF-8 ({exc.reason})") from None


def _to_comment(number: int, record: Any) -> tuple[Any, dict[str, Any]]:
    if isinstance(record, InputFileError):
        raise record
    if not isinstance(record, dict):
        raise InputFileError("each row must be an object", number)
    if record.get("id") in (None, ""):
        raise InputFileError("missing 'id'", number)
    fields = {k: v for k, v in record.items() if k in FIELDS}
    try:
        return record["id"], parse_comment(fields)
    except ModerationError as exc:
        raise InputFileError(exc.message, number) from None


def _batches(moderator: Moderator, input_path: Path, fmt: str | None, batch_size: int,
             on_error: str, report: RescoreReport
             ) -> Iterator[tuple[list[Any], list[dict[str, Any]]]]:
    """``(ids, comments)`` batches of valid rows; bad rows stop the run or are listed."""
    ids: list[Any] = []
    batch: list[dict[str, Any]] = []
    for number, record in read_records(Path(input_path), fmt):
        try:
            row_id, comment = _to_comment(number, record)
            try:
                moderator.site(comment["site"])
            except ModerationError as exc:
                raise InputFileError(exc.message, number) from None
        except InputFileError as exc:
            if on_error == "stop":
                raise
            report.errors.append(exc.message)
            continue
        ids.append(row_id)
        batch.append(comment)
        if len(batch) >= batch_size:
            yield ids, batch
            ids, batch = [], []
    if batch:
        yield ids, batch


def rescore_file(moderator: Moderator, input_path: Path, output_path: Path, *,
                 fmt: str | None = None, batch_size: int = 512, on_error: str = "stop",
                 jobs: int = 1, progress: Callable[[int], None] = lambda n: None
                 ) -> RescoreReport:
    """Score every row of ``input_path`` into ``output_path`` (JSONL), on ``jobs`` processes
    (0: one per core); rows keep their input order."""
    if on_error not in ("stop", "skip"):
        raise ValueError("on_error must be 'stop' or 'skip'")
    report = RescoreReport()
    output_path = Path(output_path)
    fd, tmp = tempfile.mkstemp(prefix=f".{output_path.name}.", dir=output_path.parent or ".")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out, \
                BatchModerator(moderator, jobs) as scorer:
            batches = _batches(moderator, input_path, fmt, batch_size, on_error, report)
            for ids, results in scorer.run(batches):
                for row_id, result in zip(ids, results, strict=True):
                    out.write(json.dumps({"id": row_id, **result}, ensure_ascii=False) + "\n")
                    report.decisions[result["decision"]] += 1
                report.rows += len(ids)
                progress(len(ids))
        os.replace(tmp, output_path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return report
