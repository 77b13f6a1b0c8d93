"""ExperimentalNet against the blog's network, rebuilt here from its code snippet."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from blog_oracle import BlogLandauLayer
from torch import nn

from landau import ACTIVATIONS, ExperimentalNet, LandauLayer, activation_fn, register_activation


class BlogExperimentalNet(nn.Module):
    """The blog's ExperimentalNet, verbatim."""

    def __init__(self, input_size, hidden_size, output_size, beta_init):
        super().__init__()
        self.llayer1 = BlogLandauLayer(input_size, hidden_size, beta_init)
        self.llayer2 = BlogLandauLayer(hidden_size, output_size, beta_init)
        self.bn1 = nn.BatchNorm1d(hidden_size)

    def forward(self, x):
        x = F.rrelu(self.bn1(self.llayer1(x)))
        x = F.rrelu(self.llayer2(x))
        return x


def test_state_dict_keys_match_blog():
    ours, blog = ExperimentalNet(12, 8, 3), BlogExperimentalNet(12, 8, 3, 1e-3)
    assert set(ours.state_dict()) == set(blog.state_dict())
    assert {k.split(".")[0] for k in ours.state_dict()} == {"llayer1", "bn1", "llayer2"}
    for key, value in blog.state_dict().items():
        assert ours.state_dict()[key].shape == value.shape, key


@pytest.mark.parametrize("train", [True, False])
def test_blog_checkpoint_loads_and_gives_the_same_outputs(train):
    torch.manual_seed(0)
    blog = BlogExperimentalNet(12, 8, 3, 0.05)
    with torch.no_grad():  # non-trivial BatchNorm statistics and β, t
        blog.bn1.running_mean.normal_()
        blog.bn1.running_var.uniform_(0.5, 2.0)
        blog.llayer2.t.fill_(0.6)
    ours = ExperimentalNet(12, 8, 3)
    ours.load_state_dict(blog.state_dict(), strict=True)
    ours.train(train)
    blog.train(train)
    x = torch.randn(10, 12)
    torch.testing.assert_close(ours(x), blog(x), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("depth, layers", [(1, ["llayer1"]), (2, ["llayer1", "llayer2"])])
@pytest.mark.parametrize("beta_shape", ["scalar", "field"])
def test_depths_and_shapes(depth, layers, beta_shape):
    net = ExperimentalNet(12, 8, 3, depth=depth, beta_shape=beta_shape)
    assert list(net.landau_layers) == layers
    assert net.output_layer is net.landau_layers[layers[-1]]
    assert net(torch.randn(5, 12)).shape == (5, 3)
    first = net.llayer1
    assert (first.in_features, first.out_features) == ((12, 3) if depth == 1 else (12, 8))
    assert hasattr(net, "bn1") == (depth == 2)
    assert all(layer.beta_shape == beta_shape for layer in net.landau_layers.values())


@pytest.mark.parametrize("name", list(ACTIVATIONS))
@pytest.mark.parametrize("depth", [1, 2])
def test_activation_is_applied_after_each_layer(name, depth):
    torch.manual_seed(0)
    net = ExperimentalNet(12, 8, 3, activation=name, depth=depth)
    act = activation_fn(name)
    x = torch.randn(6, 12)
    if depth == 1:
        expected = act(net.llayer1(x))
    else:
        expected = act(net.llayer2(act(net.bn1(net.llayer1(x)))))
    torch.testing.assert_close(net(x), expected)


def test_rrelu_is_a_fixed_leaky_relu_as_in_the_blog():
    # F.rrelu(x) has training=False: slope (lower + upper) / 2 = (1/8 + 1/3) / 2 = 11/48
    torch.manual_seed(0)
    net = ExperimentalNet(12, 8, 3, activation="rrelu").train()
    x = torch.randn(32, 12)
    torch.testing.assert_close(net(x), net(x))  # no randomness, even in training mode
    pre = net.llayer2(F.leaky_relu(net.bn1(net.llayer1(x)), 11 / 48))
    torch.testing.assert_close(net(x), F.leaky_relu(pre, 11 / 48))
    assert (net(x) < 0).any()  # the negative side is really there


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_every_activation_is_elementwise_and_deterministic(name):
    """What the seed-batched net relies on (landau.stack_nets): each output element depends on
    its input element only, and the same input gives the same output, in training too."""
    act = activation_fn(name)
    x = torch.randn(4, 5, 7, generator=torch.Generator().manual_seed(1))  # (S, B, F)
    whole = act(x)
    torch.testing.assert_close(whole, act(x), rtol=0, atol=0)
    one_by_one = torch.stack([act(v.reshape(1)) for v in x.reshape(-1)]).reshape(x.shape)
    torch.testing.assert_close(whole, one_by_one)
    assert torch.isfinite(whole).all() and whole.shape == x.shape


def test_the_blog_activations_are_registered():
    # rrelu: the blog's code (see the test above); mish: the caption of its results table
    x = torch.linspace(-3, 3, 13)
    torch.testing.assert_close(activation_fn("rrelu")(x), F.leaky_relu(x, 11 / 48))
    torch.testing.assert_close(activation_fn("mish")(x), x * torch.tanh(F.softplus(x)))


def test_unknown_activation_lists_known():
    known = ", ".join(ACTIVATIONS)
    with pytest.raises(ValueError, match=f"unknown activation 'swishy'; known: {known}$"):
        ExperimentalNet(4, 3, 2, activation="swishy")
    with pytest.raises(ValueError, match="unknown activation"):
        activation_fn("not an activation")


def test_register_activation_refuses_taken_and_bad_names():
    before = dict(ACTIVATIONS)
    with pytest.raises(ValueError, match="duplicate activation 'relu'"):
        register_activation("relu", torch.tanh)
    with pytest.raises(ValueError, match="activation names must be identifiers"):
        register_activation("soft plus", F.softplus)
    with pytest.raises(ValueError, match="must be callable"):
        register_activation("softplus_", 3)
    assert ACTIVATIONS == before


@pytest.mark.parametrize("depth", [0, 3, "2"])
def test_unknown_depth_lists_known(depth):
    with pytest.raises(ValueError, match=rf"unknown depth {depth!r}; known: 1, 2"):
        ExperimentalNet(4, 3, 2, depth=depth)


def test_beta_init_reaches_every_layer():
    net = ExperimentalNet(4, 3, 2, beta_init=0.25)
    assert all(isinstance(m, LandauLayer) for m in net.landau_layers.values())
    assert all(m.beta.item() == 0.25 for m in net.landau_layers.values())
