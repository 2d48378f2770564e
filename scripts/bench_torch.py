#!/usr/bin/env python3
"""Times PyTorch's torch.nn.RNN, LSTM or GRU (or SGEMMs) for comparison with `clrnn bench`; prints one JSON object.

Whole forwards of one shape, timed the way `clrnn bench` times them:

    python3 scripts/bench_torch.py --seq 100 --batch 64 --input 256 --hidden 256 --layers 2 \
        --bidirectional [--mode rnn_tanh|rnn_relu|lstm|gru] [--proj P] [--lengths L1 L2 ...] \
        [--threads 1] [--device cpu|cuda] [--warmup 3] [--iterations 10] [--seconds 2]

With --lengths the timed forward is what a PyTorch user runs for a ragged batch: pack_padded_sequence
(enforce_sorted=False), the module, pad_packed_sequence.

On cuda the timed region includes copying X and h_0 to the GPU and out and h_n back, as clrnn's does.
The JSON has the keys of `clrnn bench --json` plus torch_version, threads and openblas_coretype
(the OpenBLAS kernels chosen from the CPU's flags unless $OPENBLAS_CORETYPE is set); implementation is
"torch-cpu-<N>t" or "torch-cuda".

Float32 matmuls (M,K)x(K,N), to compare clrnn's projection GEMM with the BLAS torch uses (OpenBLAS
or MKL), each timed on its own; several triples in one call save Python and torch start-ups:

    python3 scripts/bench_torch.py --gemm M N K [M N K ...] [--threads 1]

prints {"implementation": "torch-sgemm-<N>t", "gemms": [{"m", "n", "k", "median_ms", "gflops", ...}]}.

Warm-up as `clrnn bench`'s: at least --warmup untimed runs and --warmup-seconds of them and, when
--warmup-seconds > 0, on until the medians of two successive windows of runs agree within 5% (at most
10 s); then timed runs until both --iterations and --seconds are spent.

The same module exported to ONNX for ONNX Runtime (`clrnn bench-suite` times it in a JVM of its own),
instead of timing anything:

    python3 scripts/bench_torch.py --export-onnx FILE.onnx --seq 100 --batch 64 ... [--lengths L1 L2 ...]

torch.onnx.export writes the module (opset 14, layout 0: time-major) with inputs input, h_0 (, c_0) and
outputs output, h_n (, c_n). torch cannot export a packed sequence, so with --lengths the onnx package
adds an int32 input sequence_lens (batch,) to every RNN/LSTM/GRU node: ONNX's own form of a ragged batch.
An LSTM with proj_size has no ONNX form (ONNX's LSTM has no projection); that export fails.

Whole networks (scripts/networks.py: sentiment, tagger, forecaster, charlm, events at the sizes of its BENCH),
seeded, for the suite's networks section:

    python3 scripts/bench_torch.py --network sentiment --batch 32 --seq 50 [--threads 1] [--seconds 2]
    python3 scripts/bench_torch.py --network sentiment --export-onnx FILE.onnx   # opset 14, dynamic axes
    python3 scripts/bench_torch.py --network sentiment --batch 32 --seq 50 --save-input X.npy

The timed forward is the module on the input (token ids or features), as clrnn's run of its export is.

Greedy generation with scripts/networks.py's LanguageModel (an Embedding --input wide, --layers LSTM layers of
--hidden, a Linear to --vocab logits), seeded, for the suite's generation section: every stream's prompt of --seq
tokens once, untimed, then timed steps, each feeding every stream's argmax back with the (h, c) carried over:

    python3 scripts/bench_torch.py --generate --vocab 100 --input 64 --hidden 256 --layers 2 --batch 16 --seq 16 \
        [--threads 1] [--seconds 2]
    python3 scripts/bench_torch.py --generate --vocab 100 ... --export-onnx LM.onnx --export-onnx-state LM_STATE.onnx

The timing's median_ms is one step's; tokens_per_s is batch / that. The exports (opset 14, dynamic batch and
sequence axes) are Logits (ids -> logits, for clrnn, which keeps the state on its side) and LogitsWithState (ids,
h0, c0 -> logits, hn, cn, for ONNX Runtime, whose caller feeds the state back). Row b of the prompt holds
(b + t) % vocab at step t, as clrnn's GenerationBenchmark.prompt.
"""
import argparse
import json
import os
import platform
import statistics
import sys
import time
import warnings


