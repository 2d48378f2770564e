package io.clrnn.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clrnn.Fixtures;
import io.clrnn.base.InvalidInputException;
import io.clrnn.Nonlinearity;
import io.clrnn.RnnOptions;
import io.clrnn.StateDict;
import io.clrnn.base.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** RnnWeights: PyTorch's init, the state_dict checks in load_state_dict's words, save/load. */
class RnnWeightsTest {
    private static final RnnOptions OPTIONS = RnnOptions.defaults();
    /** RNN(10, 20, num_layers=2, bidirectional=True): every kind of key. */
    private static final RnnConfig BIG = RnnConfig.of(10, 20).withLayers(2).withBidirectional(true);

    @TempDir Path dir;

    private static Map<String, Tensor> stateDict(RnnConfig config) {
        return new LinkedHashMap<>(RnnWeights.init(config, 1).stateDict());
    }

    private static String loadError(Map<String, Tensor> stateDict) {
        return assertThrows(InvalidInputException.class, () -> StateDict.of(stateDict, OPTIONS))
                .getMessage();
    }

    // ---- init ----

    @ParameterizedTest
    @ValueSource(ints = {1, 4, 64, 130})
    void initIsUniformWithinOneOverSqrtHidden(int hidden) {
        RnnConfig config = RnnConfig.of(128, hidden).withLayers(2).withBidirectional(true);
        double k = 1 / Math.sqrt(hidden);
        double min = Double.MAX_VALUE;
        double max = -Double.MAX_VALUE;
        double sum = 0;
        int n = 0;
        for (Tensor t : RnnWeights.init(config, 42).stateDict().values()) {
            for (float v : t.data()) {
                assertTrue(Math.abs(v) <= k, v + " outside ±" + k);
                min = Math.min(min, v);
                max = Math.max(max, v);
                sum += v;
                n++;
            }
        }
        // Thousands of draws: they reach near both ends and average near 0.
        assertTrue(max > 0.95 * k && min < -0.95 * k, "range [" + min + ", " + max + "] for k " + k);
        assertTrue(Math.abs(sum / n) < 0.05 * k, "mean " + sum / n);
    }

    @Test
    void initHasEveryParameterWithItsShapeInOrder() {
        RnnWeights w = RnnWeights.init(BIG, 3);
        assertEquals(BIG, w.config());
        assertEquals(List.copyOf(BIG.parameterShapes().keySet()), List.copyOf(w.stateDict().keySet()));
        BIG.parameterShapes().forEach((name, shape) -> assertArrayEquals(shape, w.stateDict().get(name).shape(), name));
    }

    @Test
    void initIsDeterministicBySeed() {
        Map<String, Tensor> a = RnnWeights.init(BIG, 7).stateDict();
        Map<String, Tensor> b = RnnWeights.init(BIG, 7).stateDict();
        Map<String, Tensor> c = RnnWeights.init(BIG, 8).stateDict();
        a.forEach((name, t) -> assertArrayEquals(t.data(), b.get(name).data(), name));
        assertFalse(java.util.Arrays.equals(a.get("weight_ih_l0").data(), c.get("weight_ih_l0").data()));
    }

    @Test
    void withoutBiasThereAreNoBiasParameters() {
        RnnWeights w = RnnWeights.init(RnnConfig.of(3, 4).withBias(false), 0);
        assertEquals(List.of("weight_ih_l0", "weight_hh_l0"), List.copyOf(w.stateDict().keySet()));
        assertNull(w.bias("ih", 0, 0));
    }

    @ParameterizedTest
    @CsvSource({"LSTM, 0", "LSTM, 3", "GRU, 0", "RNN_TANH, 0"})
    void theShapesSayWhichCellItIs(CellType mode, int proj) {
        RnnConfig config = RnnConfig.of(mode, 6, 5).withLayers(2).withBidirectional(true).withBias(proj == 0)
                .withProjSize(proj);
        RnnWeights w = StateDict.of(stateDict(config), OPTIONS);
        assertEquals(config, w.config());
    }

