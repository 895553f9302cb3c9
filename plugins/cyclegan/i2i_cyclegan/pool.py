"""The image pool (Shrivastava et al. 2017): D sees a history of fakes, not only the newest."""

from __future__ import annotations

import torch
from torch import Tensor


class ImagePool:
    """Up to ``size`` earlier fakes; :meth:`query` mixes them into what D is shown.

    While the pool holds fewer than ``size`` images each new one is stored and returned;
    afterwards, with probability 0.5, a stored image is returned and the new one takes its
    place, else the new one is returned. Draws come from torch's global generator (part of a
    run's saved random state), and the stored images are part of the run state
    (:meth:`state` / :meth:`load`), so a resumed run continues exactly.

    Args:
        size: capacity; 0 returns every batch unchanged.
    """

    def __init__(self, size: int = 50) -> None:
        if size < 0:
            raise ValueError(f"pool size must be 0 or more, got {size}")
        self.size = size
        self.images: list[Tensor] = []

    def query(self, images: Tensor) -> Tensor:
        """The batch D is shown in place of ``images`` (``(N, C, H, W)``, detached)."""
        if self.size == 0:
            return images.detach()
        shown = []
        for image in images.detach():
            image = image.unsqueeze(0)
            if len(self.images) < self.size:
                self.images.append(image.clone())
                shown.append(image)
            elif torch.rand(()).item() > 0.5:
                index = int(torch.randint(len(self.images), ()).item())
                shown.append(self.images[index].to(image.device).clone())
                self.images[index] = image.clone()
            else:
                shown.append(image)
        return torch.cat(shown)

    def state(self) -> Tensor:
        """The stored images as one ``(K, C, H, W)`` tensor (an empty tensor when empty)."""
        return torch.cat(self.images) if self.images else torch.zeros(0)

    def load(self, stored: Tensor) -> None:
        """Restore what :meth:`state` returned."""
        self.images = [] if stored.numel() == 0 else [i.unsqueeze(0) for i in stored]
