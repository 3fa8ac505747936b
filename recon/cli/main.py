"""Entry point of the ``recon`` command: argument parsing and the exit-code policy.

Exit codes: 0 success; 2 bad usage or bad input (one line on stderr, no traceback);
1 an internal error; 3 a run stopped on a fault (diverged, disk full) with its last
checkpoint intact; 130/143 interrupted by SIGINT/SIGTERM (see docs/reliability.md); 141
(128 + SIGPIPE, nothing on stderr) when stdout's reader went away (``recon list | head -1``).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Sequence

from recon import __version__
from recon.errors import UsageError


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as one line and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        print(f"{self.prog}: error: {message} (see {self.prog} --help)", file=sys.stderr)
        raise SystemExit(2)


def _add_config_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments that resolve a run's config (``recon run`` and ``recon config``)."""
    parser.add_argument("--task", required=True, help="task name (see `recon list`)")
    parser.add_argument("--preset", help="smoke | default | paper (default: the --config file's preset:, "
                        "else default)")
    parser.add_argument("--config", help="a YAML config file applied after the preset (its task: must match "
                        "--task; its preset: is used when --preset is not given)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config value, e.g. --set trainer.max_steps=500 (repeatable)")
    parser.add_argument("--seed", type=int, help="random seed (default 0)")
    parser.add_argument("--device", choices=["auto", "cpu", "cuda"], help="where to train (default auto)")


def _add_inference_arguments(parser: argparse.ArgumentParser, examples: str) -> None:
    """``--set`` (the model's and its geometry's keys refused) and ``--device`` of eval / predict."""
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help=f"override a config value of the checkpoint's run ({examples}); keys of the model "
                             "and its geometry (model.*, data.scale, data.axis...) are refused")
    parser.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto", help="where to run the model")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="recon", description="Image reconstruction with adversarial losses.")
    parser.add_argument("--version", action="version", version=f"recon {__version__}",
                        help="print the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    run = sub.add_parser("run", help="train a task, evaluate it on the test split")
    _add_config_arguments(run)
    run.add_argument("--data", help="your own data: a file or folder (default: the task's built-in source)")
    run.add_argument("--out", help="run directory (default: runs/<task>/<time>)")
    run.add_argument("--resume", action="store_true", help="continue the run in --out from its last checkpoint")
    run.add_argument("--init-from", metavar="CKPT",
                     help="fine-tune: a new run (step 0, fresh optimizers, this run's config) whose networks start "
                          "from CKPT's weights (a checkpoint of this or another task with the same networks); "
                          "recorded with its sha256 in config.yaml; freeze layers with --set model.freeze=[...]")
    run.add_argument("--init-parts", metavar="PARTS",
                     help="with --init-from: the comma-separated networks to initialise, generator and/or "
                          "discriminator (default generator,discriminator; a D only where both runs have one)")

    ev = sub.add_parser("eval", help="evaluate a checkpoint on the test split or on your data")
    ev.add_argument("--checkpoint", required=True, help="the checkpoint to score (checkpoints/last.pt of a run)")
    ev.add_argument("--data", help="clean reference images/volumes; the task's degradation makes the inputs")
    ev.add_argument("--split", default="test", choices=["test", "val"],
                    help="which split of the run's data to score (default test; ignored with --data)")
    ev.add_argument("--max-images", type=int, metavar="N",
                    help="evaluate at most N images (default: every image of --data; without --data the "
                         "checkpoint's eval.max_images); 0 = every image")
    ev.add_argument("--json", help="write the result as JSON to this file ('-' prints JSON instead of the table)")
    ev.add_argument("--compare", help="a second checkpoint to report beside the model (e.g. non-adversarial)")
    _add_inference_arguments(ev, "eval.*, mask.acceleration...")

    pr = sub.add_parser("predict", help="apply a checkpoint to NIfTI/DICOM/PNG/TIFF/HDF5 files or folders")
    pr.add_argument("--checkpoint", required=True, help="a checkpoint of a conditional task (checkpoints/last.pt)")
    pr.add_argument("inputs", nargs="+", metavar="INPUT",
                    help="files, folders (searched recursively; a DICOM series folder is one input) or globs")
    pr.add_argument("-o", "--output", required=True,
                    help="the output file (one input), or a folder: one output per input, named as the input, "
                         "in the input's format (a DICOM series folder gives a DICOM series folder)")
    pr.add_argument("--force", action="store_true", help="replace outputs that already exist")
    pr.add_argument("--strict", action="store_true",
                    help="stop at the first bad input (default: report it, go on, exit 2 at the end)")
    pr.add_argument("--mask", help="inpainting: the hole mask image (white = hole); default: <input>_mask.png")
    pr.add_argument("--years", metavar="T[,T...]",
                    help="tasks that predict ahead in time (mri_progression): the interval(s) in years; several "
                         "write a series and a montage PNG")
    pr.add_argument("--group", metavar="NAME", help="with --years: the subject's group (e.g. healthy, MCI, AD)")
    _add_inference_arguments(pr, "eval.batch_size...")

    gen = sub.add_parser("generate", help="sample an unconditional model")
    gen.add_argument("--checkpoint", required=True, help="a checkpoint of an unconditional task (stylegan2)")
    gen.add_argument("-n", type=int, default=16, help="number of images")
    gen.add_argument("-o", "--output", required=True, help="output folder")
    gen.add_argument("--seed", type=int, default=0, help="image i depends on (seed, i) only (default 0)")
    gen.add_argument("--label", default=None, metavar="NAME",
                     help="class of every sample, for a conditional checkpoint (e.g. t2 of a stylegan2 run with "
                          "data.labels=contrast); default: sample i has class i %% classes")
    gen.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                     help="override a config value, e.g. --set model.truncation_psi=0.7")
    gen.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto", help="where to run the model")

    conf = sub.add_parser("config", help="print the resolved config of a task and preset as YAML")
    _add_config_arguments(conf)

    ls = sub.add_parser("list", help="list the registered tasks")
    ls.add_argument("--json", action="store_true", help="print the tasks as JSON")
    pl = sub.add_parser("plugins", help="list plugins and their load errors")
    pl.add_argument("--json", action="store_true", help="print the plugins and their load errors as JSON")
    return parser


