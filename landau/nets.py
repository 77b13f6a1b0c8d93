"""The blog's ExperimentalNet: Landau -> BatchNorm1d -> activation -> Landau -> activation;
and ``stack_nets``, which trains S of them (or S plain MLPs) as one seed-batched net."""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn

from landau.activations import activation_fn
from landau.batched import stack_modules
from landau.layer import LandauLayer, SeedBatchedLandauLayer

DEPTHS = (1, 2)
LAYERS = ("landau", "linear")


class ExperimentalNet(nn.Module):
    """One or two Landau layers. Submodule names follow the blog (``llayer1``, ``bn1``,
    ``llayer2``) so that its checkpoints load; ``depth=1`` is ``llayer1`` and its activation.

    The blog calls the functional ``F.rrelu(x)``, whose ``training`` argument defaults to False:
    its "randomised" ReLU is in fact a fixed leaky ReLU of slope (1/8 + 1/3) / 2 = 11/48 in
    training and evaluation alike. That is reproduced as written.

    ``layer="linear"``: bias-free nn.Linear layers in place of the Landau layers (no β, no t);
    ``layer_options`` (index_scale, t_dynamic, graph) go to every LandauLayer.
    """

    def __init__(
        self,
        in_features: int,
        hidden: int,
        out_features: int,
        beta_init: float = 1e-3,
        activation: str = "rrelu",
        depth: int = 2,
        *,
        beta_shape: str = "scalar",
        layer: str = "landau",
        **layer_options,
    ) -> None:
        super().__init__()
        if depth not in DEPTHS:
            raise ValueError(f"unknown depth {depth!r}; known: 1, 2")
        if layer not in LAYERS:
            raise ValueError(f"unknown layer {layer!r}; known: {', '.join(LAYERS)}")
        self.activation_name = activation
        self._act = activation_fn(activation)
        self.depth = depth

        def make(n_in: int, n_out: int) -> nn.Module:
            if layer == "linear":
                return nn.Linear(n_in, n_out, bias=False)
            return LandauLayer(n_in, n_out, beta_init, beta_shape=beta_shape, **layer_options)

        if depth == 1:
            self.llayer1 = make(in_features, out_features)
        else:
            self.llayer1 = make(in_features, hidden)
            self.bn1 = nn.BatchNorm1d(hidden)
            self.llayer2 = make(hidden, out_features)

    def blog_parameters(self) -> list[nn.Parameter]:
        """Trainable parameters in the blog's ``model.parameters()`` order (its __init__ makes
        llayer1, llayer2, then bn1): the order of its sequential per-parameter updates."""
        names = ["llayer1", "llayer2", "bn1"] if self.depth == 2 else ["llayer1"]
        return [p for n in names for p in getattr(self, n).parameters() if p.requires_grad]

    @property
    def landau_layers(self) -> dict[str, LandauLayer | SeedBatchedLandauLayer]:
        """Landau layers by name, input side first (seed-batched ones in a stacked net)."""
        kinds = (LandauLayer, SeedBatchedLandauLayer)
        return {n: m for n, m in self.named_children() if isinstance(m, kinds)}

    @property
    def output_layer(self) -> LandauLayer | SeedBatchedLandauLayer:
        """The last Landau layer: the blog's optimizer takes its loss (``llayer2.d_loss``)."""
        return self.llayer2 if self.depth == 2 else self.llayer1

    def forward(self, x: Tensor) -> Tensor:
        act = self._act
        if self.depth == 1:
            return act(self.llayer1(x))  # (B, out)
        h = act(self.bn1(self.llayer1(x)))  # (B, hidden)
        return act(self.llayer2(h))  # (B, out)


def stack_nets(nets: Sequence[nn.Module]) -> nn.Module:
    """S nets of one architecture (ExperimentalNet, a plain MLP, an nn.Sequential of Linear /
    BatchNorm1d / LandauLayer / elementwise activations) as one seed-batched net.

    Parameters and buffers get a leading seed axis S, in the nets' own order and names; the
    result maps x (S, B, in) to (S, B, out), seed s computing exactly what ``nets[s]`` computes
    on x[s]. ``landau.unstack_state_dict(batched.state_dict())`` gives back S state_dicts that
    load into the ordinary net. The activations are deterministic (the blog's ``F.rrelu`` runs
    with ``training=False``), so no random draw needs splitting per seed.
    """
    return stack_modules(nets, {LandauLayer: SeedBatchedLandauLayer})
