"""The Task contract: what a plugin declares so the core can train, evaluate and predict.

A task is a declaration. It names its configuration (:meth:`Task.config_sections`,
:meth:`Task.presets`, :meth:`Task.validate`), its data (a forward operator,
:meth:`Task.operator`, or its own datasets, :meth:`Task.build_dataset`), and, in one call,
everything it trains and how it is scored: :meth:`Task.setup` returns :class:`Parts`
(networks, objective, baselines, metrics). Prediction (:meth:`Task.predict_file`,
:meth:`Task.sample_file`) completes the eight methods a plugin can override. Nothing is kept
on the task between calls: what a task fits on its training data (e.g. intensity statistics)
it fits in :meth:`Task.setup` and keeps in the parts (or in the generator's weights, so a
checkpoint carries it).

Batches are dicts of tensors. Conditional tasks use ``batch["input"]`` (the degraded image,
``(N, C, h, w)``) and ``batch["target"]`` (``(N, C, H, W)``); evaluation datasets also carry
``batch["volume"]`` (an integer id: slices of one volume are scored together in the
``fastmri`` convention).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Union

if TYPE_CHECKING:  # keep `import recon.task` light
    import torch
    from torch import Tensor, nn
    from torch.utils.data import Dataset

    from recon.config import RunConfig
    from recon.losses.objective import Objective
    from recon.physics import Operator

__all__ = ["Baseline", "Generated", "Parts", "ReferenceSamples", "SampleBaseline", "Sampler", "Task", "build_parts",
           "default_content_loss", "split_generated"]

Batch = dict[str, "Tensor"]
Baseline = Callable[[Batch], "Tensor"]
#: ``(generator, indices, seed, device) -> (len(indices), C, H, W)`` samples in [0, 1] on the CPU
Sampler = Callable[["nn.Module", range, int, "torch.device"], "Tensor"]
#: ``(cfg, split, n, seed) -> ReferenceSamples`` or why the row is not computed for ``split``
SampleBaseline = Callable[["RunConfig", str, int, int], Union["ReferenceSamples", str]]
#: what :attr:`Parts.generate` returns: the images, or the images and auxiliary outputs
Generated = Union["Tensor", tuple["Tensor", dict[str, "Tensor"]]]


def split_generated(output: Generated) -> tuple["Tensor", dict[str, "Tensor"]]:
    """``(images, aux)`` of what :attr:`Parts.generate` returned: the images alone, or the
    images and a mapping of auxiliary outputs (e.g. a complex image before its magnitude)."""
    if isinstance(output, tuple):
        images, aux = output
        return images, dict(aux)
    return output, {}


def generate_from_input(generator: "nn.Module", batch: Batch, rng: "torch.Generator | None" = None) -> Generated:
    """The default :attr:`Parts.generate`: ``G(batch["input"])``."""
    return generator(batch["input"])


def target_images(batch: Batch) -> "Tensor":
    """The default :attr:`Parts.real_images`: ``batch["target"]``."""
    return batch["target"]


def images_only(batch: Batch, images: "Tensor") -> "Tensor":
    """The default :attr:`Parts.discriminator_input`: D sees the images alone."""
    return images


def clamp_unit(images: "Tensor") -> "Tensor":
    """The default :attr:`Parts.postprocess`: clamp to [0, 1]."""
    return images.clamp(0, 1)


@dataclass
class Parts:
    """Everything a task trains and how it is scored, as :meth:`Task.setup` returns it.

    Only ``generator`` is required; every other field has a default that fits image-to-image
    tasks (``G(input)`` against ``target``, L1/L2/perceptual content terms of ``cfg.loss``, the
    operator's pseudo-inverse as baseline). Callables receive what they need as arguments;
    the task's config is whatever they close over.

    Attributes:
        generator: the network trained; ``(N, C, h, w) -> (N, C, H, W)`` by default.
        discriminator: the adversary, or ``None`` for a task trained without one.
        generate: ``(generator, batch, rng) -> images`` or ``(images, aux)``: the images
            ``(N, C, H, W)`` in the target's range; ``aux`` tensors (e.g. a complex image
            behind a magnitude) reach :attr:`content_loss` inside its batch, nothing is kept
            between calls. ``rng`` is the step's generator (``None`` outside training).
        real_images: ``batch -> (N, C, H, W)``, the real samples D sees.
        discriminator_input: ``(batch, images) -> tensor`` D sees for ``images``
            (a conditional D concatenates the input here).
        content_loss: ``(batch, fake, perceptual_fn) -> {name: weighted term}``, the
            generator's non-adversarial terms; ``None``: :func:`recon.losses.content_loss`
            with ``cfg.loss``'s ``l1``/``l2``/``perceptual`` weights against ``batch["target"]``.
        objective: what each phase of a step minimises
            (:class:`recon.losses.objective.Objective`); ``None``: the default
            :class:`~recon.losses.objective.GANObjective` of ``cfg.loss``.
        generator_regularizer: a lazy G regularizer ``reg(generator, batch) -> scalar``
            (e.g. path length), due every ``loss.g_reg_interval`` steps.
        augment: a differentiable augmentation of D's inputs (e.g. ADA).
        baselines: classical methods, ``name -> fn(batch) -> prediction``; the first is *the*
            baseline. ``None``: the operator's pseudo-inverse named by its ``baseline_name``.
        metrics: registered metrics (``register_metrics``) always reported beside core's.
        postprocess: network output -> the range the metrics expect (clamp to [0, 1]).
        visualize: ``(batch, fake) -> [(N, C, H, W), ...]`` panels of ``samples/*.png`` in
            [0, 1], left to right; ``None``: input | output | target.
        sample_labels: captions of the :attr:`visualize` panels (``"output"`` marks the
            model's panel, ``"target"`` the one the zoom window is chosen on; empty: none).
        predict_dims: what ``recon predict`` feeds the model: ``2`` slices of a volume along
            ``data.axis`` (or a 2D image), ``3`` whole volumes
            (:func:`recon.prediction.scans.predict_scan`).
        restore_intensity: map predictions back to the input file's intensity units (``False``:
            the output is another contrast, written in [0, 1]).
        sampler: for unconditional tasks, ``(generator, indices, seed, device) -> (len(indices),
            C, H, W)`` CPU images in [0, 1]: the samples of one evaluation batch, each a function
            of (seed, index) and the batch's first index only. Its presence makes core score the
            task by FID/KID of samples (:func:`recon.generative_eval.evaluate_generative`)
            instead of the paired evaluation.
        sample_baselines: for unconditional tasks, classical references scored as if generated,
            ``name -> fn(cfg, split, n, seed) -> ReferenceSamples | str`` (a string says why the
            row is not computed for this split); the first is *the* baseline.
        stochastic_generate: whether :attr:`generate` draws random numbers (latents, labels or
            noise from ``rng`` or the global RNG), so each phase of a training step must
            generate anew. ``False`` lets one forward of G serve both phases
            (:mod:`recon.train.shared_forward`); ``None``: ``False`` for the default
            ``G(batch["input"])`` only, ``True`` for any other ``generate``.
    """

    generator: "nn.Module"
    discriminator: "nn.Module | None" = None
    generate: Callable[..., Generated] = generate_from_input
    real_images: Callable[[Batch], "Tensor"] = target_images
    discriminator_input: Callable[[Batch, "Tensor"], "Tensor"] = images_only
    content_loss: Callable[..., dict[str, "Tensor"]] | None = None
    objective: "Objective | None" = None
    generator_regularizer: "nn.Module | None" = None
    augment: "nn.Module | None" = None
    baselines: dict[str, Baseline] | None = None
    metrics: tuple[str, ...] = ()
    postprocess: Callable[["Tensor"], "Tensor"] = clamp_unit
    visualize: Callable[[Batch, "Tensor"], list["Tensor"]] | None = None
    sample_labels: tuple[str, ...] = ("input", "output", "target")
    predict_dims: int = 2
    restore_intensity: bool = True
    sampler: "Sampler | None" = None
    sample_baselines: "dict[str, SampleBaseline] | None" = None
    stochastic_generate: bool | None = None


@dataclass(frozen=True)
class ReferenceSamples:
    """Images a sample baseline offers to be scored as if a generator had made them.

    Attributes:
        draw: ``() -> (m, C, H, W)`` images in [0, 1], ``m`` at most the ``n`` asked for;
            called only when the row is scored (FID/KID with Inception weights, or the anatomy
            metrics), on rank 0.
        note: how they are made, for eval.json's conventions.
    """

    draw: Callable[[], "Tensor"]
    note: str


class Task:
    """Base class of every task: eight methods, of which a task overrides what differs."""

    name: str = ""
    description: str = ""
    #: ``fastmri`` (per volume, data range = volume max) or ``sr`` (Y channel, border crop)
    metric_convention: str = "fastmri"
    #: unconditional tasks generate from noise and are scored with FID/KID
    unconditional: bool = False
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
        reports the operator's pseudo-inverse as the classical baseline.
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

    # -- what is trained --------------------------------------------------------------------
    def setup(self, cfg: "RunConfig", train_data: "Dataset | None") -> Parts:
        """The networks, objective, baselines and metrics of a run (:class:`Parts`).

        ``train_data`` is the training dataset when a run is about to train (the place to fit
        what a task learns from its training split, e.g. a baseline's statistics), and ``None``
        when a checkpoint is loaded (the weights bring what was fitted). Networks are built
        here, generator first, from torch's global RNG (seeded by the trainer).
        """
        raise NotImplementedError(f"task {self.name} must implement setup(cfg, train_data) -> Parts")

    # -- inference --------------------------------------------------------------------------
    def predict_file(self, cfg: "RunConfig", parts: Parts, input_path: Path,
                     output_path: Path, device: "torch.device") -> Path:
        """Apply a trained model (``parts.generator`` holds its weights) to a user's file and
        write the result. The default, for a task whose generator reads an image
        (``batch["input"]``: the degraded scan, the source contrast...): core's prediction path
        (:func:`recon.prediction.scans.predict_scan`: prepared as in training, slice- or
        volume-wise, written in the input's format and geometry)."""
        from recon.errors import UsageError

        if self.unconditional:
            raise UsageError(f"task {self.name} does not support `recon predict`")
        from recon.prediction.scans import predict_scan

        channels = int(getattr(self, "channels", getattr(cfg.data, "channels", 1)))
        note = f"recon predict: {self.name} ({cfg.preset} preset)"
        return predict_scan(parts, cfg, input_path, output_path, device, note, channels)

    def sample_file(self, cfg: "RunConfig", parts: Parts, n: int, out_dir: Path,
                    device: "torch.device", seed: int = 0) -> list[Path]:
        """Write ``n`` unconditional samples of ``parts.generator`` (``recon generate``)."""
        from recon.errors import UsageError

        raise UsageError(f"task {self.name} is conditional: use `recon predict`, not `recon generate`")


def build_parts(task: Task, cfg: "RunConfig", train_data: "Dataset | None") -> Parts:
    """:meth:`Task.setup` with every ``None`` default resolved: the content loss of
    ``cfg.loss``, the operator's pseudo-inverse as baseline, input | output | target panels."""
    parts = task.setup(cfg, train_data)
    if not isinstance(parts, Parts):
        from recon.errors import PluginError

        raise PluginError(f"task {task.name}: setup() returned a {type(parts).__name__}, not recon.api.Parts")
    if parts.content_loss is None:
        parts.content_loss = default_content_loss(cfg)
    if parts.baselines is None:
        parts.baselines = _pseudo_inverse_baseline(task.operator(cfg))
    if parts.visualize is None:
        parts.visualize = _default_visualize(parts.postprocess)
    return parts


def default_content_loss(cfg: "RunConfig") -> Callable[..., dict[str, "Tensor"]]:
    """The default :attr:`Parts.content_loss`: ``(batch, fake, perceptual_fn) -> terms``, the
    ``loss.l1`` / ``l2`` / ``perceptual`` weighted terms of ``fake`` against ``batch["target"]``
    (:func:`recon.losses.content_loss`); ``cfg.loss`` is read at each call. A task that adds terms
    calls it and extends the result."""
    from recon.losses import content_loss

    def terms(batch: Batch, fake: "Tensor", perceptual_fn: Callable | None = None) -> dict[str, "Tensor"]:
        loss = cfg.loss
        return content_loss(fake, batch["target"], l1=loss.l1, l2=loss.l2,
                            perceptual=loss.perceptual, perceptual_fn=perceptual_fn)
    return terms


def _pseudo_inverse_baseline(operator: "Operator | None") -> dict[str, Baseline]:
    if operator is None:
        return {}
    from recon.data.measurements import params_from_batch

    def pseudo_inverse(batch: Batch) -> "Tensor":
        return operator.pseudo_inverse(batch["input"], params_from_batch(operator, batch))

    return {operator.baseline_name: pseudo_inverse}


def _default_visualize(postprocess: Callable[["Tensor"], "Tensor"]) -> Callable[[Batch, "Tensor"], list["Tensor"]]:
    def panels(batch: Batch, fake: "Tensor") -> list["Tensor"]:
        import torch.nn.functional as F

        target, inputs = batch["target"], batch["input"]
        if inputs.shape[-2:] != target.shape[-2:]:
            inputs = F.interpolate(inputs, size=target.shape[-2:], mode="nearest")
        return [inputs.clamp(0, 1), postprocess(fake), target.clamp(0, 1)]
    return panels
