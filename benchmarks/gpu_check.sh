#!/usr/bin/env bash
# recon on a CUDA GPU in one command, under a time budget (420 s by default): every task's smoke
# preset in fp32/bf16/fp16, trainer.compile off/on, a 2-process NCCL run when >= 2 GPUs are visible;
# writes results.json (its gpu section) and results.md. The work is python -m benchmarks.gpu_check
# (see its --help and docs/benchmarks.md); this wrapper activates nothing: run it in the project's
# environment, from anywhere.
#
#   bash benchmarks/gpu_check.sh                                   # benchmarks/results/<date>-gpu/
#   bash benchmarks/gpu_check.sh --out benchmarks/results/DIR --append
#   bash benchmarks/gpu_check.sh --device cpu --tasks mri_superres # a dry run on a CPU
#   PYTHON=python3 bash benchmarks/gpu_check.sh
set -u
cd "$(dirname "$0")/.." || exit 1
exec "${PYTHON:-python}" -m benchmarks.gpu_check "$@"
