"""Hook specifications of recon's plugin system (pluggy, project name ``recon``).

Every hook takes a ``register`` callback, so a plugin registers as many things as it likes
and the registration stays lazy: a factory is only called when the thing is used, so
``recon list`` never builds a network or imports a heavy module.

A plugin module (found through the ``recon`` entry-point group) looks like::

    from recon import hookimpl

    @hookimpl
    def register_tasks(register):
        register("my_task", lambda: MyTask(), description="what it does")

Everything registered is selectable by config, and nothing else is registered:

=========================  ======================================================
hook                       selected by
=========================  ======================================================
``register_tasks``         ``recon run --task NAME``
``register_networks``      ``model.g_network`` / ``model.d_network`` (by role)
``register_losses``        ``loss.gan_type``
``register_metrics``       ``eval.metrics`` (a list)
``register_data_sources``  ``data.source``
=========================  ======================================================
"""

from __future__ import annotations

from typing import Any, Callable

import pluggy

hookspec = pluggy.HookspecMarker("recon")
hookimpl = pluggy.HookimplMarker("recon")

Register = Callable[..., None]


@hookspec
def register_tasks(register: Register) -> None:
    """Register tasks: ``register(name, factory, description="", **extra)``.

    ``factory()`` returns a :class:`recon.task.Task` instance. Selected by
    ``recon run --task NAME``; ``extra`` keys show in ``recon list --json`` (the benchmark
    suite reads ``benchmark=``).
    """


@hookspec
def register_networks(register: Register) -> None:
    """Register networks: ``register(name, factory, role=..., tasks=(...), description="")``.

    ``role`` (required) is ``"generator"`` or ``"discriminator"``; ``tasks`` (optional) names
    the tasks the network fits (left out: every task). ``factory(cfg)`` receives the run's
    resolved :class:`recon.config.RunConfig` and returns a ``torch.nn.Module``.

    Selected by ``model.g_network=NAME`` (a generator) or ``model.d_network=NAME`` (a
    discriminator) in place of the task's own ``build_generator`` / ``build_discriminator``;
    the empty string (the default) keeps the task's. The module must take what the task
    feeds it: the generator is called by ``task.generate`` (``generator(batch["input"])``
    for image-to-image tasks, output at the target's size), the discriminator with
    ``task.discriminator_input(cfg, batch, images)`` and returns logits of any shape. Its weights
    live in the checkpoint like the task's own; ``recon eval`` / ``predict`` rebuild it from
    the registry, so the plugin must be installed there too. An unknown name, a network of
    the other role or one not registered for the task is refused with exit code 2.
    """


@hookspec
def register_losses(register: Register) -> None:
    """Register adversarial losses: ``register(name, factory, kind="adversarial", description="")``.

    ``factory()`` returns a :class:`recon.losses.AdversarialLoss`: ``d_loss(real_logits,
    fake_logits) -> scalar`` minimised by the discriminator, ``g_loss(fake_logits,
    real_logits_or_None) -> scalar`` minimised by the generator (both on raw logits of any
    shape), ``needs_real_in_g`` (the trainer passes detached ``D(real)`` logits to ``g_loss``,
    as relativistic losses need) and ``gradient_penalty`` (the trainer adds the WGAN-GP
    penalty, weight ``loss.gp_weight``, every ``loss.reg_interval`` D steps).

    Selected by ``loss.gan_type=NAME`` (core registers ``ns``, ``lsgan``, ``hinge``,
    ``wgan-gp`` and ``ragan``); an unknown name is refused with exit code 2. ``"adversarial"``
    is the only ``kind``: no config key selects any other loss.
    """


@hookspec
def register_data_sources(register: Register) -> None:
    """Register built-in data sources: ``register(name, factory, description="")``.

    ``factory(**kwargs)`` returns the source's data (see :mod:`recon.data`). Selected by
    ``data.source=NAME`` (or ``NAME:variant``).
    """


@hookspec
def register_metrics(register: Register) -> None:
    """Register paired metrics: ``register(name, factory, description="", inputs=())``.

    ``factory(convention=..., scale=...)`` is called once per evaluation with the task's
    metric convention (``"fastmri"`` or ``"sr"``) and its border crop (``sr`` only) and
    returns ``metric(target, prediction) -> float``. The metric is called once per unit the
    paired evaluation scores, with two float32 NumPy arrays of equal shape in [0, 1] (the
    prediction postprocessed by the task): in the ``fastmri`` convention a volume
    ``(slices, H, W)`` (the slices of one volume stacked, channels averaged), in the ``sr``
    convention one image ``(C, H, W)``; eval.json reports the mean over units, for the model
    and every baseline, under ``NAME`` (as core's ``psnr``, ``ssim`` and ``nmse``).

    ``inputs`` names batch keys the metric also reads, e.g. ``("mask",)`` for an error inside an
    inpainting hole: the metric is then called as ``metric(target, prediction, mask=...)``
    with each input cut to the same unit (channels averaged and slices stacked as the target).

    Listed by a task in ``Parts.metrics`` (always reported), or selected by
    ``eval.metrics=[NAME, ...]``, for tasks scored by the paired evaluation
    (:func:`recon.evaluation.evaluate_paired`); an unknown name, or a task whose evaluation
    does not go through it (unconditional tasks), is refused with exit code 2.
    """


HOOK_KINDS: dict[str, str] = {
    "register_tasks": "tasks",
    "register_networks": "networks",
    "register_losses": "losses",
    "register_data_sources": "data_sources",
    "register_metrics": "metrics",
}

__all__: list[Any] = ["hookspec", "hookimpl", "HOOK_KINDS"]
