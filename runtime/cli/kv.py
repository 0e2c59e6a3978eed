"""``lmteams kv``: read and write the world state of a running cluster (``lmteams node``).

    lmteams kv put KEY VALUE       --cluster a=127.0.0.1:7001,b=127.0.0.1:7002,c=127.0.0.1:7003 --secret-file F
    lmteams kv get KEY             --cluster ... --secret-file F
    lmteams kv cas KEY EXPECTED NEW --cluster ... --secret-file F
    lmteams kv delete KEY          --cluster ... --secret-file F
    lmteams kv status              --cluster ... --secret-file F

VALUE, EXPECTED and NEW are JSON when they parse as JSON (``42``, ``true``,
``null``, ``'{"a": 1}'``) and strings otherwise. Exit status: 0 done, 1 the
cluster rejected the command (a cas mismatch, an invalid command), 2 bad
arguments, 3 no answer from the cluster (unreachable, no leader, or the
deadline passed: a write may or may not have taken effect).
"""

from __future__ import annotations

import argparse
import json
import re
import secrets
import sys
from collections.abc import Sequence
from typing import Any

import anyio
from pydantic import ValidationError

from lmteams.consensus.client import ClientTimeout, CommandRejected
from lmteams.consensus.client.protocol import ServerError
from lmteams.consensus.client.remote import RemoteClient, parse_address
from lmteams.consensus.world import Applied, Cas, InvalidCommand, Rejected
from lmteams.consensus.world.commands import describe
from lmteams.runtime.cli.node import UsageError, read_secret
from lmteams.runtime.logging import configure
from lmteams.transports import TransportError

EXIT_OK = 0
EXIT_REJECTED = 1
EXIT_USAGE = 2
EXIT_UNREACHABLE = 3


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "kv",
        help="put, get, cas or delete a key in a running cluster",
        description="Talk to a cluster of `lmteams node` processes: writes are committed through the Raft log "
        "exactly once, reads are linearizable. Exit status: 0 done, 1 rejected (e.g. a cas mismatch), "
        "2 bad arguments, 3 no answer from the cluster.",
    )
    _add_actions(p)


def _add_actions(p: argparse.ArgumentParser) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--cluster", required=True, metavar="ID=HOST:PORT,...", help="every node of the cluster, comma-separated"
    )
    common.add_argument("--secret-file", required=True, metavar="FILE", help="file holding the cluster's shared secret")
    common.add_argument(
        "--timeout", type=float, default=10.0, metavar="SECONDS", help="give up after this long (default 10)"
    )
    common.add_argument("--client-id", default=None, help="session id (default: a fresh random one)")
    actions = p.add_subparsers(dest="kv_action", required=True, metavar="ACTION")
    put = actions.add_parser("put", parents=[common], help="set KEY to VALUE")
    put.add_argument("key")
    put.add_argument("value", help="JSON if it parses as JSON, else a string")
    get = actions.add_parser("get", parents=[common], help="print KEY's value as JSON (null if absent)")
    get.add_argument("key")
    cas = actions.add_parser("cas", parents=[common], help="set KEY to NEW if it holds EXPECTED (null: absent)")
    cas.add_argument("key")
    cas.add_argument("expected", help="JSON if it parses as JSON, else a string")
    cas.add_argument("new", help="JSON if it parses as JSON, else a string")
    delete = actions.add_parser("delete", parents=[common], help="remove KEY")
    delete.add_argument("key")
    status = actions.add_parser("status", parents=[common], help="print every node's role, term and indexes")
    status.add_argument("--json", action="store_true", help="one JSON object per node")
    member = actions.add_parser(
        "member",
        parents=[common],
        help="add or remove a cluster member (the way back for a node whose data directory was lost)",
        description="remove ID: take the member out of the configuration. add ID: add it as a learner, wait "
        "until it has caught up, promote it to voter (start it first with `lmteams node --join`). A node whose "
        "data directory was damaged or lost comes back by: member remove, wipe its directory, start it with "
        "--join, member add (README, 'Operations: a damaged node').",
    )
    member.add_argument("op", choices=["add", "remove"])
    member.add_argument("member_id", metavar="ID")
    p.set_defaults(run=run)


MAX_VALUE_DEPTH = 32
"""The deepest nesting of lists and objects a value given on the command line may have."""


def parse_value(text: str) -> Any:
    """JSON if ``text`` parses as JSON (NaN and Infinity do not count), else the string itself.

    Raises `UsageError` for JSON nested more than ``MAX_VALUE_DEPTH`` levels deep."""

    def no_constants(name: str) -> Any:
        raise ValueError(name)

    try:
        value = json.loads(text, parse_constant=no_constants)
    except RecursionError:
        value = None
        depth = MAX_VALUE_DEPTH + 1
    except ValueError:
        return text
    else:
        depth = _depth(value)
    if depth > MAX_VALUE_DEPTH:
        raise UsageError(
            f"the value nests lists or objects more than {MAX_VALUE_DEPTH} levels deep: flatten it "
            "(or quote it as a JSON string)"
        )
    return value


def _depth(value: Any) -> int:
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            if depth <= MAX_VALUE_DEPTH:
                stack.extend((v, depth + 1) for v in (item.values() if isinstance(item, dict) else item))
    return deepest


