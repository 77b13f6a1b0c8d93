"""GPU check of the model package (run by hand where a CUDA device exists; CI never runs it).

    python benchmarks/gpu_check.py            # prints a JSON summary

1. No host syncs: one full training step of the scalar-β net (forward, GL loss, backward,
   Langevin step at T > 0, Allen–Cahn update) under ``torch.cuda.set_sync_debug_mode("error")``,
   single and seed-batched (any synchronising call raises).
2. Batched vs sequential equality on the device: 5 seeds as one stacked net against 5 nets.
3. Speed, as ratios measured in the same run with CUDA events: 5 seeds batched vs 1 seed, and
   the full model vs a plain MLP of the same widths, per training step at batch 64, MNIST size.
Imports only torch and landau.
"""

from __future__ import annotations

import json
import statistics
import sys

import torch
from torch import nn

from landau import AllenCahn, ExperimentalNet, GinzburgLandauLoss, Langevin, stack_nets

BLOG = {"lr": 1e-2, "damping": 1e-3, "temperature": 8e-3}
IN, HIDDEN, OUT, BATCH, SEEDS = 784, 156, 10, 64, 5


def _nets(n: int, device: str) -> list[nn.Module]:
    nets = []
    for seed in range(n):
        torch.manual_seed(seed)
        nets.append(ExperimentalNet(IN, HIDDEN, OUT, depth=2).to(device))
    return nets


def _stepper(model: nn.Module, seeds: int | None, device: str):
    gens = [torch.Generator(device=device).manual_seed(100 + s) for s in range(seeds or 1)]
    opt = Langevin(model.parameters(), generator=gens if seeds else gens[0], **BLOG)
    loss_fn, ac = GinzburgLandauLoss(0.0095, 6.5), AllenCahn(dt=1e-3, kappa=1e-2)
    shape = (seeds, BATCH) if seeds else (BATCH,)
    x = torch.randn(*shape, IN, device=device)
    y = torch.randint(0, OUT, shape, device=device)

    def step() -> None:
        out = model(x)
        if seeds:
            losses, _, _ = loss_fn.evaluate_seeds(out, y)
            loss = losses.sum()
        else:
            loss, _, _ = loss_fn.evaluate(out, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        for layer in model.landau_layers.values():
            (ac.step_seeds if seeds else ac.step)(layer.beta)

    return step


def _ms(step, reps: int = 50) -> float:
    for _ in range(10):
        step()
    torch.cuda.synchronize()
    times = []
    for _ in range(reps):
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record()
        step()
        b.record()
        torch.cuda.synchronize()
        times.append(a.elapsed_time(b))
    return statistics.median(times)


def _mlp(device: str) -> nn.Module:
    return nn.Sequential(
        nn.Linear(IN, HIDDEN), nn.BatchNorm1d(HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, OUT)
    ).to(device)


def main() -> int:
    if not torch.cuda.is_available():
        print(json.dumps({"skipped": "no CUDA device"}))
        return 0
    dev = "cuda"
    result: dict = {"device": torch.cuda.get_device_name(), "torch": torch.__version__}
    single = _stepper(_nets(1, dev)[0], None, dev)
    batched = _stepper(stack_nets(_nets(SEEDS, dev)), SEEDS, dev)
    single(), batched()  # warm-up outside the sync check (lazy initialisation may sync)
    torch.cuda.synchronize()
    syncs = {}
    for name, step in (("single", single), ("batched", batched)):
        torch.cuda.set_sync_debug_mode("error")
        try:
            step()
            syncs[name] = "no host sync"
        except RuntimeError as exc:
            syncs[name] = f"sync: {str(exc).splitlines()[0]}"
        finally:
            torch.cuda.set_sync_debug_mode("default")
    result["host_syncs_per_step"] = syncs

    # Equality on the device: 3 steps of 5 nets vs their stack (same data per seed).
    nets, stacked = _nets(SEEDS, dev), stack_nets(_nets(SEEDS, dev))
    x = torch.randn(SEEDS, BATCH, IN, device=dev)
    y = torch.randint(0, OUT, (SEEDS, BATCH), device=dev)
    loss_fn = GinzburgLandauLoss(0.0095, 6.5)
    seq = [loss_fn.evaluate(n(x[s]), y[s])[0].item() for s, n in enumerate(nets)]
    bat = loss_fn.evaluate_seeds(stacked(x), y)[0].tolist()
    result["batched_vs_sequential_max_rel_diff"] = max(
        abs(a - b) / max(abs(a), 1e-12) for a, b in zip(seq, bat, strict=True)
    )

    t_single, t_batched = _ms(single), _ms(batched)
    mlp = _mlp(dev)
    opt = torch.optim.Adam(mlp.parameters(), 1e-3)
    xm, ym = torch.randn(BATCH, IN, device=dev), torch.randint(0, OUT, (BATCH,), device=dev)

    def mlp_step() -> None:
        loss = nn.functional.cross_entropy(mlp(xm), ym)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    t_mlp = _ms(mlp_step)
    result["step_ms"] = {"full_1_seed": t_single, "full_5_seeds_batched": t_batched, "mlp": t_mlp}
    result["ratios"] = {
        "5_seeds_batched_over_1_seed": t_batched / t_single,
        "full_over_plain_mlp": t_single / t_mlp,
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
