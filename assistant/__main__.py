"""Command-line tools next to the bot: `python -m assistant export ...`.

Exit codes: 0 done, 1 nothing to export or the output could not be written, 2 bad arguments or
settings, 3 the store could not be opened.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlparse

from dotenv import load_dotenv

from assistant.export import KINDS, iso_utc, parse_since, rows_for, write_csv, write_json
from assistant.settings import SettingsError, StorageSettings, load_storage_settings
from assistant.storage.open_store import DATABASE_FILE, build_state_store
from assistant.storage.state_store import StateStore

PROG = "python -m assistant"

FETCHERS: dict[str, Callable[[StateStore, float], Awaitable[Sequence[Any]]]] = {
    "feedback": lambda store, since: store.votes_since(since),
    "usage": lambda store, since: store.usage_since(since),
}


class ExportFailed(Exception):
    """A failure reported as one message (safe to print: no credentials) and an exit code."""

    def __init__(self, message: str, exit_code: int):
        super().__init__(message)
        self.exit_code = exit_code


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description="Tools for the Slack assistant's stored data.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    export = commands.add_parser(
        "export",
        help="export feedback votes or usage records as CSV or JSON",
        description="Export feedback votes or per-answer usage, e.g. to join votes with models and prompts.",
    )
    export.add_argument("--what", required=True, choices=sorted(KINDS), help="which records to export")
    export.add_argument("--format", required=True, choices=("csv", "json"), help="output format")
    export.add_argument(
        "--since",
        help="only records from this time on: an ISO date or datetime (UTC unless it has an offset) "
        "or a duration back from now (30m, 12h, 7d, 2w); default: everything",
    )
    export.add_argument("--output", type=Path, help="write to this file instead of standard output")
    export.set_defaults(run=run_export)
    return parser


def _error(message: str) -> None:
    print(message, file=sys.stderr)


def _scrub(message: str, storage: StorageSettings) -> str:
    # Client libraries sometimes echo the URL they failed on, and REDIS_URL may carry a password.
    secrets = [storage.redis_url or "", urlparse(storage.redis_url or "").password or ""]
    for secret in filter(None, secrets):
        message = message.replace(secret, "***")
    return message


def _since(text: str | None) -> float:
    if text is None:
        return 0.0
    try:
        return parse_since(text, time.time())
    except ValueError as exc:
        raise ExportFailed(f"{PROG} export: --since: {exc}", 2) from None


def _storage() -> StorageSettings:
    load_dotenv(override=False)  # real environment variables win over .env, as for the bot
    try:
        return load_storage_settings(os.environ)
    except SettingsError as exc:
        raise ExportFailed(exc.render(), 2) from None


def _require_database(storage: StorageSettings) -> None:
    # Opening SQLite creates the file: an export with a mistyped DATA_DIR must not leave an empty
    # database behind and report zero rows as if that were the truth.
    database = storage.data_dir / DATABASE_FILE
    if storage.backend == "sqlite" and not database.exists():
        raise ExportFailed(f"No data yet: {database} does not exist", 1)


async def _fetch(storage: StorageSettings, what: str, since: float) -> Sequence[Any]:
    store = build_state_store(storage)
    try:
        try:
            await store.open()
        except Exception as exc:  # any backend, any failure: report it in one line, not a traceback
            reason = _scrub(f"{type(exc).__name__}: {exc}", storage)
            message = f"Cannot open the {storage.backend} store at {storage.location}: {reason}"
            raise ExportFailed(message, 3) from None
        return await FETCHERS[what](store, since)
    finally:
        await _close_quietly(store)


async def _close_quietly(store: StateStore) -> None:
    # Either the records are already read or the open failed with the error worth reporting;
    # a close error on top would only hide one or the other behind a traceback.
    with contextlib.suppress(Exception):
        await store.close()


def _write(fmt: str, fieldnames: list[str], rows: list[dict[str, Any]], stream: TextIO) -> None:
    if fmt == "csv":
        write_csv(fieldnames, rows, stream)
    else:
        write_json(rows, stream)


def _write_stdout(write: Callable[[TextIO], None]) -> None:
    try:
        write(sys.stdout)
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader (`| head`) has gone; without this Python's exit-time flush fails a second time.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise


def _redirect_mode() -> int:
    # mkstemp makes the file owner-only; the export gets the mode a plain `> FILE` would give it.
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _write_atomically(path: Path, write: Callable[[TextIO], None]) -> None:
    """A reader (or a crash) never sees half a file: write a temp file beside it, then rename."""
    fd, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as stream:
            os.fchmod(stream.fileno(), _redirect_mode())
            write(stream)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise


def _output(path: Path | None, write: Callable[[TextIO], None]) -> None:
    try:
        if path is None:
            _write_stdout(write)
        else:
            _write_atomically(path, write)
    except OSError as exc:
        raise ExportFailed(f"Cannot write {path or 'standard output'}: {exc.strerror or exc}", 1) from None


def run_export(args: argparse.Namespace) -> int:
    try:
        since = _since(args.since)
        storage = _storage()
        _require_database(storage)
        records = asyncio.run(_fetch(storage, args.what, since))
        fieldnames, rows = rows_for(args.what, records)
        _output(args.output, partial(_write, args.format, fieldnames, rows))
    except ExportFailed as exc:
        _error(str(exc))
        return exc.exit_code
    _error(f"Exported {KINDS[args.what].describe(len(rows))} since {iso_utc(since) if since else 'the beginning'}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
