"""``openbin import`` and ``openbin export``: their arguments, and what they do with them."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from openbin.models import PLANS
from openbin_cli.errors import CommandError


def import_command(args: argparse.Namespace) -> int:
    """Exit 0: everything imported; 1: stopped (the source's allowance, the source or the
    target failing, something it could not import), run it again to go on; 2: nothing could be
    done as asked, and nothing was written."""
    import hashlib
    import math
    import os

    from openbin.errors import OpenBinError
    from openbin_cli.moving.archive import Archive, ArchiveError
    from openbin_cli.moving.importer import NOT_MOVED, Importer, State, StateError, print_summary
    from openbin_cli.moving.jsonbin import JsonBinSource, SourceError, SourceStopped
    from openbin_cli.targets import TargetError, session
    from openbin_local.template import Template

    where = f"stack {args.stack_name}" if args.stack_name else str(Path(args.data_dir).resolve())
    key = ""
    if not math.isfinite(args.rate) or args.rate < 0:
        raise CommandError("--rate must be 0 (no pause) or more requests a second")
    if args.plan and args.account:
        raise CommandError("--plan is a new account's: an existing account keeps its plan")
    if args.archive:
        source_name = f"archive {Path(args.archive).resolve()}"
    else:
        source_name = args.source_url.rstrip("/")
        key = args.master_key or os.environ.get("OPENBIN_SOURCE_MASTER_KEY", "")
        if not key:
            raise CommandError("pass --master-key KEY, the source's master key")
    for bin_id in args.bins:
        if len(bin_id) != 24 or any(c not in "0123456789abcdef" for c in bin_id):
            raise CommandError(f"--bin {bin_id!r} is not a 24-hex bin ID")
    # The source's account is part of the import's identity: another key, another import.
    who = hashlib.sha256(key.encode()).hexdigest()[:16] if key else ""
    digest = hashlib.sha256(f"{source_name}\n{who}\n{where}".encode()).hexdigest()[:12]
    state_path = Path(args.state or f".openbin-import-{digest}.json")
    if not state_path.resolve().parent.is_dir():
        raise CommandError(f"the state file's folder {state_path.resolve().parent} does not exist")
    stopped = None
    try:
        state = State.load(state_path, source_name, who, where)
        archive = Archive(args.archive) if args.archive else None
        source, collections = None, []
        if archive is None:
            source = JsonBinSource(args.source_url, key, args.rate, pause=args.retry_pause)
            collections = source.collections()  # the URL and the key, checked before any write
    except (StateError, ArchiveError, SourceError) as error:
        raise CommandError(str(error)) from None
    except SourceStopped as stop:  # the allowance used up, or the source failing: come back
        stopped = f"{stop}; run the same command again to go on"
        print(f"openbin import: stopped: {stopped}", file=sys.stderr)
        print_summary({"resumable": True, "stopped": stopped})
        return 1
    print(f"openbin import: from {source_name} into {where} (state: {state_path})", file=sys.stderr)
    template = Template(args.template)
    try:
        with session(args.data_dir, args.stack_name, args.region, template) as call:
            importer = Importer(call, state, state_path)
            try:
                if archive is not None:
                    account = archive.account()
                    plan = args.plan or account.get("plan", "free")
                    importer.account(args.account, plan, account.get("requestsRemaining"))
                    importer.from_archive(archive)
                else:
                    assert source is not None
                    importer.account(args.account, args.plan or "free")
                    importer.from_jsonbin(source, collections, args.bins)
            except SourceStopped as stop:
                stopped = f"{stop}; run the same command again to go on"
            except (TargetError, OpenBinError, ArchiveError, StateError, OSError) as error:
                if importer.state.account_id is None:  # nothing written yet
                    raise CommandError(getattr(error, "message", str(error))) from None
                why = getattr(error, "message", str(error))
                stopped = f"{why}; fix it and run the same command again to go on"
            except KeyboardInterrupt:
                stopped = "interrupted; run the same command again to go on"
            summary = importer.finish(stopped)
    except TargetError as error:  # the target went away while the import was finishing
        raise CommandError(str(error)) from None
    if stopped:
        print(f"openbin import: stopped: {stopped}", file=sys.stderr)
    print(f"openbin import: {NOT_MOVED}", file=sys.stderr)
    print_summary(summary)
    return 1 if stopped else 0


def export_command(args: argparse.Namespace) -> int:
    from openbin_local.template import Template

    out = str(Path(args.out).resolve())
    op_args = {"account_id": args.account, "out": out}
    template = Template(args.template)
    if args.stack_name:
        from openbin_cli import ops
        from openbin_cli.targets import stack_storage

        result = ops.run(
            stack_storage(args.stack_name, args.region, template), "export.account", op_args
        )
    else:
        from openbin_cli.cli import _local

        result = _local(args, template, {"op": "export.account", "args": op_args})
    print(json.dumps(result, indent=2))
    return 0


def add_parsers(sub, target: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "import",
        parents=[target],
        help="bring an account in: from a JSONBin v3 API, or from an archive of openbin export",
        description="Walk a JSONBin v3 API (JSONBin.io, or another OpenBin) with its master key, "
        "or read an archive, into an account of the data dir or stack, keeping every ID. "
        "Resumable: run it again to go on. The last line on stdout is a JSON summary.",
    )
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--from", dest="source_url", help="the source API, ending in /v3")
    source.add_argument("--archive", help="a directory written by openbin export")
    p.add_argument("--master-key", help="the source's master key (or $OPENBIN_SOURCE_MASTER_KEY)")
    p.add_argument("--account", help="import into this account (default: a new one)")
    p.add_argument(
        "--plan", choices=PLANS, help="a new account's plan (default free, or the archive's)"
    )
    p.add_argument(
        "--bin",
        dest="bins",
        action="append",
        default=[],
        metavar="ID",
        help="a bin no listing reaches (repeatable)",
    )
    p.add_argument(
        "--rate", type=float, default=4.0, help="source requests a second (default 4; 0: no pause)"
    )
    p.add_argument("--state", help="the state file (default .openbin-import-<hash>.json)")
    p.add_argument("--retry-pause", type=float, default=1.0, help=argparse.SUPPRESS)
    p.set_defaults(func=import_command)

    p = sub.add_parser(
        "export", parents=[target], help="write an account to a directory (docs/MOVING.md)"
    )
    p.add_argument("--account", required=True, help="the account's ID")
    p.add_argument("--out", required=True, help="a directory that does not exist yet, or is empty")
    p.set_defaults(func=export_command)
