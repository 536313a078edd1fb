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
    see 'moderation config'.

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
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--model", "model_version", help="Model version (default: CURRENT).")
@clean_errors
def evaluate(path: Path, model_version: str | None) -> None:
    """Metrics of a model on a labelled JSONL file ({"text": ..., "labels": {...}}).

    Example: moderation evaluate training_data/topic_civil_test.jsonl
    """
    from .evaluate import evaluate_file

    report = evaluate_file(moderator_for(settings_from(model_version=model_version)), path)
    click.echo(json.dumps(report, indent=2))


@cli.command()
@click.argument("text")
@click.option("--author-name", default="", help="Author name (required by default policy).")
@click.option("--author-email", default="", help="Author e-mail (required by default policy).")
@click.option("--author-url", default=None)
@click.option("--json", "as_json", is_flag=True, help="Print the full JSON result.")
@clean_errors
def check(text: str, author_name: str, author_email: str, author_url: str | None,
          as_json: bool) -> None:
    """Moderate one comment and print the decision, scores and reasons.

    Example: moderation check "Great article" --author-name Ann --author-email ann@example.org
    """
    from .comment import parse_comment

    comment = parse_comment({"content": text, "author_name": author_name,
                             "author_email": author_email, "author_url": author_url})
    result = moderator_for(settings_from()).moderate(comment)
    if as_json:
        click.echo(json.dumps(result, indent=2, ensure_ascii=False))
        return
    click.echo(f"decision: {result['decision']}")
    click.echo("scores:   " + ", ".join(f"{k} {v:.3f}" for k, v in result["scores"].items()))
    for reason in result["reasons"]:
        click.echo(f"reason:   {reason['code']} ({reason['action']}): {reason['message']}")


@cli.command("config")
@clean_errors
def show_config() -> None:
    """Print every setting: effective value, and what it does.

    Example: MODERATION_MAX_LENGTH=2000 moderation config
    """
    settings = settings_from()
    for setting in SETTINGS:
        click.echo(f"{setting.name} = {json.dumps(settings[setting.name])}")
        click.echo(f"    {setting.help}")
    click.echo(f"policy_version = {settings.policy_version}")


cli.add_command(rescore)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="moderation")
