"""`landau demo`: train the full model and plain_mlp on moons and print both."""

from __future__ import annotations

from studies.cli.common import MAX_EPOCHS, MAX_SEED, bounded_int


def add_parser(sub) -> None:
    demo = sub.add_parser("demo", help="train the full model and plain_mlp on moons, print both")
    demo.add_argument("--epochs", type=bounded_int("epochs", 1, MAX_EPOCHS), default=20)
    demo.add_argument("--seed", type=bounded_int("seed", 0, MAX_SEED), default=0)


def run(args) -> int:
    from studies.experiment import RunConfig, train
    from studies.experiment.process import init_process

    init_process()
    print(f"training on moons, depth 2, {args.epochs} epochs, seed {args.seed} …", flush=True)
    for variant in ("full", "plain_mlp"):
        record = train(RunConfig(variant, "moons", args.seed, 2, args.epochs))
        acc = "n/a" if record.test_accuracy is None else f"{record.test_accuracy:.3f}"
        print(
            f"  {variant:10s} test accuracy {acc}  status {record.status}  {record.seconds:.1f} s"
        )
    return 0
