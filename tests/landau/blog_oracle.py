"""The blog's LandauLayer, rebuilt from its code snippet: the oracle of the layer tests."""

from __future__ import annotations

import torch
from torch import nn


def blog_forward(x, w, beta, t):
    """The blog's LandauLayer.forward, verbatim but for arange's dtype (float64 runs too)."""
    t_dynamic = t * torch.sigmoid(torch.mean(x, dim=-1)).unsqueeze(-1)  # (B, 1)
    a = torch.arange(x.size(-1), dtype=x.dtype, device=x.device)
    w2 = w * (a * torch.cosh(5 * beta) + t_dynamic * torch.sinh(5 * beta)).unsqueeze(1)  # (B,o,i)
    return torch.matmul(w2, x.unsqueeze(-1)).squeeze(-1)  # (B, out)


class BlogLandauLayer(nn.Module):
    """The blog's LandauLayer: its parameters, their names and its forward."""

    def __init__(self, input_size, output_size, beta_init):
        super().__init__()
        self.w = nn.Parameter(torch.randn(output_size, input_size))
        nn.init.xavier_normal_(self.w)
        self.beta = nn.Parameter(torch.tensor(beta_init).float())
        self.t = nn.Parameter(torch.tensor([1.0]))

    def forward(self, x):
        return blog_forward(x, self.w, self.beta, self.t)
