"""One forward of the generator for both phases of an adversarial step, where that changes nothing.

A step updates D on a fake, then G through the updated D (:mod:`recon.train.phases`). Each
phase can generate its own fake (D's under ``no_grad``, G's with its graph): two forwards of G
per step. When G's forward is a function of its weights and the batch alone, D's last update
may instead run it once with its graph, judge the detached images, and hand ``(fake, aux)``
to the G phase: only D's weights change in between, so the G phase's graph is the one it
would have built, and D is still updated before G's adversarial loss is computed (BasicSR's
SRGAN step also runs G once per iteration).

:func:`shares_generator_forward` decides, per step, that this gives the results of two
forwards exactly. It requires:

- ``trainer.reuse_fake`` (default true; false keeps one forward per phase);
- D updates in the step (the adversarial phase: during D's warm-up G generates as before);
  with ``trainer.d_steps > 1`` only the last D update hands its fake over;
- one micro-batch per step: with gradient accumulation each micro-batch's graph would stay
  alive through the D phase, the memory accumulation exists to save;
- an objective whose phases are :class:`~recon.losses.objective.GANObjective`'s own
  (:func:`~recon.losses.objective.takes_generated`): plugin objectives that generate
  differently (progan's stages, CycleGAN's two generators) keep one forward per phase;
- a ``generate`` that draws nothing at random (:attr:`recon.task.Parts.stochastic_generate`;
  stylegan2 and progan draw latents from the step RNG, and their D and G phases see
  different latents);
- a generator whose forward in training mode changes no state and draws no random numbers
  (:func:`forward_changes_state`): no BatchNorm or InstanceNorm tracking running statistics
  (two forwards move them twice), no dropout with ``p > 0``, no spectral normalization (its
  power iteration updates a buffer at each forward).

These are checked before the step. As a safety net for modules the list does not know (a
registered network with noise inputs or running statistics), the forward that would be shared
is also watched (:func:`footprint`): when it moved a buffer of G or drew from the step RNG or
torch's default generators, its output is not handed over and the G phase generates as before,
which is then exactly the two-forward step.

Under DDP the forward with grad whose backward comes in the G phase is followed by exactly
one backward, as DDP requires; with one micro-batch no ``no_sync`` is involved. Peak memory
grows by G's activations during the D update.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn.utils import parametrize
from torch.nn.utils.spectral_norm import SpectralNorm

from recon.losses.objective import Objective, takes_generated
from recon.task import Parts, generate_from_input

__all__ = ["Footprint", "draws_at_random", "footprint", "forward_changes_state", "same_footprint",
           "shares_generator_forward"]

_NORMS = (nn.modules.batchnorm._BatchNorm, nn.modules.instancenorm._InstanceNorm)

#: what a forward may change: ``(id, version counter)`` of each buffer, the RNGs' states
Footprint = tuple[list[tuple[int, int]], list[Tensor]]


def draws_at_random(parts: Parts) -> bool:
    """:attr:`Parts.stochastic_generate` with its ``None`` default resolved: only the default
    :func:`recon.task.generate_from_input` is known to draw nothing at random."""
    if parts.stochastic_generate is not None:
        return parts.stochastic_generate
    return parts.generate is not generate_from_input


def _spectral_normalized(module: nn.Module) -> bool:
    """``module`` has a spectral norm (the parametrization or the older forward pre-hook)."""
    if any(isinstance(hook, SpectralNorm) for hook in module._forward_pre_hooks.values()):
        return True
    if parametrize.is_parametrized(module):
        plist = getattr(module, "parametrizations", {})
        return any(type(p).__name__ == "_SpectralNorm" for ps in plist.values() for p in ps)
    return False


def forward_changes_state(generator: nn.Module) -> list[str]:
    """The modules of ``generator`` (names, ``""`` for the root) whose forward in training mode
    updates a buffer or draws random numbers; empty when two forwards on one batch are the same
    computation as one."""
    found = []
    for name, module in generator.named_modules():
        if not module.training:
            continue
        stateful = ((isinstance(module, _NORMS) and module.track_running_stats)
                    or (isinstance(module, nn.modules.dropout._DropoutNd) and module.p > 0)
                    or _spectral_normalized(module))
        if stateful:
            found.append(name)
    return found


def shares_generator_forward(enabled: bool, parts: Parts, objective: Objective, generator: nn.Module,
                             micro_batches: int, d_steps: int) -> bool:
    """Whether one forward of ``generator`` may serve the last D update and the G update of a
    step of ``micro_batches`` micro-batches and ``d_steps`` D updates (see the module docstring;
    ``enabled``: ``trainer.reuse_fake``)."""
    return (enabled and d_steps > 0 and micro_batches == 1 and takes_generated(objective)
            and not draws_at_random(parts) and not forward_changes_state(generator))



def footprint(generator: nn.Module, rng: torch.Generator, device: torch.device) -> Footprint:
    """The state a forward of ``generator`` could change, read on the host (no device sync):
    its buffers' identities and version counters (in-place updates bump them), and the states
    of the step RNG ``rng`` and of torch's default generators (CPU, and ``device``'s on CUDA)."""
    generators = [rng, torch.default_generator]
    if device.type == "cuda":
        generators.append(torch.cuda.default_generators[device.index if device.index is not None
                                                        else torch.cuda.current_device()])
    return [(id(b), b._version) for b in generator.buffers()], [g.get_state() for g in generators]


def same_footprint(before: Footprint, after: Footprint) -> bool:
    """Whether nothing of :func:`footprint` changed in between."""
    return before[0] == after[0] and all(torch.equal(a, b) for a, b in zip(before[1], after[1], strict=True))
