"""The built-in experiment loggers: TensorBoard, MLflow and Weights & Biases.

Each is a :class:`i2i.train.events.Subscriber` contributed through the ``i2i_loggers`` hook
(:mod:`i2i.loggers.plugin`), the way a third party's logger is; each needs its package,
installed through an extra (``i2i[tensorboard]``, ``i2i[mlflow]``, ``i2i[wandb]``).
"""
