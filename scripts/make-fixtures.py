#!/usr/bin/env python3
"""Generate golden test fixtures for clrnn from real torch.nn.RNN, LSTM and GRU modules.

Run from the repository root (needs torch + numpy):

    /usr/bin/python3 scripts/make-fixtures.py

For every case it writes src/test/resources/fixtures/<case>/ with
weights.safetensors (the module's state_dict), input.npy, h0.npy (and c0.npy
for an LSTM; only when the case passes initial states), lengths.npy (int64,
only for cases with per-sequence lengths), output.npy, h_n.npy (and c_n.npy),
plus fixtures/manifest.json describing all cases. Cases with lengths run
torch's own pack_padded_sequence(enforce_sorted=False) -> module ->
pad_packed_sequence(total_length=T) path. Everything is float32 and deterministic: each case
seeds torch from a hash of its own name. The fixtures folder is rebuilt
from scratch on each run.
"""
import itertools
import json
import os
import shutil
import struct
import zlib

import numpy as np
import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "test", "resources", "fixtures")

# (mode, num_layers, flags, input_size, hidden_size, seq_len, batch[, name prefix])
# mode: tanh, relu (nn.RNN's nonlinearity), lstm, gru.
# flags: bi = bidirectional, bf = batch_first, h0 = pass h_0 (and c_0), nobias = bias=False, nonfinite = NaN/inf
#        in X, ub = unbatched 2-D input (batch is then None), proj = an LSTM with proj_size = hidden_size // 2.
CASES = [
    # Pairwise covering grid: every value of every option meets every value of every other one.
    ("tanh", 1, "", 3, 5, 4, 2),
    ("relu", 1, "nobias bf bi h0 ub", 2, 4, 3, None),
    ("tanh", 2, "bf bi h0", 4, 6, 5, 3),
    ("relu", 2, "nobias ub", 5, 3, 4, None),
    ("tanh", 3, "nobias bi h0", 3, 7, 3, 2),
    ("relu", 3, "bf ub", 6, 5, 4, None),
    ("tanh", 1, "nobias bf h0 ub", 4, 9, 6, None),
    ("relu", 1, "bi", 7, 4, 3, 4),
    ("tanh", 3, "", 2, 8, 5, 3),
    ("relu", 3, "nobias bf bi h0 ub", 5, 6, 4, None),
    ("tanh", 1, "bf bi h0", 8, 3, 7, 2),
    ("relu", 1, "nobias ub", 3, 10, 5, None),
    ("tanh", 2, "nobias bi h0", 6, 4, 4, 3),
    ("relu", 2, "bf ub", 2, 11, 6, None),
    ("tanh", 2, "nobias bf h0 ub", 9, 5, 3, None),
    ("relu", 2, "bi", 4, 7, 5, 2),
    # Odd sizes: hidden 1 and 37, input 1, batch 1, seq_len 1.
    ("tanh", 1, "", 1, 1, 1, 1),
    ("relu", 2, "bi h0", 1, 1, 9, 2),
    ("tanh", 1, "", 5, 37, 4, 3),
    ("tanh", 2, "bi bf h0", 7, 37, 5, 3),
    ("relu", 3, "nobias", 1, 37, 3, 2),
    ("tanh", 1, "bf", 4, 6, 5, 1),
    ("relu", 2, "bi h0", 3, 5, 4, 1),
    ("tanh", 3, "bi", 4, 5, 1, 3),
    ("relu", 1, "bf h0", 2, 3, 1, 2),
    ("tanh", 1, "ub", 3, 4, 1, None),
    ("relu", 2, "bi h0 ub", 1, 1, 5, None),
    ("tanh", 3, "nobias bf bi h0", 1, 37, 2, 1),
    ("relu", 1, "h0", 6, 1, 8, 2),
    ("tanh", 2, "bf ub", 2, 37, 3, None),
    # Mid-sized: wider than one 128 tile (H=130), long recurrences (T=60).
    ("tanh", 1, "", 33, 64, 17, 5),
    ("relu", 2, "bi bf h0", 33, 64, 17, 5),
    ("relu", 1, "nobias h0", 33, 64, 17, 5),
    ("tanh", 2, "nobias bi h0 ub", 33, 64, 17, None),
    ("tanh", 1, "h0", 20, 130, 9, 3),
    ("relu", 1, "nobias bi", 10, 130, 4, 2),
    ("relu", 3, "bf h0", 12, 40, 10, 4),
    ("tanh", 1, "bf h0", 3, 16, 60, 2),
    ("relu", 2, "", 4, 8, 60, 3),
    ("tanh", 3, "bi ub", 5, 12, 60, None),
    ("tanh", 1, "bi h0", 128, 64, 5, 4),
    # Course lab shapes: RNN(128, 64), X (5,4,128), h_0 (1,4,64); batch_first X (16,25,128).
    ("tanh", 1, "h0", 128, 64, 5, 4, "lab_"),
    ("tanh", 1, "bf h0", 128, 64, 25, 16, "lab_"),
    # Non-finite inputs: NaN and +inf in X must propagate exactly as PyTorch propagates them.
    ("tanh", 2, "bi h0 nonfinite", 4, 6, 6, 3),
    ("relu", 2, "bi nonfinite", 4, 6, 6, 3),
]
FLAG_ORDER = ["nobias", "bi", "bf", "ub", "h0", "proj", "nonfinite"]

