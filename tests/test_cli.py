import json

from moderation import __version__
from moderation.artefact import load_model
from moderation.cli import cli
from moderation.config import SETTINGS
from tests.conftest import tiny_corpus


def test_version_and_help(runner):
    assert __version__ in runner.invoke(cli, ["--version"]).output
    result = runner.invoke(cli, ["-h"])
    assert result.exit_code == 0 and "Example:" in result.output
    for command in ("serve", "train", "evaluate", "check", "rescore", "config", "config show",
                    "thresholds"):
        assert "Example:" in runner.invoke(cli, [*command.split(), "-h"]).output, command


def test_check_prints_decision_scores_and_reasons(runner):
    result = runner.invoke(cli, ["check", "Buy cheap viagra online no prescription",
                                 "--author-name", "Bob", "--author-email", "bob@example.org"])
    assert result.exit_code == 0, result.output
    assert "decision: " in result.output and "spam " in result.output
    assert "reason:   model.spam" in result.output
    assert "evidence for spam:" in result.output and "'viagra' at 10-16:" in result.output


def test_check_json_and_policy_rejection(runner):
    result = runner.invoke(cli, ["check", "A nice comment", "--json"])
    body = json.loads(result.output)
    assert body["decision"] == "reject"
    assert body["reasons"][0]["code"] == "policy.missing_field"


def test_check_applies_a_sites_policy(runner):
    env = {"MODERATION_SITES": '{"forum": {"block_words": ["casino"]}}'}
    args = ["check", "Best casino in town", "--author-name", "Bo", "--author-email",
            "bo@example.org"]
    main = runner.invoke(cli, args, env=env)
    forum = runner.invoke(cli, [*args, "--site", "forum"], env=env)
    assert "policy.blocked_word" not in main.output
    assert "reason:   policy.blocked_word (reject)" in forum.output
    unknown = runner.invoke(cli, [*args, "--site", "blog"], env=env)
    assert unknown.exit_code == 1 and "unknown site 'blog'" in unknown.output


