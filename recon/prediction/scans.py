"""One prediction path: read a scan, prepare it as training did, run the model, undo, write.

1. **Read** any format recon reads (:func:`recon.data.readers.read_any`: NIfTI, DICOM file,
   series or folder, PNG/TIFF/JPEG, ``.npy``), keeping what the writer needs (``Volume.meta``).
2. **Prepare exactly as training did** (:func:`training_options`): a model trained on the
   user's files gets ``data.orientation``, ``data.spacing`` and ``data.normalize`` of its
   checkpoint's config; one trained on a built-in volume source gets RAS and the per-volume
   maximum (the built-in MNI152 convention); 2D images their bit-depth scaling.
3. **Run** slice by slice along ``data.axis`` of the prepared (reoriented) volume for a 2D
   model (``Parts.predict_dims = 2``), or on the whole volume (``3``), through the task's
   ``Parts.generate`` and ``Parts.postprocess``, in batches of ``eval.batch_size``.
4. **Undo**: the output grid's affine from the shapes (:func:`recon.prediction.grid.resampled_affine`),
   the file's own orientation restored (a permutation/flip, exact), the intensity map undone
   (``Parts.restore_intensity``; a new contrast stays in [0, 1]). Resampling to
   ``data.spacing`` is not undone: the output stays on the resampled grid, with its affine.
5. **Write** in the input's format (:func:`recon.prediction.writers.write_like`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import numpy as np
import torch

from recon.data.preprocess import LoadOptions, prepare, reorient
from recon.data.readers import read_any
from recon.data.volume import Volume
from recon.errors import DataError, UsageError
from recon.prediction.grid import resampled_affine
from recon.prediction.writers import output_kind, write_like

if TYPE_CHECKING:
    from recon.config import RunConfig

Parts = Any  # recon.task.Parts (recon.task sits above this package: its default predict_file uses it)

__all__ = ["training_options", "predict_volume", "predict_scan"]


def training_options(cfg: "RunConfig", volume: Volume) -> LoadOptions:
    """How the training data of ``cfg`` was prepared, to prepare ``volume`` alike."""
    from recon.data.collection import builtin_name

    d = cfg.data
    if builtin_name(d.source) is not None:  # built-in volumes: RAS, scaled by their maximum
        return LoadOptions(normalize="max" if volume.spatial_dims == 3 else "auto", orientation="RAS")
    return LoadOptions(normalize=getattr(d, "normalize", "auto"), orientation=getattr(d, "orientation", "RAS"),
                       spacing=tuple(getattr(d, "spacing", ()) or ()))


def _channels(array: np.ndarray, channels: int) -> np.ndarray:
    """``(C, ...)`` -> ``(channels, ...)``: RGB averaged to gray, or gray repeated to RGB."""
    if array.shape[0] == channels:
        return array
    return array.mean(0, keepdims=True) if channels == 1 else np.repeat(array[:1], channels, axis=0)


@torch.no_grad()
def _run(parts: Parts, inputs: np.ndarray, device: torch.device, batch_size: int) -> np.ndarray:
    """``(N, C, *spatial)`` model inputs -> ``(N, C', *spatial')`` postprocessed outputs."""
    generator = parts.generator.eval()
    outputs = []
    for start in range(0, inputs.shape[0], batch_size):
        chunk = torch.from_numpy(np.ascontiguousarray(inputs[start:start + batch_size], dtype=np.float32))
        generated = parts.generate(generator, {"input": chunk.to(device)})
        images = generated[0] if isinstance(generated, tuple) else generated  # (images, aux) or images
        outputs.append(parts.postprocess(images).float().cpu().numpy())
    return np.concatenate(outputs)


def predict_volume(parts: Parts, cfg: "RunConfig", volume: Volume, device: torch.device,
                   channels: int = 1, run: Callable[[np.ndarray], np.ndarray] | None = None) -> Volume:
    """The model's output for ``volume`` (as read), on the file's own voxel order: ``(C', ...)``
    values in the file's intensity units (or [0, 1] without ``parts.restore_intensity``) and
    the output grid's affine; ``norm`` is the preparation's intensity map, ``meta`` the input's.

    ``run`` maps prepared model inputs ``(N, C, *spatial)`` in [0, 1] to outputs; the default
    feeds ``{"input": x}`` to ``parts.generate`` (a task whose measurement is more than an
    image, e.g. simulated k-space, passes its own)."""
    prepared = prepare(volume, training_options(cfg, volume))
    array = _channels(prepared.array, channels)
    batch_size = max(1, int(getattr(cfg.eval, "batch_size", 8)))
    if run is None:
        def run(inputs: np.ndarray) -> np.ndarray:
            return _run(parts, inputs, device, batch_size)
    if prepared.spatial_dims == 3 and parts.predict_dims == 2:
        axis = int(cfg.data.axis)
        slices = np.moveaxis(array, axis + 1, 1).transpose(1, 0, 2, 3)  # (S, C, h, w)
        if min(slices.shape[-2:]) < 4:
            raise DataError(f"{volume.source}: slices of {slices.shape[-2]}x{slices.shape[-1]} along axis {axis} "
                            "are too small for the model")
        out = np.moveaxis(run(slices).transpose(1, 0, 2, 3), 1, axis + 1)
    else:
        out = run(array[None])[0]
    affine = resampled_affine(prepared.affine, prepared.array.shape[1:], out.shape[1:]) \
        if prepared.spatial_dims == 3 else prepared.affine
    out = _channels(out, volume.channels)  # a gray input stays gray through an RGB model
    result = Volume(np.ascontiguousarray(out, dtype=np.float32), affine, volume.source, dict(prepared.norm))
    if prepared.spatial_dims == 3 and training_options(cfg, volume).orientation:
        import nibabel as nib

        result = reorient(result, "".join(nib.aff2axcodes(volume.affine)))
    if parts.restore_intensity and prepared.norm:
        from recon.data.volume import denormalize

        result.array = denormalize(result.array, prepared.norm).astype(np.float32)
    result.meta = volume.meta
    return result


def predict_scan(parts: Parts, cfg: "RunConfig", input_path: Path, output_path: Path, device: torch.device,
                 note: str, channels: int = 1) -> Path:
    """Read ``input_path``, predict, write ``output_path`` in the input's format; the path written."""
    volume = read_any(input_path)
    if parts.predict_dims == 3 and volume.spatial_dims != 3:
        raise UsageError(f"{input_path}: this model works on 3D volumes, the file holds a 2D image")
    output_kind(output_path, volume)  # refuse an impossible output before any work
    result = predict_volume(parts, cfg, volume, device, channels)
    return write_like(output_path, result.array, result.affine, volume, note,
                      unit_range=not parts.restore_intensity)
