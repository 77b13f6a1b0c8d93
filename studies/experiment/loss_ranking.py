"""How the blog's loss ranks a perfect prediction against wrong ones (stored with the results).

The report quotes this table: with the blog's alpha and gamma the |mean(alpha d^2 - gamma d^4 +
...)| energy is not minimised by the right answer, which is worth knowing before reading any
accuracy of the full model.
"""

from __future__ import annotations

import pandas as pd
import torch

from ablations import BLOG
from landau import ginzburg_landau_loss

# (alpha, gamma) pairs: the blog's table, and the defaults of the blog's LandauLayer code
SETTINGS = {"blog table": (BLOG["alpha"], BLOG["gamma"]), "blog code": (0.0035, 5.0)}


def _predictions(target: torch.Tensor, n_classes: int) -> dict[str, torch.Tensor]:
    one_hot = torch.nn.functional.one_hot(target, n_classes).float()  # (B, C)
    wrong = torch.nn.functional.one_hot((target + 1) % n_classes, n_classes).float()
    return {
        "perfect": one_hot,
        "perfect, scaled x10": 10 * one_hot,
        "wrong class": wrong,
        "uniform": torch.full_like(one_hot, 1.0 / n_classes),
        "all zero": torch.zeros_like(one_hot),
        "negated": -one_hot,
        "all ones": torch.ones_like(one_hot),
        "half right": 0.5 * one_hot + 0.5 * wrong,
    }


def loss_ranking(n_classes: int = 10, batch: int = 64, seed: int = 0) -> pd.DataFrame:
    """One row per (setting, prediction): the loss, its rank (1 = lowest) and is_perfect."""
    gen = torch.Generator().manual_seed(seed)
    target = torch.randint(0, n_classes, (batch,), generator=gen)
    rows = []
    for setting, (alpha, gamma) in SETTINGS.items():

        def loss(phi: torch.Tensor, a: float = alpha, g: float = gamma) -> float:
            return float(ginzburg_landau_loss(phi, target, alpha=a, gamma=g))

        predictions = _predictions(target, n_classes)
        losses = {name: loss(phi) for name, phi in predictions.items()}
        # the family "perfect + s on a wrong class": its loss crosses 0 inside |.|, below perfect
        scan = [
            (loss(predictions["perfect"] + s * predictions["wrong class"]), s)
            for s in torch.linspace(0, 1, 201).tolist()
        ]
        best, s_best = min(scan)
        losses[f"perfect + {s_best:.3f} on a wrong class"] = best
        order = sorted(losses, key=losses.get)
        for name, value in losses.items():
            rows.append(
                {
                    "setting": setting,
                    "prediction": name,
                    "alpha": alpha,
                    "gamma": gamma,
                    "loss": value,
                    "rank": order.index(name) + 1,
                    "is_perfect": name == "perfect",
                }
            )
    return pd.DataFrame(rows)
