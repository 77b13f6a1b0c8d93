"""Grid specs (TOML) and their expansion into RunConfigs with itertools.product."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from ablations import BLOG, get_preset
from ablations.hyperparameters import coerce
from ablations.spec import check_experiment_name
from studies.data.catalog import DATASETS
from studies.data.custom import CustomDataset
from studies.experiment.config import DiagnosticsBudget, RunConfig
from studies.experiment.registry import REGISTRY, get_variant, parse_names

DEPTHS = (1, 2)
MAX_RUNS = 100_000  # runs per grid: a bigger one is refused with its count before any work
MAX_EPOCHS = 10_000
MAX_SEED = 2**32 - 1  # numpy's and torch's seeds are 32-bit

# Every integer of a grid file: (lowest, highest). A value past the maximum is refused before
# any run (and never reaches the store, whose integer columns are 64-bit).
LIMITS: dict[str, tuple[int, int]] = {
    "seeds": (1, MAX_RUNS),
    "data_seeds": (1, MAX_RUNS),
    "epochs": (1, MAX_EPOCHS),
    "base_seed": (0, MAX_SEED),
    "data_seed": (0, MAX_SEED),
    "tuning.trials": (1, MAX_EPOCHS),  # a budget beyond it is a typo
    "tuning.epochs": (1, MAX_EPOCHS),
    "tuning.seed": (0, MAX_SEED),
    "tuning.population": (1, 10_000),  # trials trained as one model
    "tuning.data_seed": (0, MAX_SEED),
}


def check_int(name: str, value, low: int, high: int | None) -> int:
    """``value`` if it is an integer in [low, high] (None: no maximum), else ValueError naming
    the rule."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"`{name}` must be an integer, but got {name}={value!r}")
    if high is None and value < low:
        raise ValueError(f"`{name} >= {low}` must hold, but got {name}={value}")
    if high is not None and not low <= value <= high:
        raise ValueError(f"`{low} <= {name} <= {high}` must hold, but got {name}={value}")
    return value


PRUNERS = ("median", "hyperband", "none")


@dataclass(frozen=True)
class TuningBudget:
    """The same for every variant of a grid: trials, epochs per trial (``dataset_epochs``:
    (dataset, epochs) pairs that override it for those datasets), the sampler/training seed,
    the pruner, ``population`` (trials asked at once and trained as one model) and the data
    split trials train and validate on (a grid's: its first split)."""

    trials: int = 8
    epochs: int = 10
    seed: int = 0
    pruner: str = "median"
    population: int = 1
    dataset_epochs: tuple = ()
    data_seed: int = 0  # the split a trial trains and validates on: the grid's first split

    def __post_init__(self) -> None:
        for name in ("trials", "epochs", "seed", "population", "data_seed"):
            check_int(name, getattr(self, name), *LIMITS[f"tuning.{name}"])
        if self.pruner not in PRUNERS:
            raise ValueError(f"unknown pruner {self.pruner!r}; known: {', '.join(PRUNERS)}")
        pairs = tuple(sorted(dict(self.dataset_epochs).items()))
        for dataset, epochs in pairs:
            check_int(f"tuning epochs of {dataset}", epochs, *LIMITS["tuning.epochs"])
        object.__setattr__(self, "dataset_epochs", pairs)

    def for_dataset(self, dataset: str) -> TuningBudget:
        """The budget of a study on ``dataset``: its own epochs per trial."""
        epochs = dict(self.dataset_epochs).get(dataset, self.epochs)
        return replace(self, epochs=epochs, dataset_epochs=())


