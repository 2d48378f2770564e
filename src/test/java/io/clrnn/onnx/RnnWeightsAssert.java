package io.clrnn.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.clrnn.model.RnnWeights;

final class RnnWeightsAssert {
    private RnnWeightsAssert() {}

    static void same(RnnWeights expected, RnnWeights actual) {
        assertEquals(expected.config(), actual.config());
        assertEquals(expected.stateDict().keySet(), actual.stateDict().keySet());
        expected.stateDict().forEach((k, v) -> assertArrayEquals(v.data(), actual.stateDict().get(k).data(), k));
    }
}