# LSTM and GRU: a pairwise covering grid generated below, then the same odd sizes, the lab's shapes, and
# non-finite inputs.
for _mode in ["lstm", "gru"]:
    CASES += [
        (_mode, 1, "", 1, 1, 1, 1),
        (_mode, 2, "bi h0", 1, 37, 3, 2),
        (_mode, 1, "h0", 5, 130, 4, 2),
        (_mode, 3, "nobias bf", 4, 6, 1, 3),
        (_mode, 1, "bi", 6, 5, 5, 1),
        (_mode, 1, "h0", 128, 64, 5, 4, "lab_"),
        (_mode, 2, "bi h0 nonfinite", 4, 6, 6, 3),
    ]
CASES += [("lstm", 2, "bi h0 proj", 7, 37, 5, 3), ("lstm", 1, "proj", 128, 130, 4, 2)]

# Per-sequence lengths, through torch's pack_padded_sequence / pad_packed_sequence: sorted, unsorted, with
# duplicates, all full, and a single sequence of length 1; every cell, bidirectional, 1 to 3 layers, batch_first,
# with and without initial states.
LENGTH_CASES = [
    # (mode, num_layers, flags, input_size, hidden_size, seq_len, lengths)
    ("tanh", 1, "", 3, 5, 6, [6, 4, 4, 1]),
    ("relu", 2, "bi h0", 4, 7, 5, [2, 5, 1, 3]),
    ("tanh", 3, "bi bf", 3, 9, 7, [7, 7, 7]),
    ("lstm", 1, "bi bf h0", 5, 6, 6, [3, 6, 3, 1, 5]),
    ("lstm", 2, "", 4, 8, 5, [5, 4, 2]),
    ("lstm", 2, "bi h0 proj", 3, 10, 6, [1, 6, 4, 6]),
    ("lstm", 3, "bi", 2, 5, 4, [1]),
    ("gru", 1, "bi", 5, 7, 6, [6, 2, 2, 5]),
    ("gru", 2, "bf h0", 3, 6, 5, [4, 5, 1]),
    ("gru", 3, "bi bf h0", 4, 5, 4, [4, 4, 4, 4]),
    ("gru", 1, "h0", 3, 4, 3, [1]),
]


def pairwise_grid(mode, sizes):
    """Rows covering every pair of option values (greedy, deterministic), for one cell."""
    options = {"num_layers": [1, 2, 3], "nobias": [False, True], "bf": [False, True], "bi": [False, True],
               "h0": [False, True], "ub": [False, True]}
    if mode == "lstm":
        options["proj"] = [False, True]
    names = list(options)
    uncovered = {(a, b, va, vb) for a, b in itertools.combinations(names, 2)
                 for va in options[a] for vb in options[b]}
    rows = []
    for _ in range(64):
        if not uncovered:
            break
        best = max(itertools.product(*options.values()),
                   key=lambda r: sum((a, b, r[names.index(a)], r[names.index(b)]) in uncovered
                                     for a, b in itertools.combinations(names, 2)))
        row = dict(zip(names, best))
        uncovered -= {(a, b, row[a], row[b]) for a, b in itertools.combinations(names, 2)}
        I, H, T, B = sizes[len(rows) % len(sizes)]
        flags = " ".join(f for f in ["nobias", "bf", "bi", "h0", "ub", "proj"] if row.get(f))
        rows.append((mode, row["num_layers"], flags, I, H, T, None if row["ub"] else B))
    return rows


CASES += pairwise_grid("lstm", [(3, 5, 4, 2), (4, 6, 5, 3), (2, 8, 3, 2), (5, 4, 6, 3)])
CASES += pairwise_grid("gru", [(3, 5, 4, 2), (4, 6, 5, 3), (2, 8, 3, 2), (5, 4, 6, 3)])


def save_safetensors(tensors, path):
    """Minimal safetensors writer: u64 LE header size, JSON header, raw LE data."""
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        data = t.detach().cpu().contiguous().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    header["__metadata__"] = {"format": "pt"}
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


try:
    from safetensors.torch import save_file as save_weights
except ImportError:
    save_weights = save_safetensors


