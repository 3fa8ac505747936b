"""Run logging: ``metrics.jsonl``, TensorBoard events and a progress bar."""

from __future__ import annotations

import json
import math
import sys
import time
from pathlib import Path
from typing import Any, TextIO

import torch


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


def read_values(values: dict[str, Any]) -> dict[str, float]:
    """``values`` as floats; their 0-dim tensors read from the device in one transfer."""
    keys = [k for k, v in values.items() if isinstance(v, torch.Tensor)]
    out = {k: float(v) for k, v in values.items() if k not in keys}
    if keys:
        stacked = torch.stack([values[k].detach().to(torch.float64).reshape(()) for k in keys])
        out.update(zip(keys, stacked.tolist(), strict=True))
    return {k: out[k] for k in values}


class LogWindow:
    """Running means of the values logged by each step since the last log line.

    Values present only on some steps (a lazy penalty, the discriminator loss after its
    warm-up) are averaged over the steps that had them. Values may be floats or 0-dim
    float64 tensors: tensors are summed on their device (the same float64 arithmetic as
    Python floats) and read once, by :meth:`means`.
    """

    def __init__(self) -> None:
        self._sums: dict[str, Any] = {}
        self._counts: dict[str, int] = {}

    def add(self, values: dict[str, Any]) -> None:
        for key, value in values.items():
            if not isinstance(value, torch.Tensor):
                value = float(value)
            self._sums[key] = self._sums.get(key, 0.0) + value
            self._counts[key] = self._counts.get(key, 0) + 1

    def means(self) -> dict[str, float]:
        """The means (one read of the device), then an empty window."""
        out = read_values({k: self._sums[k] / self._counts[k] for k in self._sums})
        self._sums, self._counts = {}, {}
        return out


class RunLogger:
    """Writes one JSON object per logged step and mirrors scalars to TensorBoard.

    Only the main process creates a logger that writes (``enabled=False`` elsewhere).
    """

    def __init__(self, run_dir: Path, *, enabled: bool = True, tensorboard: bool = True,
                 resume_step: int | None = None) -> None:
        self.enabled = enabled
        self.path = run_dir / "metrics.jsonl"
        self._tb = None
        if not enabled:
            return
        if resume_step is not None and self.path.exists():
            self._truncate_after(resume_step)
        if tensorboard:
            try:
                from torch.utils.tensorboard import SummaryWriter

                self._tb = SummaryWriter(log_dir=str(run_dir / "tensorboard"), purge_step=resume_step)
            except Exception as exc:  # noqa: BLE001 - TensorBoard is optional at run time
                print(f"recon: TensorBoard disabled ({exc})", file=sys.stderr)

    def _truncate_after(self, step: int) -> None:
        """Drop lines logged after ``step`` (a resumed run logs them again)."""
        kept = []
        for line in self.path.read_text().splitlines():
            try:
                if json.loads(line).get("step", 0) <= step:
                    kept.append(line)
            except json.JSONDecodeError:
                continue  # a line cut by a crash
        self.path.write_text("".join(k + "\n" for k in kept))

    def log(self, step: int, values: dict[str, Any]) -> None:
        if not self.enabled:
            return
        record = {"step": step, **{k: _clean(v) for k, v in values.items()}}
        with open(self.path, "a") as handle:
            handle.write(json.dumps(record) + "\n")
        if self._tb is not None:
            for key, value in values.items():
                if isinstance(value, (int, float)) and math.isfinite(value):
                    self._tb.add_scalar(key, value, step)

    def log_image(self, step: int, tag: str, path: Path) -> None:
        """Mirror a sample grid PNG to TensorBoard's images (the PNG on disk stays the record)."""
        if self._tb is None:
            return
        import numpy as np
        from PIL import Image

        with Image.open(path) as image:
            array = np.asarray(image.convert("RGB"))
        self._tb.add_image(tag, array, step, dataformats="HWC")

    def log_hparams(self, config: dict[str, Any], metrics: dict[str, float]) -> None:
        """The run's config (scalar values, dotted keys) beside its final test metrics, in
        TensorBoard's HParams view (``tensorboard/hparams``), so runs can be compared by setting."""
        if self._tb is None or not metrics:
            return
        flat: dict[str, Any] = {}
        for section, values in config.items():
            items = values.items() if isinstance(values, dict) else [("", values)]
            for key, value in items:
                name = f"{section}.{key}" if key else section
                if isinstance(value, (bool, int, float, str)):
                    flat[name] = value
                elif isinstance(value, (list, tuple)):
                    flat[name] = str(list(value))
        self._tb.add_hparams(flat, {k: v for k, v in metrics.items() if math.isfinite(v)}, run_name="hparams")

    def close(self) -> None:
        if self._tb is not None:
            self._tb.flush()
            self._tb.close()
            self._tb = None


def _is_terminal(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or closed
        return False


def _clock(seconds: float) -> str:
    """``H:MM:SS``."""
    whole = int(round(seconds))
    return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


class Progress:
    """Training progress of the main process (``enabled``).

    A tqdm bar (losses, img/s, ETA) on stderr when ``bar`` (``trainer.progress``) and both
    stdout and stderr are terminals; otherwise (``trainer.progress=false``, output to a file
    or a pipe, a batch job) one plain line on stdout per logged step instead of ``\\r``
    updates: ``step 20/1000  g_loss 0.1234  d_loss 0.6931  45.2 img/s  elapsed 0:00:12  eta 0:09:48``.
    """

    def __init__(self, total: int, initial: int, enabled: bool, desc: str, bar: bool = True) -> None:
        self._bar = None
        self.enabled, self.total, self.initial, self.desc = enabled, total, initial, desc
        self._start = time.monotonic()
        if enabled and bar and _is_terminal(sys.stdout) and _is_terminal(sys.stderr):
            from tqdm import tqdm

            self._bar = tqdm(total=total, initial=initial, desc=desc, unit="step",
                             dynamic_ncols=True, file=sys.stderr, leave=True)

    def update(self, n: int, postfix: dict[str, float]) -> None:
        if self._bar is not None:
            self._bar.set_postfix({k: f"{v:.4g}" for k, v in postfix.items()}, refresh=False)
            self._bar.update(n)

    def log(self, step: int, values: dict[str, float]) -> None:
        """The values logged at ``step`` (losses, ``img_per_s``): the bar's postfix, or a plain line."""
        if self._bar is not None:
            self.update(0, values)
            return
        if not self.enabled:
            return
        elapsed = time.monotonic() - self._start
        done = step - self.initial
        eta = _clock(elapsed / done * max(self.total - step, 0)) if done > 0 else "?"
        parts = [f"step {step}/{self.total}"]
        parts += [f"{k} {v:.4g}" for k, v in values.items() if k != "img_per_s"]
        if "img_per_s" in values:
            parts.append(f"{values['img_per_s']:.3g} img/s")
        parts += [f"elapsed {_clock(elapsed)}", f"eta {eta}"]
        print("  ".join(parts), flush=True)

    def write(self, message: str) -> None:
        if self._bar is not None:
            self._bar.write(message, file=sys.stderr)
        else:
            print(message, file=sys.stderr)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
