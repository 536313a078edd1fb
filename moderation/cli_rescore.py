"""``moderation rescore``: files, or comments stored in a database, locally or on Dask."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

import click

from .cli_common import clean_errors, moderator_for, settings_from
from .errors import ConfigError
from .store import DECISIONS

__all__ = ["rescore"]

_FOREIGN = ("id_column", "content_column", "author_column", "email_column", "date_column")


class _Progress:
    """A click progress bar that also shows the rate; ETA comes from click."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.bar: Any = None
        self.started = time.monotonic()

    def total(self, length: int) -> None:
        self.bar = click.progressbar(length=length, label=self.label, file=sys.stderr,
                                     show_pos=True, show_eta=True,
                                     item_show_func=lambda rate: rate)
        self.bar.__enter__()
        self.started = time.monotonic()

    def update(self, rows: int) -> None:
        if self.bar is None:
            self.total(0)
        elapsed = max(time.monotonic() - self.started, 1e-9)
        self.bar.update(rows, f"{(self.bar.pos + rows) / elapsed:,.0f} rows/s")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)


def _print_report(report: Any, seconds: float) -> None:
    head = "dry run, nothing written" if report.dry_run else (
        f"run {report.run_id}" + (" (resumed)" if report.resumed else ""))
    click.echo(f"{head}: {report.rows} comments re-scored in {seconds:.1f} s "
               f"({report.rows / max(seconds, 1e-9):,.0f}/s); {report.total} in the run, "
               f"{report.changed} changed")
    click.echo("old -> new" + "".join(f"{d:>9}" for d in DECISIONS))
    for old, row in report.matrix.items():
        if old != "none" or any(row.values()):
            click.echo(f"{old:<10}" + "".join(f"{row[d]:>9}" for d in DECISIONS))
    for (old, new), examples in sorted(report.examples.items()):
        for comment_id, snippet in examples:
            click.echo(f"  {old} -> {new}: {comment_id}: {snippet}")


def _run_files(moderator: Any, options: dict[str, Any], progress: _Progress) -> None:
    from .rescore import rescore_file

    progress.total(0)
    common = {"fmt": options["fmt"], "batch_size": options["batch_size"],
              "on_error": options["on_error"], "progress": progress.update}
    if options["engine"] == "dask":
        from .rescore.dask_files import rescore_file_dask

        report = rescore_file_dask(moderator, options["input_path"], options["output_path"],
                                   scheduler=options["scheduler"],
                                   partition_rows=options["partition_rows"], **common)
    else:
        report = rescore_file(moderator, options["input_path"], options["output_path"],
                              workers=options["workers"], **common)
    progress.close()
    for error in report.errors:
        click.echo(f"skipped: {error}", err=True)
    counts = ", ".join(f"{k} {v}" for k, v in report.decisions.items())
    click.echo(f"{report.rows} rows scored ({counts}); {len(report.errors)} skipped; "
               f"wrote {options['output_path']}")
    if report.errors:
        sys.exit(3)


def _run_database(moderator: Any, options: dict[str, Any], progress: _Progress) -> None:
    from .rescore import ForeignSource, OwnSource, Selection, rescore_database
    from .store import open_engine

    source: OwnSource | ForeignSource
    if options["table"]:
        if not options["id_column"] or not options["content_column"]:
            raise ConfigError("--table needs --id-column and --content-column")
        source = ForeignSource(options["table"], *(options[k] for k in _FOREIGN))
    elif any(options[k] for k in _FOREIGN):
        raise ConfigError("--id-column and the other column options need --table")
    else:
        source = OwnSource()
    selection = Selection(since=options["since"], only_stale=options["only_stale"],
                          statuses=options["status"],
                          recheck_submission=options["recheck_submission"])
    common: dict[str, Any] = {
        "batch_size": options["batch_size"], "dry_run": options["dry_run"],
        "on_total": progress.total, "progress": progress.update}
    started = time.monotonic()
    if options["engine"] == "dask":
        from .rescore.dask_engine import rescore_database_dask

        report = rescore_database_dask(options["database"], moderator, source, selection,
                                       scheduler=options["scheduler"],
                                       partition_rows=options["partition_rows"], **common)
    else:
        engine = open_engine(options["database"])
        try:
            report = rescore_database(engine, moderator, source, selection,
                                      workers=options["workers"], **common)
        finally:
            engine.dispose()
    progress.close()
    _print_report(report, time.monotonic() - started)