def _threads_arg():
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--threads", type=int, default=1)
    return max(1, pre.parse_known_args()[0].threads)


def _openblas_coretype():
    """The OpenBLAS kernels this CPU's flags allow; None where /proc/cpuinfo has no x86 flags."""
    try:
        with open("/proc/cpuinfo") as f:
            flags = set(next((line for line in f if line.startswith("flags")), ":").split(":", 1)[1].split())
    except OSError:
        return None
    if {"avx512f", "avx512bw", "avx512vl", "avx512dq"} <= flags:
        return "SkylakeX"
    return "Haswell" if {"avx2", "fma"} <= flags else None


# OpenBLAS (torch's BLAS on Debian) reads both settings when it loads, before torch is imported:
# it ignores torch.set_num_threads, so --threads goes through the environment; and a release that
# does not know the CPU's model (0.3.21 on an Emerald Rapids VM) falls back to SSE3 kernels at a
# third of the speed, which would flatter clrnn, so the kernels follow the CPU's flags unless set.
os.environ["OPENBLAS_NUM_THREADS"] = str(_threads_arg())
_CORETYPE = os.environ.get("OPENBLAS_CORETYPE") or _openblas_coretype()
if _CORETYPE:
    os.environ["OPENBLAS_CORETYPE"] = _CORETYPE
import torch  # noqa: E402


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seq", type=int, default=5)
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--input", type=int, default=128)
    p.add_argument("--hidden", type=int, default=64)
    p.add_argument("--layers", type=int, default=1)
    p.add_argument("--bidirectional", action="store_true")
    p.add_argument("--mode", choices=["rnn_tanh", "rnn_relu", "lstm", "gru"], default="rnn_tanh")
    p.add_argument("--nonlinearity", choices=["tanh", "relu"], help="same as --mode rnn_tanh|rnn_relu")
    p.add_argument("--proj", type=int, default=0, help="an LSTM's proj_size")
    p.add_argument("--lengths", type=int, nargs="+", help="each sequence's length (ragged batch)")
    p.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (default 1)")
    p.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--warmup-seconds", type=float, default=0.0,
                   help="warm up for at least this long, and on until the median settles")
    p.add_argument("--iterations", type=int, default=10)
    p.add_argument("--seconds", type=float, default=0.0)
    p.add_argument("--gemm", type=int, nargs="+", metavar="M N K", help="time SGEMMs instead of an RNN")
    p.add_argument("--export-onnx", metavar="FILE", help="write the module as ONNX instead of timing it")
    p.add_argument("--network", help="one of scripts/networks.py's BENCH networks instead of a bare module")
    p.add_argument("--save-input", metavar="FILE", help="with --network: write its seeded input as .npy")
    p.add_argument("--generate", action="store_true", help="time greedy generation with a LanguageModel")
    p.add_argument("--vocab", type=int, default=100, help="with --generate: the vocabulary")
    p.add_argument("--export-onnx-state", metavar="FILE",
                   help="with --generate: write the model with its state as inputs and outputs")
    args = p.parse_args()
    if args.gemm and (len(args.gemm) % 3 or min(args.gemm) < 1):
        p.error("--gemm takes positive sizes, three per matmul: M N K [M N K ...]")
    if min(args.seq, args.batch, args.input, args.hidden, args.layers, args.vocab, args.threads,
           args.iterations) < 1 \
            or args.warmup < 0:
        p.error("sizes, --threads and --iterations must be positive, --warmup not negative")
    if args.nonlinearity:
        args.mode = "rnn_" + args.nonlinearity
    if args.lengths and (len(args.lengths) != args.batch or min(args.lengths) < 1 or max(args.lengths) > args.seq):
        p.error("--lengths takes one length per sequence, each in 1..seq")
    if args.export_onnx and args.proj:
        p.error("--export-onnx: an LSTM with proj_size has no ONNX form (ONNX's LSTM has no projection)")
    if args.device == "cuda" and not torch.cuda.is_available():
        p.error("--device cuda: torch.cuda.is_available() is False")
    return args


