#!/usr/bin/env python3
"""Generate the torch.save test files for clrnn's TorchFile and WeightFile readers.

Run from the repository root (needs torch + numpy):

    /usr/bin/python3 scripts/make-torch-fixtures.py

Writes src/test/resources/torch/ from scratch: small real torch.save files of
both formats (<case>.pt), for each readable one the tensors it holds as
float32 (<case>.expected.safetensors, only the floating-point ones), and for
the nn.RNN / nn.LSTM / nn.GRU state_dicts a seeded input and the module's
eval() outputs (<case>.x.npy, .out.npy, .h_n.npy, .c_n.npy) for an end-to-end
test. manifest.json describes every file: its format, its tensors (name,
dtype, shape) or the message fragment it must be refused with, and the module
with its constructor arguments. Everything is seeded, so a rerun with the same
torch version gives the same tensors.
"""
import json
import os
import shutil
import struct
import zipfile

import numpy as np
import torch
from torch import nn

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "test", "resources", "torch")
# A path the hostile fixtures would create if anything ever ran them; the Java test checks it stays absent.
PWNED = "/tmp/clrnn-torch-fixture-pwned"

manifest = []


def save_safetensors(tensors, path):
    """Minimal safetensors writer for float32 tensors: u64 LE header size, JSON header, raw LE data."""
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        a = t.detach().float().contiguous().numpy().astype("<f4")  # keeps 0-d shapes, unlike ascontiguousarray
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [offset, offset + a.nbytes]}
        blobs.append(a.tobytes())
        offset += a.nbytes
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def flatten(obj, prefix=None):
    """The tensors clrnn should find: dotted names through dicts with str or int keys, in dict order."""
    out = {}
    for k, v in obj.items():
        if isinstance(k, bool) or not isinstance(k, (str, int)):
            continue
        name = str(k) if prefix is None else prefix + "." + str(k)
        if isinstance(v, torch.Tensor):
            out[name] = v
        elif isinstance(v, dict):
            out.update(flatten(v, name))
    return out


def dtype_name(t):
    return str(t.dtype).replace("torch.", "")


def readable(case, obj, fmt="torch.save zip", legacy=False, protocol=2, **extra):
    """Saves obj as <case>.pt and records what clrnn must read from it."""
    path = os.path.join(OUT, case + ".pt")
    torch.save(obj, path, _use_new_zipfile_serialization=not legacy, pickle_protocol=protocol)
    expect(case, obj, fmt, **extra)


def expect(case, obj, fmt, **extra):
    tensors = flatten(obj)
    floats = {n: t for n, t in tensors.items() if t.is_floating_point()}
    save_safetensors(floats, os.path.join(OUT, case + ".expected.safetensors"))
    manifest.append(dict(file=case + ".pt", format=fmt, expected=case + ".expected.safetensors",
                         entries=[[n, dtype_name(t), list(t.shape)] for n, t in tensors.items()], **extra))


def refused(case, fragment, save):
    save(os.path.join(OUT, case + ".pt"))
    manifest.append(dict(file=case + ".pt", error=fragment))


def forward_data(case, m, x_shape):
    """Runs a recurrent module (float32, eval) on a seeded input; saves x, out, h_n (c_n) and names them."""
    torch.manual_seed(sum(map(ord, case)) + 1)
    m = m.float().eval()
    x = torch.randn(*x_shape)
    with torch.no_grad():
        out, h = m(x)
    arrays = {"x": x, "out": out}
    if isinstance(h, tuple):
        arrays["h_n"], arrays["c_n"] = h
    else:
        arrays["h_n"] = h
    forward = {}
    for k, v in arrays.items():
        np.save(os.path.join(OUT, f"{case}.{k}.npy"), v.numpy().astype(np.float32))
        forward[k] = f"{case}.{k}.npy"
    args = {k: getattr(m, k) for k in ("input_size", "hidden_size", "num_layers", "bias", "batch_first",
                                       "dropout", "bidirectional")}
    if isinstance(m, nn.RNN):
        args["nonlinearity"] = m.nonlinearity
    if isinstance(m, nn.LSTM):
        args["proj_size"] = m.proj_size
    return {"module": {"type": type(m).__name__, "args": args}, "forward": forward}