def parse_cluster(text: str) -> dict[str, tuple[str, int]]:
    """``a=HOST:PORT,b=HOST:PORT`` as a dict; raise `UsageError` saying what is wrong."""
    nodes: dict[str, tuple[str, int]] = {}
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        node_id, sep, address = item.partition("=")
        node_id = node_id.strip()
        if not sep or not node_id:
            raise UsageError(f"--cluster item {item!r} is not ID=HOST:PORT (e.g. a=127.0.0.1:7001)")
        if node_id in nodes:
            raise UsageError(f"--cluster names {node_id!r} twice: node ids must be unique")
        try:
            nodes[node_id] = parse_address(address)
        except ValueError as exc:
            raise UsageError(f"--cluster item {item!r}: {exc}") from None
    if not nodes:
        raise UsageError("--cluster is empty: give every node as ID=HOST:PORT, comma-separated")
    return nodes


_FOUND = re.compile(r"^key .* holds (?P<found>.*), not the expected .*$", re.DOTALL)


def _found_value(rejected: Rejected) -> str:
    match = _FOUND.match(rejected.detail)
    return match.group("found") if match else rejected.detail


async def _execute(args: argparse.Namespace, client: RemoteClient) -> int:
    action = args.kv_action
    if action == "status":
        return await _status(args, client)
    if action == "member":
        members = await client.change_member(args.op, args.member_id)
        print(f"ok: voters {', '.join(members.voters) or '-'}; learners {', '.join(members.learners) or '-'}")
        return EXIT_OK
    if action == "put":
        await client.put(args.key, parse_value(args.value))
        print("ok")
    elif action == "get":
        print(json.dumps(await client.get(args.key)))
    elif action == "delete":
        existed = await client.delete(args.key)
        print("ok" if existed else "ok (it was absent)")
    elif action == "cas":
        result = await client.submit(Cas(key=args.key, expected=parse_value(args.expected), new=parse_value(args.new)))
        if isinstance(result, Applied):
            print("ok")
        elif result.reason == "cas_mismatch":
            print(f"mismatch: found {_found_value(result)}")
            return EXIT_REJECTED
        else:
            raise CommandRejected(result)
    return EXIT_OK


async def _status(args: argparse.Namespace, client: RemoteClient) -> int:
    reached = 0
    for node_id in client.node_ids():
        try:
            status = await client.status(node_id, timeout=min(args.timeout, 2.0))
        except Exception as exc:  # noqa: BLE001 - report each node, reachable or not
            line = {"node_id": node_id, "error": str(exc) or type(exc).__name__}
            print(json.dumps(line) if args.json else f"{node_id}: unreachable ({line['error']})")
            continue
        reached += 1
        if args.json:
            print(status.model_dump_json())
        else:
            print(
                f"{status.node_id}: {status.role} term={status.term} leader={status.leader_id} "
                f"commit={status.commit_index} applied={status.applied_index} digest={status.world_digest[:12]}"
                + (" AWAITING-READD (does not vote)" if status.awaiting_readd else "")
                + "".join(f" LOST-DISK {peer} x{n}" for peer, n in sorted(status.lost_disk.items()))
            )
    return EXIT_OK if reached else EXIT_UNREACHABLE


def run(args: argparse.Namespace) -> int:
    def fail(code: int, message: str) -> int:
        print(f"lmteams kv {args.kv_action}: error: {message}", file=sys.stderr)
        return code

    try:
        cluster = parse_cluster(args.cluster)
        for name in ("value", "expected", "new"):  # checked here, before any connection
            if getattr(args, name, None) is not None:
                parse_value(getattr(args, name))
        secret = read_secret(args.secret_file)
        if not args.timeout > 0:
            raise UsageError(f"--timeout must be positive seconds, got {args.timeout}")
        client = RemoteClient(
            cluster,
            args.client_id or f"kv-{secrets.token_hex(8)}",
            secret=secret,
            deadline=args.timeout,
            attempt_timeout=min(args.timeout, 2.0),
            connect_timeout=min(args.timeout, 1.0),
        )
    except (UsageError, ValueError, TransportError) as exc:
        return fail(EXIT_USAGE, str(exc))

    async def main() -> int:
        async with client:
            return await _execute(args, client)

    try:
        return anyio.run(main)
    except ClientTimeout:
        nodes = ", ".join(f"{n}={h}:{p}" for n, (h, p) in cluster.items())
        last = f" (last error: {client.last_error})" if client.last_error is not None else ""
        what = "a write may or may not have taken effect" if args.kv_action in ("put", "cas", "delete") else ""
        return fail(
            EXIT_UNREACHABLE,
            f"no answer from the cluster ({nodes}) within {args.timeout}s{last}" + (f"; {what}" if what else ""),
        )
    except CommandRejected as exc:
        return fail(EXIT_REJECTED, str(exc))
    except (InvalidCommand, ServerError) as exc:
        return fail(EXIT_REJECTED, str(exc))
    except ValidationError as exc:  # e.g. a blank key
        return fail(EXIT_USAGE, describe(exc))


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m lmteams.runtime.cli.kv ...``: the same command without the ``lmteams`` front end."""
    parser = argparse.ArgumentParser(prog="lmteams kv", description=__doc__)
    _add_actions(parser)
    args = parser.parse_args(argv)
    configure("error")
    return int(args.run(args))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
