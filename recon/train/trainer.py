"""The GAN trainer: one phase-based loop for every task (stylegan2-ada's loop as the model).

Per step: ``d_steps`` discriminator updates (with lazy R1/GP), one generator update (content
+ adversarial terms, lazy G regularization), the EMA update, then logging, validation,
samples and atomic checkpoints at their intervals. Training batches are a pure function of
(seed, sample index) and every other random draw comes from a per-step RNG, so a resumed run
continues exactly where it stopped.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any, cast

import torch
from torch import nn
from torch.utils.data import DataLoader

from recon import __version__
from recon.errors import CheckpointError, ConfigError
from recon.losses.objective import GANObjective
from recon.train import checkpoint as ckpt
from recon.train import cudnn, nonfinite
from recon.train.config_checks import check_config
from recon.train.device_simulation import device_simulation
from recon.train.ema import EMA
from recon.train.faults import RunInterrupted, TrainingDiverged, resume_command
from recon.train.init_from import initialise, trainable_parameters
from recon.train.logger import LogWindow, Progress, RunLogger, read_values
from recon.train.networks import setup_parts
from recon.train.phases import PhaseContext, gan_step
from recon.train.distributed import (agree_flags, any_rank, broadcast_buffers, init_process_group, sync_batchnorm,
                                     wrap_for_training)
from recon.train.precision import CHANNELS_LAST, check_precision, make_scaler, to_channels_last
from recon.train.runtime import (DistInfo, capture_rng, decorrelate_ranks, flushing_subnormals, resolve_device,
                                 restore_rng, seed_everything, seed_step, step_generator)
from recon.train.preflight import check_metric_inputs
from recon.train.samples import write_sample_grid
from recon.train.schedules import lr_scheduler
from recon.train.sampler import StepBatchSampler
from recon.train.signals import GracefulStop
from recon.train.split_sizes import describe_splits

__all__ = ["Trainer", "TrainingDiverged"]


class Trainer:
    """Trains ``task`` with ``cfg`` into ``run_dir``.

    Args:
        task: the :class:`recon.task.Task`.
        cfg: the resolved :class:`recon.config.RunConfig`.
        run_dir: the run directory (created by the CLI).
        resume_state: a loaded checkpoint to continue from, or ``None``.
        init_state: a new run's parent checkpoint (``trainer.init_from``, loaded by the CLI), or
            ``None`` (loaded here when ``trainer.init_from`` is set): see :mod:`recon.train.init_from`.
    """

    def __init__(self, task: Any, cfg: Any, run_dir: Path, resume_state: dict | None = None,
                 init_state: dict | None = None) -> None:
        self.task, self.cfg, self.run_dir = task, cfg, run_dir
        self.dist = DistInfo.from_env()
        self.device = resolve_device(cfg.device, self.dist)
        tcfg = cfg.trainer
        if tcfg.batch_size % (self.dist.world_size * tcfg.grad_accum):
            raise ConfigError(
                f"trainer.batch_size={tcfg.batch_size} must be divisible by world size x grad_accum "
                f"({self.dist.world_size} x {tcfg.grad_accum})")
        check_config(cfg, task)  # ranges, and the registered loss / networks / metrics it names
        task.validate(cfg)
        check_precision(self.device, tcfg.precision)
        cudnn.configure(self.device, cfg)  # cudnn.benchmark for fixed-size patches on CUDA
        if tcfg.threads:
            torch.set_num_threads(tcfg.threads)
        init_process_group(self.dist, self.device)
        seed_everything(cfg.seed)  # the same on every rank: identical initial networks
        self.step = 0
        self.rollbacks = 0
        rng = capture_rng()  # the networks' initialisation does not depend on how the data is built
        self.train_set = task.build_dataset(cfg, "train")
        # data.simulate_on=device: the DataLoader draws targets and parameters, the device measures
        self.simulation = device_simulation(task, cfg, self.train_set, self.to_device)
        if self.dist.is_main:
            print(describe_splits(task, cfg, self.train_set), flush=True)  # what the run trains and scores on
        restore_rng(rng)
        self._build_networks()
        if resume_state is None and tcfg.init_from:  # fine-tuning: a resumed run restores its own weights
            initialise(self, init_state)
        self._build_optimizers()
        if self.dist.is_main:
            from recon.data.split_record import write_splits

            write_splits(self.run_dir, cfg.data.source)  # evaluation never sees training data
        check_metric_inputs(self.task, self.parts, self.cfg)  # eval.metrics reading batch keys the data lacks
        if resume_state is not None:
            self.load_state(resume_state)
        decorrelate_ranks(cfg.seed, self.step, self.dist)
        self.ctx = self._phase_context()

    # -- construction ---------------------------------------------------------------------
    def _build_networks(self) -> None:
        cfg, device = self.cfg, self.device
        # the task's networks, objective and baselines, fitted on the training data where it fits any
        self.parts = parts = setup_parts(self.task, cfg, self.train_set)
        self.objective = parts.objective or GANObjective.from_config(cfg.loss)
        self.generator = parts.generator.to(device)  # model.g_network's when set
        disc = parts.discriminator
        self.discriminator = disc.to(device) if disc is not None else None
        if cfg.trainer.channels_last:  # NHWC: faster convolutions with cuDNN and oneDNN alike
            self.generator = to_channels_last(self.generator)
            if self.discriminator is not None:
                self.discriminator = to_channels_last(self.discriminator)
        g_reg = parts.generator_regularizer
        self.g_regularizer = g_reg.to(device) if g_reg is not None else None
        self.generator, self.discriminator = sync_batchnorm(self.generator, self.discriminator, cfg,
                                                            g_reg is not None, self.dist, device)
        parts.generator, parts.discriminator = self.generator, self.discriminator  # the modules trained
        self.ema = (EMA(self.generator, cfg.trainer.ema_decay, cfg.trainer.ema_start)
                    if cfg.trainer.ema_decay > 0 else None)
        augment = parts.augment
        if cfg.loss.d_augment:
            if augment is not None:
                raise ConfigError(f"loss.d_augment={cfg.loss.d_augment!r}: task {self.task.name} already "
                                  "augments D's inputs (its own augmentation, e.g. ADA); use one of them")
            from recon.augment.select import build_d_augment

            augment = build_d_augment(cfg.loss)
        self.augment = augment.to(device) if augment is not None else None
        self.perceptual_fn = None
        if cfg.loss.perceptual > 0:
            from recon.metrics.st_lpips import STLPIPS

            self.perceptual_fn = STLPIPS(cfg.loss.perceptual_net, device=device)

    def _build_optimizers(self) -> None:
        t = self.cfg.trainer
        params_g = trainable_parameters(self.generator, getattr(self.cfg.model, "freeze", []))  # model.freeze
        self.opt_g = torch.optim.Adam(params_g, lr=t.lr_g, betas=tuple(t.betas))
        self.opt_d = (torch.optim.Adam(self.discriminator.parameters(), lr=t.lr_d, betas=tuple(t.betas))
                      if self.discriminator is not None else None)
        self.scaler_g = make_scaler(self.device, t.precision)
        self.scaler_d = make_scaler(self.device, t.precision)
        self.sched_g = self._scheduler(self.opt_g)
        self.sched_d = self._scheduler(self.opt_d) if self.opt_d is not None else None

    def _scheduler(self, optimizer: torch.optim.Optimizer) -> torch.optim.lr_scheduler.LRScheduler:
        return lr_scheduler(self.cfg.trainer, optimizer)

    def _phase_context(self) -> PhaseContext:
        mods = wrap_for_training(self.generator, self.discriminator, self.cfg, self.dist, self.device)
        return PhaseContext(
            parts=self.parts, objective=self.objective, cfg=self.cfg, device=self.device, generator=mods.generator,
            discriminator=mods.discriminator, discriminator_raw=mods.discriminator_g,
            augment=self.augment, g_regularizer=self.g_regularizer, perceptual_fn=self.perceptual_fn,
            ema_generator=self.ema.model if self.ema is not None else None,
            no_sync=mods.no_sync, generator_eager=mods.generator_eager,
            discriminator_eager=mods.discriminator_eager,
            any_rank=lambda flag: any_rank(flag, self.dist, self.device),
            agree=lambda flags: agree_flags(flags, self.dist),
        )

    # -- state ----------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Everything needed to resume, as weights_only-safe types."""
        nets: dict[str, Any] = {"generator": self.generator.state_dict()}
        optim: dict[str, Any] = {"generator": self.opt_g.state_dict()}
        if self.discriminator is not None:
            assert self.opt_d is not None  # built with the discriminator (_build_optimizers)
            nets["discriminator"] = self.discriminator.state_dict()
            optim["discriminator"] = self.opt_d.state_dict()
        if self.ema is not None:
            nets["ema"] = self.ema.state_dict()
        state = {
            "format": ckpt.FORMAT, "format_version": ckpt.FORMAT_VERSION, "recon_version": __version__,
            "task": self.task.name, "config": self.cfg.to_dict(), "step": self.step,
            "world_size": self.dist.world_size,
            "nets": nets, "optim": optim,
            "scalers": {"generator": self.scaler_g.state_dict(), "discriminator": self.scaler_d.state_dict()},
            "sched": {"generator": self.sched_g.state_dict(),
                      "discriminator": self.sched_d.state_dict() if self.sched_d else {}},
            "rng": capture_rng(),
            "trainer_state": {"rollbacks": self.rollbacks},
        }
        if self.augment is not None:
            state["augment"] = self.augment.state_dict()
        if self.g_regularizer is not None:
            state["g_reg"] = self.g_regularizer.state_dict()
        return state

    def load_state(self, state: dict[str, Any]) -> None:
        """Restore everything :meth:`state_dict` saved; a mismatch is a CheckpointError."""
        try:
            self._apply_state(state)
        except (KeyError, TypeError, ValueError, RuntimeError, IndexError, AttributeError) as exc:
            detail = str(exc).splitlines()[0][:200] if str(exc) else ""
            raise CheckpointError(
                f"checkpoint of step {state.get('step')} does not fit this run's {self.task.name} networks/optimizers "
                f"({type(exc).__name__}: {detail}); was --set used to change model.* or trainer.* on --resume?"
            ) from None
        self._saved_step = self.step  # the checkpoint just loaded holds this step

    def _apply_state(self, state: dict[str, Any]) -> None:
        self.generator.load_state_dict(state["nets"]["generator"])
        self.opt_g.load_state_dict(state["optim"]["generator"])
        if self.discriminator is not None:
            assert self.opt_d is not None  # built with the discriminator (_build_optimizers)
            self.discriminator.load_state_dict(state["nets"]["discriminator"])
            self.opt_d.load_state_dict(state["optim"]["discriminator"])
        if self.ema is not None and "ema" in state["nets"]:
            self.ema.load_state_dict(state["nets"]["ema"])
        self.scaler_g.load_state_dict(state["scalers"]["generator"])
        self.scaler_d.load_state_dict(state["scalers"]["discriminator"])
        self.sched_g.load_state_dict(state["sched"]["generator"])
        if self.sched_d is not None and state["sched"].get("discriminator"):
            self.sched_d.load_state_dict(state["sched"]["discriminator"])
        if self.augment is not None and "augment" in state:
            self.augment.load_state_dict(state["augment"])
        if self.g_regularizer is not None and "g_reg" in state:
            self.g_regularizer.load_state_dict(state["g_reg"])
        restore_rng(state["rng"])
        self.rollbacks = state.get("trainer_state", {}).get("rollbacks", 0)
        self.step = int(state["step"])

    def save(self) -> Path | None:
        """Checkpoint the current step atomically (main process); never over a good one with NaN weights."""
        if not self.dist.is_main:
            self._saved_step = self.step
            return None
        state = self.state_dict()
        if not ckpt.weights_finite(state):
            print(f"recon: warning: non-finite weights at step {self.step}; checkpoint not written, "
                  "the last good one is kept", file=sys.stderr)
            return None
        path = ckpt.save_checkpoint(state, self.run_dir / "checkpoints" / ckpt.LAST)
        self._saved_step = self.step
        return path

    @property
    def eval_generator(self) -> nn.Module:
        return self.ema.model if self.ema is not None else self.generator

    # -- the loop -------------------------------------------------------------------------
    def batch_iterator(self) -> Any:
        """Training micro-batches from the current step on (the DataLoader over the step sampler)."""
        t = self.cfg.trainer
        sampler = StepBatchSampler(t.batch_size, t.grad_accum, self.dist, start_step=self.step)
        # An own generator: creating the iterator must not draw from the global RNG (exact resume).
        dataset = self.train_set if self.simulation is None else self.simulation.dataset
        loader = DataLoader(dataset, batch_sampler=sampler, num_workers=t.num_workers,
                            pin_memory=self.device.type == "cuda", persistent_workers=t.num_workers > 0,
                            generator=torch.Generator().manual_seed(self.cfg.seed))
        return iter(loader) if self.simulation is None else self.simulation.batches(loader)

    def to_device(self, batch: dict[str, Any]) -> dict[str, Any]:
        """Move a batch's tensors to the run's device (4D tensors channels_last when configured)."""
        cl = self.cfg.trainer.channels_last
        out = {}
        for key, value in batch.items():
            if isinstance(value, torch.Tensor):
                value = value.to(self.device, non_blocking=True)
                if cl and value.dim() in CHANNELS_LAST:
                    value = value.contiguous(memory_format=CHANNELS_LAST[value.dim()])
            out[key] = value
        return out

    def train_step(self, batches: list[dict[str, Any]]) -> dict[str, Any]:
        """One full step (D phases, G phase, EMA) on the step's micro-batches.

        Returns the logged values as 0-dim float64 tensors on the device (the trainer reads
        them every ``trainer.log_every`` steps) and ``"nonfinite"``: 1.0 when a loss or a
        gradient was not finite (a float: the step's one read of the device, see
        :mod:`recon.train.phases`)."""
        t = self.cfg.trainer
        rng = step_generator(self.cfg.seed, self.step, self.dist.rank, self.device)
        seed_step(self.cfg.seed, self.step, self.dist.rank)  # the global RNG's draws in the step, too
        adversarial_on = (self.discriminator is not None and self.cfg.loss.adversarial > 0
                          and self.step >= t.d_warmup_steps)
        d_steps = t.d_steps if adversarial_on else 0  # adversarial_on: D and its optimizer exist
        logs = gan_step(self.ctx, (self.opt_d, self.scaler_d), (self.opt_g, self.scaler_g), batches, self.step, rng,
                        d_steps, adversarial_on)
        if self.ema is not None:
            self.ema.update(self.generator, self.step)
        self.sched_g.step()
        if self.sched_d is not None and adversarial_on:
            self.sched_d.step()
        if self.augment is not None and hasattr(self.augment, "p"):
            logs["ada_p"] = cast(Any, self.augment).p.detach().to(torch.float64, copy=True)
        return logs

    def fit(self) -> dict[str, Any]:
        """Train to ``trainer.max_steps``; returns the final test evaluation. On the CPU with
        ``trainer.flush_denormal`` subnormal floats count as zero meanwhile (restored after)."""
        with flushing_subnormals(self.cfg.trainer.flush_denormal and self.device.type == "cpu"):
            return self._fit()

    def _fit(self) -> dict[str, Any]:
        t = self.cfg.trainer
        main = self.dist.is_main
        logger = RunLogger(self.run_dir, enabled=main, resume_step=self.step)
        progress = Progress(t.max_steps, self.step, enabled=main, bar=t.progress, desc=self.task.name)
        batches_iter = self.batch_iterator()
        images_per_step = t.batch_size
        window_start, window_images = time.perf_counter(), 0
        window = LogWindow()  # logged values are means over the steps since the last log
        stop = GracefulStop().__enter__()  # SIGINT/SIGTERM: finish the step, checkpoint, exit
        try:
            while self.step < t.max_steps:
                if stop.should_stop(self.dist, self.device):
                    self._interrupted(stop)
                batches = [self.to_device(next(batches_iter)) for _ in range(t.grad_accum)]
                buffers = nonfinite.snapshot_buffers(self) if t.nan_policy == "skip" else None
                logs = self.train_step(batches)
                if logs.pop("nonfinite", 0.0):
                    rewound = self._handle_nonfinite(read_values(logs), progress, buffers)
                    if rewound is not None:  # rolled back: replay from the checkpoint's step
                        batches_iter = rewound
                        logger.close()
                        logger = RunLogger(self.run_dir, enabled=main, resume_step=self.step)
                    continue
                self.step += 1
                window_images += images_per_step
                window.add(logs)
                if self.step % t.log_every == 0 or self.step == t.max_steps:
                    elapsed = max(time.perf_counter() - window_start, 1e-9)
                    logs = window.means()
                    logs["img_per_s"] = window_images / elapsed
                    logs["lr_g"] = self.opt_g.param_groups[0]["lr"]
                    logs = self._reduce(logs)
                    logger.log(self.step, logs)
                    progress.log(self.step, {k: v for k, v in logs.items() if k in ("g_loss", "d_loss", "img_per_s")})
                    window_start, window_images = time.perf_counter(), 0
                progress.update(1, {})
                self._periodic(logger, progress)
            if getattr(self, "_saved_step", None) != self.step:
                self.save()
            if stop.should_stop(self.dist, self.device):
                self._interrupted(stop)
        finally:
            stop.__exit__(None, None, None)
            progress.close()
        result = self.evaluate("test")
        if main:
            (self.run_dir / "eval.json").write_text(json.dumps(result, indent=2) + "\n")
            final = {f"test/{k}": v for k, v in result["metrics"].items() if isinstance(v, (int, float))}
            logger.log(self.step, final)
            logger.log_hparams(self.cfg.to_dict(), final)
        logger.close()
        return result

    def _periodic(self, logger: RunLogger, progress: Progress) -> None:
        t, step = self.cfg.trainer, self.step
        if t.eval_every and step % t.eval_every == 0 and step < t.max_steps:
            result = self.evaluate("val")
            if result["metrics"]:
                logger.log(step, {f"val/{k}": v for k, v in result["metrics"].items()})
        if t.sample_every and (step % t.sample_every == 0 or step == t.max_steps):
            path = self.write_samples(step)
            if path is not None:
                logger.log_image(step, "samples", path)
        if t.checkpoint_every and step % t.checkpoint_every == 0:
            self.save()

    def _reduce(self, logs: dict[str, float]) -> dict[str, float]:
        from recon.train.distributed import reduce_logs

        return reduce_logs(logs, self.dist, self.device)

    def _handle_nonfinite(self, logs: dict[str, float], progress: Progress, buffers: list | None = None) -> Any:
        """Apply ``trainer.nan_policy`` (see :mod:`recon.train.nonfinite`); a new iterator after a rollback."""
        return nonfinite.recover(self, logs, progress, buffers)

    def _interrupted(self, stop: GracefulStop) -> None:
        """Checkpoint the finished step (unless just saved) and raise RunInterrupted."""
        if getattr(self, "_saved_step", None) != self.step:
            self.save()
        raise RunInterrupted(f"interrupted by {stop.name} at step {self.step}; checkpoint saved in "
                             f"{self.run_dir / 'checkpoints'}; resume with: "
                             f"{resume_command(self.task.name, self.run_dir)}", stop.signum or 2)

    # -- evaluation and samples -----------------------------------------------------------
    def evaluate(self, split: str) -> dict[str, Any]:
        """Score the EMA (else the trained) generator on ``split``; periodic validation
        (``split="val"``) leaves out the patch KID/FID (hundreds of Inception passes)."""
        cfg = self.cfg
        if split != "test":
            cfg = cfg.copy()
            cfg.eval.patch_kid = False
        twin = self._comparison_generator()  # loaded once, shared with the samples
        extra = dict([twin]) if twin is not None else {}
        model = self.eval_generator
        broadcast_buffers(model, self.dist)  # rank 0's BatchNorm statistics on every shard
        was_training = model.training
        from recon.evaluation import evaluate_task

        result = evaluate_task(self.task, self.parts, cfg, model, split, self.device, extra)
        model.train(was_training)
        if self.ema is None:
            self.generator.train()
        return result

    @torch.no_grad()
    def write_samples(self, step: int, n: int = 4) -> Path | None:
        """``samples/step_<step>.png``: ``n`` validation examples as labelled panels with a
        zoomed detail; with ``eval.compare_checkpoint`` the compared (non-adversarial) model's
        output sits beside this run's. Returns the path (``None`` on ranks other than 0)."""
        if not self.dist.is_main:
            return None
        model = self.eval_generator
        model.eval()
        path = self.run_dir / "samples" / f"step_{step:07d}.png"
        write_sample_grid(path, self.task, self.parts, self.cfg, model, self._comparison_generator(),
                          self.to_device, n)
        if self.ema is None:
            self.generator.train()
        return path

    def _comparison_generator(self) -> tuple[str, nn.Module] | None:
        """``(label, generator)`` of ``eval.compare_checkpoint`` (loaded once), or None."""
        if not self.cfg.eval.compare_checkpoint:
            return None
        if getattr(self, "_twin", None) is None:
            from recon.train.inference import comparison_name, load_generator

            other, other_cfg = load_generator(self.cfg.eval.compare_checkpoint, self.task, self.device,
                                              role="eval.compare_checkpoint")
            self._twin = (comparison_name(other_cfg, self.cfg.eval.compare_label), other.eval())
        return self._twin