# As clrnn's Benchmark: two windows' medians within this fraction count as settled; warm-up stops here anyway.
SETTLED = 0.05
MAX_WARMUP_SECONDS = 10.0


def warm_up(fn, warmup, warmup_seconds):
    """Untimed runs, in windows of at least 5 runs and a quarter of warmup_seconds, until at least `warmup`
    runs and `warmup_seconds` are spent and (when warmup_seconds > 0) two windows' medians agree: the
    steady state `clrnn bench` times. Returns the count of runs and the seconds spent."""
    start = time.perf_counter()
    runs = 0
    previous = float("nan")
    while True:
        window = []
        window_start = time.perf_counter()
        while len(window) < 5 or time.perf_counter() - window_start < warmup_seconds / 4:
            t0 = time.perf_counter()
            fn()
            window.append(time.perf_counter() - t0)
        runs += len(window)
        median = statistics.median(window)
        elapsed = time.perf_counter() - start
        settled = abs(median - previous) <= SETTLED * median
        previous = median
        if runs >= warmup and elapsed >= warmup_seconds \
                and (warmup_seconds == 0 or settled or elapsed >= MAX_WARMUP_SECONDS):
            return runs, elapsed


def time_runs(fn, warmup, iterations, seconds, warmup_seconds=0.0):
    """Milliseconds of each timed run, after warm_up: at least `iterations` runs and `seconds` seconds."""
    warm_up(fn, warmup, warmup_seconds)
    millis = []
    start = time.perf_counter()
    while len(millis) < iterations or time.perf_counter() - start < seconds:
        t0 = time.perf_counter()
        fn()
        millis.append((time.perf_counter() - t0) * 1e3)
    return millis


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "cpu"


def label(a):
    """The same label as clrnn's Shape.label(), e.g. "LSTM T100 B64 I256 H256 L2 bi P128 ragged"."""
    parts = [] if a.mode.startswith("rnn") else [a.mode.upper()]
    parts.append("T%d B%d I%d H%d" % (a.seq, a.batch, a.input, a.hidden))
    parts += (["L%d" % a.layers] if a.layers > 1 else []) + (["bi"] if a.bidirectional else [])
    parts += (["P%d" % a.proj] if a.proj else []) + (["relu"] if a.mode == "rnn_relu" else [])
    parts += ["ragged"] if a.lengths else []
    return " ".join(parts)


def rnn_flops(a):
    """As clrnn's RnnConfig.flops: multiply-adds of every gate, and of the projection, on the valid steps only."""
    d = 2 if a.bidirectional else 1
    gates = {"lstm": 4, "gru": 3}.get(a.mode, 1)
    out = a.proj or a.hidden
    per_step = sum(d * (gates * a.hidden * ((a.input if layer == 0 else d * out) + out) + a.proj * a.hidden)
                   for layer in range(a.layers))
    steps = sum(a.lengths) if a.lengths else a.seq * a.batch
    return 2.0 * steps * per_step


def stats(millis, flops):
    median = statistics.median(millis)
    return {"median_ms": median, "min_ms": min(millis), "max_ms": max(millis), "runs": len(millis),
            "gflops": flops / (median * 1e6)}


def module(a):
    kwargs = dict(num_layers=a.layers, bidirectional=a.bidirectional)
    if a.mode == "lstm":
        return torch.nn.LSTM(a.input, a.hidden, proj_size=a.proj, **kwargs)
    if a.mode == "gru":
        return torch.nn.GRU(a.input, a.hidden, **kwargs)
    return torch.nn.RNN(a.input, a.hidden, nonlinearity=a.mode[4:], **kwargs)


def module_and_inputs(a):
    """The seeded module, X (seq, batch, input) and h_0 (layers*D, batch, out), or (h_0, c_0) for an LSTM."""
    torch.manual_seed(0)
    d = 2 if a.bidirectional else 1
    rnn = module(a).eval()
    x = torch.rand(a.seq, a.batch, a.input) * 2 - 1
    h0 = torch.rand(a.layers * d, a.batch, a.proj or a.hidden) * 2 - 1
    hx = (h0, torch.rand(a.layers * d, a.batch, a.hidden) * 2 - 1) if a.mode == "lstm" else h0
    return rnn, x, hx


