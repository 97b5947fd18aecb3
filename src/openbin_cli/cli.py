"""``openbin``: serve the API locally, and operate accounts and keys (locally or on AWS)."""

from __future__ import annotations

import argparse
import gc
import json
import os
import signal
import sys
import threading
from pathlib import Path

# Heavy modules (boto3, moto, the emulator) are imported inside the commands that use them, so
# a command forwarded to a running server starts quickly (openbin.models is plain dataclasses).
from openbin.models import PERMISSIONS, PLANS
from openbin_cli.errors import CommandError

DEFAULT_DATA_DIR = ".openbin"


def _out(payload: dict) -> None:
    print(json.dumps(payload, indent=2))


# -- serve ------------------------------------------------------------------------------------
def serve(args: argparse.Namespace) -> int:
    from openbin.storage import get_storage
    from openbin_cli import ops
    from openbin_cli.targets import DataDir, configure_environment
    from openbin_local.emulator import LocalAWS, server_stats
    from openbin_local.heap import watch_collector
    from openbin_local.runtime import LogSubscriptions
    from openbin_local.server import STOP_GRACE_SECONDS, App, LocalHTTPServer
    from openbin_local.sources import EventSources
    from openbin_local.template import Template

    template = Template(args.template)
    data_dir = DataDir(args.data_dir)
    if not data_dir.try_lock():
        print(
            f"openbin: {data_dir.path} is already served by another openbin process",
            file=sys.stderr,
        )
        return 1
    try:
        aws = LocalAWS(template, data_dir.path).start()
    except BaseException:
        data_dir.unlock()
        raise
    for note in aws.notes:
        print(f"openbin: {note}", file=sys.stderr)
    try:
        # A developer's webhook receiver is on their laptop: http and private addresses are
        # allowed here unless the shell says otherwise (on AWS they never are).
        os.environ.setdefault("OPENBIN_WEBHOOK_ALLOW_PRIVATE", "1")
        configure_environment(aws, args.log_level)
        # Every invocation is a thread of this process (on Lambda, a process of its own):
        # expensive client-controlled work (JSONPath, schemas) takes turns, so a burst of it
        # cannot starve the other requests of the interpreter lock.
        from openbin.bounded import budget

        budget.one_at_a_time()
        first_start = aws.is_empty()
        created = ops.account_create(get_storage()) if first_start else None
        app = App(template, admin_token="", quiet=args.quiet, operations=ops.run)
        app.warm()
        app.stats = server_stats
        subscriptions = LogSubscriptions(app.runner).install()  # usage lines -> their writer
        # The queue does not outlive the process (the tables do): deliveries still to be sent
        # when the server last stopped are queued again.
        webhooks = get_storage().webhooks
        for account_id, delivery_id in webhooks.pending():
            webhooks.enqueue(account_id, delivery_id)
        sources = EventSources(app.runner, aws.names).start()  # bin changes -> webhooks
        # What the data dir loaded and the warmed handlers live as long as the server: out of
        # the cyclic collector's way, so its full passes cost what the requests make, not what
        # the data dir holds; the autosave tick keeps it so (heap.settle_heap).
        gc.collect()
        gc.freeze()
        aws.settles_heap = True
        watch_collector()
        try:
            httpd = LocalHTTPServer((args.host, args.port), app)
        except OSError as error:
            print(
                f"openbin: cannot listen on {args.host}:{args.port}: {error.strerror}",
                file=sys.stderr,
            )
            return 1
        host, port = httpd.server_address[:2]
        url = f"http://{host!s}:{port}"
        app.admin_token = data_dir.publish_server(url)
        aws.save()
        aws.autosave()
        print(f"OpenBin API: {url}/v3   (data in {data_dir.path})")
        print(f"Web console: {url}/   (sign in with a master key)")
        if created:
            print(
                f"Created account {created['accountId']} ({created['plan']} plan, "
                f"{created['requestsRemaining']} requests).\n"
                f"Its master key, shown only this once:\n  {created['masterKey']}"
            )
        print("More accounts: openbin account create   Stop: Ctrl-C", flush=True)

        def stop(*_):
            threading.Thread(target=httpd.shutdown, daemon=True).start()

        signal.signal(signal.SIGTERM, stop)
        try:
            httpd.serve_forever(poll_interval=0.2)
        except KeyboardInterrupt:
            pass
        # Stop accepting and let the requests in flight finish (their writes are journaled as
        # they happen); aws.stop() below then folds the journal into the snapshot.
        httpd.server_close()
        cut = httpd.drain(STOP_GRACE_SECONDS)
        subscriptions.close()  # the usage lines of the last requests, filed before the save
        sources.stop()
        if cut:
            print(
                f"openbin: {cut} requests still running after {STOP_GRACE_SECONDS:.0f} s were "
                "stopped unanswered",
                file=sys.stderr,
            )
        return 0
    finally:
        data_dir.withdraw_server()
        aws.stop()
        data_dir.unlock()
        print("OpenBin stopped; state saved.", file=sys.stderr)


