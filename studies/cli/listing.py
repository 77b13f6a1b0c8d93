"""`landau list`: variants (with descriptions), datasets (with provenance) and grids; with a grid
SPEC also that grid's own datasets ([custom_datasets], marked [custom] with their path)."""

from __future__ import annotations


def add_parser(sub) -> None:
    parser = sub.add_parser(
        "list",
        help="variants, datasets (with provenance) and grids",
        description="List the variants, the datasets with their source package and version, "
        "size, licence and preprocessing, and the grids; with SPEC (a grid name or TOML path) "
        "also the grid's [custom_datasets].",
    )
    parser.add_argument("spec", nargs="?", help="a grid whose [custom_datasets] to list too")


def _version(package: str | None) -> str:
    from importlib.metadata import PackageNotFoundError, version

    if package is None:
        return ""
    try:
        return f"{package} {version(package)}"
    except PackageNotFoundError:
        return f"{package} (not installed)"


def _dataset_lines(info, width: int, where: str) -> list[str]:
    size = f"{info.n_samples} x {info.n_features}" if info.n_samples else f"? x {info.n_features}"
    first = f"  {info.name:<{width}} {size}, {info.n_classes} classes: {info.description} [{where}]"
    origin = ", ".join(p for p in (_version(info.package), info.source) if p)
    details = [f"from {origin}"]
    if info.licence:
        details.append(f"licence {info.licence}")
    details.append(info.preprocessing)
    return [first, f"  {'':<{width}}   " + "; ".join(details)]


def run(args) -> int:
    from studies.data import DATASETS
    from studies.experiment.grid_file import grid_names, load_grid
    from studies.experiment.registry import REGISTRY

    custom = load_grid(args.spec).custom_datasets if getattr(args, "spec", None) else {}
    print("variants:")
    width = max(map(len, REGISTRY)) + 1
    for entry in REGISTRY.values():
        print(f"  {entry.name:<{width}} {entry.description}")
    print("datasets:")
    width = max(map(len, [*DATASETS, *custom])) + 1
    for info in DATASETS.values():
        where = "embedded" if info.embedded else "needs IDX files (--data-dir / LANDAU_DATA)"
        print("\n".join(_dataset_lines(info, width, where)))
    for spec in custom.values():
        print("\n".join(_dataset_lines(spec.info, width, "custom")))
    print("grids:")
    names = grid_names()
    width = max(map(len, names)) + 1
    for name in names:
        print(f"  {name:<{width}} {load_grid(name).description}")
    return 0
