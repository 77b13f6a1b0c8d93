"""`landau dashboard`: optuna-dashboard on the studies of a store (the optional `dashboard` extra).

Studies of a SQLite store live in Optuna's JournalStorage on a table of the store, which
`optuna-dashboard sqlite:///…` cannot open; this command hands the dashboard a storage object
(``optuna_dashboard.run_server(storage)``). By default a snapshot: the studies copied into memory
when it starts, so the dashboard's delete buttons cannot remove the only copy of a study;
``--writable`` serves the store's storage itself (notes and deletions then reach the store).
"""

from __future__ import annotations

import errno
import socket

from studies.cli.common import MAX_PORT, add_store_arg, bounded_int


def add_parser(sub) -> None:
    dash = sub.add_parser(
        "dashboard", help="open the studies in optuna-dashboard (pip install '.[dashboard]')"
    )
    add_store_arg(dash)
    dash.add_argument("--storage", help="Optuna storage (default: the store)")
    dash.add_argument("--host", default="127.0.0.1", help="address to serve on (127.0.0.1)")
    dash.add_argument(
        "--port", type=bounded_int("port", 1, MAX_PORT), default=8080, help="port (default 8080)"
    )
    dash.add_argument(
        "--writable",
        action="store_true",
        help="serve the store's studies themselves, so that deleting one in the dashboard "
        "deletes it from the store (default: a read-only snapshot taken at start)",
    )


def check_address(host: str, port: int) -> None:
    """Bind ``host:port`` once and let go, so that an unknown host or a busy port is one line
    before the server starts (optuna-dashboard would fail with a traceback)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError) as exc:
        raise ValueError(f"--host {host!r}: cannot resolve it ({exc})") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server does
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise ValueError(
                    f"--port {port}: the port is in use on {host}; give another --port"
                ) from None
            raise ValueError(
                f"--host {host!r} --port {port}: cannot serve there ({exc.strerror or exc})"
            ) from None


def storage_for(args):
    """The Optuna storage the dashboard serves: a snapshot of the store's studies in memory, or
    with ``args.writable`` the store's storage itself; refused when there are no studies."""
    from pathlib import Path

    from studies.tuning import open_storage, snapshot

    where = args.storage or args.store
    if "://" not in str(where) and not Path(where).is_file():
        raise ValueError(f"no results store at {str(where)!r}; run `landau tune` first")
    storage = open_storage(where, create=False)
    if storage is None:
        raise ValueError(f"{str(where)!r} holds no Optuna studies; run `landau tune` first")
    return storage if getattr(args, "writable", False) else snapshot(storage)


def run(args) -> int:
    check_address(args.host, args.port)
    storage = storage_for(args)  # bad input first, whether or not the extra is installed
    try:
        import optuna_dashboard
    except ImportError:
        raise ValueError(
            "optuna-dashboard is not installed; pip install -e '.[dashboard]' -c constraints.txt"
        ) from None
    mode = (
        "writable: deleting a study there deletes it from the store"
        if args.writable
        else "read-only snapshot: changes made there are not saved; --writable serves the store"
    )
    print(f"dashboard: http://{args.host}:{args.port}/ ({mode}; Ctrl-C stops it)", flush=True)
    optuna_dashboard.run_server(storage, host=args.host, port=args.port)
    return 0
