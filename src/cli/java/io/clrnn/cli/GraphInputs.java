package io.clrnn.cli;

import io.clrnn.base.Tensor;
import io.clrnn.format.Npy;
import io.clrnn.onnx.IntTensor;
import io.clrnn.onnx.OnnxModel;
import io.clrnn.onnx.OnnxModel.Port;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * An ONNX model's inputs read from .npy files by graph input name: a float input as a float array, an integer one
 * (token ids, sequence_lens) as an integer array of any rank, as the model declares each.
 */
record GraphInputs(Map<String, Tensor> floats, Map<String, IntTensor> ints) {
    static GraphInputs read(OnnxModel model, Map<String, Path> files) throws IOException {
        Map<String, Tensor> floats = new LinkedHashMap<>();
        Map<String, IntTensor> ints = new LinkedHashMap<>();
        for (Port p : model.inputs()) {
            Path file = files.get(p.name());
            if (file == null) {
                continue;
            }
            if (p.isFloat()) {
                floats.put(p.name(), Npy.read(file));
            } else {
                Npy.IntArray a = Npy.readIntArray(file);
                ints.put(p.name(), IntTensor.of(a.data(), a.shape()));
            }
        }
        return new GraphInputs(floats, ints);
    }
}
