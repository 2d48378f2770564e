package io.clrnn.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.clrnn.device.Device;
import io.clrnn.engine.OclgrindWorkload.Pass;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Every kernel clrnn launches, run on the Oclgrind simulator (Debian's oclgrind, which scripts/setup --tests
 * installs): an OpenCL device that runs each work-item on its own and reports what a CPU forgives and a GPU does
 * not, data races between work-items, reads and writes out of bounds, OpenCL API misuse, and values used before
 * anything set them. The checks ({@link OclgrindWorkload}) run in three JVMs of their own, side by side, each
 * with an ICD vendors folder that names only Oclgrind (so this machine's own OpenCL setup is untouched), one per
 * {@link Pass}:
 * <ul>
 *   <li>the data-race pass: every check, kernels compiled as they are for a real device, with
 *       OCLGRIND_DATA_RACES and OCLGRIND_CHECK_API;</li>
 *   <li>the uninitialized-value pass: one case of each cell with every variant, the stream and the networks,
 *       kernels compiled unoptimised (Oclgrind's plugin cannot read LLVM's freeze instruction), with
 *       OCLGRIND_UNINITIALIZED and OCLGRIND_CHECK_API;</li>
 *   <li>the small-device pass: the planner's own choices, the stream and the networks on a device that offers
 *       work-groups of 64 and 4 KiB of local memory, with data-race and API checks.</li>
 * </ul>
 * A check fails on any line Oclgrind prints while it runs, or when its numbers are wrong. A canary kernel that
 * races and reads an unset value must be caught in each pass, so a pass that checks nothing cannot pass.
 */
class OclgrindTest {
    /** Where Debian's oclgrind package puts its OpenCL driver. */
    private static final Path DRIVER = Path.of("/usr/lib/oclgrind/liboclgrind-rt-icd.so");
    private static final long TIMEOUT_MINUTES = 9;
    private static final Pattern LOG_LINE = Pattern.compile("^\\d\\d:\\d\\d:\\d\\d\\.\\d{3} +(TRACE|DEBUG|INFO|WARN|ERROR) ");
    private static final Pattern LAUNCH = Pattern.compile(" - launch (\\w+) ");
    /** Lines the JVM and the loader print about LD_PRELOAD's libjsig, not Oclgrind's. */
    private static final Pattern NOT_OCLGRIND = Pattern.compile("^(OpenJDK .*VM warning|ERROR: ld\\.so).*");
    private static final Pattern KERNEL = Pattern.compile("(?m)^\\s*(?:__)?kernel\\s+void\\s+(\\w+)\\s*\\(");
    /** The small device's limits, far below a GPU's usual 1024 work-items and 48 KiB or more of local memory. */
    private static final int SMALL_GROUP = 64;
    private static final int SMALL_LOCAL_BYTES = 4096;
    private static final Pattern LOCAL_SIZE = Pattern.compile(" local \\[([0-9, ]+)]");

    /** A pass's Oclgrind settings, and what its canary's diagnostics must mention. */
    record Settings(Map<String, String> env, String caught) {}

    static final Map<Pass, Settings> SETTINGS = Map.of(
            Pass.RACES, new Settings(Map.of("OCLGRIND_DATA_RACES", "1", "OCLGRIND_CHECK_API", "1"), "data race"),
            Pass.UNINITIALIZED, new Settings(Map.of("OCLGRIND_UNINITIALIZED", "1", "OCLGRIND_CHECK_API", "1",
                    "OCLGRIND_BUILD_OPTIONS", "-cl-opt-disable"), "uninitialized value"),
            Pass.SMALL_DEVICE, new Settings(Map.of("OCLGRIND_DATA_RACES", "1", "OCLGRIND_CHECK_API", "1",
                    "OCLGRIND_MAX_WGSIZE", String.valueOf(SMALL_GROUP), "OCLGRIND_LOCAL_MEM_SIZE",
                    String.valueOf(SMALL_LOCAL_BYTES)), "data race"));

    /**
     * One check as a pass saw it: its result, what Oclgrind printed meanwhile, the kernels it launched and the
     * largest work-group of its launches.
     */
    record Outcome(String result, List<String> diagnostics, Set<String> kernels, long largestGroup) {}

    record Run(String device, Map<String, Outcome> outcomes, List<String> outside) {}

    private static Map<Pass, Run> runs;

    /** The three passes, run once for the class, side by side. */
    private static synchronized Map<Pass, Run> runs() {
        if (runs == null) {
            if (!Files.isReadable(DRIVER)) {
                String why = "Oclgrind is not installed (" + DRIVER + "): scripts/setup --tests installs it";
                if (System.getenv("CI") != null) {
                    fail(why);
                }
                Assumptions.abort(why);
            }
            Map<Pass, CompletableFuture<Run>> started = new EnumMap<>(Pass.class);
            for (Pass pass : Pass.values()) {
                started.put(pass, CompletableFuture.supplyAsync(() -> run(pass)));
            }
            Map<Pass, Run> done = new EnumMap<>(Pass.class);
            started.forEach((pass, future) -> done.put(pass, future.join()));
            runs = done;
        }
        return runs;
    }

    private static Run run(Pass pass) {
        try {
            Path dir = Files.createTempDirectory("clrnn-oclgrind");
            Path vendors = Files.createDirectory(dir.resolve("vendors"));
            Files.writeString(vendors.resolve("oclgrind.icd"), DRIVER + "\n");
            Path err = dir.resolve("stderr.txt");
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            ProcessBuilder pb = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                    // see OclgrindWorkload.KEEP_BUFFERS
                    "-Dclrnn.oclgrind.keepBuffers=" + (pass == Pass.UNINITIALIZED),
                    OclgrindWorkload.class.getName(), pass.arg());
            pb.environment().put("OCL_ICD_VENDORS", vendors.toString());
            pb.environment().remove("OCL_ICD_FILENAMES");
            pb.environment().putAll(SETTINGS.get(pass).env());
            pb.redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(err.toFile());
            Process p = pb.start();
            if (!p.waitFor(TIMEOUT_MINUTES, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                fail("the " + pass.arg() + " pass did not finish within " + TIMEOUT_MINUTES + " minutes");
            }
            String text = Files.readString(err, StandardCharsets.UTF_8);
            Files.delete(err);
            Files.delete(vendors.resolve("oclgrind.icd"));
            Files.delete(vendors);
            Files.delete(dir);
            assertEquals(0, p.exitValue(), () -> "the " + pass.arg() + " pass exited with " + p.exitValue() + ":\n"
                    + tail(text));
            return parse(text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** The child's stderr, check by check: Oclgrind's diagnostics are every line that is neither ours nor a log's. */
    static Run parse(String text) {
        String device = "";
        Map<String, Outcome> outcomes = new LinkedHashMap<>();
        List<String> outside = new ArrayList<>();
        String check = null;
        List<String> diagnostics = new ArrayList<>();
        Set<String> kernels = new TreeSet<>();
        long largestGroup = 0;
        for (String line : text.split("\n", -1)) {
            if (line.startsWith(OclgrindWorkload.DEVICE)) {
                device = line.substring(OclgrindWorkload.DEVICE.length());
            } else if (line.startsWith(OclgrindWorkload.BEGIN)) {
                check = line.substring(OclgrindWorkload.BEGIN.length());
                diagnostics = new ArrayList<>();
                kernels = new TreeSet<>();
                largestGroup = 0;
            } else if (line.startsWith(OclgrindWorkload.END) && check != null) {
                String result = line.substring(line.indexOf(OclgrindWorkload.RESULT) + OclgrindWorkload.RESULT.length());
                outcomes.put(check, new Outcome(result, diagnostics, kernels, largestGroup));
                check = null;
            } else if (LOG_LINE.matcher(line).find()) {
                Matcher m = LAUNCH.matcher(line);
                if (m.find() && check != null) {
                    kernels.add(m.group(1));
                    Matcher local = LOCAL_SIZE.matcher(line);
                    if (local.find()) {
                        long group = 1;
                        for (String size : local.group(1).split(", ")) {
                            group *= Long.parseLong(size.trim());
                        }
                        largestGroup = Math.max(largestGroup, group);
                    }
                }
            } else if (!line.isBlank() && !NOT_OCLGRIND.matcher(line).matches()) {
                List<String> to = check != null ? diagnostics : outside;
                if (Character.isWhitespace(line.charAt(0)) && !to.isEmpty()) {
                    to.set(to.size() - 1, to.get(to.size() - 1) + "\n" + line); // a diagnostic's details
                } else {
                    to.add(line);
                }
            }
        }
        if (check != null) {
            outside.add("the JVM stopped inside check '" + check + "'");
        }
        return new Run(device, outcomes, outside);
    }

    private static String tail(String text) {
        return text.length() <= 4000 ? text : "..." + text.substring(text.length() - 4000);
    }

    @TestFactory
    Stream<DynamicTest> everyCheckIsRightAndOclgrindFindsNothingWrong() {
        List<DynamicTest> tests = new ArrayList<>();
        for (Pass pass : Pass.values()) {
            Run run = runs().get(pass);
            tests.add(DynamicTest.dynamicTest(pass.arg() + ": the device is Oclgrind, nothing printed outside a check",
                    () -> {
                        assertTrue(run.device.contains("Oclgrind"), run.device);
                        assertEquals(List.of(), run.outside);
                    }));
            String caught = SETTINGS.get(pass).caught();
            run.outcomes.forEach((check, outcome) -> tests.add(DynamicTest.dynamicTest(pass.arg() + ": " + check, () -> {
                if (check.equals(OclgrindWorkload.CANARY)) {
                    assertTrue(outcome.diagnostics.stream().anyMatch(d -> d.toLowerCase().contains(caught)),
                            "Oclgrind must report a " + caught + " in the canary, reported: " + outcome.diagnostics);
                    return;
                }
                assertEquals(OclgrindWorkload.OK, outcome.result);
                assertEquals(List.of(), outcome.diagnostics.stream().limit(5).toList(),
                        outcome.diagnostics.size() + " diagnostics from Oclgrind, the first 5 shown");
            })));
        }
        return tests.stream();
    }

    /** Each pass ran the checks that name it, in order. */
    @Test
    void eachPassRanItsChecks() {
        // the list as built here, its checks not run (they would need the device)
        List<OclgrindWorkload.Check> checks = OclgrindWorkload.checks(null);
        for (Pass pass : Pass.values()) {
            assertEquals(checks.stream().filter(c -> c.passes().contains(pass)).map(OclgrindWorkload.Check::name)
                    .toList(), List.copyOf(runs().get(pass).outcomes.keySet()), pass.arg());
        }
    }

    /**
     * On the small device the planner keeps within its limits by itself: no launch's work-group passes 64
     * work-items, and the projection that stages 8 KiB of tiles in local memory gives way to the plain one.
     */
    @Test
    void onTheSmallDeviceThePlannerKeepsWithinItsLimits() {
        Run run = runs().get(Pass.SMALL_DEVICE);
        assertTrue(run.device.contains("work-groups of up to " + SMALL_GROUP + ", " + SMALL_LOCAL_BYTES + " bytes"),
                run.device);
        Set<String> launched = new TreeSet<>();
        run.outcomes.forEach((check, outcome) -> {
            assertTrue(outcome.largestGroup <= SMALL_GROUP, check + ": a work-group of " + outcome.largestGroup);
            launched.addAll(outcome.kernels);
        });
        assertFalse(launched.contains("project_local"), launched.toString());
        assertTrue(launched.contains("project") && launched.contains("rnn_group"), launched.toString());
    }

    /**
     * Every kernel in kernels/*.cl ran under Oclgrind, in the race and uninitialized-value passes, except rnn_team: a CPU-only variant whose
     * work-groups meet at a barrier in global memory, which a simulator running them one after another never opens.
     */
    @Test
    void everyKernelOfTheLibraryRanInTheRaceAndUninitializedPasses() throws IOException {
        Set<String> declared = new TreeSet<>();
        for (String file : List.of("graph.cl", "projection.cl", "recurrence.cl", "state.cl")) {
            Matcher m = KERNEL.matcher(Device.kernelSource(file));
            while (m.find()) {
                declared.add(m.group(1));
            }
        }
        assertTrue(declared.size() >= 15, "kernels found in the sources: " + declared);
        declared.remove("rnn_team");
        for (Pass pass : List.of(Pass.RACES, Pass.UNINITIALIZED)) {
            Set<String> launched = new TreeSet<>();
            runs().get(pass).outcomes.values().forEach(o -> launched.addAll(o.kernels));
            Set<String> missing = new TreeSet<>(declared);
            missing.removeAll(launched);
            assertEquals(Set.of(), missing, pass.arg() + " pass: kernels that never ran");
            assertFalse(launched.contains("rnn_team"));
        }
        System.out.println("Oclgrind (" + runs().get(Pass.RACES).device + ") ran: " + declared);
    }
}
