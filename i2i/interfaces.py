"""What each kind of component must provide. The core knows components only through these.

Tensor layout is ``(N, C, H, W)`` throughout; images reach models as float in ``[-1, 1]``.

- :class:`Generator` maps an input image batch to an output image batch.
- :class:`Discriminator` scores images (or input/image pairs) with one or more logit maps,
  and exposes its intermediate features for feature-matching losses.
- :class:`AdversarialLoss` turns discriminator outputs into the D and G adversarial losses.
- :class:`GeneratorLoss` is any further term of G's objective (L1, feature matching, ...).
- :class:`PairedDataset` yields aligned ``A``/``B`` image pairs as uint8 tensors.
- :class:`ConvertedGenerator` is what a weight converter makes of a foreign checkpoint.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol, TypedDict, runtime_checkable

from torch import Tensor, nn
from torch.nn.parallel import DataParallel, DistributedDataParallel


@runtime_checkable
class Generator(Protocol):
    """An ``nn.Module`` translating ``(N, in_channels, H, W)`` to ``(N, out_channels, H, W)``.

    Attributes:
        in_channels: channels of the input image.
        out_channels: channels of the output image.
        size_multiple: H and W must be multiples of this (a U-Net of depth 8 needs 256);
            the core checks it against ``data.crop_size`` before training starts.
        min_size: optional: the smallest side accepted, a multiple of ``size_multiple``
            (default ``size_multiple``; the ResNet generator's is 8, twice its multiple, as
            instance norm cannot normalise a 1×1 bottleneck). ``i2i translate`` pads smaller
            images up to it.
        encoder_layers: optional, with :meth:`features`: how many encoder levels
            ``features`` can return (levels 0 … ``encoder_layers``).
    """

    in_channels: int
    out_channels: int
    size_multiple: int

    def __call__(self, image: Tensor) -> Tensor:
        """Translate a batch; output values lie in ``[-1, 1]``."""
        ...


def encoder_features(generator: Any, image: Tensor, layers: Sequence[int]) -> list[Tensor]:
    """The activations of ``generator``'s encoder at ``layers`` (for CUT's PatchNCE,
    perceptual or feature-matching terms), one ``(N, C, h, w)`` tensor per level asked.

    Level 0 is the input as the network sees it; level ``k`` the output of its ``k``-th
    encoder stage, down to ``generator.encoder_layers``. Generators provide it as a method
    ``features(image, layers)``; the built-in U-Net, encoder-decoder, ResNet and timm U-Net
    generators do. It runs the encoder only, in the generator's current mode. ``generator``
    may be the network the step was given under DDP or ``train.compile``: the wrappers are
    looked through, and gradients reach the same parameters (DDP averages them in the
    step's one backward pass, as for its forward pass).
    """
    bare = _inside_wrappers(generator)
    features = getattr(bare, "features", None)
    if features is None:
        raise TypeError(
            f"{type(bare).__name__} has no features(image, layers): it does not expose "
            "its encoder's activations"
        )
    top = int(getattr(bare, "encoder_layers", 0))
    bad = [level for level in layers if not 0 <= level <= top]
    if bad:
        raise ValueError(f"encoder levels {bad} do not exist: this generator has 0 to {top}")
    return features(image, list(layers))


def _inside_wrappers(module: Any) -> Any:
    """The network inside DistributedDataParallel and ``torch.compile`` wrappers."""
    while True:
        if isinstance(module, (DataParallel, DistributedDataParallel)):
            module = module.module
        elif isinstance(getattr(module, "_orig_mod", None), nn.Module):  # torch.compile's
            module = module._orig_mod
        else:
            return module


class DiscriminatorOutput(NamedTuple):
    """What a discriminator returns.

    Attributes:
        logits: one logit map ``(N, 1, h, w)`` per scale (a PatchGAN has one; a multi-scale
            discriminator has one per image scale).
        features: for each scale, the intermediate activations from input to logits, for
            feature-matching losses. May be empty lists where a discriminator has none.
    """

    logits: list[Tensor]
    features: list[list[Tensor]]


@runtime_checkable
class Discriminator(Protocol):
    """An ``nn.Module`` scoring ``(N, in_channels, H, W)`` images patch by patch.

    ``in_channels`` is given by the core: output channels, plus input channels when the
    discriminator is conditional (it then sees the input and the image concatenated).
    """

    in_channels: int

    def __call__(self, image: Tensor) -> DiscriminatorOutput:
        """Score a batch: logits per scale and the features behind them."""
        ...


@runtime_checkable
class AdversarialLoss(Protocol):
    """A GAN objective (vanilla, least squares, hinge, ...)."""

    def discriminator_loss(self, real: DiscriminatorOutput, fake: DiscriminatorOutput) -> Tensor:
        """D's loss given its outputs on real and on generated images."""
        ...

    def generator_loss(self, fake: DiscriminatorOutput) -> Tensor:
        """G's adversarial loss given D's output on generated images."""
        ...


@dataclass
class LossInputs:
    """Everything a generator loss term may look at during G's step.

    Attributes:
        input: the generator's input ``x``.
        output: the generator's output ``G(x)`` (gradients flow through it).
        target: the real image ``y``.
        fake: D's output on ``G(x)`` with D frozen, or None when no discriminator is trained.
        real: D's output on the real image from this iteration's D step, detached, or None.
    """

    input: Tensor
    output: Tensor
    target: Tensor
    fake: DiscriminatorOutput | None = None
    real: DiscriminatorOutput | None = None


@runtime_checkable
class GeneratorLoss(Protocol):
    """One weighted term of G's objective beside the adversarial loss (L1 is one)."""

    def __call__(self, inputs: LossInputs) -> Tensor:
        """Return the term's (unweighted) scalar value."""
        ...


@dataclass
class ConvertedGenerator:
    """Foreign generator weights made loadable: which generator to build, and its weights.

    Attributes:
        node: recipe node of the equivalent generator (``{"name": "unet", "depth": 8, ...}``).
        state_dict: the weights under that generator's own key names.
        in_channels: input channels of the network.
        out_channels: output channels of the network.
    """

    node: dict
    state_dict: dict[str, Tensor]
    in_channels: int
    out_channels: int


class PairedSample(TypedDict):
    """One item of a paired dataset: ``A`` and ``B`` as ``(C, H, W)`` uint8 tensors, and a name."""

    A: Tensor
    B: Tensor
    name: str


@runtime_checkable
class PairedDataset(Protocol):
    """A map-style dataset of aligned pairs: ``len(ds)`` and ``ds[i] -> PairedSample``.

    Decoding happens here, in loader workers; augmentation happens later, on the device.
    """

    def __len__(self) -> int:
        """Number of pairs."""
        ...

    def __getitem__(self, index: int) -> PairedSample:
        """The pair at ``index``, decoded to uint8 tensors."""
        ...