# -- operator commands ------------------------------------------------------------------------
def run_op(args: argparse.Namespace, op: str, op_args: dict) -> int:
    from openbin_local.template import Template

    template = Template(args.template)
    if args.stack_name:
        from openbin_cli import ops
        from openbin_cli.targets import stack_storage

        result = ops.run(stack_storage(args.stack_name, args.region, template), op, op_args)
    else:
        result = _local(args, template, {"op": op, "args": op_args})
    _out(result)
    return 0


def _local(args: argparse.Namespace, template, request: dict) -> dict:
    from openbin_cli.targets import DataDir, call_server

    data_dir = DataDir(args.data_dir)
    if not data_dir.try_lock():  # a server holds it: ask the server
        return call_server(data_dir.server(), request)
    from openbin.storage import get_storage
    from openbin_cli import ops
    from openbin_cli.targets import offline
    from openbin_local.runtime import FunctionRunner, LogSubscriptions

    try:
        with offline(data_dir, template):
            if request["op"] == "invoke":
                runner = FunctionRunner(template)
                logs = LogSubscriptions(runner, delay=None).install()
                try:
                    return runner.invoke(request["function"], request["event"])
                finally:
                    logs.close()  # its usage line filed, as openbin serve would
            return ops.run(get_storage(), request["op"], request["args"])
    finally:
        data_dir.unlock()


def invoke(args: argparse.Namespace) -> int:
    from openbin_local.template import Template

    template = Template(args.template)
    if args.function not in template.functions:
        names = ", ".join(sorted(template.functions))
        raise CommandError(f"no function {args.function!r} in {template.path} (there are: {names})")
    if args.stack_name:
        raise CommandError("invoke runs functions locally; on AWS use `sam remote invoke`")
    try:
        event = json.loads(Path(args.event).read_text())
    except OSError as error:
        raise CommandError(f"cannot read event {args.event}: {error.strerror}") from None
    except ValueError as error:
        raise CommandError(f"event {args.event} is not valid JSON: {error}") from None
    if not isinstance(event, dict):
        raise CommandError(f"event {args.event} must be a JSON object")
    result = _local(args, template, {"op": "invoke", "function": args.function, "event": event})
    _out(result)
    return 0


def smoke(args: argparse.Namespace) -> int:
    """The post-deploy check: exit 0 when every check passed, 1 when one failed."""
    import os

    from openbin_cli import smoke as smoke_checks

    key = args.master_key or os.environ.get("OPENBIN_MASTER_KEY")
    if not key:
        raise CommandError("pass --master-key KEY (or set OPENBIN_MASTER_KEY)")
    if args.stack_name:
        from openbin_cli.targets import describe_stack, stack_api_url

        url = stack_api_url(describe_stack(args.stack_name, args.region))
    elif args.url:
        url = args.url
    else:
        raise CommandError("pass --url <ApiUrl>/v3 or --stack-name NAME")
    if not url.startswith(("http://", "https://")):
        raise CommandError(f"--url must be an http(s) URL, not {url!r}")
    return 0 if smoke_checks.run(url, key, lambda line: print(line, flush=True)) else 1


