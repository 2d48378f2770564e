package io.clrnn.onnx;

import static io.clrnn.Assertions2.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.clrnn.base.Tensor;
import io.clrnn.TestDevice;
import io.clrnn.device.Device;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/** A session's life: shared by threads, weights given at run time and changed between runs, closed. */
class OnnxSessionTest {
    private static final Device device = TestDevice.shared();


    @Test
    void threadsSharingASessionGetTheSerialResults() throws Exception {
        RecurrentCase c = new RecurrentCase("shared", "GRU").dir("bidirectional").lengths(5, 2, 0, 4).h0();
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try (OnnxSession s = OnnxModel.load(c.model(0), "g.onnx").open(device)) {
            Map<String, Tensor> serial = s.run(c.floatInputs(0), c.intInputs());
            List<Future<Map<String, Tensor>>> runs = new ArrayList<>();
            for (int i = 0; i < 16; i++) {
                runs.add(pool.submit(() -> s.run(c.floatInputs(0), c.intInputs())));
            }
            for (Future<Map<String, Tensor>> f : runs) {
                Map<String, Tensor> r = f.get();
                serial.forEach((name, t) -> assertArrayEquals(t.data(), r.get(name).data(), name));
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /** Weights given as graph inputs: the engine is remade when they change, and the results follow them. */
    @Test
    void weightsGivenAtRunTimeMayChangeBetweenRuns() {
        RecurrentCase dynamic = new RecurrentCase("dynamic", "LSTM").weightsAsInputs().peepholes().states();
        try (OnnxSession s = OnnxModel.load(dynamic.model(0), "d.onnx").open(device)) {
            for (long seed : new long[] {1, 2, 1}) {
                RecurrentCase fixed = new RecurrentCase("fixed", "LSTM").peepholes().states().seed(seed);
                Map<String, Tensor> in = new HashMap<>(fixed.floatInputs(0));
                fixed.layout0Data().forEach((k, v) -> {
                    if (List.of("W", "R", "B", "P").contains(k)) {
                        in.put(k, v);
                    }
                });
                Map<String, Tensor> got = s.run(in);
                try (OnnxSession f = OnnxModel.load(fixed.model(0), "f.onnx").open(device)) {
                    f.run(fixed.floatInputs(0)).forEach((name, t) -> assertClose(t, got.get(name), "seed " + seed
                            + " " + name));
                }
            }
        }
    }

    @Test
    void aClosedSessionRefusesToRun() {
        RecurrentCase c = new RecurrentCase("closed", "RNN");
        OnnxSession s = OnnxModel.load(c.model(0), "r.onnx").open(device);
        s.close();
        s.close();
        assertThrows(IllegalStateException.class, () -> s.run(c.floatInputs(0)));
    }
}
