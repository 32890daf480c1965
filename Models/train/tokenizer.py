"""Train the SentencePiece BPE tokenizer and encode both splits to token ids.

The tokenizer follows Llama's conventions so that a GGUF ``llama`` vocabulary
describes it exactly: ids 0=<unk>, 1=<s>, 2=</s>, byte fallback (<0x00>..<0xFF>),
no normalisation, a dummy "▁" prefix at the start of the input, and whitespace
kept as is (no collapsing of repeated spaces).

Each split is encoded as ONE string (so only its very first word gets the dummy
prefix); newlines are not in the learned vocabulary and become the byte token
<0x0A>, as in Llama.

Outputs in the work folder:
  tokenizer.model / tokenizer.vocab    the SentencePiece model
  train.npy, validation.npy            uint16 token ids without BOS/EOS
"""

import argparse
import json
import os
from pathlib import Path

import numpy as np
import sentencepiece as spm

VOCAB_SIZE = 1024


def train_tokenizer(train_text: Path, model_prefix: Path, vocab_size: int) -> None:
    """Train a Llama-style BPE SentencePiece model on the training text (one sentence per line)."""
    # Relative paths: SentencePiece records them in the model file, which should
    # not depend on where the repository is checked out.
    spm.SentencePieceTrainer.train(
        input=os.path.relpath(train_text),
        model_prefix=os.path.relpath(model_prefix),
        model_type="bpe",
        vocab_size=vocab_size,
        character_coverage=1.0,
        byte_fallback=True,
        normalization_rule_name="identity",
        add_dummy_prefix=True,
        remove_extra_whitespaces=False,
        split_digits=True,
        allow_whitespace_only_pieces=True,
        unk_id=0, bos_id=1, eos_id=2, pad_id=-1,
        input_sentence_size=0,
        shuffle_input_sentence=False,
        max_sentence_length=1 << 16,
        num_threads=2,
        minloglevel=1,
    )


def encode_file(processor: spm.SentencePieceProcessor, path: Path) -> np.ndarray:
    """Encode a whole text file as one string; returns uint16 ids (no BOS)."""
    ids = processor.encode(path.read_text(encoding="utf-8"))
    return np.asarray(ids, dtype=np.uint16)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    here = Path(__file__).parent
    parser.add_argument("--work-dir", type=Path, default=here / "work")
    parser.add_argument("--validation-text", type=Path, default=here.parent / "shakespeare-validation.txt")
    parser.add_argument("--vocab-size", type=int, default=VOCAB_SIZE)
    args = parser.parse_args()

    prefix = args.work_dir / "tokenizer"
    train_tokenizer(args.work_dir / "train.txt", prefix, args.vocab_size)
    processor = spm.SentencePieceProcessor(model_file=f"{prefix}.model")
    assert processor.piece_to_id("<unk>") == 0 and processor.bos_id() == 1 and processor.eos_id() == 2

    stats = {}
    for name, path in (("train", args.work_dir / "train.txt"), ("validation", args.validation_text)):
        ids = encode_file(processor, path)
        # Decoding must give the text back exactly: nothing is lost by the tokenizer.
        assert processor.decode(ids.tolist()) == path.read_text(encoding="utf-8"), name
        np.save(args.work_dir / f"{name}.npy", ids)
        stats[name] = {"tokens": int(ids.size), "chars_per_token": path.stat().st_size / ids.size}
        print(f"{name}: {ids.size} tokens, {stats[name]['chars_per_token']:.2f} chars/token")
    (args.work_dir / "tokens.json").write_text(json.dumps(stats, indent=2))


if __name__ == "__main__":
    main()
