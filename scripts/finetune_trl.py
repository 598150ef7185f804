r"""Fine-tune a model with TRL on an `aidsafe-mcp export`: SFT on `--format sft`, DPO on `--format dpo`.

    pip install -r scripts/training-requirements.txt          # plus bitsandbytes for --quantize 4bit (a CUDA GPU)
    python scripts/finetune_trl.py --mode sft --data aidsafe-sft.jsonl --model Qwen/Qwen2.5-7B-Instruct --out qwen-aidsafe-sft
    python scripts/finetune_trl.py --mode dpo --data aidsafe-dpo.jsonl --model Qwen/Qwen2.5-7B-Instruct \
        --init-adapter qwen-aidsafe-sft --merge --out qwen-aidsafe-dpo

The first saves a LoRA adapter in qwen-aidsafe-sft; the second merges it into the base (qwen-aidsafe-dpo/base),
trains a DPO adapter on that, and with --merge saves base and adapter as one model in qwen-aidsafe-dpo/merged.

Before loading any weights it checks that the export fits the mode (prompt/completion or messages rows for
sft, prompt/chosen/rejected for dpo) and which field holds the chain of thought (`--reasoning`, the same
setting the export was made with); once the tokenizer is loaded, that its chat template keeps that field,
and for one batch that exactly the prompt's tokens are left out of the loss. It prints the counts, the time
per step and the last logged loss, and exits 1 with a message naming what to change when a check fails.
"""
import argparse
import json
import math
import sys
import time
from pathlib import Path

REASONING_MODES = ("think", "reasoning_content", "thinking")
SHAPES = {
    "prompt-completion": ("prompt", "completion"),
    "messages": ("messages",),
    "dpo": ("prompt", "chosen", "rejected"),
}


class Unfit(Exception):
    """The export, the flags or the tokenizer do not fit together; the message says what to change."""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="finetune_trl.py",
        description=__doc__.split("\n\n")[0],
        epilog="\n\n".join(__doc__.split("\n\n")[1:]),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    data = parser.add_argument_group("data")
    data.add_argument("--mode", choices=("sft", "dpo"), default="sft", help="sft trains on `export --format sft` rows, dpo on `export --format dpo` pairs (default: sft)")
    data.add_argument("--data", required=True, help="the export: JSONL (one row a line) or Parquet")
    data.add_argument(
        "--sft-shape",
        choices=("prompt-completion", "messages"),
        default="prompt-completion",
        help="sft only: prompt-completion (the export's default) trains on the completion alone; messages trains on the whole conversation, prompt included (default: prompt-completion)",
    )
    data.add_argument(
        "--reasoning",
        choices=("auto",) + REASONING_MODES,
        default="auto",
        help="where the rows hold the chain of thought, as given to `export --reasoning`: think (inside <think> in the content), reasoning_content or thinking (a field of its own); auto reads it from the first row (default: auto)",
    )
    data.add_argument("--max-length", type=int, default=4096, help="tokens per sequence, prompt and completion together; longer ones are truncated (default: 4096)")

    model = parser.add_argument_group("model")
    model.add_argument("--model", required=True, help="the base model: a Hub name (Qwen/Qwen3-8B) or a local folder")
    model.add_argument("--tokenizer", help="tokenizer folder or name, when not the model's")
    model.add_argument("--init-adapter", metavar="DIR", help="a LoRA adapter (from an earlier sft run) merged into the base before training, saved in OUT/base: DPO then starts from, and is measured against, the SFT model, and the new adapter applies to OUT/base")
    method = model.add_mutually_exclusive_group()
    method.add_argument("--lora", dest="lora", action="store_true", default=True, help="train a LoRA adapter on every linear layer (the default)")
    method.add_argument("--full", dest="lora", action="store_false", help="train every weight instead of an adapter")
    model.add_argument("--rank", type=int, default=16, help="LoRA rank; alpha is twice the rank (default: 16)")
    model.add_argument("--quantize", choices=("none", "4bit"), default="none", help="4bit loads the base in NF4 with bitsandbytes (QLoRA, as the paper; needs a CUDA GPU) (default: none)")
    model.add_argument("--gradient-checkpointing", action="store_true", help="recompute activations in the backward pass: less memory, slower")

    train = parser.add_argument_group("training")
    train.add_argument("--epochs", type=float, default=1.0, help="passes over the data (default: 1)")
    train.add_argument("--max-steps", type=int, default=-1, help="stop after this many optimizer steps; overrides --epochs (default: -1, off)")
    train.add_argument("--lr", type=float, help="learning rate (default: 2e-4 with LoRA, 2e-5 full; DPO a tenth of that)")
    train.add_argument("--beta", type=float, default=0.1, help="dpo only: how far the policy may move from the reference model (default: 0.1)")
    train.add_argument("--batch-size", type=int, default=2, help="rows per device per step (default: 2)")
    train.add_argument("--grad-accum", type=int, default=8, help="steps whose gradients are summed before an update (default: 8)")
    train.add_argument("--logging-steps", type=int, default=10, help="log the loss every N steps (default: 10)")
    train.add_argument("--save-steps", type=int, default=100, help="write a checkpoint every N steps, the last two kept, for --resume (default: 100)")
    train.add_argument("--seed", type=int, default=42, help="(default: 42)")

    output = parser.add_argument_group("output")
    output.add_argument("--out", required=True, help="folder for the adapter (or the weights, with --full), the tokenizer and the checkpoints")
    output.add_argument("--resume", nargs="?", const="last", metavar="CHECKPOINT", help="continue from the newest checkpoint-* in --out, or from the given checkpoint folder")
    output.add_argument("--merge", action="store_true", help="also save the base with the adapter merged in, in OUT/merged: a plain model folder any server loads")
    return parser.parse_args(argv)


