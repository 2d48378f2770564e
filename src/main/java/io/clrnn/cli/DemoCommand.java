package io.clrnn.cli;

import io.clrnn.Rnn;
import io.clrnn.RnnOptions;
import io.clrnn.RnnOutput;
import io.clrnn.Tensor;
import io.clrnn.device.Device;
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

/** {@code clrnn demo}: the course lab on torch.nn.RNN that this project started from, replayed. */
@Command(name = "demo", mixinStandardHelpOptions = true, description = "Replay the torch.nn.RNN lab: RNN(128, 64) on (5, 4, 128), any seq_len, then batch_first.")
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

            RnnWeights weights = RnnWeights.init(RnnConfig.of(128, 64), random.nextLong());
            try (Rnn rnn = Rnn.create(d, weights)) {
                out.println("rnn = nn.RNN(input_size=128, hidden_size=64, num_layers=1)");
                out.println(rnn);
                Tensor x = randn(5, 4, 128);
                Tensor h0 = randn(1, 4, 64);
                forwardAndShow(rnn, x, h0);
                out.println();

                out.println("The same layer takes any sequence length:");
                for (int seqLen : new int[] {20, 30, 50}) {
                    RnnOutput z = rnn.forward(randn(seqLen, 4, 128), h0);
                    out.printf("  seq_len %d: out %s, h_n %s%n", seqLen, shape(z.output()), shape(z.hidden()));
                }
                out.println();
            }

            out.println("Exercise: batch_first=True, batch 16, sequence length 25");
            RnnWeights bf = RnnWeights.init(RnnConfig.of(128, 64).withOptions(RnnOptions.defaults().batchFirst(true)),
                    random.nextLong());
            try (Rnn rnn = Rnn.create(d, bf)) {
                out.println(rnn);
                forwardAndShow(rnn, randn(16, 25, 128), randn(1, 16, 64));
            }
        }
        return Main.EXIT_OK;
    }

    /** Runs one forward and prints the four shapes, and how far out is from the Java reference. */
    private void forwardAndShow(Rnn rnn, Tensor x, Tensor h0) {
        RnnOutput y = rnn.forward(x, h0);
        out.printf("X:   %s%n", shape(x));
        out.printf("h_0: %s%n", shape(h0));
        out.printf("out: %s%n", shape(y.output()));
        out.printf("h_n: %s%n", shape(y.hidden()));
        out.printf(Locale.ROOT, "max |out - Java reference| = %.1e%n",
                maxDiff(ReferenceRnn.forward(rnn.weights(), x, h0), y));
    }

    private static String shape(Tensor t) {
        return Tensor.format(t.shape());
    }

    private Tensor randn(int... shape) {
        Tensor t = Tensor.zeros(shape);
        float[] data = t.data();
        for (int i = 0; i < data.length; i++) {
            data[i] = (float) gaussian();
        }
        return t;
    }

    /** Box–Muller: SplittableRandom has no nextGaussian on Java 17. */
    private double gaussian() {
        double u = 1.0 - random.nextDouble();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random.nextDouble());
    }

    private static double maxDiff(RnnOutput expected, RnnOutput actual) {
        double max = 0;
        float[] e = expected.output().data();
        float[] a = actual.output().data();
        for (int i = 0; i < e.length; i++) {
            max = Math.max(max, Math.abs(e[i] - a[i]));
        }
        return max;
    }
}