def dispatch(args: argparse.Namespace) -> int:
    if args.command == "run":
        from recon.cli.run import cmd_run

        return cmd_run(args)
    if args.command == "eval":
        from recon.cli.evaluate import cmd_eval

        return cmd_eval(args)
    if args.command == "predict":
        from recon.cli.predict import cmd_predict

        return cmd_predict(args)
    if args.command == "config":
        from recon.cli.show_config import cmd_config

        return cmd_config(args)
    if args.command == "generate":
        from recon.cli.predict import cmd_generate

        return cmd_generate(args)
    from recon.cli.listing import cmd_list, cmd_plugins

    return cmd_list(args) if args.command == "list" else cmd_plugins(args)


def _one_line(exc: BaseException) -> str:
    """The message on one line (a wrapped library message may hold newlines and tabs)."""
    return " ".join(str(exc).split())


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``recon ARGV``; returns the exit code (see the module docstring)."""
    try:
        try:
            return _main(argv)
        finally:
            sys.stdout.flush()  # a reader that went away shows here, not in Python's flush at exit
    except BrokenPipeError:
        return _stdout_closed()


def _stdout_closed() -> int:
    """stdout's reader went away (``recon list --json | head -1``): exit quietly with 141
    (128 + SIGPIPE), as Unix tools do. stdout is pointed at /dev/null so that Python's own
    flush at exit does not fail again (Python docs, "Note on SIGPIPE")."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # no real file descriptor (in-process capture)
        pass
    return 141


def _main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    from recon.train.signals import exit_on_sigterm

    try:
        with exit_on_sigterm():
            return dispatch(args)
    except BrokenPipeError:
        raise  # stdout closed by its reader: main() exits quietly
    except UsageError as exc:
        print(f"recon: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:
        print("recon: interrupted", file=sys.stderr)
        return 128 + getattr(exc, "signum", 2)
    except Exception as exc:  # noqa: BLE001 - the last line of defence
        from recon.errors import ReconError
        from recon.train.faults import EXIT_FAULT, is_storage_error, storage_message

        if isinstance(exc, ReconError):
            print(f"recon: {getattr(exc, 'prefix', 'error: ')}{_one_line(exc)}", file=sys.stderr)
            return getattr(exc, "exit_code", 1)
        if is_storage_error(exc):
            print(f"recon: error: {storage_message(exc)}", file=sys.stderr)
            return EXIT_FAULT
        import traceback

        traceback.print_exc()
        print(f"recon: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
