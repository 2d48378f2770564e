#!/usr/bin/env python3
"""Generate whole-network torch.onnx.export test models for clrnn's graph executor.

Run from the repository root (needs torch + numpy + onnx; Debian's python3-torch and python3-onnx work):

    /usr/bin/python3 scripts/make-network-fixtures.py

Writes src/test/resources/networks/ from scratch: the five kinds of network people deploy around a recurrent
core (scripts/networks.py), each a real torch module in eval(), exported with torch.onnx.export at opsets 11, 14 and 17 with dynamic
batch and sequence axes (<case>/model.onnx), then run by torch itself on seeded inputs of other sizes than the
export's dummy one (x_<k>.npy, int64 token ids or float32 features) with torch's outputs (y_<k>.npy):

  sentiment  Embedding(padding_idx=0) -> LSTM(batch_first) -> Linear on the last h_n
  tagger     Embedding -> bidirectional GRU(batch_first) -> Linear per step -> log_softmax
  forecaster 2-layer LSTM(batch_first) -> last step -> Linear
  charlm     Embedding -> LSTM (time-major) -> Linear to vocabulary logits at every step
  events     RNN(relu, batch_first) -> LayerNorm -> Linear -> sigmoid per step

manifest.json lists each case with its input sizes. Everything is seeded, so a rerun with the same torch
version gives the same files.
"""
import json
import os
import shutil
import sys
import warnings

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from networks import CharLM, Events, Forecaster, Sentiment, Tagger, export, make_input  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "test", "resources", "networks")


# name, builder, token vocabulary (or ("f", width): float features of that width), batch_first
NETWORKS = [
    ("sentiment", lambda: Sentiment(100, 16, 32, 2), 100, True),
    ("sentiment_wide", lambda: Sentiment(300, 48, 96, 5), 300, True),
    ("tagger", lambda: Tagger(100, 16, 24, 7), 100, True),
    ("forecaster", lambda: Forecaster(4, 32), ("f", 4), True),
    ("charlm", lambda: CharLM(60, 16, 48), 60, False),
    ("events", lambda: Events(6, 20), ("f", 6), True),
]
OPSETS = [11, 14, 17]
RUNS = [(3, 7), (1, 12), (5, 1)]  # (batch, seq), none of them the export's (2, 5)


def main():
    warnings.filterwarnings("ignore")
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    manifest = []
    for index, (name, build, vocab, batch_first) in enumerate(NETWORKS):
        torch.manual_seed(100 + index)
        model = build().eval()
        for opset in OPSETS:
            case = f"{name}_op{opset}"
            d = os.path.join(OUT, case)
            os.makedirs(d)
            gen = torch.Generator().manual_seed(7 + index)
            dummy = make_input(gen, vocab, 2, 5, batch_first)
            export(model, dummy, batch_first, os.path.join(d, "model.onnx"), opset)
            runs = []
            for k, (batch, seq) in enumerate(RUNS):
                x = make_input(gen, vocab, batch, seq, batch_first)
                with torch.no_grad():
                    y = model(x)
                np.save(os.path.join(d, f"x_{k}.npy"), x.numpy())
                np.save(os.path.join(d, f"y_{k}.npy"), y.numpy().astype(np.float32))
                runs.append({"x": list(x.shape), "y": list(y.shape)})
            manifest.append({"case": case, "network": name, "opset": opset, "tokens": not isinstance(vocab, tuple),
                             "runs": runs})
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump({"torch": torch.__version__, "cases": manifest}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
