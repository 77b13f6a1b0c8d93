"""`landau dashboard`: optuna-dashboard on the studies of a store (the optional `dashboard` extra).

Studies of a SQLite store live in Optuna's JournalStorage on a table of the store, which
`optuna-dashboard sqlite:///…` cannot open; this command hands the dashboard a storage object
(``optuna_dashboard.run_server(storage)``). By default a snapshot: the studies copied into memory
when it starts, so the dashboard's delete buttons cannot remove the only copy of a study;
``--writable`` serves the store's storage itself (notes and deletions then reach the store).
"""

from __future__ import annotations

from studies.cli.common import add_store_arg


def add_parser(sub) -> None:
    dash = sub.add_parser(
        "dashboard", help="open the studies in optuna-dashboard (pip install '.[dashboard]')"
    )
    add_store_arg(dash)
    dash.add_argument("--storage", help="Optuna storage (default: the store)")
    dash.add_argument("--host", default="127.0.0.1", help="address to serve on (127.0.0.1)")
    dash.add_argument("--port", type=int, default=8080, help="port (default 8080)")
    dash.add_argument(
        "--writable",
        action="store_true",
        help="serve the store's studies themselves, so that deleting one in the dashboard "
        "deletes it from the store (default: a read-only snapshot taken at start)",
    )


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
