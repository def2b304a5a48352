#!/usr/bin/env bash
# A Slurm job array that splits one experiment into K shards, one per array task, then merges
# them (bit-identical to a single run of the whole experiment).
#
#   sbatch --array=0-15 examples/slurm_array.sh experiments/sweeps/coercion_lhs.toml results/lhs
#   # when every task has finished:
#   build/release/wedge merge results/lhs/part-*.h5 --out results/lhs.h5
#
# Each task writes results/lhs/part-<i>.h5 (as .partial until complete). A task that was
# interrupted (pre-emption, time limit) can be resubmitted as is: --resume continues its file.
#SBATCH --job-name=wedge
#SBATCH --cpus-per-task=16
#SBATCH --time=02:00:00
#SBATCH --output=wedge-%A_%a.log
set -euo pipefail
experiment=$1
outdir=$2
shards=${SLURM_ARRAY_TASK_COUNT:?run with sbatch --array=0-(K-1)}
index=${SLURM_ARRAY_TASK_ID:?run with sbatch --array}
mkdir -p "$outdir"
out="$outdir/part-$index.h5"
resume=()
[ -e "$out.partial" ] && resume=(--resume)
exec build/release/wedge run "$experiment" --shard "$index/$shards" --threads "${SLURM_CPUS_PER_TASK:-1}" \
     --out "$out" "${resume[@]}"
