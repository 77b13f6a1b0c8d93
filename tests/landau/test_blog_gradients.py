"""The blog's sequential per-parameter step (blog_sequential_step) against its optimizer code,
verbatim, on its network; and the new layer options (index_scale, t_dynamic, layer)."""

from __future__ import annotations

import pytest
import torch
from blog_oracle import blog_forward
from test_loss import blog_d_loss
from test_nets import BlogExperimentalNet

from landau import ExperimentalNet, GinzburgLandauLoss, LandauLayer, Langevin, blog_sequential_step

ALPHA, GAMMA, LR, DAMPING = 0.0095, 6.5, 1e-2, 1e-3


class BlogLangevinLandauOptimizer:
    """The blog's LangevinLandauOptimizer at temperature 0 (its noise term is then 0), verbatim
    but for d_loss's alpha/gamma made explicit and a step() that takes the loss."""

    def __init__(self, model, learning_rate, damping):
        self.model, self.lr, self.damping = model, learning_rate, damping
        self.velocities = [torch.zeros_like(p.data) for p in model.parameters()]

    def step(self, phi, target):
        d_loss = blog_d_loss(phi, target, ALPHA, GAMMA)
        for param, velocity in zip(self.model.parameters(), self.velocities, strict=True):
            force = -torch.autograd.grad(d_loss, param, create_graph=True)[0]
            velocity.mul_(1 - self.damping).add_(force * self.lr)
            param.data.add_(velocity)


def _pair(depth=2):
    torch.manual_seed(0)
    blog = BlogExperimentalNet(6, 5 if depth == 2 else 3, 3, 0.05)
    if depth == 1:  # the blog's one-layer net: llayer1 and its activation
        del blog.llayer2, blog.bn1
        blog.forward = lambda x: torch.nn.functional.rrelu(blog.llayer1(x))
    ours = ExperimentalNet(6, 5, 3, depth=depth, graph="blog")
    ours.load_state_dict(blog.state_dict(), strict=True)
    return blog.double(), ours.double()  # float64: agreement to rounding, not to float32 noise


@pytest.mark.parametrize("depth", [1, 2])
def test_blog_sequential_step_reproduces_the_blogs_optimizer(depth):
    blog, ours = _pair(depth)
    opt_blog = BlogLangevinLandauOptimizer(blog, LR, DAMPING)
    opt = Langevin(ours.blog_parameters(), lr=LR, damping=DAMPING, temperature=0.0)
    loss = GinzburgLandauLoss(ALPHA, GAMMA)
    gen = torch.Generator().manual_seed(1)
    for _ in range(6):
        x = torch.randn(16, 6, generator=gen, dtype=torch.float64)
        y = torch.randint(0, 3, (16,), generator=gen)
        opt_blog.step(blog(x), y)
        blog_sequential_step(opt, loss(ours(x), y), ours.blog_parameters())
    for name, value in blog.state_dict().items():
        torch.testing.assert_close(ours.state_dict()[name], value, rtol=1e-7, atol=1e-9)


def test_the_order_changes_the_result_against_one_backward_pass():
    _, ours = _pair(2)
    _, plain = _pair(2)
    loss = GinzburgLandauLoss(ALPHA, GAMMA)
    x, y = torch.randn(16, 6, dtype=torch.float64), torch.randint(0, 3, (16,))
    opt = Langevin(ours.blog_parameters(), lr=LR, damping=DAMPING, temperature=0.0)
    blog_sequential_step(opt, loss(ours(x), y), ours.blog_parameters())
    opt2 = Langevin(plain.parameters(), lr=LR, damping=DAMPING, temperature=0.0)
    loss(plain(x), y).backward()
    opt2.step()
    torch.testing.assert_close(ours.llayer1.w, plain.llayer1.w)  # the first parameter: same
    assert not torch.allclose(ours.llayer1.beta, plain.llayer1.beta, rtol=1e-6, atol=0)


def test_layer_options_against_the_blog_formula():
    torch.manual_seed(0)
    x = torch.randn(7, 4, dtype=torch.float64)
    layer = LandauLayer(4, 3, 0.1, index_scale=False).double()
    w, beta, t = layer.w, layer.beta, layer.t
    ones = torch.ones(4, dtype=torch.float64)
    # index_scale=False: the blog's forward with ones in place of arange
    t_dyn = t * torch.sigmoid(x.mean(-1)).unsqueeze(-1)
    expected = torch.matmul(
        w * (ones * torch.cosh(5 * beta) + t_dyn * torch.sinh(5 * beta)).unsqueeze(1),
        x.unsqueeze(-1),
    ).squeeze(-1)
    torch.testing.assert_close(layer(x), expected)
    # t_dynamic=False: only the index term, and t is frozen
    layer = LandauLayer(4, 3, 0.1, t_dynamic=False).double()
    a = torch.arange(4, dtype=torch.float64)
    torch.testing.assert_close(layer(x), x @ (layer.w * a * torch.cosh(5 * layer.beta)).t())
    assert not layer.t.requires_grad
    # graph="blog" computes the blog's forward
    layer = LandauLayer(4, 3, 0.1, graph="blog").double()
    torch.testing.assert_close(layer(x), blog_forward(x, layer.w, layer.beta, layer.t))
    with pytest.raises(ValueError, match="unknown graph 'fast'; known: fused, blog"):
        LandauLayer(4, 3, graph="fast")


def test_linear_layers_have_no_beta_and_no_bias():
    net = ExperimentalNet(6, 5, 3, layer="linear")
    assert net.landau_layers == {}
    assert {n for n, _ in net.named_parameters()} == {
        "llayer1.weight", "bn1.weight", "bn1.bias", "llayer2.weight",
    }  # fmt: skip
    with pytest.raises(ValueError, match="unknown layer 'conv'; known: landau, linear"):
        ExperimentalNet(6, 5, 3, layer="conv")
