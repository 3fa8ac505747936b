"""Simulated MR contrasts from tissue probability maps (the BrainWeb approach).

Each voxel holds fractions of grey matter (GM), white matter (WM) and cerebrospinal fluid
(CSF); its signal is the fraction-weighted sum of each tissue's spin-echo signal

    S = PD * (1 - exp(-TR / T1)) * exp(-TE / T2)

(90-degree excitation, TR >> TE, no T2* or flip-angle effects), scaled so that the brightest
pure tissue is 1. Optional Rician noise: ``|S + n1 + i n2|`` with ``n1, n2 ~ N(0, sigma)``,
the magnitude-image noise of MRI (Gudbjartsson & Patz 1995), sigma relative to that same
brightest tissue (BrainWeb's "percent noise" against a reference tissue).

Tissue constants (T1, T2 in ms; PD relative to CSF):

- ``1.5T`` (default): BrainWeb's MRI simulator parameters, ``tissue_mr_parameters.txt``
  (Kwan, Evans & Pike 1999; Cocosco et al. 1997): CSF 2569/329/1.0, GM 833/83/0.86,
  WM 500/70/0.77.
- ``3T``: GM 1331/110 and WM 832/79.6 from Wansapura et al. 1999 (JMRI 9:531); CSF
  3000/350 is an order-of-magnitude estimate as in Fessler & Nataraj's ``mri_brainweb_params``
  (CSF relaxation barely depends on the field); PD kept from 1.5 T.

Sequences (typical clinical spin-echo settings, our choice, documented in docs/data.md):
T1-weighted TR 500 / TE 15 ms, T2-weighted TR 4000 / TE 100 ms, PD-weighted TR 4000 / TE 15 ms.
At 1.5 T this gives WM > GM > CSF (T1w), CSF > GM > WM (T2w) and CSF >= GM > WM (PDw).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Tissue:
    """Relaxation times in ms and relative proton density of one tissue class."""

    t1: float
    t2: float
    pd: float


@dataclass(frozen=True)
class Sequence:
    """A spin-echo acquisition: repetition and echo time in ms."""

    tr: float
    te: float


TISSUES: dict[str, dict[str, Tissue]] = {
    "1.5T": {
        "csf": Tissue(2569.0, 329.0, 1.0),
        "gm": Tissue(833.0, 83.0, 0.86),
        "wm": Tissue(500.0, 70.0, 0.77),
    },
    "3T": {
        "csf": Tissue(3000.0, 350.0, 1.0),
        "gm": Tissue(1331.0, 110.0, 0.86),
        "wm": Tissue(832.0, 79.6, 0.77),
    },
}

SEQUENCES: dict[str, Sequence] = {
    "t1": Sequence(tr=500.0, te=15.0),
    "t2": Sequence(tr=4000.0, te=100.0),
    "pd": Sequence(tr=4000.0, te=15.0),
}

#: contrasts the ``mni152`` source serves (``t1`` is nilearn's real template; ``t1sim`` simulated)
CONTRASTS = ("t1", "t2", "pd", "t1sim")


def spin_echo(tissue: Tissue, sequence: Sequence) -> float:
    """The spin-echo signal ``PD (1 - exp(-TR/T1)) exp(-TE/T2)`` of a pure tissue."""
    return float(tissue.pd * (1.0 - np.exp(-sequence.tr / tissue.t1)) * np.exp(-sequence.te / tissue.t2))


def tissue_signals(contrast: str, field: str = "1.5T") -> dict[str, float]:
    """Signal of each pure tissue for ``contrast`` (``t1``, ``t2``, ``pd``), brightest = 1."""
    if contrast not in SEQUENCES:
        raise ValueError(f"unknown contrast '{contrast}'; valid: {', '.join(SEQUENCES)}")
    if field not in TISSUES:
        raise ValueError(f"unknown field '{field}'; valid: {', '.join(TISSUES)}")
    raw = {name: spin_echo(tissue, SEQUENCES[contrast]) for name, tissue in TISSUES[field].items()}
    peak = max(raw.values())
    return {name: value / peak for name, value in raw.items()}


def simulate(fractions: dict[str, np.ndarray], contrast: str, field: str = "1.5T") -> np.ndarray:
    """Partial-volume signal ``sum_t fraction_t * S_t`` of tissue maps ``{"gm", "wm", "csf"}``.

    Args:
        fractions: arrays of one shape (any), values in [0, 1].
        contrast: ``t1``, ``t2`` or ``pd``.
    Returns:
        float32 array of the same shape, 1 for the brightest pure tissue.
    """
    signals = tissue_signals(contrast, field)
    out = np.zeros(next(iter(fractions.values())).shape, dtype=np.float32)
    for name, value in signals.items():
        out += np.float32(value) * fractions[name].astype(np.float32, copy=False)
    return out


def rician_noise(array: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """Magnitude of ``array`` plus complex Gaussian noise of std ``sigma`` per channel (float32)."""
    if sigma <= 0:
        return array.astype(np.float32, copy=True)
    real = array + rng.normal(0.0, sigma, array.shape).astype(np.float32)
    imag = rng.normal(0.0, sigma, array.shape).astype(np.float32)
    return np.sqrt(real * real + imag * imag).astype(np.float32)


def csf_fraction(mask: np.ndarray, gm: np.ndarray, wm: np.ndarray) -> np.ndarray:
    """CSF as the brain mask minus grey and white matter, clipped to [0, 1]."""
    return np.clip(mask.astype(np.float32) - gm - wm, 0.0, 1.0)
