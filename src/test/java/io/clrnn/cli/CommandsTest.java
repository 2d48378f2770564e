package io.clrnn.cli;

import static io.clrnn.Assertions2.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.clrnn.Fixtures;
import io.clrnn.Nonlinearity;
import io.clrnn.RnnOptions;
import io.clrnn.StateDict;
import io.clrnn.model.CellType;
import io.clrnn.base.RnnOutput;
import io.clrnn.base.Tensor;
import io.clrnn.device.Device;
import io.clrnn.device.DeviceInfo;
import io.clrnn.device.OpenClException;
import io.clrnn.device.OpenClUnavailableException;
import io.clrnn.format.Npy;
import io.clrnn.model.ReferenceRnn;
import io.clrnn.model.RnnConfig;
import io.clrnn.model.RnnWeights;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@code devices}, {@code demo}, {@code init}, the --device option and its CLRNN_DEVICE default, exit codes. */
class CommandsTest {
    private static final Path SMALL = Fixtures.root().resolve("tanh_L1_I3_H5_T4_B2");

    @TempDir Path dir;

    @Test
    void devicesListsEveryDeviceOnOneLine() {
        Cli.Result r = Cli.run("devices");
        r.assertOk();
        List<DeviceInfo> devices = Device.list();
        List<String> lines = r.out().lines().toList();
        assertEquals(devices.size(), lines.size(), r.out());
        for (int i = 0; i < lines.size(); i++) {
            assertTrue(lines.get(i).matches(
                    i + " +(CPU|GPU|ACCELERATOR|OTHER) +\\S.* {2}\\[.+] {2}\\d+ compute units, [\\d.]+ (GiB|MiB) global memory"),
                    lines.get(i));
            assertTrue(lines.get(i).contains(devices.get(i).name()), lines.get(i));
            assertTrue(lines.get(i).contains(devices.get(i).platform()), lines.get(i));
        }
    }

    @Test
    void devicesListsTheCpu() {
        assumeTrue(Device.list().stream().anyMatch(DeviceInfo::isCpu), "no OpenCL CPU device here");
        String out = Cli.run("devices").out();
        assertTrue(out.lines().anyMatch(l -> l.matches("\\d+ +CPU .*")), out);
    }

    @Test
    void demoReplaysTheLab() {
        Cli.Result r = Cli.run("demo", "--device", Cli.DEVICE);
        r.assertOk();
        String out = r.out();
        String device;
        try (Device d = Device.select(Cli.DEVICE)) {
            device = d.toString();
        }
        assertTrue(out.contains("device: " + device), out);
        int at = 0;
        for (String expected : List.of("RNN(128, 64)", "[5, 4, 128]", "[1, 4, 64]", "[5, 4, 64]", "[1, 4, 64]",
                "[20, 4, 64]", "[30, 4, 64]", "[50, 4, 64]", "RNN(128, 64, batch_first=True)",
                "[16, 25, 128]", "[1, 16, 64]", "[16, 25, 64]", "[1, 16, 64]",
                "LSTM(128, 64)", "X:   [5, 4, 128]", "c_0: [1, 4, 64]", "out: [5, 4, 64]", "h_n: [1, 4, 64]",
                "c_n: [1, 4, 64]", "GRU(128, 64)", "out: [5, 4, 64]", "h_n: [1, 4, 64]")) {
            int found = out.indexOf(expected, at);
            assertTrue(found >= 0, () -> "'" + expected + "' missing (in order) from:\n" + out);
            at = found + expected.length();
        }
        assertFalse(out.contains("NaN"), out);
        assertEquals(4, out.lines().filter(l -> l.matches("max \\|out - Java reference\\| = [0-9.]+e-0[6-9]")).count(),
                "every part checked against the reference, within 1e-5:\n" + out);
    }

    @Test
    void gpuOnAMachineWithoutOneIsOneLine() {
        assumeTrue(Device.list().stream().noneMatch(DeviceInfo::isGpu), "this machine has an OpenCL GPU");
        Cli.Result r = Cli.run("demo", "--device", "gpu");
        String line = r.usageError();
        assertTrue(line.startsWith("error: no OpenCL GPU device on this machine; available: 0 "), line);
        assertTrue(line.endsWith("(see 'clrnn devices')"), line);
        assertEquals("", r.out(), "nothing runs before the device is chosen");
    }

    @ParameterizedTest
    @ValueSource(strings = {"7", "nonexistent", "99999999999999999999"})
    void unknownDeviceIsOneLine(String spec) {
        String line = Cli.run("demo", "--device", spec).usageError();
        assertTrue(line.contains("no OpenCL device matches '" + spec + "'"), line);
        assertTrue(line.contains("available: 0 "), line);
    }

