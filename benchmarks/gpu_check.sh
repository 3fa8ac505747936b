#!/usr/bin/env bash
# One short check of recon on a CUDA machine (about 4-5 minutes with 7 tasks):
#   1. every registered task's smoke preset on the GPU with bf16 autocast (fp16 on GPUs
#      without bf16), end to end (train, checkpoint, evaluate);
#   2. a 2-process DDP run (torchrun, NCCL) of mri_superres smoke when >= 2 GPUs exist;
#   3. trainer.compile=true (inductor) on mri_superres smoke;
#   4. the img/s of every task's default preset, from metrics.jsonl, for about
#      GPU_CHECK_SECONDS (default 20) each, the first logged window (warm-up) left out.
# On a machine without CUDA it says so and exits 0.
#
#   bash benchmarks/gpu_check.sh            # from the repository root, in the project's venv
#   GPU_CHECK_SECONDS=30 PYTHON=python3 bash benchmarks/gpu_check.sh
#   GPU_CHECK_TASKS="mri_superres srgan"   # only these tasks
#   GPU_CHECK_DEVICE=cpu                   # dry run of this script itself on a CPU (gloo DDP)
set -u

PY=${PYTHON:-python}
BENCH_S=${GPU_CHECK_SECONDS:-20}
DEVICE=${GPU_CHECK_DEVICE:-cuda}
cd "$(dirname "$0")/.." || exit 1

if ! "$PY" -c "import torch, recon" 2>/dev/null; then
    echo "gpu_check: '$PY' cannot import torch and recon: activate the project's environment first"
    exit 1
fi
if [ "$DEVICE" = cuda ] && ! "$PY" -c "import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)"; then
    echo "gpu_check: no CUDA GPU visible to PyTorch on $(hostname); nothing to check (run it on a GPU machine)"
    exit 0
fi

WORK=$(mktemp -d -t recon-gpu-check-XXXXXX)
FAILED=()
trap '[ ${#FAILED[@]} -eq 0 ] && rm -rf "$WORK"' EXIT  # kept for the logs when something failed
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-4}
if [ "$DEVICE" = cuda ]; then
    NGPU=$("$PY" -c "import torch; print(torch.cuda.device_count())")
    PREC=$("$PY" -c "import torch; print('bf16' if torch.cuda.is_bf16_supported() else 'fp16')")
else
    NGPU=2 PREC=bf16
fi
ALL_TASKS=$("$PY" -m recon list --json | "$PY" -c "import json, sys; print(' '.join(t['name'] for t in json.load(sys.stdin)['tasks']))")
TASKS=${GPU_CHECK_TASKS:-$ALL_TASKS}
"$PY" - <<'EOF'
import torch
print(f"gpu_check: torch {torch.__version__}, CUDA {torch.version.cuda}, {torch.cuda.device_count()} GPU(s):",
      ", ".join(torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())))
EOF
echo "gpu_check: tasks: $TASKS; precision $PREC"
QUIET=(--set trainer.progress=false)

run_step() {  # name, timeout seconds, command...
    local name=$1 limit=$2; shift 2
    local log="$WORK/$name.log" start=$SECONDS rc=0
    timeout -k 10 "$limit" "$@" >"$log" 2>&1 || rc=$?
    if [ "$rc" -eq 0 ]; then
        printf '  ok    %-34s %4ds\n' "$name" $((SECONDS - start))
    else
        printf '  FAIL  %-34s %4ds (exit %s%s); last lines:\n' "$name" $((SECONDS - start)) "$rc" \
            "$([ "$rc" -eq 124 ] && echo ", timed out after ${limit}s")"
        tail -n 15 "$log" | sed 's/^/        /'
        FAILED+=("$name")
    fi
}

echo "== smoke presets on $DEVICE ($PREC)"
for task in $TASKS; do
    run_step "smoke-$task" 90 "$PY" -m recon run --task "$task" --preset smoke --device "$DEVICE" \
        --out "$WORK/smoke-$task" --set trainer.precision="$PREC" "${QUIET[@]}"
done

echo "== DDP"
if [ "$NGPU" -ge 2 ]; then
    run_step "ddp-2gpu-mri_superres" 120 "$PY" -m torch.distributed.run --standalone --nproc_per_node 2 \
        -m recon run --task mri_superres --preset smoke --device "$DEVICE" --out "$WORK/ddp" \
        --set trainer.precision="$PREC" --set trainer.batch_size=8 --set trainer.d_warmup_steps=0 "${QUIET[@]}"
else
    echo "  skip  ddp (only $NGPU GPU)"
fi

echo "== torch.compile (inductor)"
run_step "compile-mri_superres" 180 "$PY" -m recon run --task mri_superres --preset smoke --device "$DEVICE" \
    --out "$WORK/compile" --set trainer.precision="$PREC" --set trainer.compile=true --set trainer.d_warmup_steps=0 \
    "${QUIET[@]}"
if grep -q "torch.compile of the" "$WORK/compile-mri_superres.log" 2>/dev/null; then
    grep "torch.compile of the" "$WORK/compile-mri_superres.log" | sed 's/^/        /'
fi

echo "== img/s of the default presets (${BENCH_S}s each, $PREC, 1 GPU)"
for task in $TASKS; do
    out="$WORK/bench-$task"
    # SIGINT after BENCH_S seconds: the trainer finishes its step, checkpoints and exits
    timeout -s INT -k 20 "$BENCH_S" "$PY" -m recon run --task "$task" --preset default --device "$DEVICE" --out "$out" \
        --set trainer.precision="$PREC" --set trainer.log_every=5 --set trainer.eval_every=0 \
        --set trainer.sample_every=0 --set trainer.checkpoint_every=1000000 "${QUIET[@]}" >"$WORK/bench-$task.log" 2>&1
    "$PY" - "$task" "$out/metrics.jsonl" <<'EOF'
import json, statistics, sys
task, path = sys.argv[1], sys.argv[2]
try:
    rows = [json.loads(line) for line in open(path) if '"img_per_s"' in line]
except OSError:
    rows = []
rates = [r["img_per_s"] for r in rows[1:]]  # the first window holds start-up and autotuning
if rates:
    print(f"  {task:24s} {statistics.median(rates):10.1f} img/s  (median of {len(rates)} windows, "
          f"step {rows[-1]['step']})")
else:
    print(f"  {task:24s}        n/a  (fewer than 2 logged windows: start-up took the whole budget)")
EOF
done

if [ ${#FAILED[@]} -gt 0 ]; then
    echo "gpu_check: FAILED: ${FAILED[*]} (logs were in $WORK)"
    exit 1
fi
echo "gpu_check: all checks passed"