ONNX_OPSET = 14


def export_onnx(a):
    """Writes the module as ONNX (see the module's doc) and says what it wrote."""
    rnn, x, hx = module_and_inputs(a)
    lstm = a.mode == "lstm"
    inputs = ["input", "h_0"] + (["c_0"] if lstm else [])
    outputs = ["output", "h_n"] + (["c_n"] if lstm else [])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch warns about exporting RNNs with a batch size, which is the point
        torch.onnx.export(rnn, (x, hx), a.export_onnx, input_names=inputs, output_names=outputs,
                          opset_version=ONNX_OPSET)
    if a.lengths:
        add_sequence_lens(a.export_onnx, a.batch)
        inputs.append("sequence_lens")
    return {"onnx": a.export_onnx, "shape": label(a), "inputs": inputs, "outputs": outputs, "opset": ONNX_OPSET}


def add_sequence_lens(path, batch):
    """Gives every recurrent node of the model at `path` the graph input sequence_lens (int32, (batch,))."""
    try:
        import onnx
    except ImportError:
        sys.exit("a ragged batch needs the onnx Python package, to add sequence_lens to torch's export")
    model = onnx.load(path)
    graph = model.graph
    graph.input.append(onnx.helper.make_tensor_value_info("sequence_lens", onnx.TensorProto.INT32, [batch]))
    for node in graph.node:
        if node.op_type in ("RNN", "LSTM", "GRU"):  # inputs: X, W, R, B, sequence_lens, initial_h(, initial_c)
            while len(node.input) < 5:
                node.input.append("")
            node.input[4] = "sequence_lens"
    onnx.checker.check_model(model)
    onnx.save(model, path)


def bench_rnn(a):
    rnn, x, hx = module_and_inputs(a)
    lengths = torch.tensor(a.lengths, dtype=torch.int64) if a.lengths else None

    def run(x, hx):
        if lengths is None:
            return rnn(x, hx)
        packed = torch.nn.utils.rnn.pack_padded_sequence(x, lengths, enforce_sorted=False)
        out, state = rnn(packed, hx)
        return torch.nn.utils.rnn.pad_packed_sequence(out, total_length=a.seq)[0], state
    if a.device == "cuda":
        dev = torch.device("cuda")
        rnn = rnn.to(dev)
        name = torch.cuda.get_device_name(dev)

        def forward():
            state = tuple(h.to(dev) for h in hx) if isinstance(hx, tuple) else hx.to(dev)
            out, hn = run(x.to(dev), state)
            out = out.cpu()
            torch.cuda.synchronize()
        implementation = "torch-cuda"
    else:
        name = cpu_name()

        def forward():
            run(x, hx)
        implementation = "torch-cpu-%dt" % a.threads
    with torch.inference_mode():
        millis = time_runs(forward, a.warmup, a.iterations, a.seconds, a.warmup_seconds)
    result = {"implementation": implementation, "device": name, "shape": label(a), "seq": a.seq,
              "batch": a.batch, "input": a.input, "hidden": a.hidden, "layers": a.layers,
              "bidirectional": a.bidirectional, "mode": a.mode, "proj_size": a.proj, "ragged": bool(a.lengths)}
    result.update(stats(millis, rnn_flops(a)))
    result.update({"recurrence": "", "device_ms": {}})
    return result


def bench_gemm(a):
    torch.manual_seed(0)
    gemms = []
    for m, n, k in zip(a.gemm[0::3], a.gemm[1::3], a.gemm[2::3]):
        lhs, rhs = torch.rand(m, k), torch.rand(k, n)
        out = torch.empty(m, n)
        with torch.inference_mode():
            millis = time_runs(lambda: torch.mm(lhs, rhs, out=out), a.warmup, a.iterations, a.seconds,
                               a.warmup_seconds)
        gemm = {"m": m, "n": n, "k": k}
        gemm.update(stats(millis, 2.0 * m * n * k))
        gemms.append(gemm)
    return {"implementation": "torch-sgemm-%dt" % a.threads, "device": cpu_name(), "gemms": gemms}


