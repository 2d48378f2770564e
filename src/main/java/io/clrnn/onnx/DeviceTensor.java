package io.clrnn.onnx;

import io.clrnn.base.Tensor;

/**
 * A float32 tensor on the device: {@code numel} floats in C order from float {@code offset} of a pool block.
 * Reshaping makes another view of the same block.
 */
record DeviceTensor(BufferPool.Block block, int offset, int[] shape) {
    DeviceTensor {
        shape = shape.clone();
    }

    int numel() {
        return (int) Tensor.numel(shape);
    }

    int rank() {
        return shape.length;
    }

    DeviceTensor reshape(int[] newShape) {
        if (Tensor.numel(newShape) != numel()) {
            throw new IllegalArgumentException("cannot view " + Tensor.format(shape) + " as " + Tensor.format(newShape));
        }
        return new DeviceTensor(block, offset, newShape);
    }
}
