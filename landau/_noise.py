"""The Langevin optimizer's noise streams: the order of the Gaussian draws, one generator or one
per seed, and their states in state dicts and pickles (helpers of landau.optim).

Draw order: per parameter group, over the parameters that have a gradient, in group order, one
standard-normal vector of their total (real) size is drawn and split in parameter order; if
their dtypes or devices differ, one draw per parameter instead. With S generators every tensor
carries a leading seed axis of length S, and seed s draws from generator s exactly what a single
generator would draw for ``[t[s] for t in tensors]``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

Generators = torch.Generator | list[torch.Generator] | None


def standard_normal(
    tensors: list[Tensor], generator: torch.Generator | Sequence[torch.Generator] | None
) -> list[Tensor]:
    """N(0, 1) noise shaped like ``tensors``, drawn in the order the module doc fixes."""
    first = tensors[0]
    same = all(t.dtype == first.dtype and t.device == first.device for t in tensors)
    if generator is None or isinstance(generator, torch.Generator):
        if not same:
            return [torch.empty_like(t).normal_(generator=generator) for t in tensors]
        sizes = [t.numel() for t in tensors]
        flat = torch.empty(sum(sizes), dtype=first.dtype, device=first.device)
        flat.normal_(generator=generator)
        return [n.view_as(t) for n, t in zip(flat.split(sizes), tensors, strict=True)]
    if not same:
        noise = [torch.empty_like(t, memory_format=torch.contiguous_format) for t in tensors]
        for s, gen in enumerate(generator):
            for n in noise:
                n[s].normal_(generator=gen)
        return noise
    sizes = [t[0].numel() for t in tensors]
    flat = torch.empty(len(generator), sum(sizes), dtype=first.dtype, device=first.device)
    for s, gen in enumerate(generator):  # (S, N): row s is contiguous, so it holds the same
        flat[s].normal_(generator=gen)  # values as a fresh (N,) draw from generator s
    return [n.view(t.shape) for n, t in zip(flat.split(sizes, dim=1), tensors, strict=True)]


def check_generator(generator: Any) -> Generators:
    """None, one torch.Generator, or a non-empty sequence of them (returned as a list)."""
    if generator is None or isinstance(generator, torch.Generator):
        return generator
    if (
        isinstance(generator, Sequence)
        and not isinstance(generator, str)
        and len(generator) > 0
        and all(isinstance(g, torch.Generator) for g in generator)
    ):
        return list(generator)
    raise ValueError(
        f"generator must be a torch.Generator or None, but got {generator!r}; "
        "for batched seeds pass a non-empty sequence of torch.Generator, one per seed"
    )


def generator_state(generator: Generators) -> Tensor | list[Tensor] | None:
    """What ``state_dict()["generator_state"]`` holds: a ByteTensor, or one per seed."""
    if isinstance(generator, list):
        return [g.get_state() for g in generator]
    return None if generator is None else generator.get_state()


def restore_generators(generator: Generators, saved: Tensor | list[Tensor] | None) -> Generators:
    """Set ``generator`` (created on the CPU if None) to the ``saved`` state; returns it."""
    if saved is None:
        return generator
    if isinstance(saved, Tensor):
        if isinstance(generator, list):
            raise ValueError(
                f"the state dict holds 1 generator state, but this optimizer has "
                f"{len(generator)} generators (one per seed)"
            )
        generator = torch.Generator() if generator is None else generator
        generator.set_state(saved)
        return generator
    if generator is None:
        generator = [torch.Generator() for _ in saved]
    have = len(generator) if isinstance(generator, list) else 1
    if not isinstance(generator, list) or have != len(saved):
        raise ValueError(
            f"the state dict holds {len(saved)} generator states, but this optimizer has "
            f"{have} generator(s); build it with one generator per seed"
        )
    for gen, state in zip(generator, saved, strict=True):
        gen.set_state(state)
    return generator


def pack(generator: Generators) -> Any:
    """Picklable (device, state) pairs: torch.Generator itself does not pickle."""
    if isinstance(generator, list):
        return [(str(g.device), g.get_state()) for g in generator]
    return None if generator is None else (str(generator.device), generator.get_state())


def unpack(packed: Any) -> Generators:
    def one(device_state: tuple[str, Tensor]) -> torch.Generator:
        gen = torch.Generator(device=device_state[0])
        gen.set_state(device_state[1])
        return gen

    if packed is None:
        return None
    return [one(p) for p in packed] if isinstance(packed, list) else one(packed)
