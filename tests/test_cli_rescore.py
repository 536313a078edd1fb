"""``moderation rescore`` from the command line: databases and Parquet files."""

import json

import pytest
from click.testing import CliRunner

from moderation.cli import cli
from moderation.store import migrate, open_engine

from .rescore_helpers import seed, stored

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")


@pytest.fixture
def runner(models_dir, monkeypatch):
    for name in ("MODERATION_CONFIG", "MODERATION_MODEL_VERSION", "MODERATION_DASK_SCHEDULER"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MODERATION_MODELS_DIR", str(models_dir))
    return CliRunner()


@pytest.fixture
def db(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    engine = open_engine(url)
    migrate(engine)
    seed(engine, 12)
    yield url, engine
    engine.dispose()


def test_dry_run_prints_the_transition_matrix_and_writes_nothing(runner, db):
    url, engine = db
    before = stored(engine)
    result = runner.invoke(cli, ["rescore", "--database", url, "--dry-run", "--batch-size", "5"])
    assert result.exit_code == 0, result.output
    assert "dry run, nothing written: 12 comments re-scored" in result.output
    lines = result.output.splitlines()
    header = lines.index(next(line for line in lines if line.startswith("old -> new")))
    assert lines[header].split()[-3:] == ["accept", "flag", "reject"]
    accept_row = lines[header + 1].split()
    assert accept_row[0] == "accept" and sum(map(int, accept_row[1:])) == 12
    assert "  accept -> reject: c0000" in result.output
    assert stored(engine) == before


def test_database_run_then_only_stale(runner, db):
    url, engine = db
    result = runner.invoke(cli, ["rescore", "--database", url, "--status", "accept",
                                 "--since", "2000-01-01", "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert "12 comments re-scored" in result.output and "run " in result.output
    assert {r["model_version"] for r in stored(engine).values()} == {"tiny-1"}
    result = runner.invoke(cli, ["rescore", "--database", url, "--only-stale"])
    assert result.exit_code == 0 and "0 comments re-scored" in result.output


@pytest.mark.parametrize(("args", "message"), [
    ([], "give either --database or both --input and --output"),
    (["--database", "sqlite://", "--input", "README.md"], "give either --database"),
    (["--input", "README.md"], "--input and --output go together"),
    (["--database", "sqlite://", "--engine", "dask"], "--engine dask needs --scheduler"),
    (["--database", "sqlite://", "--table", "t"], "--table needs --id-column and"),
    (["--database", "sqlite://", "--id-column", "x"], "need --table"),
    (["--database", "sqlite://", "--status", "spam"], "Invalid value for '--status'"),
    (["--database", "not a url"], "is not a database URL"),
])
def test_usage_mistakes(runner, args, message):
    result = runner.invoke(cli, ["rescore", *args])
    assert result.exit_code in (1, 2) and message in result.output, result.output


def test_foreign_table_from_the_command_line(runner, tmp_path):
    url = f"sqlite:///{tmp_path / 'wp.db'}"
    engine = open_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE posts_comments (pk INTEGER PRIMARY KEY, body TEXT, "
                             "who TEXT, mail TEXT)")
        conn.exec_driver_sql("INSERT INTO posts_comments VALUES (3, 'Lovely photos', 'Al', "
                             "'al@example.org'), (8, 'Buy cheap viagra online no prescription', "
                             "'Bo', 'bo@example.org')")
    engine.dispose()
    args = ["rescore", "--database", url, "--table", "posts_comments", "--id-column", "pk",
            "--content-column", "body", "--author-column", "who", "--email-column", "mail"]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "2 comments re-scored" in result.output
    none_row = next(line for line in result.output.splitlines() if line.startswith("none"))
    assert sum(map(int, none_row.split()[1:])) == 2


ROWS = [{"id": 1, "content": "Great article, thanks", "author_name": "A",
         "author_email": "a@example.org"},
        {"id": 2, "content": "Buy cheap viagra online no prescription", "author_name": "B",
         "author_email": "b@example.org"},
        {"id": 3, "content": "", "author_name": "C", "author_email": None}]


def test_parquet_in_and_out_match_jsonl(runner, tmp_path):
    pq.write_table(pa.Table.from_pylist(ROWS), tmp_path / "in.parquet", row_group_size=2)
    (tmp_path / "in.jsonl").write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    for src, out in (("in.parquet", "a.jsonl"), ("in.jsonl", "b.jsonl"),
                     ("in.parquet", "c.parquet")):
        result = runner.invoke(cli, ["rescore", "--input", str(tmp_path / src), "--output",
                                     str(tmp_path / out), "--batch-size", "2"])
        assert result.exit_code == 0, result.output
    a, b = ([json.loads(x) for x in (tmp_path / n).read_text().splitlines()]
            for n in ("a.jsonl", "b.jsonl"))
    assert a == b and [r["id"] for r in a] == [1, 2, 3]
    c = pq.read_table(tmp_path / "c.parquet").to_pylist()
    assert [r["id"] for r in c] == ["1", "2", "3"]
    assert [{k: json.loads(v) if k in ("scores", "reasons", "checks") else v
             for k, v in r.items() if k != "id"} for r in c] == [
        {k: v for k, v in r.items() if k != "id"} for r in a]


def test_bad_parquet_rows_and_files(runner, tmp_path):
    pq.write_table(pa.Table.from_pylist([{"id": 1, "content": 5}]), tmp_path / "bad.parquet")
    result = runner.invoke(cli, ["rescore", "--input", str(tmp_path / "bad.parquet"),
                                 "--output", str(tmp_path / "o.jsonl")])
    assert result.exit_code == 1 and "line 1: field 'content' must be a string" in result.output
    (tmp_path / "junk.parquet").write_bytes(b"not parquet at all")
    result = runner.invoke(cli, ["rescore", "--input", str(tmp_path / "junk.parquet"),
                                 "--output", str(tmp_path / "o.jsonl")])
    assert result.exit_code == 1 and "not a readable Parquet file" in result.output
    assert not (tmp_path / "o.jsonl").exists()
