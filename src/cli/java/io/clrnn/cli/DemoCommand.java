package io.clrnn.cli;

import io.clrnn.Rnn;
import io.clrnn.base.RnnInput;
import io.clrnn.base.RnnOutput;
import io.clrnn.base.Tensor;
import io.clrnn.device.Device;
import io.clrnn.model.CellType;
import io.clrnn.model.ReferenceRnn;
import io.clrnn.model.RnnConfig;
import io.clrnn.model.RnnWeights;
import java.io.PrintWriter;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code clrnn demo}: the course lab on torch.nn.RNN that this project started from, replayed, then its cell state. */
@Command(name = "demo", mixinStandardHelpOptions = true, description = "Replay the torch.nn.RNN lab: RNN(128, 64) on "
        + "(5, 4, 128), any seq_len, batch_first; then the cell state the lab speaks of, in an LSTM, and a GRU.")
final class DemoCommand implements Callable<Integer> {
    @Mixin
    DeviceOption device;

    @Option(names = "--seed", defaultValue = "0", description = "Seed for weights and inputs.")
    long seed;

    @Spec
    CommandSpec spec;

    private PrintWriter out;
    private SplittableRandom random;

    @Override
    public Integer call() {
        out = spec.commandLine().getOut();
        random = new SplittableRandom(seed);
        try (Device d = device.open()) {
            out.println("device: " + d);
            out.println();

            Tensor x = randn(5, 4, 128);
            Tensor h0 = randn(1, 4, 64);
            try (Rnn rnn = Rnn.create(d, RnnWeights.init(RnnConfig.of(128, 64), random.nextLong()))) {
                out.println("rnn = nn.RNN(input_size=128, hidden_size=64, num_layers=1)");
                out.println(rnn);
                forwardAndShow(rnn, RnnInput.of(x).h0(h0));
                out.println();

                out.println("The same layer takes any sequence length:");
                for (int seqLen : new int[] {20, 30, 50}) {
                    RnnOutput z = rnn.forward(randn(seqLen, 4, 128), h0);
                    out.printf("  seq_len %d: out %s, h_n %s%n", seqLen, shape(z.output()), shape(z.hidden()));
                }
                out.println();
            }

            out.println("Exercise: batch_first=True, batch 16, sequence length 25");
            RnnWeights bf = RnnWeights.init(RnnConfig.of(128, 64).withBatchFirst(true), random.nextLong());
            try (Rnn rnn = Rnn.create(d, bf)) {
                out.println(rnn);
                forwardAndShow(rnn, RnnInput.of(randn(16, 25, 128)).h0(randn(1, 16, 64)));
            }
            out.println();

            out.println("The cell state: only an LSTM has one. lstm = nn.LSTM(128, 64) on the same X:");
            try (Rnn lstm = Rnn.create(d, RnnWeights.init(RnnConfig.of(CellType.LSTM, 128, 64), random.nextLong()))) {
                out.println(lstm);
                forwardAndShow(lstm, RnnInput.of(x).h0(h0).c0(randn(1, 4, 64)));
            }
            out.println();

            out.println("A GRU keeps no cell state; gru = nn.GRU(128, 64):");
            try (Rnn gru = Rnn.create(d, RnnWeights.init(RnnConfig.of(CellType.GRU, 128, 64), random.nextLong()))) {
                out.println(gru);
                forwardAndShow(gru, RnnInput.of(x).h0(h0));
            }
        }
        return Main.EXIT_OK;
    }

    /** Runs one forward and prints the shapes, and how far out is from the Java reference. */
    private void forwardAndShow(Rnn rnn, RnnInput in) {
        RnnOutput y = rnn.forward(in);
        out.printf("X:   %s%n", shape(in.x()));
        out.printf("h_0: %s%n", shape(in.h0()));
        if (in.c0() != null) {
            out.printf("c_0: %s%n", shape(in.c0()));
        }
        out.printf("out: %s%n", shape(y.output()));
        out.printf("h_n: %s%n", shape(y.hidden()));
        if (y.cell() != null) {
            out.printf("c_n: %s%n", shape(y.cell()));
        }
        out.printf(Locale.ROOT, "max |out - Java reference| = %.1e%n",
                maxDiff(ReferenceRnn.forward(rnn.weights(), in).output(), y.output()));
    }

    private static String shape(Tensor t) {
        return Tensor.format(t.shape());
    }

    private Tensor randn(int... shape) {
        return Tensor.randn(random.nextLong(), shape);
    }

    private static double maxDiff(Tensor expected, Tensor actual) {
        double max = 0;
        float[] e = expected.data();
        float[] a = actual.data();
        for (int i = 0; i < e.length; i++) {
            max = Math.max(max, Math.abs(e[i] - a[i]));
        }
        return max;
    }
}
