"""The GAN trainer: phases (D step, G step, lazy regularization), EMA, precision, DDP,
checkpoints, logging and samples. :class:`recon.train.trainer.Trainer` is the entry point;
the CLI builds it from a resolved config.
"""

__all__: list[str] = []
