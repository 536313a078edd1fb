"""A real ``moderation rescore`` killed with SIGKILL mid-run, then started again."""

import os
import signal
import subprocess
import sys
import time

from sqlalchemy import func, select

from moderation.store import comments, decision_history, migrate, open_engine, rescore_runs

from .rescore_helpers import seed

ROWS, BATCH = 4_000, 100


def _command(url, models_dir):
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODERATION_")}
    env["MODERATION_MODELS_DIR"] = str(models_dir)
    args = [sys.executable, "-c", "from moderation.cli import main; main()", "rescore",
            "--database", url, "--batch-size", str(BATCH), "--workers", "1"]
    return args, env


def _rows_done(engine):
    with engine.connect() as conn:
        return conn.execute(select(func.coalesce(func.sum(rescore_runs.c.rows_done), 0))
                            ).scalar_one()


def test_a_killed_run_continues_where_it_stopped(database_url, models_dir, tmp_path):
    engine = open_engine(database_url)
    migrate(engine)
    seed(engine, ROWS)
    args, env = _command(database_url, models_dir)
    log = tmp_path / "killed.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        # wait until a few chunks are committed, then kill while it is still going
        while _rows_done(engine) < 3 * BATCH and time.monotonic() < deadline:
            assert process.poll() is None, log.read_text()
            time.sleep(0.02)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    h = decision_history.c
    with engine.connect() as conn:
        done = _rows_done(engine)
        assert 3 * BATCH <= done < ROWS and done % BATCH == 0
        assert conn.execute(select(func.count()).select_from(decision_history)).scalar() == done
        assert conn.execute(select(func.count()).where(
            comments.c.model_version == "tiny-1")).scalar() == done

    finished = subprocess.run(args, env=env, capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stderr
    assert "(resumed)" in finished.stdout
    assert f"{ROWS - done} comments re-scored" in finished.stdout
    assert f"{ROWS} in the run" in finished.stdout
    with engine.connect() as conn:
        runs = conn.execute(select(rescore_runs)).mappings().all()
        assert len(runs) == 1 and runs[0]["finished_at"] is not None
        assert runs[0]["rows_done"] == ROWS
        per_comment = conn.execute(select(h.comment_id, func.count()).group_by(h.comment_id)
                                   .having(func.count() != 1)).all()
        assert per_comment == []  # exactly once: none twice...
        assert conn.execute(select(func.count(h.comment_id.distinct()))).scalar() == ROWS
        assert conn.execute(select(func.count()).where(  # ...and none missed
            comments.c.model_version != "tiny-1")).scalar() == 0
    engine.dispose()