    @Test
    void initMakesAnyCellThatRunTakes() throws IOException {
        Path w = dir.resolve("lstm.safetensors");
        Cli.Result init = Cli.run("init", "--mode", "lstm", "--input-size", "4", "--hidden-size", "6",
                "--proj-size", "3", "--bidirectional", "--seed", "3", "--out", w.toString());
        init.assertOk();
        assertTrue(init.err().contains("LSTM(4, 6, proj_size=3, bidirectional=True)"), init.err());
        RnnWeights saved = StateDict.load(w, RnnOptions.defaults());
        assertEquals(RnnConfig.of(CellType.LSTM, 4, 6).withProjSize(3).withBidirectional(true), saved.config());
        Npy.write(dir.resolve("x.npy"), Tensor.randn(1, 5, 2, 4));
        Cli.run("run", "--weights", w.toString(), "--input", dir.resolve("x.npy").toString(), "--out",
                dir.resolve("out.npy").toString(), "--cn", dir.resolve("cn.npy").toString(), "--device", Cli.DEVICE)
                .assertOk();
        assertEquals(List.of(5, 2, 6), java.util.Arrays.stream(Npy.read(dir.resolve("out.npy")).shape()).boxed().toList());
        assertEquals(List.of(2, 2, 6), java.util.Arrays.stream(Npy.read(dir.resolve("cn.npy")).shape()).boxed().toList());
    }

    /** What picocli's handlers never see (an Error, here running out of heap) still ends in one line, exit 1. */
    @Test
    void aFailureOutsideTheCommandsStillSaysWhatHappened() throws Exception {
        Cli.Result r = Cli.runInChildJvm(List.of("-Xmx64m"), Map.of(), "bench", "--seq", "4000", "--batch", "64",
                "--input", "512", "--hidden", "512", "--quick", "--device", Cli.DEVICE);
        assertEquals(Main.EXIT_RUNTIME, r.code(), r.toString());
        String line = r.singleErrorLine();
        assertTrue(line.startsWith("error: out of memory"), line);
    }

    @Test
    void clrnnDeviceEnvironmentVariableSetsTheDefault() throws Exception {
        Path out = dir.resolve("out.npy");
        String[] run = {"run", "--weights", SMALL.resolve("weights.safetensors").toString(),
                "--input", SMALL.resolve("input.npy").toString(), "--out", out.toString()};

        Cli.Result bad = Cli.runInChildJvm(Map.of("CLRNN_DEVICE", "nonexistent"), run);
        assertTrue(bad.usageError().contains("no OpenCL device matches 'nonexistent'"), bad.toString());
        assertFalse(Files.exists(out));

        Cli.Result good = Cli.runInChildJvm(Map.of("CLRNN_DEVICE", Cli.DEVICE), run);
        good.assertOk();
        assertClose(Npy.read(SMALL.resolve("output.npy")), Npy.read(out), "out");

        String[] overridden = List.of(run, new String[] {"--device", Cli.DEVICE}).stream()
                .flatMap(a -> java.util.Arrays.stream(a)).toArray(String[]::new);
        Files.delete(out);
        Cli.runInChildJvm(Map.of("CLRNN_DEVICE", "nonexistent"), overridden).assertOk();
        assertTrue(Files.exists(out), "--device beats CLRNN_DEVICE");
    }

    @Test
    void initWritesWeightsThatRunAccepts() throws IOException {
        Path w = dir.resolve("w.safetensors");
        Cli.Result init = Cli.run("init", "--input-size", "6", "--hidden-size", "9", "--num-layers", "2",
                "--bidirectional", "--no-bias", "--seed", "7", "--out", w.toString());
        init.assertOk();
        RnnConfig config = RnnConfig.of(CellType.RNN_RELU, 6, 9).withLayers(2).withBias(false).withBidirectional(true)
                .withBatchFirst(true);
        assertTrue(init.err().contains("RNN(6, 9, num_layers=2, bias=False, bidirectional=True)"), init.err());
        RnnWeights expected = RnnWeights.init(config, 7);
        RnnWeights saved = StateDict.load(w, RnnOptions.defaults().nonlinearity(Nonlinearity.RELU).batchFirst(true));
        assertEquals(config, saved.config());
        expected.stateDict().forEach((name, t) -> assertClose(t, saved.stateDict().get(name), 0, 0, name));

        Tensor x = Tensor.zeros(3, 4, 6);
        SplittableRandom random = new SplittableRandom(1);
        for (int i = 0; i < x.numel(); i++) {
            x.data()[i] = (float) random.nextDouble(-2, 2);
        }
        Npy.write(dir.resolve("x.npy"), x);
        Cli.run("run", "--weights", w.toString(), "--input", dir.resolve("x.npy").toString(),
                "--out", dir.resolve("out.npy").toString(), "--hn", dir.resolve("hn.npy").toString(),
                "--nonlinearity", "relu", "--batch-first", "--device", Cli.DEVICE).assertOk();
        RnnOutput reference = ReferenceRnn.forward(expected, x, null);
        assertClose(reference.output(), Npy.read(dir.resolve("out.npy")), "out");
        assertClose(reference.hidden(), Npy.read(dir.resolve("hn.npy")), "h_n");
    }

