"""The recipe schema: dataclasses that every recipe YAML is validated against.

A component node (``model.generator``, ``model.discriminator``, ``loss.adversarial``,
``data.dataset``, each entry of ``loss.terms``) is a mapping with a ``name`` and the keyword
arguments of that component; those arguments are checked against the component itself when
it is built, before training starts.

Each field's docstring-style comment is the text of the generated config reference.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Node = dict[str, Any]


@dataclass
class RunConfig:
    """Where a run lives."""

    dir: str | None = None
    """Run directory for config, metrics, samples, checkpoints. Default: runs/<recipe name>."""


@dataclass
class DataConfig:
    """Which pairs to train on and how to augment them."""

    dataset: Node = field(default_factory=lambda: {"name": "aligned"})
    """Dataset component: 'aligned' (A|B in one file), 'paired_folders' (A/ and B/), ..."""
    root: str | None = None
    """Dataset root folder; holds the splits (e.g. root/train, root/val)."""
    direction: Literal["AtoB", "BtoA"] = "AtoB"
    """AtoB translates A into B; BtoA the reverse."""
    train_split: str = "train"
    """Split trained on."""
    val_split: str | None = "val"
    """Held-out split for sample grids and validation L1; null to use training pairs."""
    load_size: int | None = 286
    """Images are first resized to load_size x load_size; null keeps their size."""
    crop_size: int = 256
    """Random crop of crop_size x crop_size after the resize (the network's input size)."""
    flip: bool = True
    """Random horizontal flip, the same draw for A and B."""
    batch_size: int = 1
    """Pairs per iteration (the paper uses 1); under torchrun, split evenly over the processes."""
    num_workers: int = 2
    """Loader processes decoding images; 0 decodes in the training process."""
    on_corrupt: Literal["fail", "skip"] = "fail"
    """An unreadable image: 'fail' with its name, or 'skip' the pair and count it in metrics."""
    max_pixels: int | None = None
    """Largest image (width x height) decoded; larger ones count as unreadable, a guard
    against decompression bombs. null: 178956970 (Pillow's limit), or $I2I_MAX_PIXELS."""


@dataclass
class ModelConfig:
    """The networks."""

    in_channels: int = 3
    """Channels of the input image."""
    out_channels: int = 3
    """Channels of the output image."""
    generator: Node = field(default_factory=lambda: {"name": "unet"})
    """Generator component and its arguments, e.g. {name: unet, ngf: 64, depth: 8}."""
    discriminator: Node = field(default_factory=lambda: {"name": "patchgan"})
    """Discriminator component and its arguments, e.g. {name: patchgan, n_layers: 3}."""
    conditional: bool = True
    """D sees the input concatenated with the image (cGAN); false: the image only."""


@dataclass
class LossConfig:
    """G's and D's objectives: adversarial weight x adversarial + sum of weighted terms."""

    adversarial: Node = field(default_factory=lambda: {"name": "vanilla", "weight": 1.0})
    """GAN objective ('vanilla' BCE as in the paper, 'lsgan'); weight 0 trains no D."""
    terms: dict[str, Node] = field(default_factory=lambda: {"l1": {"weight": 100.0}})
    """Generator loss terms by label; each {name (default: the label), weight, args}."""


@dataclass
class OptimizerConfig:
    """Adam, for G and D alike."""

    lr: float = 2e-4
    """Initial learning rate."""
    betas: list[float] = field(default_factory=lambda: [0.5, 0.999])
    """Adam's (beta1, beta2)."""
    fused: bool = True
    """One fused kernel per Adam update (same math, ~5x faster on CPU); false: torch's default."""


@dataclass
class TrainConfig:
    """The schedule."""

    epochs: int = 100
    """Epochs at the initial learning rate."""
    epochs_decay: int = 100
    """Epochs after those over which the rate decays linearly to zero."""
    schedule: Literal["paper", "official"] = "paper"
    """'paper': epochs full-rate epochs, then epoch k at 1 - (k - epochs)/(epochs_decay + 1)
    (the last at 1/101); 'official': as the authors' code steps its scheduler at each
    epoch's start, epoch k at 1 - max(0, k + 1 - epochs)/(epochs_decay + 1) (one full-rate
    epoch fewer, the last at 0)."""
    max_steps: int | None = None
    """Stop after this many iterations; null runs the whole epoch schedule."""
    optimizer: OptimizerConfig = field(default_factory=OptimizerConfig)
    """Optimiser settings."""
    device: str = "auto"
    """'auto' (CUDA when available, else CPU), 'cpu', 'cuda', 'cuda:1', ..."""
    nonfinite: Literal["stop", "skip"] = "stop"
    """A NaN/Inf loss: 'stop' the run (last checkpoint kept), or 'skip' that update and count it."""
    precision: Literal["fp32", "bf16", "fp16"] = "fp32"
    """Autocast for the passes: fp32 (off), bf16, or fp16 with loss scaling (GPUs; slow on CPUs)."""
    channels_last: bool = False
    """Networks and batches in channels-last memory layout (faster on GPUs with tensor cores)."""
    compile: bool = False
    """torch.compile G and D for training (first steps slower while it compiles)."""
    sync_batchnorm: bool = True
    """Under torchrun: BatchNorm statistics over the global batch, as one process would compute."""


@dataclass
class LogConfig:
    """What a run records."""

    every: int = 100
    """Iterations between lines of metrics.jsonl (window means of losses, lr, throughput)."""
    sample_every: int = 1000
    """Iterations between sample grids and held-out L1 (also at the start and the end)."""
    val_images: int = 8
    """Held-out pairs in each sample grid and in the held-out metrics (val/l1, psnr, ssim)."""
    val_palette: str | None = None
    """A palette.json (as i2i eval --palette-colors writes): adds val/pixel_acc,
    val/class_acc and val/class_iou on the same pairs (the maps analogue of FCN-scores)."""
    sample_mode: Literal["paper", "eval"] = "paper"
    """'paper': G as at train time (dropout on, batch statistics); 'eval': eval mode."""
    progress: bool = True
    """Show a progress bar."""
    tensorboard: bool = False
    """Mirror metrics as TensorBoard scalars in <run.dir>/tensorboard (needs i2i[tensorboard]);
    the same as naming tensorboard in log.loggers."""
    loggers: list[Any] = field(default_factory=list)
    """Experiment trackers, by name or with options, e.g. [mlflow] or [{name: wandb, project:
    maps}] (see docs/logging.md); metrics.jsonl is always written."""
    name: str | None = None
    """The run's name in the trackers; null: its folder's name (a study sets 'VARIANT seed S')."""
    group: str | None = None
    """The trackers' group (wandb) or experiment (MLflow) of the run; a study sets its name."""
    tags: dict[str, str] = field(default_factory=dict)
    """Tags for the trackers' run; a study adds variant and seed."""


@dataclass
class BestConfig:
    """Which held-out metric picks the best checkpoint."""

    metric: str | None = None
    """val/l1, val/psnr or val/ssim (measured every log.sample_every); null: no best kept."""
    mode: Literal["min", "max"] = "max"
    """max: higher is better (psnr, ssim); min: lower is better (l1)."""


@dataclass
class CheckpointConfig:
    """When weights are saved."""

    every: int = 5000
    """Iterations between checkpoints; one is always written at the end."""
    keep: int = 3
    """Most recent checkpoints kept; older ones are deleted."""
    optimizer: Literal["latest", "all"] = "latest"
    """Which checkpoints keep the optimisers' state (what resume needs, about twice the
    weights): the latest only, older ones shrink to weights and run state; or all."""
    best: BestConfig = field(default_factory=BestConfig)
    """Keep checkpoints/best.safetensors: the checkpoint with the best held-out metric."""


@dataclass
class Recipe:
    """A complete training recipe."""

    seed: int = 0
    """Seeds python, numpy and torch before anything is built."""
    method: Node = field(default_factory=lambda: {"name": "pix2pix"})
    """Training method and its arguments ('pix2pix': the paper's D step then G step)."""
    run: RunConfig = field(default_factory=RunConfig)
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    log: LogConfig = field(default_factory=LogConfig)
    checkpoint: CheckpointConfig = field(default_factory=CheckpointConfig)
    provenance: dict[str, Any] = field(default_factory=dict)
    """Written by i2i when a run starts: its version and the plugin (distribution, version)
    behind each component. Read back to warn when a resume uses other versions; not set by
    hand."""
