"""Batches on several processes: same results, same order, same failure behaviour."""

import json

import pytest
from click.testing import CliRunner

from moderation.cli import cli
from moderation.errors import InputFileError
from moderation.parallel import BatchModerator, resolve_jobs
from moderation.rescore import rescore_file

from .conftest import HAM, SPAM, TOXIC

ROWS = [{"id": i, "content": text, "author_name": "Ann", "author_email": "ann@example.org"}
        for i, text in enumerate(HAM + SPAM + TOXIC + HAM)]


def _write(path, rows, bad_line=None):
    lines = [json.dumps(r) for r in rows]
    if bad_line is not None:
        lines.insert(bad_line, "{not json")
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("jobs", [1, 2, 0])
def test_results_match_one_process_in_input_order(moderator, tmp_path, jobs):
    src = _write(tmp_path / "in.jsonl", ROWS)
    expected = [{"id": r["id"], **moderator.moderate_many([r])[0]} for r in ROWS]
    report = rescore_file(moderator, src, tmp_path / "out.jsonl", batch_size=3, jobs=jobs)
    written = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert written == expected and report.rows == len(ROWS)


def test_a_bad_row_stops_parallel_run_and_writes_nothing(moderator, tmp_path):
    src = _write(tmp_path / "in.jsonl", ROWS, bad_line=30)
    with pytest.raises(InputFileError, match="line 31"):
        rescore_file(moderator, src, tmp_path / "out.jsonl", batch_size=4, jobs=2)
    assert list(tmp_path.iterdir()) == [src]


def test_skipped_rows_are_listed_in_parallel_too(moderator, tmp_path):
    src = _write(tmp_path / "in.jsonl", ROWS, bad_line=5)
    report = rescore_file(moderator, src, tmp_path / "out.jsonl", batch_size=4, jobs=2,
                          on_error="skip")
    assert report.rows == len(ROWS) and len(report.errors) == 1


def test_batch_moderator_closes_its_workers(moderator):
    with BatchModerator(moderator, 2) as scorer:
        results = list(scorer.run([("a", ROWS[:2]), ("b", ROWS[2:3])]))
        assert [tag for tag, _ in results] == ["a", "b"]
        assert [len(r) for _, r in results] == [2, 1]
    assert scorer._pool is None


def test_jobs_must_not_be_negative():
    assert resolve_jobs(3) == 3 and resolve_jobs(0) >= 1
    with pytest.raises(ValueError, match="jobs"):
        resolve_jobs(-1)


def test_cli_jobs_option(models_dir, tmp_path, monkeypatch):
    monkeypatch.delenv("MODERATION_CONFIG", raising=False)
    monkeypatch.setenv("MODERATION_MODELS_DIR", str(models_dir))
    src = _write(tmp_path / "in.jsonl", ROWS)
    result = CliRunner().invoke(cli, ["rescore", "--input", str(src), "--output",
                                      str(tmp_path / "out.jsonl"), "--jobs", "2",
                                      "--batch-size", "5"])
    assert result.exit_code == 0, result.output
    assert f"{len(ROWS)} rows scored" in result.output
