"""Forward operators: how a clean image becomes the measurement a task reconstructs from.

The contract (:mod:`recon.physics.operator`): ``op.sample(shape, generator) -> params``,
``op(x, params)`` / ``op.forward``, ``op.adjoint`` (linear operators), ``op.pseudo_inverse`` (the
classical baseline). Operators:

- :class:`BlurDownsample`, :class:`BicubicDownsample`, :class:`KspaceTruncation` — super-resolution, 2D/3D
- :class:`MaskedFourier` with :class:`FourierParams` — (multi-coil) undersampled Cartesian MRI
- :class:`RigidMotion` with :class:`Trajectory` — rigid motion between k-space lines
- :class:`Inpainting` with :class:`InpaintingParams` — a hole mask and its fills
- :class:`GaussianNoise` with :class:`NoiseParams` — additive white Gaussian noise (denoising)

and the one centred FFT of the repository (:mod:`recon.physics.fft`). Docs: docs/physics.md.
"""

from recon.physics.blur import gaussian_blur, gaussian_kernel1d
from recon.physics.coils import coil_combine_rss, normalize_maps, sense_combine, sense_expand, simulate_coil_maps
from recon.physics.fft import (IMAGE_DIMS, check_complex, complex_abs, fft2c, fftc, ifft2c, ifftc, rss, to_channels,
                               to_complex)
from recon.physics.fourier import FourierParams, MaskedFourier, MaskSampler, apply_mask, validate_mask
from recon.physics.inpainting import (FILLS, HoleSampler, Inpainting, InpaintingParams, biharmonic, fill_hole,
                                      pull_push)
from recon.physics.motion import RigidMotion, Trajectory, acquisition_order, center_rows, phase_ramp, rotate
from recon.physics.noise import GaussianNoise, NoiseParams
from recon.physics.operator import LinearOperator, Operator, adjoint_by_autograd
from recon.physics.resolution import BicubicDownsample, BlurDownsample, KspaceTruncation, upsample

__all__ = [
    # the contract
    "Operator", "LinearOperator", "adjoint_by_autograd",
    # the centred FFT and complex helpers
    "IMAGE_DIMS", "fftc", "ifftc", "fft2c", "ifft2c", "check_complex", "complex_abs", "rss", "to_channels",
    "to_complex",
    # super-resolution
    "BlurDownsample", "BicubicDownsample", "KspaceTruncation", "upsample", "gaussian_blur", "gaussian_kernel1d",
    # MRI: masked (multi-coil) Fourier sampling
    "MaskedFourier", "FourierParams", "MaskSampler", "apply_mask", "validate_mask", "coil_combine_rss",
    "normalize_maps", "sense_combine", "sense_expand", "simulate_coil_maps",
    # denoising
    "GaussianNoise", "NoiseParams",
    # MRI: rigid motion
    "RigidMotion", "Trajectory", "acquisition_order", "center_rows", "phase_ramp", "rotate",
    # inpainting
    "Inpainting", "InpaintingParams", "HoleSampler", "FILLS", "biharmonic", "fill_hole", "pull_push",
]
