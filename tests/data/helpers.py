"""Small data files written by the tests themselves: DICOM series, images, fastMRI HDF5, manifests."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.conftest import phantom_volume, write_nifti

__all__ = ["phantom_volume", "write_nifti", "write_dicom_series", "write_fastmri", "write_png", "nifti_folder"]


def write_dicom_series(folder: Path, volume: np.ndarray, series_uid: str = "1.2.826.0.1.3680043.8.498.1",
                       spacing: tuple[float, float, float] = (1.0, 1.0, 2.0), order: list[int] | None = None,
                       instance_numbers: list[int] | None = None) -> Path:
    """Write ``volume`` ``(X=cols, Y=rows, Z)`` as one uint16 MR slice per file.

    ``order`` permutes the file names (so name order differs from position order);
    ``instance_numbers`` overrides InstanceNumber (e.g. reversed, to prove sorting by position).
    """
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, MRImageStorage, generate_uid

    folder.mkdir(parents=True, exist_ok=True)
    nz = volume.shape[2]
    order = order if order is not None else list(range(nz))
    scaled = np.clip(volume / max(float(volume.max()), 1e-8) * 4000, 0, 65535).astype(np.uint16)
    for file_index, z in enumerate(order):
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = MRImageStorage
        meta.MediaStorageSOPInstanceUID = generate_uid()
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds = Dataset()
        ds.file_meta = meta
        ds.SOPClassUID = MRImageStorage
        ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
        ds.SeriesInstanceUID = series_uid
        ds.StudyInstanceUID = "1.2.826.0.1.3680043.8.498.9"
        ds.Modality = "MR"
        ds.InstanceNumber = instance_numbers[z] if instance_numbers else z + 1
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.ImagePositionPatient = [0.0, 0.0, float(z * spacing[2])]
        ds.PixelSpacing = [spacing[1], spacing[0]]
        ds.SliceThickness = spacing[2]
        ds.Rows, ds.Columns = volume.shape[1], volume.shape[0]
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
        ds.PixelData = np.ascontiguousarray(scaled[:, :, z].T).tobytes()  # rows x cols
        ds.save_as(folder / f"slice{file_index:03d}.dcm", enforce_file_format=True)
    return folder


def write_fastmri(path: Path, target: np.ndarray, key: str = "reconstruction_esc") -> Path:
    """A small fastMRI-like file: single-coil k-space of ``target`` ``(S, H, W)`` plus the target."""
    import h5py

    kspace = np.fft.fftshift(np.fft.fft2(np.fft.ifftshift(target, axes=(-2, -1)), norm="ortho"), axes=(-2, -1))
    with h5py.File(path, "w") as f:
        f.create_dataset("kspace", data=kspace.astype(np.complex64))
        f.create_dataset(key, data=target.astype(np.float32))
        f.attrs["acquisition"] = "CORPD_FBK"
        f.attrs["max"] = float(target.max())
    return path


def write_png(path: Path, image: np.ndarray, bits: int = 8) -> Path:
    """``(H, W)`` or ``(H, W, 3)`` in [0, 1] as an 8- or 16-bit PNG."""
    from PIL import Image

    if bits == 16:
        Image.fromarray((image * 65535).round().astype(np.uint16)).save(path)
    else:
        Image.fromarray((image * 255).round().astype(np.uint8)).save(path)
    return path


def nifti_folder(folder: Path, n: int = 3, shape: tuple[int, int, int] = (48, 48, 40)) -> Path:
    """``n`` phantom NIfTI volumes (different seeds) in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        write_nifti(folder / f"sub{i:02d}.nii.gz", phantom_volume(shape, seed=i))
    return folder
