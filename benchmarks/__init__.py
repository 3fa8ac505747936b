"""recon's benchmark suite (``python -m benchmarks``)."""