# ---------------------------------------------------------------------------------------------------------
# The export's shape, checked before any weights are loaded


def first_row(path: Path) -> dict:
    if not path.is_file():
        raise Unfit(f"--data: {path} is not a file; write one with `aidsafe-mcp export --format sft|dpo --out {path}`")
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        table = pq.ParquetFile(path).read_row_group(0).slice(0, 1).to_pylist()
        if not table:
            raise Unfit(f"--data: {path} has no rows")
        return table[0]
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                try:
                    return json.loads(line)
                except json.JSONDecodeError as error:
                    raise Unfit(f"--data: the first line of {path} is not JSON ({error.msg}); give a JSONL or .parquet export") from None
    raise Unfit(f"--data: {path} has no rows")


def check_shape(row: dict, mode: str, sft_shape: str) -> tuple[str, ...]:
    """The columns to train on; Unfit when the rows are of another kind than the mode needs."""
    keys = set(row)
    if {"refined_thoughts", "deliberation_log"} & keys:
        raise Unfit("--data holds the aidsafe format (prompt, refined_thoughts, response, deliberation_log): those are the public dataset's columns, not training rows. Export with --format sft (or --format dpo for --mode dpo).")
    if mode == "sft":
        if {"chosen", "rejected"} <= keys:
            raise Unfit("--data holds preference pairs (prompt, chosen, rejected) from `export --format dpo`: train them with --mode dpo, or export --format sft for --mode sft.")
        if sft_shape == "prompt-completion" and "messages" in keys:
            raise Unfit(
                "--data rows hold one `messages` list (exported with --sft-shape messages), but the prompt/completion mode needs `prompt` and `completion` columns "
                "so that the loss leaves the prompt out. Export again without --sft-shape messages (prompt-completion is the export's default), "
                "or pass --sft-shape messages here to train on the whole conversation, the prompt included."
            )
        if sft_shape == "messages" and {"prompt", "completion"} <= keys:
            raise Unfit("--data rows are prompt/completion (the export's default shape), but --sft-shape messages was given: drop --sft-shape messages (the prompt then stays out of the loss), or export again with --sft-shape messages.")
        columns = SHAPES[sft_shape]
    else:
        if "messages" in keys or ("completion" in keys and "chosen" not in keys):
            raise Unfit("--mode dpo needs preference pairs (prompt, chosen, rejected), but --data holds sft rows: export with --format dpo (from a run made with --preference), or train this file with --mode sft.")
        columns = SHAPES["dpo"]
    missing = [c for c in columns if c not in keys]
    if missing:
        raise Unfit(f"--data rows lack {', '.join(missing)} (they have {', '.join(sorted(keys))}); give an `aidsafe-mcp export --format {'dpo' if mode == 'dpo' else 'sft'}` file.")
    for column in columns:
        if not isinstance(row[column], list) or not all(isinstance(m, dict) and "role" in m for m in row[column]):
            raise Unfit(f"--data: `{column}` must be a list of chat messages ({{role, content}}), as aidsafe-mcp exports it; it is {type(row[column]).__name__}")
    return columns


def assistant_turns(row: dict, mode: str, sft_shape: str) -> list[dict]:
    if mode == "dpo":
        return [*row["chosen"], *row["rejected"]]
    if sft_shape == "messages":
        return [m for m in row["messages"] if m.get("role") == "assistant"]
    return list(row["completion"])


