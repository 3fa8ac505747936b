"""The Task contract: what a plugin provides so the core can train, evaluate and predict.

A task bundles data (with its degradation), networks, losses, metrics, baselines and
presets. The trainer and the CLI only talk to tasks through this class; plugins subclass it
and register a factory with the ``register_tasks`` hook.

Batches are dicts of tensors. Conditional tasks use ``batch["input"]`` (the degraded image,
``(N, C, h, w)``) and ``batch["target"]`` (``(N, C, H, W)``); evaluation datasets also carry
``batch["volume"]`` (an integer id: slices of one volume are scored together in the
``fastmri`` convention).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Union

if TYPE_CHECKING:  # keep `import recon.task` light
    import torch
    from torch import Tensor, nn
    from torch.utils.data import Dataset

    from recon.config import RunConfig
    from recon.physics import Operator

Baseline = Callable[[dict[str, "Tensor"]], "Tensor"]
#: what :meth:`Task.generate` returns: the images, or the images and auxiliary outputs
Generated = Union["Tensor", tuple["Tensor", dict[str, "Tensor"]]]


def split_generated(output: Generated) -> tuple["Tensor", dict[str, "Tensor"]]:
    """``(images, aux)`` of what :meth:`Task.generate` returned: the images alone, or the
    images and a mapping of auxiliary outputs (e.g. a complex image before its magnitude)."""
    if isinstance(output, tuple):
        images, aux = output
        return images, dict(aux)
    return output, {}


class Task:
    """Base class of every task. Override what differs; defaults fit image-to-image tasks."""

    name: str = ""
    description: str = ""
    #: ``fastmri`` (per volume, data range = volume max) or ``sr`` (Y channel, border crop)
    metric_convention: str = "fastmri"
    #: unconditional tasks generate from noise and are scored with FID/KID
    unconditional: bool = False
    #: registered metrics (``register_metrics``) this task always reports beside core's, in the
    #: same evaluation pass (``eval.metrics`` adds more)
    metrics: tuple[str, ...] = ()
    #: captions of the panels :meth:`visualize` returns, left to right (empty: no header, no zoom);
    #: ``"output"`` marks the model's panel and ``"target"`` the panel the zoom window is chosen on
    sample_labels: tuple[str, ...] = ("input", "output", "target")
    #: how the benchmark suite runs this task (``None``: the default preset once); see
    #: docs/benchmarks.md for the accepted forms (opt out, variants with extra overrides)
    benchmark: Any = None

    # -- configuration --------------------------------------------------------------------
    def config_sections(self) -> dict[str, type]:
        """Dataclass types of the sections this task adds or replaces (``model``, ``data``...)."""
        return {}

    def presets(self) -> dict[str, dict[str, Any]]:
        """Preset name -> nested overrides. Must include ``smoke``, ``default`` and ``paper``."""
        return {"smoke": {}, "default": {}, "paper": {}}

    def validate(self, cfg: "RunConfig") -> None:
        """Raise ``ConfigError`` for combinations of values that cannot work."""

    # -- data -----------------------------------------------------------------------------
    def operator(self, cfg: "RunConfig") -> "Operator | None":
        """The forward operator that turns a clean image into the generator's input
        (:mod:`recon.physics`), or ``None`` for a task that builds its own datasets.

        A task that declares one writes no dataset: core measures the clean images of
        ``cfg.data`` per sample (:func:`recon.data.measurements.measurement_dataset`) and
        reports the operator's pseudo-inverse as the classical baseline (:meth:`baselines`).
        """
        return None

    def build_dataset(self, cfg: "RunConfig", split: str) -> "Dataset":
        """The dataset of ``split`` (``train``, ``val`` or ``test``).

        ``train`` is indexed by a global sample counter and must be deterministic in
        (``cfg.seed``, index) so a resumed run sees exactly the same batches; ``val`` and
        ``test`` are finite lists of whole images or slices. The default measures the clean
        images of ``cfg.data`` with :meth:`operator`.
        """
        operator = self.operator(cfg)
        if operator is None:
            raise NotImplementedError(f"task {self.name} declares no operator: it must override build_dataset")
        from recon.data.measurements import measurement_dataset

        return measurement_dataset(cfg, split, operator)

    # -- networks ---------------------------------------------------------------------------
    def build_generator(self, cfg: "RunConfig") -> "nn.Module":
        raise NotImplementedError

    def build_discriminator(self, cfg: "RunConfig") -> "nn.Module | None":
        """The discriminator, or ``None`` for a task trained without an adversary."""
        return None

    def generate(self, generator: "nn.Module", batch: dict[str, "Tensor"],
                 rng: "torch.Generator | None" = None) -> Generated:
        """Run the generator on a batch: ``(N, C, H, W)`` output in the target's range.

        A task whose content loss needs more than the images (e.g. the complex image behind a
        magnitude) returns ``(images, aux)``: the trainer hands ``aux``'s tensors to
        :meth:`content_loss` inside its ``batch`` (nothing is kept between calls); every other
        caller uses the images (:func:`split_generated`).
        """
        return generator(batch["input"])

    def real_images(self, batch: dict[str, "Tensor"]) -> "Tensor":
        """The real samples shown to the discriminator."""
        return batch["target"]

    def discriminator_input(self, cfg: "RunConfig", batch: dict[str, "Tensor"], images: "Tensor") -> "Tensor":
        """What D sees for ``images``; conditional discriminators concatenate the input here."""
        return images

    # -- losses -----------------------------------------------------------------------------
    def content_loss(self, cfg: "RunConfig", batch: dict[str, "Tensor"], fake: "Tensor",
                     perceptual_fn: Callable | None = None) -> dict[str, "Tensor"]:
        """Weighted non-adversarial loss terms of the generator."""
        from recon.losses import content_loss

        loss = cfg.loss
        return content_loss(fake, batch["target"], l1=loss.l1, l2=loss.l2,
                            perceptual=loss.perceptual, perceptual_fn=perceptual_fn)

    def generator_regularizer(self, cfg: "RunConfig") -> "nn.Module | None":
        """An optional lazy generator regularizer (e.g. path length), called every
        ``loss.g_reg_interval`` steps as ``reg(generator, batch) -> scalar`` (the trainer
        multiplies it by the interval)."""
        return None

    def build_augment(self, cfg: "RunConfig") -> "nn.Module | None":
        """Optional differentiable augmentation applied to D's inputs (e.g. ADA)."""
        return None

    # -- evaluation -------------------------------------------------------------------------
    #: a task whose evaluation is not the paired loop sets this to a method
    #: ``evaluate(cfg, generator, split, device, extra_models) -> dict`` (the eval.json
    #: structure); ``None`` (the default): core scores it with
    #: :func:`recon.evaluation.evaluate_paired`, through :func:`recon.evaluation.evaluate_task`
    evaluate: Callable[..., dict[str, Any]] | None = None

    def baselines(self, cfg: "RunConfig") -> dict[str, Baseline]:
        """Classical baselines, ``name -> fn(batch) -> prediction``; the first is *the* baseline.

        The default is the declared operator's pseudo-inverse, named by its ``baseline_name``.
        """
        operator = self.operator(cfg)
        if operator is None:
            return {}
        from recon.data.measurements import params_from_batch

        def pseudo_inverse(batch: dict[str, "Tensor"]) -> "Tensor":
            return operator.pseudo_inverse(batch["input"], params_from_batch(operator, batch))

        return {operator.baseline_name: pseudo_inverse}

    def postprocess(self, images: "Tensor") -> "Tensor":
        """Map network outputs to the range the metrics expect (clamping by default)."""
        return images.clamp(0, 1)

    def visualize(self, cfg: "RunConfig", batch: dict[str, "Tensor"], fake: "Tensor") -> list["Tensor"]:
        """Panels for ``samples/*.png``: a list of ``(N, C, H, W)`` tensors in [0, 1]
        shown side by side (input | output | target by default)."""
        import torch.nn.functional as F

        target = batch["target"]
        inputs = batch["input"]
        if inputs.shape[-2:] != target.shape[-2:]:
            inputs = F.interpolate(inputs, size=target.shape[-2:], mode="nearest")
        return [inputs.clamp(0, 1), self.postprocess(fake), target.clamp(0, 1)]

    # -- inference --------------------------------------------------------------------------
    def predict_file(self, cfg: "RunConfig", generator: "nn.Module", input_path: Path,
                     output_path: Path, device: "torch.device") -> Path:
        """Apply the trained generator to a user's file and write the result."""
        from recon.errors import UsageError

        raise UsageError(f"task {self.name} does not support `recon predict`")

    def sample_file(self, cfg: "RunConfig", generator: "nn.Module", n: int, out_dir: Path,
                    device: "torch.device", seed: int = 0) -> list[Path]:
        """Write ``n`` unconditional samples (``recon generate``)."""
        from recon.errors import UsageError

        raise UsageError(f"task {self.name} is conditional: use `recon predict`, not `recon generate`")

