package io.clrnn.onnx;

import com.google.protobuf.ByteString;
import io.clrnn.base.Tensor;
import io.clrnn.onnx.proto.AttributeProto;
import io.clrnn.onnx.proto.AttributeProto.AttributeType;
import io.clrnn.onnx.proto.GraphProto;
import io.clrnn.onnx.proto.ModelProto;
import io.clrnn.onnx.proto.NodeProto;
import io.clrnn.onnx.proto.OperatorSetIdProto;
import io.clrnn.onnx.proto.TensorProto;
import io.clrnn.onnx.proto.TensorShapeProto;
import io.clrnn.onnx.proto.TypeProto;
import io.clrnn.onnx.proto.ValueInfoProto;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** Builds small ONNX models in Java with clrnn's own proto classes, for tests. */
final class ModelBuilder {
    static final int FLOAT = 1;
    static final int INT32 = 6;
    static final int INT64 = 7;

    private final GraphProto.Builder graph = GraphProto.newBuilder().setName("test");
    private final int opset;

    ModelBuilder(int opset) {
        this.opset = opset;
    }

    /** A graph input with fixed dims; a dim of -1 is symbolic. */
    ModelBuilder input(String name, int elemType, int... dims) {
        graph.addInput(valueInfo(name, elemType, dims));
        return this;
    }

    /** A graph output; null dims: no shape given. */
    ModelBuilder output(String name, int elemType, int... dims) {
        graph.addOutput(valueInfo(name, elemType, dims));
        return this;
    }

    ModelBuilder initializer(String name, Tensor t) {
        graph.addInitializer(floats(name, t));
        return this;
    }

    ModelBuilder initializer(String name, IntTensor t, int elemType) {
        graph.addInitializer(ints(name, t, elemType));
        return this;
    }

    ModelBuilder initializer(TensorProto t) {
        graph.addInitializer(t);
        return this;
    }

    ModelBuilder node(String op, List<String> inputs, List<String> outputs, AttributeProto... attributes) {
        graph.addNode(NodeProto.newBuilder().setOpType(op).setName(op + "_" + graph.getNodeCount())
                .addAllInput(inputs).addAllOutput(outputs).addAllAttribute(List.of(attributes)));
        return this;
    }

    ModelBuilder node(NodeProto n) {
        graph.addNode(n);
        return this;
    }

    ModelProto build() {
        return ModelProto.newBuilder().setIrVersion(opset >= 14 ? 7 : 6).setProducerName("clrnn-test")
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(opset)).setGraph(graph).build();
    }

    byte[] bytes() {
        return build().toByteArray();
    }

    static ValueInfoProto valueInfo(String name, int elemType, int... dims) {
        TypeProto.Tensor.Builder t = TypeProto.Tensor.newBuilder().setElemType(elemType);
        if (dims != null) {
            TensorShapeProto.Builder s = TensorShapeProto.newBuilder();
            for (int d : dims) {
                s.addDim(d < 0 ? TensorShapeProto.Dimension.newBuilder().setDimParam("d" + s.getDimCount())
                        : TensorShapeProto.Dimension.newBuilder().setDimValue(d));
            }
            t.setShape(s);
        }
        return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder().setTensorType(t)).build();
    }

    /** float32 in raw_data, little-endian, as exporters write it. */
    static TensorProto floats(String name, Tensor t) {
        ByteBuffer b = ByteBuffer.allocate(t.numel() * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(t.data());
        TensorProto.Builder p = TensorProto.newBuilder().setName(name).setDataType(FLOAT).setRawData(ByteString.copyFrom(b));
        for (int d : t.shape()) {
            p.addDims(d);
        }
        return p.build();
    }

    static TensorProto ints(String name, IntTensor t, int elemType) {
        TensorProto.Builder p = TensorProto.newBuilder().setName(name).setDataType(elemType);
        for (int d : t.shape()) {
            p.addDims(d);
        }
        for (long v : t.data()) {
            if (elemType == INT64) {
                p.addInt64Data(v);
            } else {
                p.addInt32Data((int) v);
            }
        }
        return p.build();
    }

    static AttributeProto attr(String name, long value) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeType.INT).setI(value).build();
    }

    static AttributeProto attr(String name, float value) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeType.FLOAT).setF(value).build();
    }

    static AttributeProto attr(String name, String value) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeType.STRING)
                .setS(ByteString.copyFrom(value, StandardCharsets.UTF_8)).build();
    }

    static AttributeProto attr(String name, TensorProto value) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeType.TENSOR).setT(value).build();
    }

    static AttributeProto ints(String name, long... values) {
        AttributeProto.Builder a = AttributeProto.newBuilder().setName(name).setType(AttributeType.INTS);
        for (long v : values) {
            a.addInts(v);
        }
        return a.build();
    }

    static AttributeProto floats(String name, float... values) {
        AttributeProto.Builder a = AttributeProto.newBuilder().setName(name).setType(AttributeType.FLOATS);
        for (float v : values) {
            a.addFloats(v);
        }
        return a.build();
    }

    static AttributeProto strings(String name, List<String> values) {
        AttributeProto.Builder a = AttributeProto.newBuilder().setName(name).setType(AttributeType.STRINGS);
        for (String v : values) {
            a.addStrings(ByteString.copyFrom(v, StandardCharsets.UTF_8));
        }
        return a.build();
    }
}
