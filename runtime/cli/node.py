"""``lmteams node``: run one node of a multi-process Raft cluster until SIGTERM or SIGINT.

    lmteams node --id a --listen 127.0.0.1:7001 --peer b=127.0.0.1:7002 --peer c=127.0.0.1:7003 \\
                 --data data/a --secret-file cluster.secret

The node listens on ``--listen`` for its peers and for clients (``lmteams kv``),
keeps its log in ``--data`` (fsynced: a killed node restarts from it), and logs
to stderr (``lmteams --log-level info node ...`` to see elections).
"""

from __future__ import annotations

import argparse
import errno
import os
import signal
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import anyio
import structlog
from pydantic import ValidationError

from lmteams.consensus import ConsensusError, RaftConfig
from lmteams.consensus.client.remote import parse_address
from lmteams.consensus.cluster.process import NodeConfig, NodeProcess
from lmteams.consensus.world.commands import describe
from lmteams.runtime.logging import configure
from lmteams.transports import TransportError

log = structlog.get_logger("lmteams.node")

EXIT_USAGE = 2
EXIT_FAILED = 1


class UsageError(Exception):
    """A bad argument; the message says what to fix."""


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "node",
        help="run one node of a multi-process Raft cluster",
        description="Run one Raft replica of the team's world state. It listens on --listen for the other "
        "nodes and for clients (lmteams kv), keeps its log in --data (fsynced, so it survives being killed) "
        "and runs until SIGTERM or SIGINT.",
    )
    _add_arguments(p)
    p.set_defaults(run=run)


def _add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--id", required=True, dest="node_id", help="this node's id, unique in the cluster")
    p.add_argument("--listen", required=True, metavar="HOST:PORT", help="address for peers and clients")
    p.add_argument("--peer", action="append", default=[], metavar="ID=HOST:PORT", help="another node (repeat for each)")
    p.add_argument("--data", required=True, metavar="DIR", help="data directory (created if missing)")
    p.add_argument("--secret-file", required=True, metavar="FILE", help="file holding the cluster's shared secret")
    p.add_argument(
        "--tick-interval",
        type=float,
        default=0.05,
        metavar="SECONDS",
        help="seconds per Raft tick (default 0.05: elections after 0.5-1 s of silence, heartbeats every 0.15 s)",
    )
    p.add_argument(
        "--no-fsync",
        dest="fsync",
        action="store_false",
        help="write the log without fsync: faster, but a machine crash (not a process kill) may lose acknowledged writes",
    )
    p.add_argument(
        "--join",
        action="store_true",
        help="join an existing cluster with an empty --data (after `lmteams kv member remove ID`): the node "
        "catches up but does not vote until `lmteams kv member add ID` has added it back. Ignored when --data "
        "already holds data. See README, 'Operations: a damaged node'",
    )
    p.add_argument("--seed", type=int, default=None, help="seed for election timeouts and backoff jitter")
    p.add_argument("--log-json", action="store_true", help="log JSON lines instead of text")
    p.add_argument(
        "--log-level",
        dest="node_log_level",
        default=None,
        choices=["debug", "info", "warning", "error"],
        help="log level (default: info, or lmteams --log-level when that is not the default warning)",
    )


def read_secret(path: str) -> bytes:
    """The secret file's content, stripped; raise `UsageError` if missing, unreadable or empty."""
    file = Path(path)
    try:
        raw = file.read_bytes()
    except FileNotFoundError:
        raise UsageError(
            f"--secret-file {path!r} does not exist; create it with e.g. "
            f"`python -c 'import secrets; print(secrets.token_hex(32))' > {path}`"
        ) from None
    except IsADirectoryError:
        raise UsageError(f"--secret-file {path!r} is a directory, not a file") from None
    except OSError as exc:
        raise UsageError(f"--secret-file {path!r} cannot be read: {exc.strerror}") from None
    secret = raw.strip()
    if not secret:
        raise UsageError(f"--secret-file {path!r} is empty: put the cluster's shared secret in it")
    return secret


def _parse_listen(text: str, what: str) -> tuple[str, int]:
    try:
        return parse_address(text)
    except ValueError as exc:
        raise UsageError(f"{what}: {exc}") from None


