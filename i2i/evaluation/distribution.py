"""FID and KID, from a feature network the user supplies as a local file.

Nothing is fetched: the feature network is a file named by the user (``--fid-features``,
or ``eval.fid_features`` in a study).

- ``*.pth`` / ``*.pt``: the standard FID Inception-v3 weights
  (``pt_inception-2015-12-05-6726825d.pth``, the file torch-fidelity and torchmetrics use),
  read with ``weights_only=True`` and run through torchmetrics' Inception.
- ``*.onnx``: any feature network, run by onnxruntime. It takes ``(N, 3, H, W)`` float
  images in ``[0, 1]`` and returns ``(N, F)`` features (pool inside the graph).

The statistics are torchmetrics' (``FrechetInceptionDistance``, ``KernelInceptionDistance``).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import torch
from torch import Tensor, nn

from i2i.data.augment import match_channels
from i2i.errors import I2IError, quoted

DISTRIBUTION_METRICS = ("fid", "kid")


class FeatureNetworkError(I2IError):
    """A feature-network file for FID/KID is missing, of an unknown kind, or unusable."""


class OnnxFeatures(nn.Module):
    """An ONNX feature network as a module torchmetrics can call (``[0, 1]`` images in)."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        try:
            import onnxruntime
        except ImportError:
            raise FeatureNetworkError(
                f"{quoted(path)} is an ONNX feature network; install onnxruntime (pip install "
                "'i2i[onnx]') to use it"
            ) from None
        try:
            self.session = onnxruntime.InferenceSession(
                str(path), providers=["CPUExecutionProvider"]
            )
        except Exception as error:  # onnxruntime raises its own untyped errors
            raise FeatureNetworkError(f"cannot load {quoted(path)} as ONNX: {error}") from None
        self.input_name = self.session.get_inputs()[0].name
        self.num_features = int(self.forward(torch.rand(1, 3, 64, 64)).shape[-1])

    def forward(self, images: Tensor) -> Tensor:
        """``(N, 3, H, W)`` in [0, 1] → ``(N, F)`` features."""
        array = images.detach().float().cpu().contiguous().numpy()
        (features,) = self.session.run(None, {self.input_name: array})[:1]
        return torch.from_numpy(features).reshape(len(array), -1).to(images.device)


class DistributionScore:
    """Accumulates features of real and translated images; FID and KID at the end.

    Args:
        features: the feature-network file (see the module docstring).
        images: how many images the split holds (KID's subsets are at most this large).
        device: where the feature network runs.
    """

    def __init__(self, features: Path, images: int, device: str = "cpu") -> None:
        try:
            import torchmetrics  # noqa: F401
        except ImportError:
            raise FeatureNetworkError(
                "FID and KID need torchmetrics: pip install 'i2i[fid]'"
            ) from None
        features = Path(features)
        if not features.is_file():
            raise FeatureNetworkError(
                f"feature network '{features}' not found; give the path of a local file "
                "(see docs/reproduction.md for where to get the Inception weights)"
            )
        if images < 2:
            raise FeatureNetworkError(f"FID and KID need at least 2 images, the split has {images}")
        subset = min(50, images)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*will save all extracted features")
            self._build(features, subset)
        self.fid.to(device)
        self.kid.to(device)

    def _build(self, features: Path, subset: int) -> None:
        from torchmetrics.image.fid import FrechetInceptionDistance
        from torchmetrics.image.kid import KernelInceptionDistance

        if features.suffix == ".onnx":
            network = OnnxFeatures(features)
            self.fid = FrechetInceptionDistance(feature=network, normalize=True)
            self.kid = KernelInceptionDistance(feature=network, subset_size=subset, normalize=True)
        elif features.suffix in (".pth", ".pt"):
            self._require_fidelity(features)
            common = {"normalize": True, "feature_extractor_weights_path": str(features)}
            self.fid = FrechetInceptionDistance(feature=2048, **common)
            self.kid = KernelInceptionDistance(feature=2048, subset_size=subset, **common)
        else:
            raise FeatureNetworkError(
                f"feature network '{features}': expected the Inception weights (.pth) or an "
                f"ONNX network (.onnx), got '{features.suffix}'"
            )

    @staticmethod
    def _require_fidelity(features: Path) -> None:
        try:
            import torch_fidelity  # noqa: F401
        except ImportError:
            raise FeatureNetworkError(
                f"'{features}' as Inception weights needs torch-fidelity: pip install 'i2i[fid]'"
            ) from None

    def update(self, output: Tensor, target: Tensor) -> None:
        """Add a batch of translations and their targets, ``(N, C, H, W)`` in [-1, 1]."""
        for images, real in ((target, True), (output, False)):
            unit = ((match_channels(images, 3).clamp(-1, 1) + 1) / 2).float()
            self.fid.update(unit, real=real)
            self.kid.update(unit, real=real)

    def result(self) -> dict[str, float]:
        """FID, and KID's mean (the KID convention; its spread is over random subsets)."""
        kid_mean, _ = self.kid.compute()
        return {"fid": float(self.fid.compute()), "kid": float(kid_mean)}
