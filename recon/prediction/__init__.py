"""Prediction on the user's files: one path for every task (read, prepare as training did,
run, undo, write in the input's format and geometry); see :mod:`recon.prediction.scans`."""

from recon.prediction.grid import resampled_affine
from recon.prediction.scans import predict_scan, predict_volume, training_options
from recon.prediction.writers import atomic_write, output_kind, write_like

__all__ = ["resampled_affine", "predict_scan", "predict_volume", "training_options", "atomic_write",
           "output_kind", "write_like"]
