"""Files on a Dask cluster: a JSONL or Parquet file is cut into parts, every worker
scores its parts into part files, and the parts are joined in order at the end
(the output still appears only when every part succeeded)."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..moderator import Moderator
from .dask_engine import connect_client
from .files import (
    Part,
    RescoreReport,
    atomic_output,
    plan_parts,
    read_records,
    score_records,
    writer_for,
)

__all__ = ["rescore_file_dask"]


def _score_part(moderator: Moderator, input_path: str, fmt: str | None, part: Part,
                output: str, batch_size: int, on_error: str) -> RescoreReport:
    report = RescoreReport()
    with open(output, "wb") as fh:
        writer = writer_for(Path(output), fh)
        score_records(moderator, read_records(Path(input_path), fmt, part), writer, report,
                      batch_size=batch_size, on_error=on_error)
        writer.close()
    return report


def rescore_file_dask(moderator: Moderator, input_path: Path, output_path: Path, *,
                      scheduler: Any, fmt: str | None = None, partition_rows: int = 20_000,
                      batch_size: int = 512, on_error: str = "stop",
                      progress: Callable[[int], None] = lambda n: None) -> RescoreReport:
    """Score a JSONL or Parquet file on the Dask cluster at ``scheduler``.

    The workers read the input and write their parts beside the output, so they
    must share that filesystem (true of a LocalCluster, or a network share).
    """
    output_path = Path(output_path)
    parts = plan_parts(Path(input_path), fmt, partition_rows)
    client = connect_client(scheduler)
    from distributed import as_completed

    folder = Path(tempfile.mkdtemp(prefix=f".{output_path.name}.parts-",
                                   dir=output_path.parent or "."))
    try:
        model = client.scatter(moderator, broadcast=True)
        names = [str(folder / f"part-{n:05d}{output_path.suffix}") for n in range(len(parts))]
        futures = [client.submit(_score_part, model, str(Path(input_path).resolve()), fmt, part,
                                 name, batch_size, on_error, pure=False)
                   for part, name in zip(parts, names, strict=True)]
        reports: dict[Any, RescoreReport] = {}
        for future in as_completed(futures):
            reports[future.key] = future.result()
            progress(reports[future.key].rows)
        report = RescoreReport()
        with atomic_output(output_path) as fh:
            writer = writer_for(output_path, fh)
            for future, name in zip(futures, names, strict=True):
                writer.append(Path(name))
                part_report = reports[future.key]
                report.rows += part_report.rows
                report.errors += part_report.errors
                for decision, count in part_report.decisions.items():
                    report.decisions[decision] += count
            writer.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        if client is not scheduler:
            client.close()
    return report