def test_rescore_jsonl(runner, tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(json.dumps(r) for r in [
        {"id": 7, "content": "Great article, thanks", "author_name": "A",
         "author_email": "a@example.org"},
        {"id": "x-2", "content": "Buy cheap viagra online no prescription", "author_name": "B",
         "author_email": "b@example.org", "extra": "ignored"},
        {"id": 9, "content": "", "author_name": "C", "author_email": "c@example.org"},
    ]) + "\n\n")
    out = tmp_path / "out.jsonl"
    result = runner.invoke(cli, ["rescore", "--input", str(src), "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert "3 rows scored" in result.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in rows] == [7, "x-2", 9]
    assert rows[0]["decision"] == "accept" and rows[2]["decision"] == "reject"
    assert "model.spam" in [r["code"] for r in rows[1]["reasons"]]
    # scores are computed even when a policy check already decides the row
    assert set(rows[2]["scores"]) == {"spam", "toxic"}
    assert set(rows[0]) == {"id", "decision", "scores", "reasons", "checks", "model_version",
                            "policy_version"}


def test_rescore_csv(runner, tmp_path):
    src = tmp_path / "in.csv"
    src.write_text('id,content,author_name,author_email\n1,"Hello, nice ""post""",A,a@x.org\n'
                   '2,"multi\nline comment",B,b@x.org\n')
    out = tmp_path / "out.jsonl"
    result = runner.invoke(cli, ["rescore", "--input", str(src), "--output", str(out)])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in rows] == ["1", "2"]


BAD_JSONL = ('{"id": 1, "content": "fine"}\n{"id": 2, "content": 5}\n'
             '{"id": 3, "content": "fine too"}\nnot json\n{"content": "no id"}\n')


def test_rescore_stops_on_first_bad_line_and_writes_nothing(runner, tmp_path):
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_text(BAD_JSONL)
    result = runner.invoke(cli, ["rescore", "--input", str(src), "--output", str(out)])
    assert result.exit_code == 1
    assert "line 2: field 'content' must be a string" in result.output
    assert not out.exists() and list(tmp_path.iterdir()) == [src]


def test_rescore_can_skip_bad_lines(runner, tmp_path):
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_text(BAD_JSONL)
    result = runner.invoke(cli, ["rescore", "--input", str(src), "--output", str(out),
                                 "--on-error", "skip", "--batch-size", "1"])
    assert result.exit_code == 3
    assert "line 4: invalid JSON" in result.output and "line 5: missing 'id'" in result.output
    assert [json.loads(x)["id"] for x in out.read_text().splitlines()] == [1, 3]


def test_rescore_rejects_non_utf8_and_unknown_formats(runner, tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_bytes(b'{"id": 1, "content": "\xff"}\n')
    result = runner.invoke(cli, ["rescore", "--input", str(src), "--output",
                                 str(tmp_path / "o.jsonl")])
    assert result.exit_code == 1 and "not valid UTF-8" in result.output
    other = tmp_path / "in.txt"
    other.write_text("x")
    result = runner.invoke(cli, ["rescore", "--input", str(other), "--output",
                                 str(tmp_path / "o.jsonl")])
    assert result.exit_code == 1 and "unknown format 'txt'" in result.output


def test_evaluate_labelled_file(runner, tmp_path):
    texts, labels = tiny_corpus()
    src = tmp_path / "eval.jsonl"
    src.write_text("".join(json.dumps({"text": t, "labels": {"spam": s}}) + "\n"
                           for t, s in zip(texts, labels["spam"], strict=True)))
    result = runner.invoke(cli, ["evaluate", str(src)])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert list(report) == ["spam"] and report["spam"]["roc_auc"] == 1.0
    src.write_text('{"text": "x"}\n')
    result = runner.invoke(cli, ["evaluate", str(src)])
    assert result.exit_code == 1 and "line 1" in result.output


def test_config_lists_every_setting(runner):
    result = runner.invoke(cli, ["config", "show"], env={"MODERATION_MAX_LENGTH": "2000"})
    assert result.exit_code == 0
    for setting in SETTINGS:
        assert f"{setting.name} = " in result.output and setting.help in result.output
    assert "max_length = 2000" in result.output
    bad = runner.invoke(cli, ["config", "show"], env={"MODERATION_MAX_LENGTH": "-1"})
    assert bad.exit_code == 1 and "max_length" in bad.output


def test_config_show_prints_sites_and_names_bad_keys(runner, tmp_path):
    path = tmp_path / "moderation.toml"
    path.write_text('max_links = 3\n[sites.forum]\nscripts = ["en", "ru"]\n')
    result = runner.invoke(cli, ["config", "show"], env={"MODERATION_CONFIG": str(path)})
    assert result.exit_code == 0, result.output
    assert '"forum": {"scripts": ["en", "ru"]}' in result.output
    assert "[sites.forum] policy_version = " in result.output
    path.write_text('[sites.forum]\nscripts = ["klingon"]\n')
    bad = runner.invoke(cli, ["config", "show"], env={"MODERATION_CONFIG": str(path)})
    assert bad.exit_code == 1 and "sites.forum.scripts: unknown script" in bad.output
    path.write_text('[sites.forum]\nmax_linx = 3\n')
    bad = runner.invoke(cli, ["config", "show"], env={"MODERATION_CONFIG": str(path)})
    assert bad.exit_code == 1 and "forum.max_linx: not a policy setting" in bad.output


def test_train_writes_a_loadable_model(runner, tmp_path):
    texts, labels = tiny_corpus()
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    rows = [{"text": f"{t} (comment {i})", "labels": {"spam": s, "toxic": x}}
            for i, (t, s, x) in enumerate(zip(texts * 6, labels["spam"] * 6, labels["toxic"] * 6,
                                              strict=True))]
    (corpus / "part.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    models = tmp_path / "models"
    result = runner.invoke(cli, ["train", "--training-dir", str(corpus), "--models-dir",
                                 str(models), "--name", "t1"])
    assert result.exit_code == 0, result.output
    loaded = load_model(models)
    assert loaded.version == "t1"
    manifest = loaded.manifest
    assert manifest["data_sources"][0]["name"] == "training_data"
    assert set(manifest["thresholds"]) == {"spam", "toxic"}
    assert manifest["libraries"]["scikit-learn"]
    assert "holdout" in manifest["metrics"]
    assert set(manifest["calibration"]) == {"spam", "toxic"}
    # The trade-off table lists the chosen thresholds among the grid, and the
    # 'thresholds' command prints it with the ones in force marked.
    for category in ("spam", "toxic"):
        cuts = [row["threshold"] for row in manifest["tradeoff"][category]]
        assert set(manifest["thresholds"][category].values()) <= set(cuts)
        assert cuts == sorted(cuts) and 0.5 in cuts
    shown = runner.invoke(cli, ["thresholds", "--model", "t1", "--category", "toxic"],
                          env={"MODERATION_MODELS_DIR": str(models)})
    assert shown.exit_code == 0, shown.output
    assert "toxic (in force: flag_at" in shown.output and "spam" not in shown.output
    assert "flag_at" in shown.output.splitlines()[2 + cuts.index(
        manifest["thresholds"]["toxic"]["flag_at"])]


def test_train_refuses_a_corpus_too_small_to_choose_thresholds(runner, tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    texts, labels = tiny_corpus()
    (corpus / "a.jsonl").write_text("".join(
        json.dumps({"text": t, "labels": {"spam": s}}) + "\n"
        for t, s in zip(texts, labels["spam"], strict=True)))
    result = runner.invoke(cli, ["train", "--training-dir", str(corpus), "--models-dir",
                                 str(tmp_path / "m")])
    assert result.exit_code == 1 and "too little data" in result.output
    assert not (tmp_path / "m").exists() or not any((tmp_path / "m").iterdir())


def test_train_reports_bad_corpus_lines(runner, tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.jsonl").write_text('{"text": "x", "labels": {"spam": 0}}\n{"text": 1}\n')
    result = runner.invoke(cli, ["train", "--training-dir", str(corpus), "--models-dir",
                                 str(tmp_path / "m")])
    assert result.exit_code == 1 and "line 2" in result.output


def test_thresholds_needs_a_model_with_a_tradeoff_table(runner):
    result = runner.invoke(cli, ["thresholds"])
    assert result.exit_code == 1 and "no trade-off table" in result.output
