"""Batches on several processes: same results, same order, same failure behaviour."""

import json

import pytest
from click.testing import CliRunner

from moderation.cli import cli
from moderation.errors import InputFileError
from moderation.rescore import rescore_file
from moderation.rescore.pool import score_batches

from .conftest import HAM, SPAM, TOXIC

ROWS = [{"id": i, "content": text, "author_name": "Ann", "author_email": "ann@example.org"}
        for i, text in enumerate(HAM + SPAM + TOXIC + HAM)]


def _write(path, rows, bad_line=None):
    lines = [json.dumps(r) for r in rows]
    if bad_line is not None:
        lines.insert(bad_line, "{not json")
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("workers", [1, 2])
def test_results_match_one_process_in_input_order(moderator, tmp_path, workers):
    src = _write(tmp_path / "in.jsonl", ROWS)
    expected = [{"id": r["id"], **moderator.moderate_many([r])[0]} for r in ROWS]
    report = rescore_file(moderator, src, tmp_path / "out.jsonl", batch_size=3,
                          workers=workers)
    written = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert written == expected and report.rows == len(ROWS)


def test_a_bad_row_stops_parallel_run_and_writes_nothing(moderator, tmp_path):
    src = _write(tmp_path / "in.jsonl", ROWS, bad_line=30)
    with pytest.raises(InputFileError, match="line 31"):
        rescore_file(moderator, src, tmp_path / "out.jsonl", batch_size=4, workers=2)
    assert list(tmp_path.iterdir()) == [src]


def test_skipped_rows_are_listed_in_parallel_too(moderator, tmp_path):
    src = _write(tmp_path / "in.jsonl", ROWS, bad_line=5)
    report = rescore_file(moderator, src, tmp_path / "out.jsonl", batch_size=4, workers=2,
                          on_error="skip")
    assert report.rows == len(ROWS) and len(report.errors) == 1


def test_score_batches_keeps_tags_and_order(moderator):
    jobs = [("a", ROWS[:2], None), ("b", ROWS[2:3], None), ("c", ROWS[3:7], None)]
    results = list(score_batches(moderator, jobs, workers=2))
    assert [tag for tag, _ in results] == ["a", "b", "c"]
    assert [len(r) for _, r in results] == [2, 1, 4]


def test_cli_workers_option(models_dir, tmp_path, monkeypatch):
    monkeypatch.delenv("MODERATION_CONFIG", raising=False)
    monkeypatch.setenv("MODERATION_MODELS_DIR", str(models_dir))
    src = _write(tmp_path / "in.jsonl", ROWS)
    result = CliRunner().invoke(cli, ["rescore", "--input", str(src), "--output",
                                      str(tmp_path / "out.jsonl"), "--workers", "2",
                                      "--batch-size", "5"])
    assert result.exit_code == 0, result.output
    assert f"{len(ROWS)} rows scored" in result.output


def _overlapping(_result: dict) -> bool:
    from moderation.rescore import pool

    return pool._MODERATOR.overlap


def test_pool_workers_score_without_a_helper_thread(moderator):
    # The processes keep every core busy: a helper thread in each would contend.
    jobs = [(i, ROWS[:2], None) for i in range(4)]
    results = list(score_batches(moderator, jobs, workers=2, finish=_overlapping))
    assert [flags for _, flags in results] == [[False, False]] * 4
    assert moderator.overlap is True  # the caller's own moderator keeps its setting
