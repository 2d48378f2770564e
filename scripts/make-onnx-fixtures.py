#!/usr/bin/env python3
"""Generate the torch.onnx.export test models for clrnn's ONNX import.

Run from the repository root (needs torch + numpy + onnx; Debian's python3-torch and python3-onnx work):

    /usr/bin/python3 scripts/make-onnx-fixtures.py

Writes src/test/resources/onnx/ from scratch: for each case a real nn.RNN, nn.LSTM or nn.GRU in eval(),
exported with torch.onnx.export (<case>/model.onnx), seeded inputs (x.npy, and h0.npy / c0.npy when the
module is called with initial states) and the module's own outputs on them (out.npy, h_n.npy, c_n.npy).
Cases cover 1 to 3 layers, bidirectional, batch_first, with and without initial states, relu, opsets 7
to 17, and dynamic axes (run on other sizes than the export's dummy input). manifest.json lists each case
with the ONNX names of its inputs and outputs in the order torch gives them, and whether ONNX Runtime can
run it (not when torch wrote the experimental ConstantFill, as it does for opsets 7 and 8). Everything is
seeded, so a rerun with the same torch version gives the same files.
"""
import io
import json
import os
import shutil
import warnings

import numpy as np
import onnx
import torch
from torch import nn

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "test", "resources", "onnx")

# name, module, kwargs, initial states, opset, dynamic axes, named inputs/outputs
CASES = [
    ("rnn_L1", "RNN", dict(num_layers=1), False, 14, False, True),
    ("rnn_L2_bi_bf_h0", "RNN", dict(num_layers=2, bidirectional=True, batch_first=True), True, 14, False, True),
    ("rnn_L3_bi_h0_op17", "RNN", dict(num_layers=3, bidirectional=True), True, 17, False, False),
    ("rnn_relu_L2_bf_op9", "RNN", dict(num_layers=2, batch_first=True, nonlinearity="relu"), False, 9, False, True),
    ("rnn_L1_bi_h0_op7", "RNN", dict(num_layers=1, bidirectional=True), True, 7, False, True),
    ("rnn_L3_bf_dyn_op11", "RNN", dict(num_layers=3, batch_first=True), False, 11, True, True),
    ("rnn_relu_L2_bi_dyn_op13", "RNN", dict(num_layers=2, bidirectional=True, nonlinearity="relu"), True, 13, True,
     False),
    ("lstm_L1", "LSTM", dict(num_layers=1), False, 14, False, True),
    ("lstm_L2_bi_bf_h0", "LSTM", dict(num_layers=2, bidirectional=True, batch_first=True), True, 14, False, True),
    ("lstm_L3_bi_h0_op17", "LSTM", dict(num_layers=3, bidirectional=True), True, 17, False, False),
    ("lstm_L2_bf_op9", "LSTM", dict(num_layers=2, batch_first=True), False, 9, False, True),
    ("lstm_L1_bi_h0_op7", "LSTM", dict(num_layers=1, bidirectional=True), True, 7, False, True),
    ("lstm_L3_bf_dyn_op11", "LSTM", dict(num_layers=3, batch_first=True), False, 11, True, True),
    ("lstm_L2_bi_h0_dyn_op13", "LSTM", dict(num_layers=2, bidirectional=True), True, 13, True, False),
    ("lstm_L1_nobias_bf_h0_op8", "LSTM", dict(num_layers=1, bias=False, batch_first=True), True, 8, False, True),
    ("gru_L1", "GRU", dict(num_layers=1), False, 14, False, True),
    ("gru_L2_bi_bf_h0", "GRU", dict(num_layers=2, bidirectional=True, batch_first=True), True, 14, False, True),
    ("gru_L3_bi_h0_op17", "GRU", dict(num_layers=3, bidirectional=True), True, 17, False, False),
    ("gru_L2_bf_op9", "GRU", dict(num_layers=2, batch_first=True), False, 9, False, True),
    ("gru_L1_bi_h0_op7", "GRU", dict(num_layers=1, bidirectional=True), True, 7, False, True),
    ("gru_L3_bf_dyn_op11", "GRU", dict(num_layers=3, batch_first=True), False, 11, True, True),
    ("gru_L2_bi_h0_dyn_op13", "GRU", dict(num_layers=2, bidirectional=True), True, 13, True, False),
    ("gru_L2_nobias_bi_op12", "GRU", dict(num_layers=2, bias=False, bidirectional=True), False, 12, False, True),
    # Without initial states, opsets 7 and 8 make the zero states with the experimental ConstantFill.
    ("rnn_L2_bf_op7", "RNN", dict(num_layers=2, batch_first=True), False, 7, False, True),
    ("lstm_L1_op7", "LSTM", dict(num_layers=1), False, 7, False, False),
    ("gru_L2_bi_op8", "GRU", dict(num_layers=2, bidirectional=True), False, 8, False, True),
]