def make_case(mode, layers, flags, I, H, T, B, prefix="", lengths=None):
    flags = set(flags.split())
    assert flags <= set(FLAG_ORDER), flags
    ub = "ub" in flags
    assert (B is None) == ub
    name = "_".join([prefix + mode, f"L{layers}"] + [f for f in FLAG_ORDER if f in flags]
                    + [f"I{I}", f"H{H}", f"T{T}"] + ([] if ub else [f"B{B}"])
                    + ([] if lengths is None else ["len" + "-".join(map(str, lengths))]))
    rnn = mode in ("tanh", "relu")
    return {"name": name, "mode": "rnn_" + mode if rnn else mode, "input_size": I, "hidden_size": H,
            "num_layers": layers, "nonlinearity": mode if rnn else None, "bias": "nobias" not in flags,
            "batch_first": "bf" in flags, "bidirectional": "bi" in flags, "seq_len": T, "batch": B,
            "proj_size": H // 2 if "proj" in flags else 0, "has_h0": "h0" in flags, "lengths": lengths,
            **({"nonfinite": True} if "nonfinite" in flags else {})}


def check_pairwise(cases):
    cases = [c for c in cases if c["nonlinearity"] is not None and c["lengths"] is None]
    options = {"nonlinearity": ["tanh", "relu"], "num_layers": [1, 2, 3], "bias": [True, False],
               "batch_first": [True, False], "bidirectional": [True, False],
               "has_h0": [True, False], "unbatched": [True, False]}
    seen = {(a, b, c[a], c[b]) for c in cases for a, b in itertools.combinations(options, 2)}
    for a, b in itertools.combinations(options, 2):
        for va, vb in itertools.product(options[a], options[b]):
            assert (a, b, va, vb) in seen, f"pair not covered: {a}={va}, {b}={vb}"


def module(c):
    kwargs = dict(num_layers=c["num_layers"], bias=c["bias"], batch_first=c["batch_first"],
                  bidirectional=c["bidirectional"])
    if c["mode"] == "lstm":
        return torch.nn.LSTM(c["input_size"], c["hidden_size"], proj_size=c["proj_size"], **kwargs)
    if c["mode"] == "gru":
        return torch.nn.GRU(c["input_size"], c["hidden_size"], **kwargs)
    return torch.nn.RNN(c["input_size"], c["hidden_size"], nonlinearity=c["nonlinearity"], **kwargs)


def write_case(c):
    torch.manual_seed(zlib.crc32(c["name"].encode()))
    rnn = module(c).eval()
    T, I, H = c["seq_len"], c["input_size"], c["hidden_size"]
    B = c["batch"] if c["lengths"] is None else len(c["lengths"])
    H_out = c["proj_size"] or H
    dirs = 2 if c["bidirectional"] else 1
    states = c["num_layers"] * dirs
    if B is None:
        x_shape, h_shape, c_shape = (T, I), (states, H_out), (states, H)
    else:
        x_shape = (B, T, I) if c["batch_first"] else (T, B, I)
        h_shape, c_shape = (states, B, H_out), (states, B, H)
    x = torch.randn(*x_shape)
    if c.get("nonfinite"):
        x[2, 1, 0] = float("nan")
        x[4, 0, 1] = float("inf")
        x[1, 2, 3] = float("-inf")
    lstm = c["mode"] == "lstm"
    h0 = torch.randn(*h_shape) if c["has_h0"] else None
    c0 = torch.randn(*c_shape) if c["has_h0"] and lstm else None
    hx = None if h0 is None else (h0, c0) if lstm else h0
    with torch.no_grad():
        if c["lengths"] is None:
            out, state = rnn(x, hx)
        else:
            lengths = torch.tensor(c["lengths"], dtype=torch.int64)
            packed = torch.nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=c["batch_first"],
                                                             enforce_sorted=False)
            packed_out, state = rnn(packed, hx)
            out, _ = torch.nn.utils.rnn.pad_packed_sequence(packed_out, batch_first=c["batch_first"], total_length=T)
    h_n, c_n = state if lstm else (state, None)

    d = os.path.join(OUT, c["name"])
    os.makedirs(d)
    save_weights(rnn.state_dict(), os.path.join(d, "weights.safetensors"))
    arrays = {"input": x, "h0": h0, "c0": c0, "output": out, "h_n": h_n, "c_n": c_n}
    for key, t in arrays.items():
        if t is not None:
            np.save(os.path.join(d, key + ".npy"), np.ascontiguousarray(t.numpy(), dtype=np.float32))
    if c["lengths"] is not None:
        np.save(os.path.join(d, "lengths.npy"), np.array(c["lengths"], dtype=np.int64))
    print(f"wrote {c['name']}: x{tuple(x.shape)} out{tuple(out.shape)} h_n{tuple(h_n.shape)}")


def main():
    cases = [make_case(*row) for row in CASES]
    cases += [make_case(mode, layers, flags, I, H, T, len(lengths), lengths=lengths)
              for mode, layers, flags, I, H, T, lengths in LENGTH_CASES]
    names = [c["name"] for c in cases]
    assert len(set(names)) == len(names), "duplicate case names"
    check_pairwise([dict(c, unbatched=c["batch"] is None) for c in cases])
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    for c in cases:
        write_case(c)
    manifest = {"generator": "scripts/make-fixtures.py", "torch_version": torch.__version__, "cases": cases}
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")
    print(f"{len(cases)} cases -> {os.path.normpath(OUT)}")


if __name__ == "__main__":
    main()