def reasoning_of(message: dict) -> str:
    """Which field of an assistant message holds its chain of thought, or '' when none does."""
    for field in ("reasoning_content", "thinking"):
        if message.get(field):
            return field
    return "think" if "<think>" in (message.get("content") or "") else ""


def check_reasoning(row: dict, mode: str, sft_shape: str, asked: str) -> str:
    found = {reasoning_of(m) for m in assistant_turns(row, mode, sft_shape)} - {""}
    if not found:
        raise Unfit("--data: the assistant turns of the first row carry no chain of thought (no <think> block, no reasoning_content or thinking field); export the rows with aidsafe-mcp, which always writes one.")
    if len(found) > 1:
        raise Unfit(f"--data: the first row mixes reasoning fields ({', '.join(sorted(found))}); export again with one --reasoning setting.")
    held = found.pop()
    if asked not in ("auto", held):
        raise Unfit(f"--reasoning {asked} was given, but the rows hold the chain of thought in `{held}` (exported with --reasoning {held}): pass --reasoning {held}, or export again with --reasoning {asked}.")
    return held


# ---------------------------------------------------------------------------------------------------------
# The tokenizer's chat template and the loss mask


def with_reasoning(message: dict, mode: str) -> dict:
    """An assistant message moved to another reasoning field, to ask the template which ones it keeps."""
    held = reasoning_of(message)
    content = message.get("content") or ""
    if held == "think":
        thoughts, _, answer = content.partition("</think>")
        thoughts, answer = thoughts.replace("<think>", "").strip("\n"), answer.lstrip("\n")
    else:
        thoughts, answer = message[held], content
    base = {"role": "assistant", "content": answer}
    return {**base, "content": f"<think>\n{thoughts}\n</think>\n\n{answer}"} if mode == "think" else {**base, mode: thoughts}


def kept_by_template(tokenizer, prompt: list[dict], message: dict) -> bool:
    held = reasoning_of(message)
    thoughts = with_reasoning(message, "reasoning_content")["reasoning_content"]
    probe = next((line.strip() for line in thoughts.splitlines() if line.strip()), "")
    text = tokenizer.apply_chat_template([*prompt, message], tokenize=False)
    if held == "think":
        # A template that ignores <think> still prints the content; the thoughts survive only if the block does.
        return "<think>" in text and probe in text
    return probe in text


def check_template(tokenizer, row: dict, mode: str, sft_shape: str, held: str, model_name: str) -> None:
    if not tokenizer.chat_template:
        raise Unfit(f"the tokenizer of {model_name} has no chat template; use an instruct/chat model's tokenizer (--tokenizer) or one whose tokenizer_config.json has chat_template.")
    if mode == "sft" and sft_shape == "messages":
        prompt, message = [m for m in row["messages"] if m["role"] != "assistant"], assistant_turns(row, mode, sft_shape)[0]
    else:
        prompt, message = row["prompt"], assistant_turns(row, mode, sft_shape)[0]
    if kept_by_template(tokenizer, prompt, message):
        return
    kept = [m for m in REASONING_MODES if m != held and kept_by_template(tokenizer, prompt, with_reasoning(message, m))]
    advice = f"export again with --reasoning {' or '.join(kept)}, which it keeps" if kept else "it keeps none of think, reasoning_content and thinking: pass --tokenizer with a template that renders the think block"
    raise Unfit(f"the chat template of {model_name} drops the chain of thought held in `{held}`, so the model would learn the answers without their reasoning: {advice} (docs/exports.md, 'Reasoning fields and chat templates').")


def prompt_length(tokenizer, prompt: list[dict]) -> int:
    ids = tokenizer.apply_chat_template(prompt, add_generation_prompt=True, tokenize=True)
    return len(ids["input_ids"] if hasattr(ids, "keys") else ids)