def _permissions(value: str) -> list[str]:
    perms = [p.strip() for p in value.split(",") if p.strip()]
    unknown = [p for p in perms if p not in PERMISSIONS]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown permission {unknown[0]!r} (choose from {', '.join(PERMISSIONS)})"
        )
    return perms


def _count(value: str) -> int:
    number = int(value)
    if number < 0:
        raise argparse.ArgumentTypeError("must be zero or more")
    return number


def run_aliases(args: argparse.Namespace) -> int:
    import boto3

    from openbin_cli import aliases

    session = boto3.session.Session(region_name=args.region)
    lambda_client = session.client("lambda")
    if args.action == "save":
        saved = aliases.save(
            session.client("cloudformation"), lambda_client, args.stack_name, Path(args.file)
        )
        print(json.dumps({"saved": saved}))
    elif args.action == "sync":
        moved = aliases.sync(session.client("cloudformation"), lambda_client, args.stack_name)
        print(json.dumps({"synced": moved}))
    else:
        print(json.dumps({"restored": aliases.restore(lambda_client, Path(args.file))}))
    return 0


def parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--data-dir", default=DEFAULT_DATA_DIR, help="local state (default .openbin)"
    )
    common.add_argument("--template", default=None, help=argparse.SUPPRESS)
    target = argparse.ArgumentParser(add_help=False, parents=[common])
    target.add_argument("--stack-name", help="act on a deployed stack instead of the data dir")
    target.add_argument("--region", help="AWS region of --stack-name")

    root = argparse.ArgumentParser(prog="openbin", description=__doc__)
    sub = root.add_subparsers(dest="command", required=True)

    p = sub.add_parser("serve", parents=[common], help="run the API locally")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=3000)
    p.add_argument("--quiet", action="store_true", help="no access log")
    p.add_argument("--log-level", default="WARNING", help="functions' log level (default WARNING)")
    p.set_defaults(func=serve)

    account = sub.add_parser("account", help="manage accounts").add_subparsers(
        dest="action", required=True
    )
    p = account.add_parser("create", parents=[target], help="create an account and its master key")
    p.add_argument("--plan", choices=PLANS, default="free")
    p.add_argument("--requests", type=_count, help="request allowance (default: the plan's)")
    p.set_defaults(
        func=lambda a: run_op(a, "account.create", {"plan": a.plan, "requests": a.requests})
    )
    p = account.add_parser("show", parents=[target], help="show an account")
    p.add_argument("account_id")
    p.set_defaults(func=lambda a: run_op(a, "account.show", {"account_id": a.account_id}))
    p = account.add_parser("set-plan", parents=[target], help="change an account's plan")
    p.add_argument("account_id")
    p.add_argument("plan", choices=PLANS)
    p.set_defaults(
        func=lambda a: run_op(a, "account.set-plan", {"account_id": a.account_id, "plan": a.plan})
    )
    p = account.add_parser("add-requests", parents=[target], help="add to the request allowance")
    p.add_argument("account_id")
    p.add_argument("count", type=_count)
    p.set_defaults(
        func=lambda a: run_op(
            a, "account.add-requests", {"account_id": a.account_id, "count": a.count}
        )
    )
    for action in ("block", "unblock"):
        p = account.add_parser(action, parents=[target], help=f"{action} an account")
        p.add_argument("account_id")
        p.set_defaults(
            func=lambda a, op=f"account.{action}": run_op(a, op, {"account_id": a.account_id})
        )

    key = sub.add_parser("key", help="manage keys").add_subparsers(dest="action", required=True)
    p = key.add_parser("create-access", parents=[target], help="create an access key")
    p.add_argument("account_id")
    p.add_argument("--name", required=True)
    p.add_argument(
        "--permissions",
        type=_permissions,
        required=True,
        help="comma-separated: create,read,update,delete",
    )
    p.set_defaults(
        func=lambda a: run_op(
            a,
            "key.create-access",
            {"account_id": a.account_id, "name": a.name, "permissions": a.permissions},
        )
    )

    restore = sub.add_parser(
        "restore", help="after a point-in-time restore of the tables (docs/DEPLOYING.md)"
    ).add_subparsers(dest="action", required=True)
    p = restore.add_parser(
        "records", parents=[target], help="bring back the records deleted since a time"
    )
    p.add_argument("--since", required=True, help="ISO-8601 with a zone, e.g. 2026-11-30T10:00Z")
    p.set_defaults(func=lambda a: run_op(a, "records.undelete", {"since": a.since}))
    p = sub.add_parser(
        "sweep", parents=[target], help="delete record objects no bin or version names"
    )
    p.add_argument("--older-than", type=_count, default=60, help="minutes (default 60)")
    p.add_argument("--dry-run", action="store_true", help="count them, delete nothing")
    p.set_defaults(
        func=lambda a: run_op(
            a, "records.sweep", {"older_than_minutes": a.older_than, "dry_run": a.dry_run}
        )
    )
    p = restore.add_parser(
        "table", parents=[target], help="make a live table hold exactly a restored table's items"
    )
    p.add_argument("table", help="logical name: BinsTable, VersionsTable, KeysTable, ...")
    p.add_argument("--from", dest="source", required=True, help="the restored table's name")
    p.set_defaults(func=lambda a: run_op(a, "table.copy", {"table": a.table, "source": a.source}))

    p = sub.add_parser(
        "smoke",
        help="check a deployed API end to end (run it after every deploy)",
        description="Preflight, create, read, update, error shapes and delete against an API; "
        "one line a check; exit 0 when all pass.",
    )
    where = p.add_mutually_exclusive_group()
    where.add_argument("--url", help="the API's base URL, e.g. https://…amazonaws.com/v3")
    where.add_argument("--stack-name", help="read the URL from this stack's ApiUrl output")
    p.add_argument("--region", help="AWS region of --stack-name")
    p.add_argument("--master-key", help="a master key (default: $OPENBIN_MASTER_KEY)")
    p.set_defaults(func=smoke)

    aliases = sub.add_parser(
        "aliases", help="save the live aliases' versions before a deploy; restore them after"
    ).add_subparsers(dest="action", required=True)
    for action, what in (
        ("save", "write every function's live alias version to --file"),
        ("restore", "point every live alias back at the version --file holds"),
        ("sync", "point every live alias at the version the stack names"),
    ):
        p = aliases.add_parser(action, help=what)
        p.add_argument("--stack-name", required=True)
        p.add_argument("--region", help="AWS region of --stack-name")
        if action != "sync":
            p.add_argument("--file", required=True, help="where the versions are kept (JSON)")
        p.set_defaults(func=run_aliases)

    from openbin_cli.moving.commands import add_parsers

    add_parsers(sub, target)

    p = sub.add_parser("invoke", parents=[target], help="run one function on one event")
    p.add_argument("function", help="logical id in template.yaml, e.g. ReadBinFunction")
    p.add_argument("--event", required=True, help="API Gateway HTTP API event (JSON file)")
    p.set_defaults(func=invoke)
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if getattr(args, "template", "") is None:
        from openbin_local.template import TEMPLATE

        args.template = TEMPLATE
    from openbin.errors import OpenBinError
    from openbin_cli.targets import TargetError
    from openbin_local.journal import DataDirError

    try:
        return args.func(args)
    except (CommandError, TargetError, OpenBinError) as error:
        print(f"openbin: {getattr(error, 'message', error)}", file=sys.stderr)
        return 2
    except DataDirError as error:
        print(f"openbin: cannot use the data dir: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
