"""`landau dashboard`: optuna-dashboard on the studies of a store (the optional `dashboard` extra).

Studies of a SQLite store live in Optuna's JournalStorage on a table of the store, which
`optuna-dashboard sqlite:///…` cannot open; this command hands the dashboard the storage object
itself (``optuna_dashboard.run_server(storage)``).
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


def storage_for(args):
    """The Optuna storage of ``args`` (the store's studies), refused when there is none."""
    from pathlib import Path

    from studies.tuning import open_storage

    where = args.storage or args.store
    if "://" not in str(where) and not Path(where).is_file():
        raise ValueError(f"no results store at {str(where)!r}; run `landau tune` first")
    storage = open_storage(where, create=False)
    if storage is None:
        raise ValueError(f"{str(where)!r} holds no Optuna studies; run `landau tune` first")
    return storage


def run(args) -> int:
    storage = storage_for(args)  # bad input first, whether or not the extra is installed
    try:
        import optuna_dashboard
    except ImportError:
        raise ValueError(
            "optuna-dashboard is not installed; pip install -e '.[dashboard]' -c constraints.txt"
        ) from None
    print(f"dashboard: http://{args.host}:{args.port}/ (Ctrl-C stops it)", flush=True)
    optuna_dashboard.run_server(storage, host=args.host, port=args.port)
    return 0
