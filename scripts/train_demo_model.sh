#!/usr/bin/env bash
# Regenerate the scene data and retrain the shipped demo model from scratch, then write its card.
# CPU only is fine (about 30-45 minutes on 2 cores). Usage: scripts/train_demo_model.sh [WORK_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
work=${1:-data/demo}
py=.venv/bin/python
$py -m srn_core generate --out "$work/train" --n 4000 --seed 1 --workers 2 --quiet
$py -m srn_core generate --out "$work/val" --n 400 --seed 2 --quiet
$py -m srn_core train --data "$work/train/manifest.json" --val-data "$work/val/manifest.json" --out "$work/run" \
  --backbone compact --widths 32 64 128 256 --att-channels 128 --sr-channels 512 --input-size 224 \
  --epochs 14,4,6,4 --optimizer adamw --lr 2e-3,1e-3,1e-3,1e-4 --weight-decay 1e-4 --batch-size 32 \
  --seed 0 --workers 1
cp "$work/run/final.safetensors" weights/demo_scenes.safetensors
$py -m analysis scene-proof --weights weights/demo_scenes.safetensors --generate 1000 --seed 3 \
  --gradcam-images 200 --json weights/proof.json --card weights/README.md
