package io.clrnn.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.clrnn.base.InvalidInputException;
import io.clrnn.RnnOptions;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** RnnConfig: PyTorch's repr, its parameter list, and the sizes it refuses. */
class RnnConfigTest {
    private static RnnConfig rnn(int input, int hidden, int layers, boolean bias, boolean bi, boolean batchFirst,
            double dropout) {
        return RnnConfig.of(input, hidden).withLayers(layers).withBias(bias).withBidirectional(bi)
                .withBatchFirst(batchFirst).withDropout(dropout);
    }

    @Test
    void reprOfTheDefaults() {
        assertEquals("RNN(128, 64)", RnnConfig.of(128, 64).toString());
    }

    @Test
    void reprListsEveryNonDefaultInPyTorchsOrder() {
        RnnConfig c = rnn(10, 20, 2, false, true, true, 0);
        assertEquals("RNN(10, 20, num_layers=2, bias=False, batch_first=True, bidirectional=True)", c.toString());
    }

    @Test
    void reprShowsDropoutBetweenBatchFirstAndBidirectional() {
        assertEquals("RNN(10, 20, num_layers=2, dropout=0.5)",
                rnn(10, 20, 2, true, false, false, 0.5).toString());
        assertEquals("RNN(10, 20, batch_first=True, dropout=0.25, bidirectional=True)",
                rnn(10, 20, 1, true, true, true, 0.25).toString());
    }

    @ParameterizedTest(name = "dropout={0} -> {1}")
    @CsvSource({"0.5, 0.5", "1.0, 1.0", "0.1, 0.1", "0.3333, 0.3333", "0.0001, 0.0001", "0.00005, 5e-05",
            "0.0005, 0.0005", "1e-7, 1e-07", "0.125, 0.125"})
    void dropoutIsPrintedAsPythonPrintsAFloat(double dropout, String python) {
        assertEquals("RNN(1, 1, dropout=" + python + ")",
                rnn(1, 1, 1, true, false, false, dropout).toString());
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource({"123.0, 123.0", "1e15, 1000000000000000.0", "1e16, 1e+16", "1.5e-5, 1.5e-05", "-0.25, -0.25",
            "0.30000000000000004, 0.30000000000000004"})
    void pythonFloatIsPythonsRepr(double value, String python) {
        assertEquals(python, RnnConfig.pythonFloat(value));
    }

    @Test
    void nonlinearityIsNeverPrinted() {
        assertEquals("RNN(128, 64)", RnnConfig.of(CellType.RNN_RELU, 128, 64).toString());
        assertEquals("RNN(3, 4, num_layers=3)", RnnConfig.of(CellType.RNN_RELU, 3, 4).withLayers(3).toString());
    }

    @Test
    void lstmAndGruReprsArePyTorchs() {
        // as torch 1.13 prints them: proj_size right after hidden_size
        assertEquals("LSTM(128, 64)", RnnConfig.of(CellType.LSTM, 128, 64).toString());
        assertEquals("LSTM(10, 20, proj_size=5, num_layers=2, batch_first=True, bidirectional=True)",
                RnnConfig.of(CellType.LSTM, 10, 20).withLayers(2).withBatchFirst(true).withBidirectional(true)
                        .withProjSize(5).toString());
        assertEquals("GRU(128, 64, bias=False)", RnnConfig.of(CellType.GRU, 128, 64).withBias(false).toString());
        assertEquals("GRU(128, 64, bias=False, dropout=0.25)",
                RnnConfig.of(CellType.GRU, 128, 64).withBias(false).withDropout(0.25).toString());
    }

    @Test
    void onnxExtrasFollowInOnnxWords() {
        RnnConfig gru = RnnConfig.of(CellType.GRU, 3, 5).withDirection(Direction.REVERSE)
                .withCell(new CellOptions(CellType.GRU.defaultActivations(), 2.5, false, false, false));
        assertEquals("GRU(3, 5, direction=reverse, activations=[Sigmoid, Tanh], clip=2.5, linear_before_reset=0)",
                gru.toString());
    }

    @ParameterizedTest
    @CsvSource({"GRU, 2, 'proj_size argument is only supported for LSTM, not RNN or GRU'",
            "RNN_TANH, 1, 'proj_size argument is only supported for LSTM, not RNN or GRU'",
            "LSTM, 5, 'proj_size has to be smaller than hidden_size'",
            "LSTM, -1, 'proj_size should be a positive integer or zero to disable projections'"})
    void projSizeIsCheckedInPyTorchsWords(CellType mode, int proj, String message) {
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> RnnConfig.of(mode, 3, 5).withProjSize(proj));
        assertEquals(message, e.getMessage());
    }