def count_mask(trainer, tokenizer, raw, mode: str, sft_shape: str, rows: int, max_length: int) -> dict:
    """Masked and trained tokens of one batch of the first rows; for prompt/completion rows, the masked ones
    must be exactly the prompt's tokens as the chat template renders them (counted here, apart from TRL)."""
    n = min(rows, len(trainer.train_dataset))
    batch = trainer.data_collator([trainer.train_dataset[i] for i in range(n)])
    real = batch["attention_mask"].bool()
    trained = (batch["labels"] != -100) if mode == "sft" else batch["completion_mask"].bool()
    counts = {"rows": n, "masked": int((real & ~trained).sum()), "trained": int((real & trained).sum())}
    if mode == "sft" and sft_shape == "messages":
        return counts  # the whole conversation is trained on, by choice
    # dpo: each row is two sequences, chosen and rejected, each starting with the prompt.
    prompt_tokens = sum(min(prompt_length(tokenizer, raw[i]["prompt"]), max_length) for i in range(n)) * (2 if mode == "dpo" else 1)
    if counts["masked"] == 0 or counts["trained"] == 0:
        raise Unfit(f"one batch has {counts['masked']} prompt tokens masked and {counts['trained']} trained: the loss would not be completion-only. Check that --data is a prompt/completion export and that --max-length ({max_length}) leaves room for the completion.")
    if counts["masked"] != prompt_tokens:
        raise Unfit(f"one batch masks {counts['masked']} tokens but its prompts have {prompt_tokens}: the loss does not leave out exactly the prompt.")
    return counts


# ---------------------------------------------------------------------------------------------------------


def load_model(args, torch, tokenizer):
    from transformers import AutoModelForCausalLM

    kwargs = {}
    cuda = torch.cuda.is_available()
    if args.quantize == "4bit":
        if not cuda:
            raise Unfit("--quantize 4bit needs a CUDA GPU (bitsandbytes); on this machine drop it (or use --quantize none).")
        if not args.lora:
            raise Unfit("--quantize 4bit trains a LoRA adapter on the frozen quantized base: drop --full, or drop --quantize.")
        from transformers import BitsAndBytesConfig

        kwargs["quantization_config"] = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype=torch.bfloat16, bnb_4bit_use_double_quant=True)
        kwargs["device_map"] = "auto"
    dtype = torch.bfloat16 if cuda and torch.cuda.is_bf16_supported() else torch.float32
    if args.init_adapter:
        # The earlier adapter is merged into unquantized weights and saved in OUT/base: the new adapter applies
        # to that model (serve it as the base), and with --quantize it is reloaded from there in 4 bits.
        from peft import PeftModel

        base = AutoModelForCausalLM.from_pretrained(args.model, dtype=dtype)
        merged = PeftModel.from_pretrained(base, args.init_adapter).merge_and_unload()
        folder = Path(args.out) / "base"
        merged.save_pretrained(folder)
        tokenizer.save_pretrained(folder)
        if not kwargs:
            return merged, dtype
        return AutoModelForCausalLM.from_pretrained(folder, dtype=dtype, **kwargs), dtype
    return AutoModelForCausalLM.from_pretrained(args.model, dtype=dtype, **kwargs), dtype


def resume_point(args) -> str | bool | None:
    if not args.resume:
        return None
    if args.resume == "last":
        checkpoints = sorted(Path(args.out).glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[-1]) if p.name.split("-")[-1].isdigit() else -1)
        if not checkpoints:
            raise Unfit(f"--resume: {args.out} has no checkpoint-* folder to continue from; start without --resume (checkpoints are written every --save-steps).")
        return str(checkpoints[-1])
    if not Path(args.resume).is_dir():
        raise Unfit(f"--resume: {args.resume} is not a checkpoint folder")
    return args.resume