def _parse_peers(items: Sequence[str]) -> dict[str, tuple[str, int]]:
    peers: dict[str, tuple[str, int]] = {}
    for item in items:
        node_id, sep, address = item.partition("=")
        node_id = node_id.strip()
        if not sep or not node_id:
            raise UsageError(f"--peer {item!r} is not ID=HOST:PORT (e.g. b=127.0.0.1:7002)")
        if node_id in peers:
            raise UsageError(f"--peer {node_id!r} is given twice: node ids must be unique")
        peers[node_id] = _parse_listen(address, f"--peer {item!r}")
    return peers


def _check_data_dir(path: str) -> Path:
    data = Path(path)
    if data.exists() and not data.is_dir():
        raise UsageError(f"--data {path!r} exists and is not a directory")
    try:
        data.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=data, prefix=".write-check-"):
            pass
    except OSError as exc:
        raise UsageError(f"--data {path!r} is not a writable directory: {exc.strerror or exc}") from None
    return data


def build_config(args: argparse.Namespace) -> NodeConfig:
    """Validate the arguments into a `NodeConfig`; raise `UsageError` saying what is wrong."""
    listen = _parse_listen(args.listen, "--listen")
    peers = _parse_peers(args.peer)
    if args.node_id in peers:
        raise UsageError(f"--id {args.node_id!r} is also given as a --peer: every node id must be unique")
    if not peers:
        log.warning("node.no_peers", detail="a single-node cluster: fine for trying it out, not fault tolerant")
    if args.tick_interval <= 0 or args.tick_interval > 10:
        raise UsageError(f"--tick-interval must be in (0, 10] seconds, got {args.tick_interval}")
    secret = read_secret(args.secret_file)
    data = _check_data_dir(args.data)
    try:
        return NodeConfig(
            node_id=args.node_id,
            listen=listen,
            peers=peers,
            data_dir=data,
            secret=secret,
            tick_interval=args.tick_interval,
            raft=RaftConfig(),
            seed=args.seed,
            fsync=args.fsync,
            join=args.join,
        )
    except ValidationError as exc:
        raise UsageError(describe(exc)) from None
    except (TransportError, ValueError) as exc:
        raise UsageError(str(exc)) from None


async def serve(config: NodeConfig) -> None:
    """Run the node until SIGTERM or SIGINT, then stop it cleanly."""
    with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
        async with NodeProcess(config) as proc:
            log.info(
                "node.ready",
                node=config.node_id,
                pid=os.getpid(),
                listen=f"{proc.listen_address[0]}:{proc.listen_address[1]}",
            )
            async for signum in signals:
                log.info("node.stopping", node=config.node_id, signal=signal.Signals(signum).name)
                break


def _log_level(args: argparse.Namespace) -> str:
    if args.node_log_level:
        return str(args.node_log_level)
    top = getattr(args, "log_level", "warning")
    return "info" if top == "warning" else str(top)


def _single(exc: BaseException) -> BaseException:
    """The one exception inside (nested) single-member exception groups, else ``exc`` itself."""
    while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    return exc


def run(args: argparse.Namespace) -> int:
    configure(_log_level(args), json=args.log_json)
    try:
        config = build_config(args)
    except UsageError as exc:
        print(f"lmteams node: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        anyio.run(serve, config)
    except KeyboardInterrupt:
        return 130
    except BaseException as exc:  # noqa: BLE001 - report what stopped the node, then exit non-zero
        error = _single(exc)
        if isinstance(error, KeyboardInterrupt):
            return 130
        if isinstance(error, OSError) and error.errno in (errno.EADDRINUSE, errno.EADDRNOTAVAIL, errno.EACCES):
            print(f"lmteams node: error: cannot listen on {args.listen}: {error.strerror}", file=sys.stderr)
        elif isinstance(error, (ConsensusError, TransportError, OSError)):
            print(f"lmteams node: error: {error}", file=sys.stderr)
        else:
            raise
        return EXIT_FAILED
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m lmteams.runtime.cli.node ...``: the same command without the ``lmteams`` front end."""
    parser = argparse.ArgumentParser(prog="lmteams node", description=__doc__)
    _add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
