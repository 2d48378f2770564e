#!/usr/bin/env python3
"""Generate the fixtures of `clrnn generate`'s tests: a small character language model and torch's greedy loop.

Run from the repository root (needs torch + onnx; Debian's python3-torch and python3-onnx work):

    /usr/bin/python3 scripts/make-generate-fixtures.py

Nothing is trained: scripts/networks.py's LanguageModel (Embedding -> 2-layer LSTM(batch_first) -> Linear) gets
seeded random weights. Writes src/test/resources/generate/ from scratch:

  vocab.json          the vocabulary, a JSON array indexed by id
  vocab_object.json   the same as a JSON object token -> id
  lm.onnx             ids (batch, seq) -> logits (batch, seq, vocab), torch.onnx.export opset 14, dynamic axes
  lm_time_major.onnx  the same model taking ids (seq, batch) and giving logits (seq, batch, vocab)
  lm.pt               its state_dict (torch.save): emb.weight, rnn.*, fc.weight, fc.bias
  expected.json       for each prompt, torch's greedy continuation (ids and text), and the smallest gap between the
                      best and second-best logit on the way (far above float32 noise, so greedy is exact)
"""
import json
import os
import shutil
import sys
import warnings

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from networks import LanguageModel, Logits, greedy  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "test", "resources", "generate")
VOCAB = list("\n !',.?abcdefghijklmnopqrstuvwxyz") + ["<unk>"]
PROMPTS = [("the quick", 60), ("hello, world", 40), ("a", 25)]


class TimeMajor(torch.nn.Module):
    def __init__(self, lm):
        super().__init__()
        self.lm = lm

    def forward(self, x):
        return self.lm(x.t())[0].transpose(0, 1)


def main():
    torch.manual_seed(3)
    lm = LanguageModel(len(VOCAB), 16, 32).eval()
    with torch.no_grad():  # larger weights than the default init: logits far apart, and text that varies
        lm.rnn.weight_ih_l0.mul_(4.0)
        lm.rnn.weight_ih_l1.mul_(4.0)
        lm.fc.weight.mul_(8.0)
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    with open(os.path.join(OUT, "vocab.json"), "w") as f:
        json.dump(VOCAB, f, indent=0)
    with open(os.path.join(OUT, "vocab_object.json"), "w") as f:
        json.dump({t: i for i, t in enumerate(VOCAB)}, f, indent=0)
    torch.save(lm.state_dict(), os.path.join(OUT, "lm.pt"))
    dummy = torch.zeros(2, 3, dtype=torch.long)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(Logits(lm), (dummy,), os.path.join(OUT, "lm.onnx"), opset_version=14, input_names=["ids"],
                          output_names=["logits"], dynamic_axes={"ids": {0: "batch", 1: "seq"}})
        torch.onnx.export(TimeMajor(lm), (dummy.t().contiguous(),), os.path.join(OUT, "lm_time_major.onnx"),
                          opset_version=14, input_names=["ids"], output_names=["logits"],
                          dynamic_axes={"ids": {0: "seq", 1: "batch"}})
    index = {t: i for i, t in enumerate(VOCAB)}
    cases = []
    for prompt, length in PROMPTS:
        ids, gap = greedy(lm, [index[ch] for ch in prompt], length)
        if gap < 1e-3:
            sys.exit(f"greedy continuation of {prompt!r} has logits {gap} apart: too close to be exact; reseed")
        cases.append({"prompt": prompt, "length": length, "ids": ids, "text": "".join(VOCAB[i] for i in ids),
                      "min_gap": gap})
        print(f"{prompt!r} -> {cases[-1]['text']!r} (min gap {gap:.4f})")
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump({"torch": torch.__version__, "cases": cases}, f, indent=1)


if __name__ == "__main__":
    main()
