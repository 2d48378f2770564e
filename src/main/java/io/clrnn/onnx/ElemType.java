package io.clrnn.onnx;

import io.clrnn.format.ElementType;

/**
 * An ONNX input's element type as OnnxSession's input check reads it: a view of {@link ElementType}, the
 * one table of element types. Kept only until OnnxSession, restructured apart from this change, calls
 * ElementType itself; then this class goes.
 */
final class ElemType {
    /** The type in words: float32, int64... */
    final String label;
    private final ElementType type;

    private ElemType(ElementType type) {
        this.type = type;
        this.label = type.dtype();
    }

    /** The type of a DataType code, or null for one clrnn does not read. */
    static ElemType of(int code) {
        ElementType t = ElementType.ofOnnx(code);
        return t == null ? null : new ElemType(t);
    }

    boolean isFloat() {
        return type.isFloat();
    }
}
