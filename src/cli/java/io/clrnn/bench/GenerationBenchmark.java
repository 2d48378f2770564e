package io.clrnn.bench;

import io.clrnn.device.Device;
import io.clrnn.generate.OnnxTokenModel;
import io.clrnn.generate.Sampler;
import io.clrnn.generate.TokenModel;
import io.clrnn.onnx.OnnxModel;
import io.clrnn.onnx.OnnxSession;
import java.util.List;

/**
 * Times greedy text generation a step at a time, as a user of {@code clrnn generate} runs it: every stream's prompt
 * once, untimed, then steps that each feed every stream's argmax back, one token per stream. The timed unit is one
 * step, so the suite's warm-up and budget apply as to a forward; tokens/s is batch / the median step.
 * bench_torch.py --generate and {@link OrtTimer}'s {@code --generate} time their peers the same way.
 */
public final class GenerationBenchmark {
    /** Every stream's prompt, in tokens: long enough that the first step is not the model's first. */
    public static final int PROMPT_LENGTH = 16;

    private GenerationBenchmark() {}

    /**
     * The language model: scripts/networks.py's LanguageModel, an Embedding {@code embedding} wide, {@code layers}
     * LSTM layers of {@code hidden} and a Linear to {@code vocab} logits.
     */
    public record Model(int vocab, int embedding, int hidden, int layers) {
        public String label() {
            return layers + "-layer LSTM-" + hidden + " language model (vocab " + vocab + ", embedding " + embedding
                    + ")";
        }

        /** bench_torch.py's arguments for these sizes. */
        List<String> torchArguments() {
            return List.of("--vocab", Integer.toString(vocab), "--input", Integer.toString(embedding), "--hidden",
                    Integer.toString(hidden), "--layers", Integer.toString(layers));
        }
    }

    /** The prompt every peer starts from, (batch, PROMPT_LENGTH) row after row: (b + t) % vocab at row b, step t. */
    public static int[] prompt(int batch, int vocab) {
        int[] ids = new int[batch * PROMPT_LENGTH];
        for (int b = 0; b < batch; b++) {
            for (int t = 0; t < PROMPT_LENGTH; t++) {
                ids[b * PROMPT_LENGTH + t] = (b + t) % vocab;
            }
        }
        return ids;
    }

    /**
     * One step's time with clrnn: {@code model} (ids to logits, as torch exports Logits) through an
     * {@link OnnxTokenModel}, which keeps the recurrent state on the device between steps.
     */
    public static Timing clrnn(Device device, OnnxModel model, int batch, int vocab, Benchmark.Budget budget) {
        try (OnnxSession session = model.open(device); TokenModel lm = new OnnxTokenModel(session, null)) {
            lm.start(batch);
            Greedy greedy = new Greedy(lm, batch, lm.feed(prompt(batch, vocab), PROMPT_LENGTH));
            return Benchmark.time(greedy::step, budget);
        }
    }

    /** The step loop: each stream's likeliest next token, fed back as its next input. */
    private static final class Greedy {
        private final TokenModel lm;
        private final int[] ids;
        private final Sampler argmax = Sampler.greedy();
        private float[] logits; // (batch, vocab): each stream's logits after its last token

        Greedy(TokenModel lm, int batch, float[] logits) {
            this.lm = lm;
            this.ids = new int[batch];
            this.logits = logits;
        }

        void step() {
            int vocab = lm.vocabSize();
            for (int b = 0; b < ids.length; b++) {
                ids[b] = argmax.next(logits, b * vocab, vocab);
            }
            logits = lm.feed(ids, 1);
        }
    }
}
