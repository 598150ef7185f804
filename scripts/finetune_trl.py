"""QLoRA supervised fine-tuning on an `aidsafe-mcp export --format sft` file with TRL, as in the paper.

Not run in CI. Needs a GPU and: pip install "trl>=0.19" peft bitsandbytes datasets accelerate

    python scripts/finetune_trl.py --data aidsafe-sft.jsonl --model Qwen/Qwen2.5-7B-Instruct --out qwen-aidsafe-lora

It saves a LoRA adapter in --out; vLLM serves it beside the base model (see "Reproducing the paper" in the README).
"""
import argparse

import torch
from datasets import load_dataset
from peft import LoraConfig
from transformers import AutoModelForCausalLM, AutoTokenizer, BitsAndBytesConfig
from trl import SFTConfig, SFTTrainer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="JSONL from `aidsafe-mcp export --format sft`")
    parser.add_argument("--model", default="Qwen/Qwen2.5-7B-Instruct")
    parser.add_argument("--out", default="aidsafe-lora")
    parser.add_argument("--epochs", type=float, default=1.0)
    parser.add_argument("--lr", type=float, default=2e-4)
    parser.add_argument("--rank", type=int, default=16)
    parser.add_argument("--max-length", type=int, default=4096)
    args = parser.parse_args()

    # Each row is {"messages": [user, assistant]}: the assistant turn holds <think>…</think> and the answer.
    dataset = load_dataset("json", data_files=args.data, split="train").select_columns(["messages"])

    quantization = BitsAndBytesConfig(
        load_in_4bit=True,
        bnb_4bit_quant_type="nf4",
        bnb_4bit_compute_dtype=torch.bfloat16,
        bnb_4bit_use_double_quant=True,
    )
    model = AutoModelForCausalLM.from_pretrained(args.model, quantization_config=quantization, torch_dtype=torch.bfloat16, device_map="auto")
    tokenizer = AutoTokenizer.from_pretrained(args.model)

    trainer = SFTTrainer(
        model=model,
        processing_class=tokenizer,
        train_dataset=dataset,
        peft_config=LoraConfig(r=args.rank, lora_alpha=2 * args.rank, lora_dropout=0.05, target_modules="all-linear", task_type="CAUSAL_LM"),
        args=SFTConfig(
            output_dir=args.out,
            num_train_epochs=args.epochs,
            learning_rate=args.lr,
            per_device_train_batch_size=2,
            gradient_accumulation_steps=8,
            max_length=args.max_length,
            bf16=True,
            logging_steps=10,
            save_strategy="epoch",
            report_to="none",
        ),
    )
    trainer.train()
    trainer.save_model(args.out)
    print(f"saved the LoRA adapter in {args.out}")


if __name__ == "__main__":
    main()
