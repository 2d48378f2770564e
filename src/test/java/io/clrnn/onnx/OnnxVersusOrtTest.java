package io.clrnn.onnx;

import static io.clrnn.Assertions2.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.clrnn.base.Tensor;
import io.clrnn.TestDevice;
import io.clrnn.device.Device;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * What ONNX's node tests miss, each against ONNX Runtime's CPU kernels at atol 1e-5, rtol 1e-4: directions,
 * sequence_lens (0 included for GRU and LSTM), initial states, clip, every activation with and without
 * alpha/beta, both linear_before_reset, peepholes with lengths, input_forget, layout 1 (checked through its
 * layout-0 twin, since ORT's CPU GRU and LSTM refuse layout 1), opsets 7 to 22, weights as graph inputs, and
 * each optional output left out.
 */
class OnnxVersusOrtTest {
    private static Device device;

    @BeforeAll
    static void open() {
        OrtOracle.assumeAvailable();
        device = TestDevice.shared();
    }

    static Stream<RecurrentCase> cases() {
        return Stream.of(
                // RNN. ORT's RNN reads activation_alpha/beta by direction and defaults them to 0 (see ONNX.md), so
                // the cases here give every alpha and beta their functions take, one per direction.
                new RecurrentCase("rnn forward", "RNN").opset(7),
                new RecurrentCase("rnn reverse h0", "RNN").dir("reverse").h0().seed(2),
                new RecurrentCase("rnn bidirectional h0 no bias", "RNN").dir("bidirectional").h0().noBias().opset(22),
                new RecurrentCase("rnn lengths", "RNN").lengths(5, 3, 1, 4).h0(),
                new RecurrentCase("rnn reverse lengths", "RNN").dir("reverse").lengths(2, 5, 4).h0(),
                new RecurrentCase("rnn bidirectional lengths", "RNN").dir("bidirectional").lengths(5, 1, 3).seed(3),
                new RecurrentCase("rnn clip", "RNN").clip(0.3f).dir("bidirectional"),
                new RecurrentCase("rnn layout 1", "RNN").layout(1).dir("bidirectional").h0().lengths(4, 5, 2),
                new RecurrentCase("rnn Relu", "RNN").acts("Relu"),
                new RecurrentCase("rnn Sigmoid", "RNN").acts("Sigmoid").opset(9),
                new RecurrentCase("rnn Affine", "RNN").acts("Affine").alphas(0.7f).betas(0.1f),
                new RecurrentCase("rnn LeakyRelu", "RNN").acts("LeakyRelu").alphas(0.2f),
                new RecurrentCase("rnn ThresholdedRelu", "RNN").acts("ThresholdedRelu").alphas(0.3f),
                new RecurrentCase("rnn ScaledTanh", "RNN").acts("ScaledTanh").alphas(1.5f).betas(0.7f),
                new RecurrentCase("rnn HardSigmoid", "RNN").acts("HardSigmoid").alphas(0.3f).betas(0.6f),
                new RecurrentCase("rnn Elu", "RNN").acts("Elu").alphas(0.8f),
                new RecurrentCase("rnn Softsign", "RNN").acts("Softsign"),
                new RecurrentCase("rnn Softplus", "RNN").acts("Softplus"),
                new RecurrentCase("rnn bidirectional LeakyRelu Elu", "RNN").dir("bidirectional")
                        .acts("LeakyRelu", "Elu").alphas(0.2f, 0.9f),
                new RecurrentCase("rnn weights as inputs", "RNN").weightsAsInputs().h0(),
                new RecurrentCase("rnn Y only", "RNN").only(true, false, false).dir("reverse"),
                new RecurrentCase("rnn Y_h only", "RNN").only(false, true, false).lengths(3, 5),

                // GRU
                new RecurrentCase("gru linear_before_reset 0", "GRU").opset(7),
                new RecurrentCase("gru linear_before_reset 1", "GRU").lbr(1).seed(2),
                new RecurrentCase("gru reverse h0", "GRU").dir("reverse").h0(),
                new RecurrentCase("gru bidirectional h0 lbr 1", "GRU").dir("bidirectional").lbr(1).h0().opset(22),
                new RecurrentCase("gru lengths with 0", "GRU").lengths(5, 0, 3),
                new RecurrentCase("gru reverse lengths with 0 lbr 1", "GRU").dir("reverse").lengths(0, 4, 2).lbr(1).h0(),
                new RecurrentCase("gru bidirectional lengths with 0", "GRU").dir("bidirectional").lengths(3, 0, 5).h0(),
                new RecurrentCase("gru all lengths 0", "GRU").lengths(0, 0).h0().dir("bidirectional"),
                new RecurrentCase("gru clip", "GRU").clip(0.5f),
                new RecurrentCase("gru clip lbr 1 bidirectional", "GRU").clip(0.4f).lbr(1).dir("bidirectional"),
                new RecurrentCase("gru layout 1", "GRU").layout(1).dir("bidirectional").h0().lengths(4, 0, 5, 2),
                new RecurrentCase("gru layout 1 lbr 1", "GRU").layout(1).lbr(1).h0(),
                new RecurrentCase("gru HardSigmoid Softsign", "GRU").acts("HardSigmoid", "Softsign").alphas(0.3f)
                        .betas(0.4f),
                new RecurrentCase("gru Sigmoid ScaledTanh", "GRU").acts("Sigmoid", "ScaledTanh").alphas(1.2f).betas(0.8f),
                new RecurrentCase("gru LeakyRelu Elu defaults", "GRU").acts("LeakyRelu", "Elu"),
                new RecurrentCase("gru ThresholdedRelu Softplus", "GRU").acts("ThresholdedRelu", "Softplus")
                        .alphas(0.1f).lbr(1),
                new RecurrentCase("gru Affine Relu", "GRU").acts("Affine", "Relu").alphas(0.5f).betas(0.2f),
                new RecurrentCase("gru Tanh Sigmoid lowercase", "GRU").acts("tanh", "sigmoid").lbr(1),
                new RecurrentCase("gru bidirectional four activations", "GRU").dir("bidirectional")
                        .acts("HardSigmoid", "Tanh", "Sigmoid", "Elu").alphas(0.25f, 0.6f).betas(0.45f),
                new RecurrentCase("gru no bias", "GRU").noBias().h0(),
                new RecurrentCase("gru weights as inputs", "GRU").weightsAsInputs().lbr(1),

                // LSTM
                new RecurrentCase("lstm forward", "LSTM").opset(7),
                new RecurrentCase("lstm reverse states", "LSTM").dir("reverse").states(),
                new RecurrentCase("lstm bidirectional states", "LSTM").dir("bidirectional").states().opset(22),
                new RecurrentCase("lstm peepholes", "LSTM").peepholes(),
                new RecurrentCase("lstm peepholes lengths with 0", "LSTM").peepholes().lengths(5, 0, 2).states(),
                new RecurrentCase("lstm peepholes bidirectional lengths", "LSTM").peepholes().dir("bidirectional")
                        .lengths(3, 5, 0),
                new RecurrentCase("lstm input_forget", "LSTM").inputForget().states(),
                new RecurrentCase("lstm input_forget peepholes reverse", "LSTM").inputForget().peepholes()
                        .dir("reverse").lengths(4, 2, 5),
                new RecurrentCase("lstm clip peepholes", "LSTM").clip(0.4f).peepholes().states(),
                new RecurrentCase("lstm all lengths 0", "LSTM").lengths(0, 0, 0).states(),
                new RecurrentCase("lstm layout 1", "LSTM").layout(1).dir("bidirectional").peepholes().states()
                        .lengths(4, 0, 5),
                new RecurrentCase("lstm HardSigmoid Softsign Elu", "LSTM").acts("HardSigmoid", "Softsign", "Elu")
                        .alphas(0.3f, 0.7f).betas(0.5f),
                new RecurrentCase("lstm Sigmoid ScaledTanh Affine", "LSTM").acts("Sigmoid", "ScaledTanh", "Affine")
                        .alphas(1.1f, 0.8f).betas(0.9f, 0.1f),
                new RecurrentCase("lstm LeakyRelu ThresholdedRelu defaults", "LSTM")
                        .acts("Sigmoid", "LeakyRelu", "ThresholdedRelu"),
                new RecurrentCase("lstm HardSigmoid Elu defaults", "LSTM").acts("HardSigmoid", "Elu", "Tanh").states(),
                new RecurrentCase("lstm Softplus Relu", "LSTM").acts("Sigmoid", "Softplus", "Relu"),
                new RecurrentCase("lstm bidirectional six activations", "LSTM").dir("bidirectional")
                        .acts("Sigmoid", "Tanh", "Tanh", "HardSigmoid", "Softsign", "Softplus").alphas(0.15f)
                        .betas(0.55f),
                new RecurrentCase("lstm no bias Y_c only", "LSTM").noBias().only(false, false, true).states(),
                new RecurrentCase("lstm initial_c without initial_h", "LSTM").c0Only(),
                new RecurrentCase("lstm weights as inputs", "LSTM").weightsAsInputs().peepholes().states());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void matchesOnnxRuntime(RecurrentCase c) {
        Map<String, Tensor> expected = Ort.run(c.model(0), c.floatInputs(0), c.intInputs());
        Map<String, Tensor> actual;
        try (OnnxSession session = OnnxModel.load(c.model(c.layout), c.name).open(device)) {
            actual = session.run(c.floatInputs(c.layout), c.intInputs());
        }
        assertEquals(expected.keySet(), actual.keySet(), "outputs");
        for (String name : expected.keySet()) {
            Tensor e = c.layout == 1 ? RecurrentCase.toLayout1(expected.get(name)) : expected.get(name);
            assertClose(e, actual.get(name), c.name + " " + name);
        }
    }

    static List<String> names() {
        return cases().map(c -> c.name).toList();
    }
}
