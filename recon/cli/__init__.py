"""The ``recon`` command line (argparse; sub-commands import their dependencies lazily)."""
