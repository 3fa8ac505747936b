"""Data layer: readers, built-in sources, splits, slices, pairs, 3D volumes and patch sampling.

See docs/data.md. Importing this package is light (no torch, no MONAI).
"""

import logging as _logging

# MONAI logs a warning through Python's last-resort handler (straight to stderr) when it probes
# its optional GPU DICOM decoder; a user's error must stay one line, so that probe is silenced.
_logging.getLogger("monai.data.nvimgcodec_pydicom_plugin").setLevel(_logging.ERROR)
