"""Running experiments on the Landau model and its baselines.

Subpackages, in import order (each imports only those before it):
``data`` (datasets, splits, IDX reader) and ``store`` (schema, records, the results store), then
``experiment`` (registry, run configs, grids, models, training, runner), ``tuning`` (Optuna
studies), ``report_data`` (frames for ``reports``) and ``cli`` (the `landau` command).
"""