    @Test
    void lstmParametersIncludeTheProjectionInPyTorchsOrder() {
        Map<String, int[]> shapes = RnnConfig.of(CellType.LSTM, 3, 5).withProjSize(2).withBidirectional(true)
                .parameterShapes();
        assertEquals(List.of("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0", "weight_hr_l0",
                "weight_ih_l0_reverse", "weight_hh_l0_reverse", "bias_ih_l0_reverse", "bias_hh_l0_reverse",
                "weight_hr_l0_reverse"), List.copyOf(shapes.keySet()));
        assertEquals(List.of(20, 2), List.of(shapes.get("weight_hh_l0")[0], shapes.get("weight_hh_l0")[1]));
        assertEquals(List.of(2, 5), List.of(shapes.get("weight_hr_l0")[0], shapes.get("weight_hr_l0")[1]));
        assertEquals(15, RnnConfig.of(CellType.GRU, 3, 5).parameterShapes().get("weight_ih_l0")[0]);
    }

    @Test
    void withersChangeOneThing() {
        RnnConfig c = RnnConfig.of(3, 4).withLayers(2).withBias(false).withBidirectional(true);
        assertEquals(new RnnConfig(CellType.RNN_TANH, 3, 4, 2, false, false, 0, Direction.BIDIRECTIONAL, 0, null), c);
        assertEquals(2, c.numDirections());
        assertEquals(3, c.layerInputSize(0));
        assertEquals(8, c.layerInputSize(1));
    }

    @Test
    void parameterShapesFollowTheStateDictOrder() {
        Map<String, int[]> shapes = rnn(3, 4, 2, true, true, false, 0).parameterShapes();
        assertEquals(List.of(
                "weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0",
                "weight_ih_l0_reverse", "weight_hh_l0_reverse", "bias_ih_l0_reverse", "bias_hh_l0_reverse",
                "weight_ih_l1", "weight_hh_l1", "bias_ih_l1", "bias_hh_l1",
                "weight_ih_l1_reverse", "weight_hh_l1_reverse", "bias_ih_l1_reverse", "bias_hh_l1_reverse"),
                List.copyOf(shapes.keySet()));
        assertEquals(List.of(4, 3), List.of(shapes.get("weight_ih_l0")[0], shapes.get("weight_ih_l0")[1]));
        assertEquals(List.of(4, 8), List.of(shapes.get("weight_ih_l1")[0], shapes.get("weight_ih_l1")[1]));
        assertEquals(1, shapes.get("bias_hh_l1_reverse").length);
    }

    @ParameterizedTest
    @CsvSource({"0, 4, 1, 'input_size should be a positive integer, got 0'",
            "3, -1, 1, 'hidden_size should be a positive integer, got -1'",
            "3, 4, 0, 'num_layers should be a positive integer, got 0'"})
    void refusesSizesPyTorchRefuses(int input, int hidden, int layers, String message) {
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> rnn(input, hidden, layers, true, false, false, 0));
        assertEquals(message, e.getMessage());
    }

    @Test
    void refusesDropoutOutsideZeroToOne() {
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> RnnConfig.of(3, 4).withDropout(1.5));
        assertEquals("dropout should be a number in range [0, 1] representing the probability of an element "
                + "being zeroed, but got 1.5", e.getMessage());
        assertThrows(InvalidInputException.class, () -> RnnOptions.defaults().dropout(Double.NaN));
    }
}
