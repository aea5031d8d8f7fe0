#!/usr/bin/env bash
# Regenerate the relation scenes (benchmark v2) and retrain the shipped demo model from scratch on the CPU,
# then write its card and proof numbers. Resumable: rerun the same command after an interruption and
# finished steps are skipped (each training step also resumes mid-stage).
# About 30 minutes on 2 free cores (measured time in weights/README.md). Usage: scripts/train_demo_model.sh [WORK_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
work=${1:-data/demo}
py=.venv/bin/python
run="$work/run"
mkdir -p "$work"
# Each step's wall time goes to $work/timing.txt; the card reports their sum (steps of earlier runs included).
timed() { local name=$1 t; shift; t=$(date +%s); "$@"; echo "$name $(( $(date +%s) - t ))" >> "$work/timing.txt"; }
[ -f "$work/train/manifest.json" ] || timed data $py -m srn_core generate --out "$work/train" --n 4000 --seed 1 \
  --workers 2 --quiet
[ -f "$work/val/manifest.json" ] || timed data $py -m srn_core generate --out "$work/val" --n 400 --seed 2 --quiet
common=(--data "$work/train/manifest.json" --val-data "$work/val/manifest.json" --out "$run"
  --backbone compact --widths 32 64 128 256 --padding-mode reflect --att-channels 128 --sr-channels 128 --input-size 224
  --epochs 10,12,1,2 --optimizer adamw --lr 2e-3,1e-3,1e-3,1e-4 --weight-decay 1e-4 --batch-size 32
  --seed 0 --workers 1 --resume
  --domain-description "synthetic glyph scenes of the relation benchmark v2 (224 px, cluttered backgrounds)")
# Stages 1-2: main net, then f_att + conv1.
[ -f "$run/stage2.safetensors" ] || timed stages_1_2 $py -m srn_core train "${common[@]}" --stages 1,2
# Stage 3: f_sr alone on the cached maps U of the frozen stage-2 model (same loss, far cheaper per epoch,
# so conv4 trains long enough to leave its initialisation).
[ -f "$run/stage3.safetensors" ] || timed stage_3 $py -m srn_core.training.sr_stage --run "$run" \
  --data "$work/train/manifest.json" --val-data "$work/val/manifest.json" \
  --epochs 150 --lr 3e-3 --weight-decay 0.5 --conv4-init 0.1 --batch-size 64 --seed 0
# Stage 4: everything jointly (loss on y and y_att); final.safetensors also records the training images'
# feature statistics, so that images unlike them are flagged (docs/training.md, "Out-of-domain statistics").
[ -f "$run/stage4.safetensors" ] || timed stage_4 $py -m srn_core train "${common[@]}" --stages 4
cp "$run/final.safetensors" weights/demo_scenes.safetensors
minutes=$(awk '{s += $2} END {printf "%.1f", s / 60}' "$work/timing.txt")
rm -rf weights/samples && $py -m srn_core generate --out weights/samples --n 16 --seed 5 --quiet
notes=()
[ -f weights/proof_notes.md ] && notes=(--notes weights/proof_notes.md)
$py -m analysis scene-proof --weights weights/demo_scenes.safetensors --generate 1000 --seed 3 \
  --gradcam-images 200 --json weights/proof.json --card weights/README.md --wall-time-min "$minutes" "${notes[@]}"
# The card's faithfulness section (scene-proof rewrote the card without it).
$py -m analysis faithfulness --weights weights/demo_scenes.safetensors --generate 24 --seed 3 \
  --spec weights/samples/spec.json --threads 2 --json weights/faithfulness.json --card weights/README.md