@click.command()
@click.option("--database", metavar="URL", help="Re-score the comments stored in this database.")
@click.option("--input", "input_path", type=click.Path(exists=True, dir_okay=False,
                                                       path_type=Path),
              help="Or re-score a JSONL, CSV or Parquet file...")
@click.option("--output", "output_path", type=click.Path(dir_okay=False, writable=True,
                                                         path_type=Path),
              help="...into this JSONL file (Parquet when it ends in .parquet).")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv", "parquet"]),
              help="Input format (default: from the file extension).")
@click.option("--since", type=click.DateTime(), help="Only comments stored on or after DATE.")
@click.option("--only-stale", is_flag=True,
              help="Only comments scored by another model or policy version (or never).")
@click.option("--status", multiple=True, type=click.Choice(DECISIONS),
              help="Only comments whose current decision is this (repeatable).")
@click.option("--dry-run", is_flag=True,
              help="Write nothing; print the accept/flag/reject transition matrix.")
@click.option("--recheck-submission", is_flag=True,
              help="Drop recorded submission-time outcomes (flood, duplicate, honeypot, "
                   "timing, closed thread, trust) instead of keeping them. They are not "
                   "re-run: the form and request they judged are not stored.")
@click.option("--table", help="A foreign comments table to read (results go to our "
                              "rescore_results table).")
@click.option("--id-column", help="Its id column (with --table).")
@click.option("--content-column", help="Its comment text column (with --table).")
@click.option("--author-column", help="Its author name column (with --table).")
@click.option("--email-column", help="Its author e-mail column (with --table).")
@click.option("--date-column", help="Its date column, for --since (with --table).")
@click.option("--batch-size", default=1000, show_default=True, type=click.IntRange(1, 100_000),
              help="Comments scored per model call and committed per transaction.")
@click.option("--workers", default=os.cpu_count() or 1, show_default="CPU count",
              type=click.IntRange(1, 256), help="Scoring processes on this machine.")
@click.option("--engine", type=click.Choice(["local", "dask"]), default="local",
              show_default=True)
@click.option("--scheduler", envvar="MODERATION_DASK_SCHEDULER", metavar="ADDRESS",
              help="Dask scheduler address, e.g. tcp://10.0.0.5:8786 (with --engine dask).")
@click.option("--partition-rows", default=20_000, show_default=True,
              type=click.IntRange(1, 10_000_000),
              help="Comments per Dask task (files: JSONL lines, or whole Parquet row groups).")
@click.option("--on-error", type=click.Choice(["stop", "skip"]), default="stop",
              show_default=True, help="Files: on a bad row stop (write nothing) or skip it.")
@clean_errors
def rescore(**options: Any) -> None:
    """Re-score stored comments (--database) or a file (--input/--output) with the
    current model and policy.

    Database runs commit in chunks, append every change to decision_history, and
    continue where they stopped when started again after a crash.

    Exit codes: 0 done, 1 error (files: stopped on a bad row, nothing written),
    3 finished but some file rows were skipped.

    Example: moderation rescore --database sqlite:///moderation.db --only-stale --dry-run
    """
    if options["since"] is not None:
        options["since"] = options["since"].replace(tzinfo=None)  # stored as naive UTC
    files = options["input_path"] is not None or options["output_path"] is not None
    if files == bool(options["database"]):
        raise click.UsageError("give either --database or both --input and --output")
    if files and (options["input_path"] is None or options["output_path"] is None):
        raise click.UsageError("--input and --output go together")
    if options["engine"] == "dask" and not options["scheduler"]:
        raise click.UsageError("--engine dask needs --scheduler ADDRESS")
    moderator = moderator_for(settings_from())
    progress = _Progress("re-scoring")
    try:
        if files:
            _run_files(moderator, options, progress)
        else:
            _run_database(moderator, options, progress)
    finally:
        progress.close()


