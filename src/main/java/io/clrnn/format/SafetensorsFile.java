package io.clrnn.format;

import io.clrnn.base.Tensor;
import java.util.Map;

/**
 * The contents of a safetensors file: tensors in the order of their data offsets, and the
 * optional {@code __metadata__} strings (empty when the file has none).
 */
public record SafetensorsFile(Map<String, Tensor> tensors, Map<String, String> metadata) {}
