package io.clrnn.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.clrnn.RnnOptions;
import io.clrnn.model.CellType;
import io.clrnn.serve.InferenceServer;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** {@code clrnn serve}'s options: a model spec's parts, and mistakes refused in one line before anything starts. */
class ServeCliTest {
    @Test
    void modelSpecsNameAFileAndItsOptions() {
        InferenceServer.ModelSpec plain = ServeCommand.parse("lm=models/lm.onnx");
        assertEquals("lm", plain.name());
        assertEquals(Path.of("models/lm.onnx"), plain.file());
        InferenceServer.ModelSpec opts = ServeCommand.parse("enc=w/enc.pt:mode=lstm,prefix=encoder.rnn,batch_first");
        assertEquals(Path.of("w/enc.pt"), opts.file());
        assertEquals(RnnOptions.defaults().mode(CellType.LSTM).prefix("encoder.rnn"), opts.options());
        assertEquals(Path.of("C:/x:y.pt"), ServeCommand.parse("a=C:/x:y.pt").file(), "a colon that starts no options");
    }

    @Test
    void mistakesAreOneLine() {
        assertEquals("error: --model lm: expected NAME=FILE[:OPTIONS]",
                Cli.run("serve", "--model", "lm").usageError());
        assertEquals("error: --model a b=x.onnx: a model name is letters, digits, '_', '.' and '-'",
                Cli.run("serve", "--model", "a b=x.onnx").usageError());
        assertEquals("error: --model a=x.pt:colour=red: unknown option colour (mode, nonlinearity, prefix, weights_dtype)",
                Cli.run("serve", "--model", "a=x.pt:colour=red").usageError());
        assertEquals("error: --max-batch-size must be 1 or more, not 0",
                Cli.run("serve", "--model", "a=x.pt", "--max-batch-size", "0").usageError());
        assertEquals("error: --port must be 0 to 65535, not 70000",
                Cli.run("serve", "--model", "a=x.pt", "--port", "70000").usageError());
        assertEquals("error: no such file: nope.pt",
                Cli.run("serve", "--model", "a=nope.pt", "--port", "0", "--device", Cli.DEVICE).usageError());
    }
}