    @Test
    void aModeThatContradictsTheShapesIsRefused() {
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> StateDict.of(
                stateDict(RnnConfig.of(CellType.GRU, 6, 5)), OPTIONS.mode(CellType.LSTM)));
        assertEquals("--mode lstm does not fit the weights: weight_hh_l0 has 15 rows, 3 times hidden_size 5 (GRU)",
                e.getMessage());
        assertEquals(CellType.RNN_RELU, StateDict.of(stateDict(RnnConfig.of(3, 4)),
                OPTIONS.mode(CellType.RNN_RELU)).config().mode());
    }

    @Test
    void aModuleIsFoundUnderItsPrefixBesideOtherModules() {
        Map<String, Tensor> model = new LinkedHashMap<>();
        model.put("embedding.weight", Tensor.zeros(10, 6));
        RnnWeights.init(RnnConfig.of(CellType.LSTM, 6, 5), 3).stateDict()
                .forEach((k, t) -> model.put("encoder.lstm." + k, t));
        model.put("head.weight", Tensor.zeros(2, 5));
        RnnWeights w = StateDict.of(model, OPTIONS);
        assertEquals("LSTM(6, 5)", w.config().toString());
        RnnWeights.init(RnnConfig.of(CellType.GRU, 5, 4), 3).stateDict().forEach((k, t) -> model.put("decoder." + k, t));
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> StateDict.of(model, OPTIONS));
        assertEquals("the file holds 2 recurrent modules, under the prefixes \"encoder.lstm.\", \"decoder.\"; "
                + "choose one with --prefix", e.getMessage());
        assertEquals("GRU(5, 4)", StateDict.of(model, OPTIONS.prefix("decoder")).config().toString());
        assertEquals("no recurrent module under prefix \"encoder.\" (found: \"encoder.lstm.\", \"decoder.\")",
                assertThrows(InvalidInputException.class,
                        () -> StateDict.of(model, OPTIONS.prefix("encoder"))).getMessage());
    }

    // ---- save / load ----

    @Test
    void saveThenLoadGivesTheSameModule() throws IOException {
        RnnOptions relu = RnnOptions.defaults().nonlinearity(Nonlinearity.RELU).batchFirst(true);
        RnnWeights original = RnnWeights.init(BIG.withMode(CellType.RNN_RELU).withBatchFirst(true), 11);
        Path file = dir.resolve("w.safetensors");
        StateDict.save(original, file);
        RnnWeights loaded = StateDict.load(file, relu);
        assertEquals(original.config(), loaded.config());
        assertEquals(List.copyOf(original.stateDict().keySet()), List.copyOf(loaded.stateDict().keySet()));
        original.stateDict().forEach((name, t) -> {
            assertArrayEquals(t.shape(), loaded.stateDict().get(name).shape(), name);
            assertArrayEquals(t.data(), loaded.stateDict().get(name).data(), name);
        });
    }

    @Test
    void loadInfersTheModuleFromAPyTorchCheckpoint() throws IOException {
        Fixtures.Case c = Fixtures.all().stream().filter(f -> f.name().equals("tanh_L3_nobias_bi_h0_I3_H7_T3_B2"))
                .findFirst().orElseThrow();
        RnnConfig config = c.weights().config();
        assertEquals(RnnConfig.of(3, 7).withLayers(3).withBias(false).withBidirectional(true), config);
        assertEquals("RNN(3, 7, num_layers=3, bias=False, bidirectional=True)", config.toString());
    }

    @Test
    void optionsOnlyChangeWhatTheStateDictDoesNotRecord() {
        RnnWeights w = RnnWeights.init(BIG, 1);
        RnnWeights relu = w.withConfig(w.config().withMode(CellType.RNN_RELU));
        assertEquals(CellType.RNN_RELU, relu.config().mode());
        assertEquals(w.stateDict(), relu.stateDict());
    }

    // ---- state_dict errors, in load_state_dict's words ----

    @Test
    void missingKey() {
        Map<String, Tensor> sd = stateDict(BIG);
        sd.remove("weight_hh_l1_reverse");
        assertEquals("Error(s) in loading state_dict for RNN: Missing key(s) in state_dict: \"weight_hh_l1_reverse\".",
                loadError(sd));
    }

    @Test
    void missingKeysAreListedInModuleOrder() {
        Map<String, Tensor> sd = stateDict(BIG);
        sd.remove("bias_hh_l1");
        sd.remove("weight_hh_l0_reverse");
        assertEquals("Error(s) in loading state_dict for RNN: Missing key(s) in state_dict: "
                + "\"weight_hh_l0_reverse\", \"bias_hh_l1\".", loadError(sd));
    }

    @Test
    void missingFirstLayerKeyAlsoSaysSo() {
        Map<String, Tensor> sd = stateDict(BIG);
        sd.remove("weight_ih_l0");
        String message = loadError(sd);
        assertTrue(message.startsWith(
                "Error(s) in loading state_dict for RNN: Missing key(s) in state_dict: \"weight_ih_l0\"."), message);
    }

    @Test
    void unexpectedKey() {
        Map<String, Tensor> sd = stateDict(BIG);
        sd.put("fc.weight", Tensor.zeros(2, 2)); // another module's: ignored
        sd.put("foo", Tensor.zeros(2, 2));
        assertEquals("Error(s) in loading state_dict for RNN: Unexpected key(s) in state_dict: \"foo\".",
                loadError(sd));
    }

    @Test
    void sizeMismatch() {
        Map<String, Tensor> sd = stateDict(RnnConfig.of(3, 5));
        sd.put("weight_hh_l0", Tensor.zeros(5, 6));
        assertEquals("Error(s) in loading state_dict for RNN: size mismatch for weight_hh_l0: copying a param with "
                + "shape [5, 6] from checkpoint, the shape in current model is [5, 5].", loadError(sd));
    }

    @Test
    void sizeMismatchOfABias() {
        Map<String, Tensor> sd = stateDict(BIG);
        sd.put("bias_ih_l1_reverse", Tensor.zeros(21));
        assertEquals("Error(s) in loading state_dict for RNN: size mismatch for bias_ih_l1_reverse: copying a param "
                + "with shape [21] from checkpoint, the shape in current model is [20].", loadError(sd));
    }

    @Test
    void scalarRecurrentWeightIsASizeMismatch() {
        // weight_hh_l0 of shape [] says nothing about hidden_size; weight_ih_l0 still does.
        Map<String, Tensor> sd = stateDict(RnnConfig.of(3, 5));
        sd.put("weight_hh_l0", Tensor.zeros());
        assertEquals("weight_hh_l0 must be 2-D (gates*hidden_size, hidden_size), got shape []", loadError(sd));
    }

    @Test
    void oneDimensionalInputWeightIsRefused() {
        Map<String, Tensor> sd = stateDict(RnnConfig.of(3, 5));
        sd.put("weight_ih_l0", Tensor.zeros(15));
        assertEquals("weight_ih_l0 must be 2-D (gates*hidden_size, input_size), got shape [15]", loadError(sd));
    }

    @Test
    void allErrorsAtOnceInPyTorchsOrder() {
        // load_state_dict puts missing keys first, then unexpected ones, then size mismatches.
        Map<String, Tensor> sd = stateDict(BIG);
        sd.remove("weight_hh_l1_reverse");
        sd.put("fc.weight", Tensor.zeros(2, 2)); // another module's: ignored
        sd.put("foo", Tensor.zeros(2, 2));
        sd.put("bias_hh_l0", Tensor.zeros(3));
        assertEquals("Error(s) in loading state_dict for RNN: "
                + "Missing key(s) in state_dict: \"weight_hh_l1_reverse\". "
                + "Unexpected key(s) in state_dict: \"foo\". "
                + "size mismatch for bias_hh_l0: copying a param with shape [3] from checkpoint, "
                + "the shape in current model is [20].", loadError(sd));
    }

    @Test
    void ofChecksAgainstAGivenConfig() {
        Map<String, Tensor> sd = stateDict(RnnConfig.of(3, 5));
        RnnConfig twoLayers = RnnConfig.of(3, 5).withLayers(2);
        String message = assertThrows(InvalidInputException.class, () -> RnnWeights.of(twoLayers, sd)).getMessage();
        assertEquals("Error(s) in loading state_dict for RNN: Missing key(s) in state_dict: "
                + "\"weight_ih_l1\", \"weight_hh_l1\", \"bias_ih_l1\", \"bias_hh_l1\".", message);
    }
}
