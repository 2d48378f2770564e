package io.clrnn.base;

import java.util.Locale;

/**
 * How weight matrices are kept on the device. F16 halves the memory and the bandwidth of every
 * product (they are read with {@code vload_half}, core OpenCL 1.2, and converted to float); biases,
 * states and all arithmetic stay float32.
 */
public enum WeightsDtype {
    F32, F16;

    public static WeightsDtype parse(String name) {
        return switch (name.trim().toLowerCase(Locale.ROOT)) {
            case "f32", "float32" -> F32;
            case "f16", "float16", "half" -> F16;
            default -> throw new InvalidInputException("unknown weights dtype '" + name + "': choose f32 or f16");
        };
    }
}
