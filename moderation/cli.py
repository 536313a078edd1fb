"""The ``moderation`` command: a thin shell over the library."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import click

from . import __version__
from .cli_common import CONTEXT, DEFAULT_TRAINING_DIR, clean_errors, moderator_for, settings_from
from .cli_rescore import rescore
from .config import SETTINGS
from .datasets import DATA_DIR_ENV, SOURCES

__all__ = ["cli", "main"]

@click.group(context_settings=CONTEXT)
@click.version_option(__version__, "--version", prog_name="moderation")
def cli() -> None:
    """Self-hosted comment moderation: accept, flag or reject, with reasons.

    Settings come from MODERATION_CONFIG (a TOML file) and MODERATION_* variables;
    see 'moderation config show'.

    Example: moderation check "Buy cheap meds at pills.example.com"
    """
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s",
                        stream=sys.stderr)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, envvar="MODERATION_HOST")
@click.option("--port", default=8000, show_default=True, type=int, envvar="MODERATION_PORT")
@click.option("--debug", is_flag=True, help="Flask debug mode (never in production).")
@clean_errors
def serve(host: str, port: int, debug: bool) -> None:
    """Run the development server (use gunicorn in production).

    Example: moderation serve --port 8000
    """
    from .api import create_app

    create_app().run(host=host, port=port, debug=debug)


@cli.command()
@click.option("--training-dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
              default=DEFAULT_TRAINING_DIR, show_default=True, help="Our own labelled corpus.")
@click.option("--data-dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
              envvar=DATA_DIR_ENV, help="Folder of the public datasets (../shared/datasets).")
@click.option("--source", "sources", multiple=True, type=click.Choice(sorted(SOURCES)),
              help="Public dataset to use (repeatable; default: all of them).")
@click.option("--models-dir", type=click.Path(file_okay=False, path_type=Path),
              envvar="MODERATION_MODELS_DIR", help="Where to write the model.")
@click.option("--name", "version", help="Version name (default: a UTC timestamp).")
@click.option("--no-set-current", is_flag=True, help="Do not point models/CURRENT at it.")
@clean_errors
def train(training_dir: Path, data_dir: Path | None, sources: tuple[str, ...],
          models_dir: Path | None, version: str | None, no_set_current: bool) -> None:
    """Train a model, pick thresholds on held-out data, and save it.

    Example: moderation train --data-dir ../shared/datasets --name v2
    """
    from .train import train as run_training

    settings = settings_from(models_dir=str(models_dir) if models_dir else None)
    folder = run_training(training_dir=training_dir, data_dir=data_dir,
                          sources=list(sources) or None, models_dir=Path(settings["models_dir"]),
                          version=version, set_current=not no_set_current,
                          progress=lambda m: click.echo(m, err=True))
    manifest = json.loads((folder / "manifest.json").read_text())
    for category, metrics in manifest["metrics"]["holdout"].get("all", {}).items():
        click.echo(f"{category}: holdout ROC AUC {metrics['roc_auc']}, "
                   f"F1 at flag {metrics['at_flag']['f1']}, thresholds "
                   f"{manifest['thresholds'][category]}")
    click.echo(f"saved {folder}")


@cli.command()
@click.argument("path", required=False,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--data-dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Run the public benchmarks on this folder (../shared/datasets).")
@click.option("--training-dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
              default=DEFAULT_TRAINING_DIR, show_default=True,
              help="Our own corpus (its hold-out and topic test set are benchmarks too).")
@click.option("--report", "report_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Also write a Markdown report with plots into this folder.")
@click.option("--no-peer", is_flag=True, help="Skip alt-profanity-check.")
@click.option("--model", "model_version", help="Model version (default: CURRENT).")
@clean_errors
def evaluate(path: Path | None, data_dir: Path | None, training_dir: Path,
             report_dir: Path | None, no_peer: bool, model_version: str | None) -> None:
    """Metrics on a labelled JSONL file, or the benchmark table with --data-dir.

    A file holds {"text": ..., "labels": {...}} rows; the answer is JSON. With
    --data-dir, every public benchmark is scored for this model and for
    alt-profanity-check (install with pip install -e '.[bench]').

    Example: moderation evaluate --data-dir ../shared/datasets --report report/
    """
    from .evaluate import evaluate_file

    if data_dir is None and (path is None or report_dir is not None):
        raise click.UsageError("give a labelled file, --data-dir, or both "
                               "(--report needs --data-dir)")
    moderator = moderator_for(settings_from(model_version=model_version))
    if path is not None:
        click.echo(json.dumps(evaluate_file(moderator, path), indent=2))
    if data_dir is None:
        return
    from .benchmarks import peer_scorer, run_benchmarks
    from .evaluate import benchmark_table, format_table

    peer = None if no_peer else peer_scorer()
    if peer is None and not no_peer:
        click.echo("alt-profanity-check is not installed: its rows are left out "
                   "(pip install -e '.[bench]')", err=True)
    loaded = moderator.loaded
    scored = run_benchmarks(loaded.model, moderator.thresholds, loaded.manifest.get("params", {}),
                            data_dir, training_dir, peer,
                            progress=lambda m: click.echo(m, err=True))
    rows = benchmark_table(scored)
    click.echo(format_table(rows))
    if report_dir is not None:
        from .report import write_report

        written = write_report(report_dir, scored, rows, loaded.version)
        click.echo(f"wrote {written}")


@cli.command()
@click.argument("text")
@click.option("--author-name", default="", help="Author name (required by default policy).")
@click.option("--author-email", default="", help="Author e-mail (required by default policy).")
@click.option("--author-url", default=None)
@click.option("--site", default=None, help="Site whose policy applies (a [sites.<name>] "
              "section).")
@click.option("--json", "as_json", is_flag=True, help="Print the full JSON result.")
@clean_errors
def check(text: str, author_name: str, author_email: str, author_url: str | None,
          site: str | None, as_json: bool) -> None:
    """Moderate one comment and print the decision, scores and reasons.

    Example: moderation check "Great article" --author-name Ann --author-email ann@example.org
    """
    from .comment import parse_comment

    comment = parse_comment({"content": text, "author_name": author_name,
                             "author_email": author_email, "author_url": author_url,
                             "site": site})
    result = moderator_for(settings_from()).moderate(comment)
    if as_json:
        click.echo(json.dumps(result, indent=2, ensure_ascii=False))
        return
    click.echo(f"decision: {result['decision']}")
    click.echo("scores:   " + ", ".join(f"{k} {v:.3f}" for k, v in result["scores"].items()))
    for reason in result["reasons"]:
        click.echo(f"reason:   {reason['code']} ({reason['action']}): {reason['message']}")
    for category, evidence in result["explanation"].items():
        click.echo(f"evidence for {category}:")
        for item in evidence:
            grams = ", ".join(f"{g['ngram']!r} {g['weight']:+.2f}" for g in item["ngrams"])
            click.echo(f"  {item['text']!r} at {item['start']}-{item['end']}: "
                       f"{item['weight']:+.3f} ({grams})")


@cli.command()
@click.option("--category", help="Only this category.")
@click.option("--model", "model_version", help="Model version (default: CURRENT).")
@clean_errors
def thresholds(category: str | None, model_version: str | None) -> None:
    """Print the precision / recall trade-off of each category's thresholds.

    Measured at training time on held-out comments. "held" is the share of those
    comments at or above the threshold (flagged or rejected there). Choose other
    thresholds with the 'thresholds' setting.

    Example: moderation thresholds --category toxic
    """
    moderator = moderator_for(settings_from(model_version=model_version))
    tables = moderator.loaded.manifest.get("tradeoff")
    if not tables:
        raise click.ClickException(f"model {moderator.model_version} has no trade-off table; "
                                   "retrain it with this version of moderation")
    if category is not None and category not in tables:
        raise click.ClickException(f"unknown category {category!r}; the model has "
                                   f"{', '.join(tables)}")
    for name, table in tables.items():
        if category is not None and name != category:
            continue
        limits = moderator.thresholds[name]
        click.echo(f"{name} (in force: flag_at {limits['flag_at']}, "
                   f"reject_at {limits['reject_at']})")
        click.echo(f"  {'threshold':>9}  {'precision':>9}  {'recall':>6}  {'held':>6}")
        for row in table:
            mark = "  ".join(k for k in ("flag_at", "reject_at")
                             if abs(limits[k] - row["threshold"]) < 1e-9)
            click.echo(f"  {row['threshold']:>9.4f}  {row['precision']:>9.3f}  "
                       f"{row['recall']:>6.3f}  {row['share']:>6.3f}  {mark}".rstrip())


@cli.group("config")
def config_group() -> None:
    """Inspect the effective configuration.

    Example: moderation config show
    """


@config_group.command("show")
@clean_errors
def show_config() -> None:
    """Print every setting (effective value and what it does), each site's overrides and
    the policy versions.

    Example: MODERATION_CONFIG=moderation.toml moderation config show
    """
    from .policy import site_policies

    settings = settings_from()
    site_policies(settings)  # an invalid list, script or check name stops here too
    for setting in SETTINGS:
        click.echo(f"{setting.name} = {json.dumps(settings[setting.name])}")
        click.echo(f"    {setting.help}")
    click.echo(f"policy_version = {settings.policy_version}")
    for site in settings.sites()[1:]:
        click.echo(f"[sites.{site.site}] policy_version = {site.policy_version}")


cli.add_command(rescore)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="moderation")