@dataclass(frozen=True)
class GridSpec:
    """variants x datasets x seeds x depths, each run for ``epochs`` epochs."""

    name: str
    variants: tuple[str, ...]
    datasets: tuple[str, ...]
    seeds: int = 3
    depths: tuple[int, ...] = DEPTHS
    epochs: int = 20
    base_seed: int = 0
    data_seed: int = 0  # the first data split; splits data_seed .. data_seed + data_seeds - 1
    data_seeds: int = 1  # independent data splits, paired across variants like the seeds
    preset: str | None = None
    params: Mapping = field(default_factory=dict)
    tuning: TuningBudget = field(default_factory=TuningBudget)
    description: str = ""
    sweep: Mapping = field(default_factory=dict)  # name -> values: an axis like the seeds
    dataset_epochs: Mapping = field(default_factory=dict)  # dataset -> epochs (else `epochs`)
    diagnostics: DiagnosticsBudget = field(default_factory=DiagnosticsBudget)
    custom_datasets: Mapping = field(default_factory=dict)  # name -> CustomDataset (the users')

    def __post_init__(self) -> None:
        try:
            check_experiment_name(self.name)
        except ValueError as exc:
            raise ValueError(f"the grid's `name` (the default experiment name): {exc}") from None
        object.__setattr__(self, "variants", parse_names(list(self.variants), REGISTRY, "variant"))
        self._check_custom_datasets()
        known = self.known_datasets
        object.__setattr__(self, "datasets", parse_names(list(self.datasets), known, "dataset"))
        for name in ("seeds", "data_seeds"):  # their maximum is the grid's run count
            check_int(name, getattr(self, name), LIMITS[name][0], None)
        self._check_size()
        for name in ("seeds", "data_seeds", "epochs", "base_seed", "data_seed"):
            check_int(name, getattr(self, name), *LIMITS[name])
        if self.data_seed + self.data_seeds - 1 > MAX_SEED:
            raise ValueError(
                f"`data_seed + data_seeds - 1 <= {MAX_SEED}` must hold, but got "
                f"data_seed={self.data_seed}, data_seeds={self.data_seeds}"
            )
        if not self.depths:
            raise ValueError("no depths given; known: 1, 2")
        for depth in self.depths:
            if depth not in DEPTHS:
                raise ValueError(f"unknown depth {depth!r}; known: 1, 2")
        if len(set(self.depths)) != len(self.depths):
            raise ValueError(f"`depths` repeats a depth: depths={list(self.depths)}")
        if self.preset is not None:
            get_preset(self.preset)
        self._check_params()
        self._check_sweep()
        self._check_dataset_epochs()
        if isinstance(self.diagnostics, Mapping):
            object.__setattr__(self, "diagnostics", DiagnosticsBudget(**self.diagnostics))

    def _check_size(self) -> None:
        cells = len(self.variants) * len(self.datasets) * max(1, len(self.depths))
        if cells * self.seeds * self.data_seeds > MAX_RUNS:  # refused before any work
            raise ValueError(
                f"the grid has {cells * self.seeds * self.data_seeds:,} runs ({cells} cells x "
                f"{self.seeds} seeds x {self.data_seeds} data seeds), more than the {MAX_RUNS:,} "
                "a grid may have; split it into smaller grids"
            )

    def _check_params(self) -> None:
        """Every [params] key is a parameter of at least one variant of the grid (it applies to
        those that have it), with a valid value for each of them."""
        if not isinstance(self.params, Mapping):
            raise ValueError(f"`params` must be a table, but got params={self.params!r}")
        entries = [get_variant(v) for v in self.variants]
        known = sorted({k for e in entries for k in e.defaults})
        for key, value in self.params.items():
            if key not in known:
                raise ValueError(
                    f"unknown parameter {key!r} in [params]; the grid's variants take: "
                    f"{', '.join(known)}"
                )
            coerce(key, value)
        object.__setattr__(self, "params", {k: coerce(k, v) for k, v in self.params.items()})

    def _check_sweep(self) -> None:
        """Every [sweep] key is in the search space of at least one variant of the grid (it
        sweeps those; the others run once at their own value); its values are a non-empty list
        of valid, distinct values, coerced like [params]. An optional ``variants`` list in the
        table restricts the sweep to those variants of the grid."""
        if not isinstance(self.sweep, Mapping):
            raise ValueError(f"`sweep` must be a table, but got sweep={self.sweep!r}")
        sweep = dict(self.sweep)
        only = sweep.pop("variants", None)
        if only is not None:
            if isinstance(only, str) or not isinstance(only, list | tuple):
                raise ValueError(f"`variants` in [sweep] must be a list, but got {only!r}")
            unknown = sorted(set(only) - set(self.variants))
            if unknown:
                raise ValueError(
                    f"[sweep] variants {unknown} are not variants of the grid; known: "
                    f"{', '.join(self.variants)}"
                )
        swept = [v for v in self.variants if only is None or v in only]
        known = sorted({p.name for v in swept for p in get_variant(v).search_space})
        out: dict = {}
        for key, values in sweep.items():
            if key not in known:
                raise ValueError(
                    f"unknown parameter {key!r} in [sweep]; the swept variants can vary: "
                    f"{', '.join(known)}"
                )
            if isinstance(values, str) or not isinstance(values, list | tuple) or not values:
                raise ValueError(
                    f"`{key}` in [sweep] must be a non-empty list of values, but got "
                    f"{key}={values!r}"
                )
            coerced = tuple(coerce(key, v) for v in values)
            if len(set(coerced)) != len(coerced):
                raise ValueError(f"`{key}` in [sweep] repeats a value: {key}={list(values)!r}")
            out[key] = coerced
        if only is not None:
            out["variants"] = tuple(only)
        object.__setattr__(self, "sweep", out)

    def _check_custom_datasets(self) -> None:
        if not isinstance(self.custom_datasets, Mapping):
            raise ValueError(f"`custom_datasets` must be a table, but got {self.custom_datasets!r}")
        for name, spec in self.custom_datasets.items():
            if not isinstance(spec, CustomDataset) or spec.name != name:
                raise ValueError(f"custom dataset {name!r} must be a CustomDataset of that name")
        object.__setattr__(self, "custom_datasets", dict(self.custom_datasets))

    @property
    def known_datasets(self) -> list[str]:
        """The built-in datasets, then the grid's custom ones."""
        return [*DATASETS, *self.custom_datasets]

    def _check_dataset_epochs(self) -> None:
        if not isinstance(self.dataset_epochs, Mapping):
            raise ValueError(f"`dataset_epochs` must be a table, but got {self.dataset_epochs!r}")
        known = self.known_datasets
        for name, value in self.dataset_epochs.items():
            if name not in known:  # a dataset left out by --datasets is fine
                raise ValueError(
                    f"unknown dataset {name!r} in [dataset_epochs]; known: {', '.join(known)}"
                )
            check_int(f"dataset_epochs.{name}", value, *LIMITS["epochs"])
        object.__setattr__(self, "dataset_epochs", dict(self.dataset_epochs))

    def epochs_for(self, dataset: str) -> int:
        """The epochs of ``dataset``'s runs: [dataset_epochs] where given, else ``epochs``."""
        return self.dataset_epochs.get(dataset, self.epochs)

    def sweep_for(self, variant: str) -> list[tuple[tuple[str, float | int], ...]]:
        """The swept combinations of ``variant``: the product over the [sweep] keys in its
        search space; ``[()]`` (one unswept run) when it has none of them or the sweep's
        ``variants`` list leaves it out."""
        only = self.sweep.get("variants")
        if only is not None and variant not in only:
            return [()]
        names = {p.name for p in get_variant(variant).search_space}
        keys = [k for k in self.sweep if k != "variants" and k in names]
        return [
            tuple(zip(keys, values, strict=True))
            for values in itertools.product(*(self.sweep[k] for k in keys))
        ]

    def with_overrides(self, **overrides) -> GridSpec:
        """A copy with the non-None overrides applied (CLI flags win over the TOML). Narrowing
        ``variants`` narrows a ``[sweep] variants`` list with them (a sweep left with none of
        its variants sweeps nothing)."""
        kwargs = {k: getattr(self, k) for k in self.__dataclass_fields__}
        kwargs.update({k: v for k, v in overrides.items() if v is not None})
        only = dict(self.sweep).get("variants")
        if overrides.get("variants") is not None and only is not None:
            kept = [v for v in only if v in kwargs["variants"]]
            sweep = {k: v for k, v in self.sweep.items() if k != "variants"}
            kwargs["sweep"] = {**sweep, "variants": kept} if kept else {}
        return GridSpec(**kwargs)

    def expand(self, *, device: str = "cpu", tuned: Mapping | None = None) -> list[RunConfig]:
        """Every run of the grid.

        ``tuned`` maps (variant, dataset, depth) -> (params, study name, trial number); a trial
        number of None means the study has no complete trial, and the defaults are used
        (``params_source`` then reads ``untuned:<study>``).

        ``[sweep]`` multiplies the runs of each variant by its swept combinations (the swept
        value overrides preset and [params]). With ``tuned`` the sweep is not applied: tuning
        already chose those values on validation accuracy, and a swept value would discard
        them (the fixed protocol sweeps, the tuned one tunes).
        """
        runs = []
        splits = range(self.data_seed, self.data_seed + self.data_seeds)
        for variant, dataset, depth in itertools.product(self.variants, self.datasets, self.depths):
            entry = get_variant(variant)
            if depth not in entry.depths:
                continue  # e.g. logreg has one layer only: not applicable, not a failure
            combos = [()] if tuned is not None else self.sweep_for(variant)
            for combo, data_seed, seed in itertools.product(combos, splits, range(self.seeds)):
                runs.append(
                    self._run(variant, dataset, depth, data_seed, seed, combo, device, tuned)
                )
        return runs

    def _run(self, variant, dataset, depth, data_seed, seed, combo, device, tuned) -> RunConfig:
        params, source, study, trial = self._params(variant, dataset, depth, tuned, dict(combo))
        return RunConfig(
            variant=variant,
            dataset=dataset,
            seed=seed,
            depth=depth,
            epochs=self.epochs_for(dataset),
            params=params,
            data_seed=data_seed,
            base_seed=self.base_seed,
            device=device,
            grid=self.name,
            params_source=source,
            study_name=study,
            trial_number=trial,
            sweep=combo,
            diagnostics=self.diagnostics,
            custom_dataset=self.custom_datasets.get(dataset),
        )

    def _params(self, variant, dataset, depth, tuned, swept=None):
        """The overrides of one run, in order preset -> [params] -> tuned (RunConfig merges them
        with the defaults), and where they came from."""
        entry = get_variant(variant)
        known = set(entry.defaults)
        overrides = {}
        if self.preset is not None:
            overrides.update({k: v for k, v in get_preset(self.preset).items() if k in known})
        overrides.update({k: v for k, v in self.params.items() if k in known})
        overrides.update(swept or {})
        if tuned is not None:
            best, study, trial = tuned[(variant, dataset, depth)]
            if trial is None:  # the study exists but no trial completed: the defaults, labelled
                return overrides, f"untuned:{study}", study, None
            overrides.update(best)
            return overrides, f"study:{study}#{trial}", study, trial
        merged = entry.resolve(overrides)
        return overrides, params_source(entry, merged, self.epochs_for(dataset)), None, None


def params_source(entry, params: Mapping, epochs: int) -> str:
    """``preset:blog`` when a Landau run uses exactly the blog's table (100 epochs included)."""
    blog = {k: v for k, v in BLOG.items() if k in params}
    if (
        entry.family == "landau"
        and epochs == BLOG["epochs"]
        and all(params[k] == v for k, v in blog.items())
    ):
        return "preset:blog"
    return "defaults"
