"""Image-translation metrics on ``[-1, 1]`` batches: L1, PSNR, SSIM and a sharpness ratio."""

from __future__ import annotations

import kornia
import torch
from torch import Tensor


def _unit(image: Tensor) -> Tensor:
    return ((image.clamp(-1, 1) + 1) / 2).float()


def high_frequency_energy(image: Tensor) -> Tensor:
    """Mean squared Laplacian response per image: how much fine detail it holds."""
    grey = kornia.color.rgb_to_grayscale(_unit(image)) if image.shape[1] == 3 else _unit(image)
    return kornia.filters.laplacian(grey, kernel_size=3).pow(2).flatten(1).mean(1)


def pair_metrics(output: Tensor, target: Tensor) -> dict[str, Tensor]:
    """Per-image metrics of ``(N, C, H, W)`` outputs against targets.

    - ``l1``: mean absolute error in [-1, 1] units (what the paper's λ·L1 term sees);
    - ``psnr``: dB on [0, 1] images; ``ssim``: mean SSIM with an 11×11 Gaussian window;
    - ``sharpness``: high-frequency energy of the output over that of the target (1 = as
      much fine-scale variation as the target; below 1 blurrier; above 1 noise, checkerboard
      or ringing the target lacks, as early outputs have; meaningful near 1 only).
    """
    out, ref = _unit(output), _unit(target)
    mse = (out - ref).pow(2).flatten(1).mean(1)
    return {
        "l1": (output - target).abs().flatten(1).mean(1),
        "psnr": 10 * torch.log10(1.0 / mse.clamp_min(1e-10)),
        "ssim": kornia.metrics.ssim(out, ref, window_size=11).flatten(1).mean(1),
        "sharpness": high_frequency_energy(output) / high_frequency_energy(target).clamp_min(1e-12),
    }