    @ParameterizedTest
    @ValueSource(strings = {"--num-layers=0", "--hidden-size=-3", "--input-size=0"})
    void initRefusesImpossibleSizes(String bad) {
        Path w = dir.resolve("w.safetensors");
        List<String> args = new java.util.ArrayList<>(List.of("init", "--input-size=4", "--hidden-size=3",
                "--num-layers=1", "--out", w.toString()));
        args.removeIf(a -> a.startsWith(bad.substring(0, bad.indexOf('=') + 1)));
        args.add(bad);
        String line = Cli.run(args.toArray(String[]::new)).usageError();
        assertTrue(line.contains("should be a positive integer"), line);
        assertFalse(Files.exists(w));
    }

    @Test
    void initWithoutRequiredOptionIsAUsageError() {
        String line = Cli.run("init", "--hidden-size", "3", "--out", dir.resolve("w").toString()).usageError();
        assertTrue(line.contains("--input-size"), line);
    }

    @ParameterizedTest
    @ValueSource(strings = {"run", "devices", "demo", "init", "bench", "bench-suite"})
    void everyCommandTakesTheHelpItsErrorsPointTo(String command) {
        // a usage error says "(see 'clrnn <command> --help')": that must work
        Cli.Result help = Cli.run(command, "--help");
        help.assertOk();
        assertTrue(help.out().startsWith("Usage: clrnn " + command), help.out());
        assertTrue(help.out().contains("--help"), help.out());
        assertEquals("", help.err());
    }

    @Test
    void helpAndVersionExitZero() {
        Cli.Result help = Cli.run("run", "--help");
        help.assertOk();
        assertTrue(help.out().contains("--weights"), help.out());
        Cli.run("help", "run").assertOk();
        Cli.Result version = Cli.run("--version");
        version.assertOk();
        assertTrue(version.out().startsWith("clrnn "), version.out());
    }

    @Test
    void unknownSubcommandIsAUsageError() {
        Cli.Result r = Cli.run("frobnicate");
        assertEquals(Main.EXIT_USAGE, r.code(), r::toString);
        assertTrue(r.err().startsWith("error: "), r.err());
    }

    @Test
    void verboseLogLevelEndsWithItsRun() {
        ch.qos.logback.classic.Logger root = (ch.qos.logback.classic.Logger)
                org.slf4j.LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        ch.qos.logback.classic.Level before = root.getLevel();
        Cli.run("devices", "--verbose").assertOk();
        assertEquals(before, root.getLevel(), "--verbose left the root logger at DEBUG");
    }

    @Test
    void userMistakesExitTwoAndDeviceFailuresExitOne() {
        assertTrue(Main.isUsersMistake(new io.clrnn.base.InvalidInputException("bad shape")));
        assertTrue(Main.isUsersMistake(new io.clrnn.device.DeviceNotFoundException("no gpu")));
        assertTrue(Main.isUsersMistake(new NoSuchFileException("x.npy")));
        assertFalse(Main.isUsersMistake(new OpenClException("clBuildProgram", -11, "line 1\nline 2")));
        assertFalse(Main.isUsersMistake(new OpenClUnavailableException("no OpenCL platform", null)));
        assertFalse(Main.isUsersMistake(new IllegalStateException("bug")));
        assertFalse(Main.isUsersMistake(new IOException("disk on fire")));
    }

    @Test
    void failureDescriptionsAreOneLine() {
        String build = Main.describe(new OpenClException("clBuildProgram", -11, "log line 1\nlog line 2"));
        assertFalse(build.contains("\n"), build);
        assertTrue(build.startsWith("clBuildProgram failed: CL_BUILD_PROGRAM_FAILURE"), build);
        assertTrue(build.endsWith("(--verbose for details)"), build);
        assertEquals("no such file: x.npy", Main.describe(new NoSuchFileException("x.npy")));
        assertTrue(Main.describe(new NullPointerException()).startsWith("internal error: "));
    }
}