def main():
    warnings.filterwarnings("ignore")
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    manifest = {"generator": "scripts/make-onnx-fixtures.py", "torch_version": torch.__version__,
                "onnx_version": onnx.__version__, "cases": []}
    for index, (name, kind, kwargs, states, opset, dynamic, named) in enumerate(CASES):
        torch.manual_seed(1000 + index)
        input_size, hidden = 3 + index % 3, 4 + index % 4
        module = getattr(nn, kind)(input_size, hidden, **kwargs).eval()
        layers = kwargs.get("num_layers", 1)
        dirs = 2 if kwargs.get("bidirectional") else 1
        batch_first = kwargs.get("batch_first", False)

        def inputs(seq, batch):
            x = torch.randn(batch, seq, input_size) if batch_first else torch.randn(seq, batch, input_size)
            args = [x]
            if states:
                h0 = torch.randn(layers * dirs, batch, hidden)
                args.append((h0, torch.randn(layers * dirs, batch, hidden)) if kind == "LSTM" else h0)
            return tuple(args)

        export_args = inputs(5, 3)
        # With dynamic axes the model runs on other sizes than the dummy input it was traced with.
        run_args = inputs(7, 2) if dynamic else export_args
        in_names = ["x", "h0", "c0"][: 1 + (0 if not states else 2 if kind == "LSTM" else 1)]
        out_names = ["out", "h_n", "c_n"][: 3 if kind == "LSTM" else 2]
        options = dict(opset_version=opset)
        if named or dynamic:
            options.update(input_names=in_names, output_names=out_names)
        if dynamic:
            seq_axis, batch_axis = (1, 0) if batch_first else (0, 1)
            axes = {"x": {seq_axis: "seq", batch_axis: "batch"}}
            for s in in_names[1:]:
                axes[s] = {1: "batch"}
            options["dynamic_axes"] = axes
        buffer = io.BytesIO()
        torch.onnx.export(module, export_args, buffer, **options)
        model = onnx.load_from_string(buffer.getvalue())
        onnx.checker.check_model(model)
        with torch.no_grad():
            result = module(*run_args)
        out, hidden_state = result
        outputs = [out] + (list(hidden_state) if kind == "LSTM" else [hidden_state])

        case_dir = os.path.join(OUT, name)
        os.makedirs(case_dir)
        with open(os.path.join(case_dir, "model.onnx"), "wb") as f:
            f.write(buffer.getvalue())
        initializers = {t.name for t in model.graph.initializer}
        graph_inputs = [i.name for i in model.graph.input if i.name not in initializers]
        flat_inputs = [run_args[0]] + ([] if not states else list(run_args[1]) if kind == "LSTM" else [run_args[1]])
        assert len(graph_inputs) == len(flat_inputs), (name, graph_inputs)
        input_files = {}
        for onnx_name, file, tensor in zip(graph_inputs, ["x.npy", "h0.npy", "c0.npy"], flat_inputs):
            np.save(os.path.join(case_dir, file), tensor.numpy().astype(np.float32))
            input_files[onnx_name] = file
        output_files = {}
        graph_outputs = [o.name for o in model.graph.output]
        for onnx_name, file, tensor in zip(graph_outputs, ["out.npy", "h_n.npy", "c_n.npy"], outputs):
            np.save(os.path.join(case_dir, file), tensor.numpy().astype(np.float32))
            output_files[onnx_name] = file
        ops = sorted({n.op_type for n in model.graph.node})
        manifest["cases"].append({
            "name": name, "module": repr(module), "opset": opset, "dynamic_axes": dynamic,
            "initial_states": states, "inputs": input_files, "outputs": output_files, "ops": ops,
            "ort": "ConstantFill" not in ops,
        })
        print(f"{name}: {repr(module)}, opset {opset}, ops {ops}")
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
