"""Re-scoring comments in files: JSONL, CSV or Parquet in; JSONL or Parquet out.

Rows are streamed in batches (constant memory whatever the file size). The
output is written to a temporary file beside the target and renamed into place
only when the run finishes, so a failed run never leaves a half file.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from ..comment import FIELDS, parse_comment
from ..errors import InputFileError, ModerationError
from ..moderator import Moderator
from ..store import DECISIONS
from .pool import score_batches

__all__ = ["RescoreReport", "read_records", "rescore_file", "FORMATS", "to_comment", "Part",
           "plan_parts", "score_records", "writer_for", "atomic_output"]

FORMATS = ("jsonl", "csv", "parquet")
Part = tuple[int, int, int]  # (start, stop, first line or row number) of a file part
RESULT_KEYS = ("decision", "scores", "reasons", "checks", "model_version", "policy_version")


@dataclass
class RescoreReport:
    """What a file run did."""

    rows: int = 0
    decisions: dict[str, int] = field(default_factory=lambda: dict.fromkeys(DECISIONS, 0))
    errors: list[str] = field(default_factory=list)


def _format_of(path: Path, fmt: str | None) -> str:
    fmt = fmt or path.suffix.lower().lstrip(".")
    fmt = {"json": "jsonl", "pq": "parquet"}.get(fmt, fmt)
    if fmt not in FORMATS:
        raise InputFileError(f"{path}: unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    return fmt


def _pyarrow() -> Any:
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError:
        raise InputFileError("Parquet needs pyarrow: pip install 'moderation[parquet]'") from None
    return pyarrow


def _parquet_records(path: Path, part: Part | None) -> Iterator[tuple[int, Any]]:
    pa = _pyarrow()
    try:
        parquet = pa.parquet.ParquetFile(path)
    except (pa.ArrowException, OSError) as exc:
        raise InputFileError(f"{path}: not a readable Parquet file ({exc})") from None
    start, stop, number = part or (0, parquet.num_row_groups, 1)
    groups = list(range(start, stop))
    if not groups:
        return
    for batch in parquet.iter_batches(batch_size=1024, row_groups=groups):
        for record in batch.to_pylist():
            yield number, record
            number += 1


def _jsonl_records(path: Path, part: Part | None) -> Iterator[tuple[int, Any]]:
    start, stop, number = part or (0, None, 1)
    with open(path, "rb") as fh:
        fh.seek(start)
        while stop is None or fh.tell() < stop:
            raw = fh.readline()
            if not raw:
                return
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise InputFileError(f"{path}: not valid UTF-8 ({exc.reason})") from None
            if line.strip():
                try:
                    yield number, json.loads(line)
                except (json.JSONDecodeError, RecursionError) as exc:
                    yield number, InputFileError(f"invalid JSON: {exc.args[0]}", number)
            number += 1


def plan_parts(path: Path, fmt: str | None, rows: int) -> list[Part]:
    """Cut a JSONL or Parquet file into parts of about ``rows`` rows, for the Dask engine."""
    fmt = _format_of(path, fmt)
    parts: list[Part] = []
    if fmt == "parquet":
        metadata = _pyarrow().parquet.ParquetFile(path).metadata
        start, count, first = 0, 0, 1
        for group in range(metadata.num_row_groups):
            count += metadata.row_group(group).num_rows
            if count >= rows or group == metadata.num_row_groups - 1:
                parts.append((start, group + 1, first))
                start, first, count = group + 1, first + count, 0
        return parts
    if fmt != "jsonl":  # quoted CSV fields may hold newlines: no safe byte split
        raise InputFileError(f"{path}: the Dask engine reads JSONL or Parquet; convert the "
                             "CSV file or re-score it locally with --workers")
    with open(path, "rb") as fh:
        start, first, number, count = 0, 1, 1, 0
        for _line in fh:
            number, count = number + 1, count + 1
            if count >= rows:
                parts.append((start, fh.tell(), first))
                start, first, count = fh.tell(), number, 0
        if count:
            parts.append((start, fh.tell(), first))
    return parts


def read_records(path: Path, fmt: str | None = None,
                 part: Part | None = None) -> Iterator[tuple[int, Any]]:
    """``(line or row number, record)`` pairs; a record that cannot be decoded is an
    exception instance in place of the record, so the caller decides whether to stop.

    ``part`` (from ``plan_parts``) limits a JSONL or Parquet file to one part of it.
    """
    fmt = _format_of(path, fmt)
    if fmt == "parquet":
        yield from _parquet_records(path, part)
        return
    if fmt == "jsonl":
        yield from _jsonl_records(path, part)
        return
    with open(path, encoding="utf-8", newline="", errors="strict") as fh:
        try:
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


def to_comment(number: int, record: Any, moderator: Moderator | None = None
               ) -> tuple[Any, dict[str, Any]]:
    """``(id, validated comment)`` of one decoded record, or an ``InputFileError``;
    with ``moderator``, a ``site`` it does not serve is a bad row too."""
    if isinstance(record, InputFileError):
        raise record
    if not isinstance(record, dict):
        raise InputFileError("each row must be an object", number)
    if record.get("id") in (None, ""):
        raise InputFileError("missing 'id'", number)
    fields = {k: v for k, v in record.items() if k in FIELDS}
    try:
        comment = parse_comment(fields)
        if moderator is not None:
            moderator.site(comment["site"])
    except ModerationError as exc:
        raise InputFileError(exc.message, number) from None
    return record["id"], comment


class _JsonlWriter:
    def __init__(self, fh: IO[bytes]) -> None:
        self.fh = fh

    def write(self, rows: list[dict[str, Any]]) -> None:
        self.fh.write("".join(json.dumps(r, ensure_ascii=False) + "\n"
                              for r in rows).encode("utf-8"))

    def append(self, part: Path) -> None:
        """Copy a part written by another process."""
        with open(part, "rb") as src:
            shutil.copyfileobj(src, self.fh)

    def close(self) -> None:
        pass


class _ParquetWriter:
    """Ids as strings; scores, reasons and checks as JSON text (their shape varies)."""

    def __init__(self, fh: IO[bytes]) -> None:
        self.pa = _pyarrow()
        self.schema = self.pa.schema([(k, self.pa.string()) for k in ("id", *RESULT_KEYS)])
        self.writer = self.pa.parquet.ParquetWriter(fh, self.schema)

    def write(self, rows: list[dict[str, Any]]) -> None:
        columns: dict[str, list[str]] = {k: [] for k in self.schema.names}
        for row in rows:
            for key in self.schema.names:
                value = row[key]
                if key in ("scores", "reasons", "checks"):
                    value = json.dumps(value, ensure_ascii=False)
                columns[key].append(str(value))
        self.writer.write_table(self.pa.table(columns, schema=self.schema))

    def append(self, part: Path) -> None:
        """Copy a part written by another process, batch by batch."""
        for batch in self.pa.parquet.ParquetFile(part).iter_batches(batch_size=4096):
            self.writer.write_batch(batch)

    def close(self) -> None:
        self.writer.close()


def writer_for(path: Path, fh: IO[bytes]) -> _JsonlWriter | _ParquetWriter:
    """Parquet when the name says so; anything else stays JSONL, as it always was."""
    return _ParquetWriter(fh) if path.suffix.lower() in (".parquet", ".pq") else _JsonlWriter(fh)


def score_records(moderator: Moderator, records: Iterator[tuple[int, Any]],
                  writer: _JsonlWriter | _ParquetWriter, report: RescoreReport, *,
                  batch_size: int, on_error: str, workers: int = 1,
                  progress: Callable[[int], None] = lambda n: None) -> None:
    """Validate, score and write decoded records in batches."""
    if on_error not in ("stop", "skip"):
        raise ValueError("on_error must be 'stop' or 'skip'")

    def batches() -> Iterator[tuple[list[Any], list[dict[str, Any]], None]]:
        ids: list[Any] = []
        batch: list[dict[str, Any]] = []
        for number, record in records:
            try:
                row_id, comment = to_comment(number, record, moderator)
            except InputFileError as exc:
                if on_error == "stop":
                    raise
                report.errors.append(exc.message)
                continue
            ids.append(row_id)
            batch.append(comment)
            if len(batch) >= batch_size:
                yield ids, batch, None
                ids, batch = [], []
        if batch:
            yield ids, batch, None

    for ids, results in score_batches(moderator, batches(), workers):
        writer.write([{"id": i, **r} for i, r in zip(ids, results, strict=True)])
        for result in results:
            report.decisions[result["decision"]] += 1
        report.rows += len(results)
        progress(len(results))


@contextmanager
def atomic_output(path: Path) -> Iterator[IO[bytes]]:
    """A file that appears at ``path`` only if the block completes."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or ".")
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def rescore_file(moderator: Moderator, input_path: Path, output_path: Path, *,
                 fmt: str | None = None, batch_size: int = 512, on_error: str = "stop",
                 workers: int = 1,
                 progress: Callable[[int], None] = lambda n: None) -> RescoreReport:
    """Score every row of ``input_path`` into ``output_path`` (JSONL, or Parquet by suffix)."""
    report = RescoreReport()
    output_path = Path(output_path)
    records = read_records(Path(input_path), fmt)
    with atomic_output(output_path) as fh:
        writer = writer_for(output_path, fh)
        score_records(moderator, records, writer, report, batch_size=batch_size,
                      on_error=on_error, workers=workers, progress=progress)
        writer.close()
    return report
