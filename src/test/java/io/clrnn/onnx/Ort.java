package io.clrnn.onnx;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.clrnn.base.Tensor;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** ONNX Runtime's CPU kernels (the Java binding, test scope only): the oracle clrnn's ONNX import is checked against. */
final class Ort {
    private static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();

    private Ort() {}

    /**
     * Runs a model on float inputs and integer ones (sent as int32, or int64 when {@code int64} names them);
     * returns every output ORT gives, as floats (integer and bool outputs converted).
     */
    static Map<String, Tensor> run(byte[] model, Map<String, Tensor> floats, Map<String, IntTensor> ints,
            List<String> int64) {
        List<OnnxTensor> made = new ArrayList<>();
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setIntraOpNumThreads(1);
            options.setInterOpNumThreads(1);
            try (OrtSession session = ENV.createSession(model, options)) {
                Map<String, OnnxTensor> feeds = new LinkedHashMap<>();
                for (Map.Entry<String, Tensor> e : floats.entrySet()) {
                    OnnxTensor t = OnnxTensor.createTensor(ENV, FloatBuffer.wrap(e.getValue().data()),
                            longs(e.getValue().shape()));
                    made.add(t);
                    feeds.put(e.getKey(), t);
                }
                for (Map.Entry<String, IntTensor> e : ints.entrySet()) {
                    long[] v = e.getValue().data();
                    OnnxTensor t;
                    if (int64.contains(e.getKey())) {
                        t = OnnxTensor.createTensor(ENV, LongBuffer.wrap(v), longs(e.getValue().shape()));
                    } else {
                        int[] i32 = new int[v.length];
                        for (int i = 0; i < v.length; i++) {
                            i32[i] = (int) v[i];
                        }
                        t = OnnxTensor.createTensor(ENV, IntBuffer.wrap(i32), longs(e.getValue().shape()));
                    }
                    made.add(t);
                    feeds.put(e.getKey(), t);
                }
                Map<String, Tensor> out = new LinkedHashMap<>();
                try (OrtSession.Result r = session.run(feeds)) {
                    for (Map.Entry<String, OnnxValue> e : r) {
                        OnnxTensor t = (OnnxTensor) e.getValue();
                        long[] shape = t.getInfo().getShape();
                        int[] dims = new int[shape.length];
                        for (int i = 0; i < dims.length; i++) {
                            dims[i] = (int) shape[i];
                        }
                        float[] data;
                        switch (t.getInfo().type) {
                            case INT64 -> {
                                LongBuffer lb = t.getLongBuffer();
                                data = new float[lb.remaining()];
                                for (int i = 0; i < data.length; i++) {
                                    data[i] = lb.get(i);
                                }
                            }
                            case INT32 -> {
                                IntBuffer ib = t.getIntBuffer();
                                data = new float[ib.remaining()];
                                for (int i = 0; i < data.length; i++) {
                                    data[i] = ib.get(i);
                                }
                            }
                            case BOOL, UINT8 -> {
                                java.nio.ByteBuffer bb = t.getByteBuffer();
                                data = new float[bb.remaining()];
                                for (int i = 0; i < data.length; i++) {
                                    data[i] = bb.get(i) & 0xFF;
                                }
                            }
                            default -> {
                                FloatBuffer fb = t.getFloatBuffer();
                                data = new float[fb.remaining()];
                                fb.get(data);
                            }
                        }
                        out.put(e.getKey(), Tensor.of(data, dims));
                    }
                }
                return out;
            }
        } catch (OrtException e) {
            throw new IllegalStateException("ONNX Runtime: " + e.getMessage(), e);
        } finally {
            made.forEach(OnnxTensor::close);
        }
    }

    static Map<String, Tensor> run(byte[] model, Map<String, Tensor> floats, Map<String, IntTensor> ints) {
        return run(model, floats, ints, List.of());
    }

    private static long[] longs(int[] shape) {
        long[] l = new long[shape.length];
        for (int i = 0; i < l.length; i++) {
            l[i] = shape[i];
        }
        return l;
    }
}
