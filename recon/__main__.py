"""``python -m recon`` runs the CLI (also what ``torchrun -m recon`` launches)."""

from recon.cli.main import main

if __name__ == "__main__":
    raise SystemExit(main())
