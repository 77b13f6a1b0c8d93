"""The reference models, registered the same way as the Landau variants."""

from __future__ import annotations

from ablations.spec import Param, Variant

BASELINES: tuple[Variant, ...] = (
    Variant(
        name="plain_mlp",
        description=(
            "nn.Linear layers of the same widths, BatchNorm, same activation, cross-entropy, Adam."
        ),
        changes="layers: nn.Linear; loss: cross-entropy; optimizer: Adam; no β",
        family="mlp",
        settings={"loss": "ce", "optimizer": "adam", "activation": "rrelu"},
        defaults={"lr": 1e-3, "hidden": 156, "batch_size": 64, "weight_decay": 0.0},
        search_space=(
            Param("lr", 1e-4, 1e-1, log=True),
            Param("weight_decay", 1e-6, 1e-2, log=True),
        ),
    ),
    Variant(
        name="logreg",
        description="scikit-learn LogisticRegression (lbfgs): the anchor for a one-layer net.",
        changes="model: multinomial logistic regression (lbfgs, at most max_iter iterations)",
        family="sklearn",
        settings={"estimator": "logistic_regression"},
        # 200 lbfgs iterations: 55 s on MNIST (test 92.2 %), where 1000 take 300 s for the
        # same accuracy; the ConvergenceWarning this gives on MNIST is expected and silenced
        defaults={"C": 1.0, "max_iter": 200},
        search_space=(Param("C", 1e-3, 1e3, log=True),),
        depths=(1,),
    ),
)