def train(args) -> None:
    timings: dict[str, float] = {}
    started = time.monotonic()
    row = first_row(Path(args.data))
    columns = check_shape(row, args.mode, args.sft_shape)
    held = check_reasoning(row, args.mode, args.sft_shape, args.reasoning)
    checkpoint = resume_point(args)
    if args.merge and args.quantize == "4bit":
        raise Unfit("--merge with --quantize 4bit would merge into quantized weights: train with --quantize 4bit, then merge the adapter into the unquantized base (peft's merge_and_unload) on a machine that holds it.")
    if args.merge and not args.lora:
        raise Unfit("--merge merges a LoRA adapter; with --full, --out is already a plain model folder.")
    print(f"data: {args.data}, {args.mode} rows ({' + '.join(columns)}), chain of thought in `{held}`", flush=True)
    if checkpoint:
        print(f"resuming: from {checkpoint}", flush=True)

    import torch
    from datasets import load_dataset
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(args.tokenizer or args.model)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    check_template(tokenizer, row, args.mode, args.sft_shape, held, args.tokenizer or args.model)
    dataset = load_dataset("parquet" if args.data.endswith(".parquet") else "json", data_files=args.data, split="train").select_columns(list(columns))

    model, dtype = load_model(args, torch, tokenizer)
    timings["load"] = time.monotonic() - started
    lr = args.lr if args.lr is not None else (2e-4 if args.lora else 2e-5) / (10 if args.mode == "dpo" else 1)
    peft_config = None
    if args.lora:
        from peft import LoraConfig

        peft_config = LoraConfig(r=args.rank, lora_alpha=2 * args.rank, lora_dropout=0.05, target_modules="all-linear", task_type="CAUSAL_LM")
    common = dict(
        output_dir=args.out,
        num_train_epochs=args.epochs,
        max_steps=args.max_steps,
        learning_rate=lr,
        per_device_train_batch_size=args.batch_size,
        gradient_accumulation_steps=args.grad_accum,
        max_length=args.max_length,
        bf16=dtype == torch.bfloat16,
        gradient_checkpointing=args.gradient_checkpointing,
        logging_steps=args.logging_steps,
        save_strategy="steps",
        save_steps=args.save_steps,
        save_total_limit=2,
        seed=args.seed,
        report_to="none",
        dataloader_num_workers=0,
        # By default Trainer logs a NaN or infinite loss as the mean of the finite ones before it, which
        # would hide the very failure checked for below.
        logging_nan_inf_filter=False,
    )
    if args.mode == "sft":
        from trl import SFTConfig, SFTTrainer

        config = SFTConfig(**common, completion_only_loss=args.sft_shape == "prompt-completion")
        trainer = SFTTrainer(model=model, processing_class=tokenizer, train_dataset=dataset, peft_config=peft_config, args=config)
    else:
        from trl import DPOConfig, DPOTrainer

        config = DPOConfig(**common, beta=args.beta)
        trainer = DPOTrainer(model=model, processing_class=tokenizer, train_dataset=dataset, peft_config=peft_config, args=config)
    timings["prepare"] = time.monotonic() - started - timings["load"]

    counts = count_mask(trainer, tokenizer, dataset, args.mode, args.sft_shape, args.batch_size, args.max_length)
    what = "the whole conversation trained on (--sft-shape messages)" if args.mode == "sft" and args.sft_shape == "messages" else "prompt tokens masked out of the loss"
    print(f"masking: one batch of {counts['rows']} rows: {counts['masked']} tokens masked, {counts['trained']} trained ({what})", flush=True)

    trained_at = time.monotonic()
    result = trainer.train(resume_from_checkpoint=checkpoint)
    seconds = time.monotonic() - trained_at
    losses = [(entry.get("step"), entry["loss"]) for entry in trainer.state.log_history if "loss" in entry]
    # A step whose gradient norm is not finite leaves NaN weights, whatever loss that step reported.
    bad = [(entry.get("step"), name, entry[name]) for entry in trainer.state.log_history for name in ("loss", "grad_norm") if name in entry and not math.isfinite(entry[name])]
    if not math.isfinite(result.training_loss) or bad:
        step, name, value = bad[0] if bad else (trainer.state.global_step, "loss", result.training_loss)
        raise Unfit(f"the training {name.replace('_', ' ')} is {value} at step {step}: lower --lr (now {lr:g}) or check the data; the model was not saved in --out.")
    # After a resume, only the steps past the checkpoint ran here; HF's training_loss averages over all of them.
    first = int(Path(checkpoint).name.split("-")[-1]) if checkpoint and Path(checkpoint).name.split("-")[-1].isdigit() else 0
    steps = max(1, trainer.state.global_step - first)
    loss = losses[-1][1] if losses else result.training_loss

    trainer.save_model(args.out)
    tokenizer.save_pretrained(args.out)
    saved = f"the LoRA adapter in {args.out}" if args.lora else f"the model in {args.out}"
    if args.merge:
        merged = trainer.model.merge_and_unload()
        merged.save_pretrained(Path(args.out) / "merged")
        tokenizer.save_pretrained(Path(args.out) / "merged")
        saved += f" and the merged model in {Path(args.out) / 'merged'}"
    summary = {
        "mode": args.mode,
        "steps": trainer.state.global_step,
        "seconds_per_step": round(seconds / steps, 2),
        "steps_this_run": steps,
        "last_loss": round(loss, 4),
        "masked_tokens": counts["masked"],
        "trained_tokens": counts["trained"],
        "load_seconds": round(timings["load"], 1),
        "prepare_seconds": round(timings["prepare"], 1),
    }
    print(f"trained {steps} step{'' if steps == 1 else 's'} (to step {trainer.state.global_step}) at {seconds / steps:.1f} s a step, last logged loss {loss:.4f}; saved {saved}", flush=True)
    print(json.dumps(summary), flush=True)


def main() -> None:
    args = parse_args()
    try:
        train(args)
    except Unfit as error:
        print(f"finetune_trl.py: {error}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
