"""recon's own registrations: core adversarial losses, data sources and metrics.

Registered through the same hooks a plugin uses, so third-party plugins can add more of
each kind, and selected by the same config keys (``loss.gan_type``, ``data.source``,
``eval.metrics``; see :mod:`recon.hookspecs`). Factories import lazily: nothing here
imports torch.
"""

from __future__ import annotations

from typing import Any

from recon.hookspecs import hookimpl


@hookimpl
def register_losses(register: Any) -> None:
    def adversarial(name: str) -> Any:
        def factory() -> Any:
            from recon.losses import ADVERSARIAL_LOSSES

            return ADVERSARIAL_LOSSES[name]
        return factory

    descriptions = {
        "ns": "non-saturating GAN loss (Goodfellow 2014)",
        "lsgan": "least-squares GAN (Mao 2017)",
        "hinge": "hinge loss (Lim & Ye 2017)",
        "wgan-gp": "Wasserstein loss with gradient penalty (Gulrajani 2017)",
        "ragan": "relativistic average GAN (Jolicoeur-Martineau 2018, ESRGAN)",
    }
    for name, text in descriptions.items():
        register(name, adversarial(name), description=text, kind="adversarial")


@hookimpl
def register_data_sources(register: Any) -> None:
    def mni152(*args: Any, **kwargs: Any) -> Any:
        from recon.data.sources import mni152 as load

        return load(*args, **kwargs)

    def natural(**kwargs: Any) -> Any:
        from recon.data.sources import natural_images

        return natural_images()

    def faces(**kwargs: Any) -> Any:
        from recon.data.sources import faces as load

        return load()

    register("mni152", mni152, description="MNI ICBM152 2009a brain (nilearn, 1 mm): real T1, simulated "
             "T2/PD (mni152:t2, mni152:pd)")
    register("natural", natural, description="photographs shipped by scikit-image and scikit-learn")
    register("faces", faces, description="200 gray 25x25 faces (scikit-image lfw_subset), limited-data generation")


@hookimpl
def register_metrics(register: Any) -> None:
    """Core's distortion metrics in the register_metrics contract. Every paired evaluation
    reports them anyway (one pass, :func:`recon.metrics.image_metrics`); ``eval.metrics``
    listing one of them recomputes the same value through this entry."""

    def convention_metric(name: str) -> Any:
        def factory(convention: str, scale: int = 0) -> Any:
            import recon.metrics as metrics

            fn = getattr(metrics, name)
            return lambda target, prediction: fn(target, prediction, convention, scale=scale)
        return factory

    def nmse(convention: str, scale: int = 0) -> Any:
        from recon.metrics import nmse as fn

        return fn

    register("psnr", convention_metric("psnr"), description="PSNR in the task's convention (fastmri, sr)")
    register("ssim", convention_metric("ssim"), description="SSIM in the task's convention (fastmri, sr)")
    register("nmse", nmse, description="NMSE ||gt - pred||^2 / ||gt||^2 on the raw values")