def network(a):
    """The --network module in eval() and its seeded input of (batch, seq)."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import networks
    if a.network not in networks.BENCH:
        raise SystemExit("--network: one of " + ", ".join(sorted(networks.BENCH)))
    build, vocab, batch_first = networks.BENCH[a.network]
    torch.manual_seed(1)
    model = build().eval()
    x = networks.make_input(torch.Generator().manual_seed(3 + a.batch), vocab, a.batch, a.seq, batch_first)
    return networks, model, x, batch_first


def bench_network(a):
    networks, model, x, batch_first = network(a)
    if a.export_onnx:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            networks.export(model, x, batch_first, a.export_onnx, 14)
        return {"exported": a.export_onnx, "network": a.network}
    if a.save_input:
        import numpy as np
        np.save(a.save_input, x.numpy())
        return {"saved": a.save_input, "network": a.network, "shape": list(x.shape)}
    with torch.inference_mode():
        millis = time_runs(lambda: model(x), a.warmup, a.iterations, a.seconds, a.warmup_seconds)
    result = {"implementation": "torch-cpu-%dt" % a.threads, "device": cpu_name(), "network": a.network,
              "batch": a.batch, "seq": a.seq}
    result.update(stats(millis, 0.0))
    return result


def language_model(a):
    """The --generate module in eval() and its prompt, (batch, seq) token ids."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import networks
    torch.manual_seed(0)
    lm = networks.LanguageModel(a.vocab, a.input, a.hidden, a.layers).eval()
    prompt = (torch.arange(a.batch)[:, None] + torch.arange(a.seq)[None, :]) % a.vocab
    return networks, lm, prompt


def export_language_model(a, networks, lm, prompt):
    batch_and_seq = {0: "batch", 1: "seq"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch warns about exporting an LSTM with a batch size, which is the point
        if a.export_onnx:
            torch.onnx.export(networks.Logits(lm), (prompt,), a.export_onnx, opset_version=ONNX_OPSET,
                              input_names=["ids"], output_names=["logits"], dynamic_axes={"ids": batch_and_seq})
        if a.export_onnx_state:
            h0 = torch.zeros(a.layers, a.batch, a.hidden)
            torch.onnx.export(networks.LogitsWithState(lm), (prompt, h0, h0), a.export_onnx_state,
                              opset_version=ONNX_OPSET, input_names=["ids", "h0", "c0"],
                              output_names=["logits", "hn", "cn"],
                              dynamic_axes={"ids": batch_and_seq, "h0": {1: "batch"}, "c0": {1: "batch"}})
    return {"exported": [f for f in (a.export_onnx, a.export_onnx_state) if f]}


def bench_generate(a):
    networks, lm, prompt = language_model(a)
    if a.export_onnx or a.export_onnx_state:
        return export_language_model(a, networks, lm, prompt)
    with torch.inference_mode():
        logits, state = lm(prompt)

        def step():
            nonlocal logits, state
            token = logits[:, -1].argmax(-1, keepdim=True)  # (batch, 1): every stream's next token
            logits, state = lm(token, state)
        millis = time_runs(step, a.warmup, a.iterations, a.seconds, a.warmup_seconds)
    result = {"implementation": "torch-cpu-%dt" % a.threads, "device": cpu_name(), "batch": a.batch,
              "prompt": a.seq}
    result.update(stats(millis, 0.0))
    result["tokens_per_s"] = a.batch * 1e3 / result["median_ms"]
    return result


def main():
    a = parse_args()
    torch.set_num_threads(a.threads)
    result = bench_generate(a) if a.generate else bench_network(a) if a.network else export_onnx(a) \
        if a.export_onnx else bench_gemm(a) if a.gemm else bench_rnn(a)
    result.update({"torch_version": torch.__version__, "threads": torch.get_num_threads(),
                   "cores": os.cpu_count(), "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE")})
    print(json.dumps(result))


if __name__ == "__main__":
    sys.exit(main())
