"""i2i's built-in loggers, contributed through the same hook as any plugin's."""

from __future__ import annotations

from i2i.hookspecs import hookimpl
from i2i.loggers.mlflow import MlflowLogger
from i2i.loggers.tensorboard import TensorBoardLogger
from i2i.loggers.wandb import WandbLogger


@hookimpl
def i2i_loggers() -> dict[str, type]:
    """TensorBoard event files, an MLflow tracking store, Weights & Biases."""
    return {"tensorboard": TensorBoardLogger, "mlflow": MlflowLogger, "wandb": WandbLogger}
