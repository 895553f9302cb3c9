"""PatchNCE: the contrastive loss between patches of an input and of its translation.

For each chosen encoder level, the same ``patches`` random positions are taken from the
features of the input (keys) and of the translation (queries); a small MLP head maps each
to a unit vector. A query's positive is the key at its own position; its negatives are the
keys at the image's other sampled positions. The loss is the cross-entropy of picking the
positive among them, with similarities divided by the temperature τ (0.07):

    ℓ(q, k⁺, k⁻) = −log( exp(q·k⁺/τ) / (exp(q·k⁺/τ) + Σₙ exp(q·k⁻ₙ/τ)) )
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

EXCLUDED = -10.0
"""The similarity a query is given with itself among the negatives (the positive, which
must not count twice): exp(−10/τ) is zero to float precision."""


class PatchSampler(nn.Module):
    """Samples patch features at random positions and projects each to a unit vector.

    Args:
        channels: the feature channels of each encoder level used.
        width: the projection's output size (256 in the paper).
    """

    def __init__(self, channels: list[int], width: int = 256) -> None:
        super().__init__()
        self.heads = nn.ModuleList(
            nn.Sequential(nn.Linear(c, width), nn.ReLU(), nn.Linear(width, width)) for c in channels
        )
        for head in self.heads:
            for layer in head:
                if isinstance(layer, nn.Linear):
                    nn.init.xavier_normal_(layer.weight, gain=0.02)
                    nn.init.zeros_(layer.bias)

    def forward(
        self, features: list[Tensor], patches: int, positions: list[Tensor] | None = None
    ) -> tuple[list[Tensor], list[Tensor]]:
        """``(N·P, width)`` unit vectors per level, and the positions used (drawn from
        torch's generator when not given, at most ``patches`` per image)."""
        projected, used = [], []
        for level, (feature, head) in enumerate(zip(features, self.heads)):
            flat = feature.permute(0, 2, 3, 1).flatten(1, 2)  # (N, H·W, C)
            if positions is None:
                chosen = torch.randperm(flat.shape[1], device=flat.device)[:patches]
            else:
                chosen = positions[level]
            sample = flat[:, chosen, :].flatten(0, 1)
            projected.append(F.normalize(head(sample), dim=1))
            used.append(chosen)
        return projected, used


def patch_nce_loss(queries: Tensor, keys: Tensor, images: int, tau: float = 0.07) -> Tensor:
    """The PatchNCE loss of ``(N·P, D)`` unit queries against keys (detached), negatives
    from the same image only, averaged over the N·P patches."""
    keys = keys.detach()
    count, dim = queries.shape
    positive = (queries * keys).sum(dim=1, keepdim=True)  # (N·P, 1)
    per_image_q = queries.view(images, -1, dim)
    per_image_k = keys.view(images, -1, dim)
    patches = per_image_q.shape[1]
    negative = torch.bmm(per_image_q, per_image_k.transpose(1, 2))  # (N, P, P)
    own = torch.eye(patches, dtype=torch.bool, device=queries.device)[None]
    negative = negative.masked_fill(own, EXCLUDED).view(-1, patches)
    logits = torch.cat([positive, negative], dim=1) / tau
    target = torch.zeros(count, dtype=torch.long, device=queries.device)
    return F.cross_entropy(logits, target)
