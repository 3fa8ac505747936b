"""``python -m benchmarks``: quality against baselines, the perception-distortion trade-off and speed
against peers, in one command.

    python -m benchmarks --suite quality                  # every registered task, default preset
    python -m benchmarks --suite tradeoff --tasks srgan   # PSNR vs ST-LPIPS/patch KID over adversarial weights
    python -m benchmarks --suite speed                    # recon vs plain, MONAI, BasicSR; syncs, FLOP/s, data, scaling
    python -m benchmarks --suite speed --speed-rounds 7   # medians and spreads over 7 interleaved rounds
    python -m benchmarks --suite quality,tradeoff         # a list: runs quality, then tradeoff (reusing it)
    python -m benchmarks --suite all --tasks mri_superres,srgan
    python -m benchmarks --suite all --smoke --out /tmp/b # seconds per task (CI)
    python -m benchmarks --suite quality --tasks srgan --out DIR --append   # re-run srgan into DIR
    python -m benchmarks --update-readme [RESULTS_DIR]    # README table from the latest results

Writes ``benchmarks/results/<date>/`` (or ``--out``): results.json, results.md, figures/. A
results.json already in --out is overwritten, unless --append merges the run into it.
Exit codes: 0 done, 1 something failed (still written, see results.md), 2 bad usage.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from recon.errors import UsageError

REPO = Path(__file__).resolve().parent.parent


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        print(f"{self.prog}: error: {message} (see --help)", file=sys.stderr)
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m benchmarks",
                     description="recon's benchmark suite: quality against baselines, the perception-distortion "
                                 "trade-off, speed against peers.",
                     formatter_class=argparse.RawDescriptionHelpFormatter,
                     epilog="\n".join(__doc__.splitlines()[2:]))
    parser.add_argument("--suite", metavar="SUITES",
                        help="quality, tradeoff, speed, or a comma-separated list of them (run in that order "
                             "whatever order is given); all = quality,tradeoff,speed (the default, unless only "
                             "--update-readme is given)")
    parser.add_argument("--tasks", help="comma-separated task names or variant labels, e.g. mri_kspace_4x "
                        "(default: every registered task)")
    parser.add_argument("--smoke", action="store_true", help="smoke presets and a few steps: seconds per task")
    parser.add_argument("--out", help="output directory (default: benchmarks/results/<date>/); a results.json "
                                      "already there is overwritten, unless --append")
    parser.add_argument("--append", action="store_true",
                        help="merge this run into the results.json of --out instead of overwriting it: re-run "
                             "labels replace their records, the others are kept, every command is listed")
    parser.add_argument("--device", choices=["auto", "cpu", "cuda"], default="cpu",
                        help="where to train and time (default cpu: the published numbers are CPU numbers)")
    parser.add_argument("--no-compare", action="store_true",
                        help="skip the non-adversarial comparison runs (about a third less time)")
    parser.add_argument("--steps", type=int, metavar="N",
                        help="timed steps per loop in each round of the speed suite (default 10; 2 with --smoke)")
    parser.add_argument("--speed-rounds", type=int, metavar="N",
                        help="interleaved rounds of the speed suite (default 5): each ratio is the median over "
                             "the rounds, with its min-max spread")
    parser.add_argument("--tradeoff-steps", type=int, metavar="N",
                        help="train the tradeoff sweep for N steps instead of the preset's (quality runs are "
                             "then not reused unless they had N steps too)")
    parser.add_argument("--update-readme", nargs="?", const="", metavar="RESULTS_DIR",
                        help="regenerate the README's results table (from RESULTS_DIR, else the latest results)")
    parser.add_argument("--readme", default=str(REPO / "README.md"), help=argparse.SUPPRESS)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    try:
        return _main(args, argv)
    except UsageError as exc:
        print(f"benchmarks: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("benchmarks: interrupted", file=sys.stderr)
        return 130


def _main(args: argparse.Namespace, argv: list[str]) -> int:
    from benchmarks.report import update_readme
    from benchmarks.suite import RESULTS_ROOT

    code = 0
    results_dir = None
    run = args.suite is not None or args.update_readme is None
    if args.append and not args.out:
        raise UsageError("--append needs --out DIR (the results directory to merge into)")
    if args.append and not run:
        raise UsageError("--append merges a run into --out: give --suite too")
    if run:
        from benchmarks.report import print_tables
        from benchmarks.suite import default_out, failures, parse_suites, run_suite

        parse_suites(args.suite or "all")  # a bad name is a usage error before anything else
        if args.steps is not None and args.steps < 1:
            raise UsageError("--steps must be at least 1")
        if args.speed_rounds is not None and args.speed_rounds < 1:
            raise UsageError("--speed-rounds must be at least 1")
        if args.tradeoff_steps is not None and args.tradeoff_steps < 1:
            raise UsageError("--tradeoff-steps must be at least 1")
        tasks = [t.strip() for t in args.tasks.split(",") if t.strip()] if args.tasks else None
        if args.tasks is not None and not tasks:
            raise UsageError("--tasks is empty")
        out = Path(args.out) if args.out else default_out()
        results, this_run = run_suite(args.suite or "all", tasks, out, smoke=args.smoke, device=args.device,
                                      argv=argv, compare=not args.no_compare, steps=args.steps,
                                      speed_rounds=args.speed_rounds,
                                      tradeoff_steps=args.tradeoff_steps, append=args.append)
        print_tables(results)
        print(f"results: {out}")
        bad = failures(this_run)  # what failed in this invocation (an appended file may keep older failures)
        if bad:
            print(f"benchmarks: {len(bad)} failure(s): {', '.join(bad)} (logs under {out / 'scratch'})",
                  file=sys.stderr)
            code = 1
        results_dir = out
    if args.update_readme is not None:
        source = Path(args.update_readme) if args.update_readme else results_dir
        path = update_readme(Path(args.readme), source, RESULTS_ROOT)
        print(f"updated {path}")
    return code


if __name__ == "__main__":
    raise SystemExit(main())
