"""A plain MLP with the Landau net's widths: Linear -> BatchNorm1d -> activation -> Linear."""

from __future__ import annotations

from torch import Tensor, nn

from landau import activation_fn


class PlainMLP(nn.Module):
    """The reference network: the same widths, BatchNorm and activation as ExperimentalNet,
    nn.Linear instead of Landau layers, and logits out (trained with cross-entropy).

    Unlike ExperimentalNet, no activation is applied to the output: the baseline is a
    conventional classifier, not a mirror of the blog's quirks.
    """

    def __init__(
        self,
        in_features: int,
        hidden: int,
        out_features: int,
        activation: str = "rrelu",
        depth: int = 2,
    ) -> None:
        super().__init__()
        if depth not in (1, 2):
            raise ValueError(f"unknown depth {depth!r}; known: 1, 2")
        self._act = activation_fn(activation)
        self.depth = depth
        if depth == 1:
            self.layer1 = nn.Linear(in_features, out_features)
        else:
            self.layer1 = nn.Linear(in_features, hidden)
            self.bn1 = nn.BatchNorm1d(hidden)
            self.layer2 = nn.Linear(hidden, out_features)

    def forward(self, x: Tensor) -> Tensor:
        if self.depth == 1:
            return self.layer1(x)  # (B, out)
        return self.layer2(self._act(self.bn1(self.layer1(x))))  # (B, out)
