"""`landau list`: variants (with descriptions), datasets and grids."""

from __future__ import annotations


def add_parser(sub) -> None:
    sub.add_parser("list", help="variants (with descriptions), datasets and grids")


def run(args) -> int:
    from studies.data import DATASETS
    from studies.experiment.grid_file import grid_names, load_grid
    from studies.experiment.registry import REGISTRY

    print("variants:")
    for entry in REGISTRY.values():
        print(f"  {entry.name:12s} {entry.description}")
    print("datasets:")
    for info in DATASETS.values():
        where = "embedded" if info.embedded else "needs IDX files (--data-dir / LANDAU_DATA)"
        print(f"  {info.name:15s} {info.description} [{where}]")
    print("grids:")
    for name in grid_names():
        print(f"  {name:10s} {load_grid(name).description}")
    return 0