def recurrent(case, cls, x_shape, **args):
    """A seeded nn.RNN / nn.LSTM / nn.GRU: its state_dict, and its eval() outputs on a seeded input."""
    torch.manual_seed(sum(map(ord, case)))
    m = cls(**args).eval()
    readable(case, m.state_dict(), **forward_data(case, m, x_shape))
    return m


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(3, 4, batch_first=True)


class Tagger(nn.Module):
    """A bigger model: a nested LSTM, a linear head and a BatchNorm1d (which brings an int64 buffer)."""

    def __init__(self):
        super().__init__()
        self.encoder = Encoder()
        self.head = nn.Linear(4, 2)
        self.norm = nn.BatchNorm1d(2)


class MyModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.GRU(2, 3)


class RunsOnLoad:
    """What a hostile checkpoint hides: unpickling it calls the function with the argument."""

    def __init__(self, function, argument):
        self.function, self.argument = function, argument

    def __reduce__(self):
        return self.function, (self.argument,)


def rewrite_zip(src, dst, transform=lambda name, data: data, extra=(), compression=zipfile.ZIP_STORED):
    """Copies a torch zip entry by entry, changing data and adding records; the way a zip tool would."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", compression) as zout:
        # A fixed date, as torch writes, so that a rerun gives the same bytes.
        for name, data in [(i.filename, transform(i.filename, zin.read(i.filename))) for i in zin.infolist()] + list(extra):
            zout.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), data, compression)


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)

    recurrent("rnn", nn.RNN, (5, 2, 3), input_size=3, hidden_size=4, num_layers=2, nonlinearity="tanh",
              bidirectional=True)
    lstm = recurrent("lstm", nn.LSTM, (2, 5, 3), input_size=3, hidden_size=4, num_layers=2, batch_first=True)
    recurrent("lstm_proj", nn.LSTM, (4, 2, 3), input_size=3, hidden_size=5, num_layers=2, proj_size=2,
              bidirectional=True)
    recurrent("gru", nn.GRU, (5, 2, 3), input_size=3, hidden_size=4, num_layers=2)

    # A training checkpoint: the model's state_dict beside optimizer state (int keys, a step tensor)
    # and values of every kind a pickle has (float, big int, str, list, tuple, None, bool).
    torch.manual_seed(7)
    model = nn.GRU(2, 3)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    model(torch.randn(4, 1, 2))[0].sum().backward()
    opt.step()
    readable("checkpoint", {"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 7, "note": "x",
                            "lr": 0.001, "history": [0.5, 0.25], "seen": 2 ** 40, "best": None,
                            "flags": (True, False), "device": torch.device("cpu"), "dtype": torch.float32},
             **forward_data("checkpoint", model, (5, 2, 2)))

    torch.manual_seed(11)
    tagger = Tagger()
    tagger.train()
    tagger.norm(torch.randn(5, 2))  # running statistics and num_batches_tracked move off their defaults
    readable("prefixed", tagger.state_dict(), **forward_data("prefixed", tagger.encoder.lstm, (2, 5, 3)))
    readable("parameters", dict(nn.Linear(2, 3).named_parameters()))

    torch.manual_seed(13)
    small = nn.LSTM(3, 2).half()
    # the expected outputs: torch's float32 forward of the half-rounded weights, which is what clrnn runs
    readable("half", small.state_dict(), **forward_data("half", small, (4, 2, 3)))
    torch.manual_seed(13)
    brain = nn.LSTM(3, 2).bfloat16()
    readable("bfloat16", brain.state_dict(), **forward_data("bfloat16", brain, (4, 2, 3)))
    torch.manual_seed(13)
    readable("double", nn.LSTM(3, 2).double().state_dict())

    # Views of one storage: a slice, a transpose, a column, a strided slice, a scalar, an empty
    # slice, and a broadcast (stride 0); each is saved as the whole storage plus offset and strides.
    big = torch.arange(24, dtype=torch.float32).reshape(6, 4)
    views = {"a": big[2:5], "b": big.t(), "c": big[:, 1], "d": big, "e": big[1:5:2, ::2], "s": big[3, 2],
             "z": big[6:], "x": torch.tensor([1.5]).expand(3, 2), "i": torch.arange(6).reshape(2, 3).t()}
    readable("views", views)
    readable("legacy", views, fmt="torch.save legacy", legacy=True)
    readable("legacy_lstm", lstm.state_dict(), fmt="torch.save legacy", legacy=True)
    # torch.save(..., pickle_protocol=4): frames, short strings, memoize and STACK_GLOBAL.
    readable("protocol4", views, protocol=4)
    readable("legacy_protocol4", views, fmt="torch.save legacy", legacy=True, protocol=4)

    # Big-endian: what a big-endian machine writes, made here by swapping each storage's bytes and
    # adding the byteorder record PyTorch 2.1 introduced.
    with zipfile.ZipFile(os.path.join(OUT, "lstm.pt")) as z:
        folder = z.namelist()[0].split("/")[0]
    def swap(name, data):  # every storage of the LSTM is float32
        return np.frombuffer(data, "<f4").astype(">f4").tobytes() if "/data/" in name else data

    rewrite_zip(os.path.join(OUT, "lstm.pt"), os.path.join(OUT, "bigendian.pt"), swap,
                extra=[(folder + "/byteorder", b"big")])
    expect("bigendian", lstm.state_dict(), "torch.save zip")
    rewrite_zip(os.path.join(OUT, "lstm.pt"), os.path.join(OUT, "deflated.pt"), compression=zipfile.ZIP_DEFLATED)
    expect("deflated", lstm.state_dict(), "torch.save zip")

    # Files clrnn refuses, each with what its message must say.
    refused("module", "pickled Python object of class '__main__.MyModel'", lambda p: torch.save(MyModel(), p))
    refused("module_builtin", "pickled Python object of class 'torch.nn.modules.rnn.GRU'",
            lambda p: torch.save(nn.GRU(2, 3), p))
    refused("module_legacy", "pickled Python object of class '__main__.MyModel'",
            lambda p: torch.save(MyModel(), p, _use_new_zipfile_serialization=False))
    refused("scripted", "a TorchScript archive (torch.jit.save)",
            lambda p: torch.jit.save(torch.jit.script(nn.Linear(2, 2)), p))
    refused("evil_system", "refers to global 'posix.system'",
            lambda p: torch.save({"w": torch.ones(2), "x": RunsOnLoad(os.system, "touch " + PWNED)}, p))
    # Protocol 2 writes Python 3's builtins under their Python 2 module name.
    refused("evil_eval", "refers to global '__builtin__.eval'",
            lambda p: torch.save({"x": RunsOnLoad(eval, "__import__('os').system('touch " + PWNED + "')")}, p))
    refused("tensor", "holds a single tensor", lambda p: torch.save(torch.ones(3), p))
    refused("list", "holds a list", lambda p: torch.save([torch.ones(3)], p))

    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump({"generator": "scripts/make-torch-fixtures.py", "torch_version": torch.__version__,
                   "pwned_path": PWNED, "files": manifest}, f, indent=1)
        f.write("\n")
    total = sum(os.path.getsize(os.path.join(OUT, n)) for n in os.listdir(OUT))
    print(f"wrote {len(manifest)} torch.save cases, {total} bytes, to {os.path.normpath(OUT)}")


if __name__ == "__main__":
    main()
