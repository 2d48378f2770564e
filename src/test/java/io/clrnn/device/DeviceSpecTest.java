package io.clrnn.device;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.clrnn.base.InvalidInputException;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** How --device names a device: on this machine's real devices, and on made-up lists for the rules. */
class DeviceSpecTest {
    private static DeviceInfo info(int index, DeviceInfo.Type type, String name, String platform, String version) {
        return new DeviceInfo(index, type, name, platform, "Vendor " + index, version, 4, 1L << 30, 1L << 28,
                65536, true, 1024, 8, true);
    }

    private static final DeviceInfo POCL = info(0, DeviceInfo.Type.CPU,
            "pthread-skylake-avx512-Intel(R) Xeon(R) Processor", "Portable Computing Language",
            "OpenCL 3.0 PoCL HSTR: pthread-x86_64-pc-linux-gnu-skylake-avx512");
    private static final DeviceInfo NVIDIA = info(1, DeviceInfo.Type.GPU, "NVIDIA H200", "NVIDIA CUDA",
            "OpenCL 3.0 CUDA");
    private static final DeviceInfo FPGA = info(2, DeviceInfo.Type.ACCELERATOR, "Some FPGA", "Vendor SDK",
            "OpenCL 1.2");

    // ---- the rules, on made-up machines ----

    @Test
    void autoPrefersAGpuThenACpuThenAnything() {
        assertEquals(NVIDIA, DeviceSpec.choose("auto", List.of(POCL, NVIDIA, FPGA)));
        assertEquals(POCL, DeviceSpec.choose("auto", List.of(FPGA, POCL)));
        assertEquals(FPGA, DeviceSpec.choose("auto", List.of(FPGA)));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "  ", "AUTO", " auto "})
    void blankOrAnyCaseOfAutoIsAuto(String spec) {
        assertEquals(NVIDIA, DeviceSpec.choose(spec, List.of(POCL, NVIDIA)));
        assertEquals(NVIDIA, DeviceSpec.choose(null, List.of(POCL, NVIDIA)));
    }

    /** PoCL lists its in-thread driver (1 compute unit) before its multi-threaded one when both are there. */
    @Test
    void cpuAndAutoPickTheCpuWithTheMostComputeUnits() {
        DeviceInfo basic = new DeviceInfo(0, DeviceInfo.Type.CPU, "basic-x", "Portable Computing Language", "v",
                "OpenCL 3.0 PoCL", 1, 1L << 30, 1L << 28, 65536, false, 4096, 16, true);
        DeviceInfo pthread = new DeviceInfo(1, DeviceInfo.Type.CPU, "pthread-x", "Portable Computing Language", "v",
                "OpenCL 3.0 PoCL", 2, 1L << 30, 1L << 28, 65536, false, 4096, 16, true);
        assertEquals(pthread, DeviceSpec.choose("cpu", List.of(basic, pthread)));
        assertEquals(pthread, DeviceSpec.choose("auto", List.of(basic, pthread)));
        assertEquals(basic, DeviceSpec.choose("basic", List.of(basic, pthread)));
    }

    @Test
    void typesPickTheFirstOfThatType() {
        List<DeviceInfo> all = List.of(POCL, NVIDIA, FPGA);
        assertEquals(POCL, DeviceSpec.choose("cpu", all));
        assertEquals(NVIDIA, DeviceSpec.choose("GPU", all));
        assertEquals(FPGA, DeviceSpec.choose("accelerator", all));
    }

    @Test
    void indexPicksFromTheList() {
        List<DeviceInfo> all = List.of(POCL, NVIDIA, FPGA);
        assertEquals(NVIDIA, DeviceSpec.choose("1", all));
        assertEquals(FPGA, DeviceSpec.choose(" 2 ", all));
    }

    @ParameterizedTest
    @ValueSource(strings = {"h200", "cuda", "NVIDIA"})
    void namePartsMatchDeviceOrPlatform(String spec) {
        assertEquals(NVIDIA, DeviceSpec.choose(spec, List.of(POCL, NVIDIA)));
    }

    @Test
    void vendorOrVersionMatchOnlyWhenNoNameOrPlatformDoes() {
        assertEquals(POCL, DeviceSpec.choose("pocl", List.of(NVIDIA, POCL)));
        assertEquals(NVIDIA, DeviceSpec.choose("vendor 1", List.of(POCL, NVIDIA)));
        // "vendor" is part of FPGA's platform name and of every vendor string: the platform wins
        assertEquals(FPGA, DeviceSpec.choose("vendor", List.of(POCL, NVIDIA, FPGA)));
    }

    @Test
    void aMissingTypeSaysWhatIsThere() {
        DeviceNotFoundException e = assertThrows(DeviceNotFoundException.class,
                () -> DeviceSpec.choose("gpu", List.of(POCL)));
        assertEquals("no OpenCL GPU device on this machine; available: 0 CPU " + POCL.name()
                + " (see 'clrnn devices')", e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"7", "3", "nonexistent", "99999999999999999999", "-1"})
    void anUnknownSpecSaysWhatIsThere(String spec) {
        DeviceNotFoundException e = assertThrows(DeviceNotFoundException.class,
                () -> DeviceSpec.choose(spec, List.of(POCL, NVIDIA, FPGA)));
        assertEquals("no OpenCL device matches '" + spec + "'; available: 0 CPU " + POCL.name() + ", 1 GPU "
                + NVIDIA.name() + ", 2 ACCELERATOR " + FPGA.name() + " (see 'clrnn devices')", e.getMessage());
        assertTrue(e instanceof InvalidInputException, "a user's mistake: exit 2");
    }

    // ---- this machine ----

    /** Every device here is reached by its index, by its type (the first of it) and by its own name. */
    @Test
    void everyDeviceHereCanBeNamedByIndexTypeAndName() {
        List<DeviceInfo> all = Device.list();
        for (DeviceInfo d : all) {
            try (Device byIndex = Device.select(Integer.toString(d.index()))) {
                assertEquals(d, byIndex.info());
            }
            // a type names its first device, except "cpu": the CPU device with the most compute units
            DeviceInfo firstOfType = d.isCpu() ? widestCpu(all)
                    : all.stream().filter(o -> o.type() == d.type()).findFirst().orElseThrow();
            if (d.type() != DeviceInfo.Type.OTHER) {
                try (Device byType = Device.select(d.type().name().toLowerCase(java.util.Locale.ROOT))) {
                    assertEquals(firstOfType, byType.info());
                }
            }
            DeviceInfo firstNamed = all.stream().filter(o -> o.name().equals(d.name())).findFirst().orElseThrow();
            try (Device byName = Device.select(d.name().toUpperCase(java.util.Locale.ROOT))) {
                assertEquals(firstNamed, byName.info(), "names match case-insensitively");
            }
        }
    }

    /** PoCL calls itself "pocl" only in its version string; users call it that, so it must work. */
    @ParameterizedTest
    @ValueSource(strings = {"pocl", "PoCL", "portable computing"})
    void aPoclCpuCanBeNamedAsUsersCallIt(String spec) {
        DeviceInfo pocl = Device.list().stream()
                .filter(d -> d.isCpu() && d.platform().contains("Portable Computing")).findFirst().orElse(null);
        assumeTrue(pocl != null, "no PoCL CPU device on this machine: nothing to name");
        try (Device d = Device.select(spec)) {
            assertTrue(d.info().platform().contains("Portable Computing Language"), d.toString());
        }
    }

    private static DeviceInfo widestCpu(List<DeviceInfo> all) {
        DeviceInfo best = null;
        for (DeviceInfo d : all) {
            if (d.isCpu() && (best == null || d.computeUnits() > best.computeUnits())) {
                best = d;
            }
        }
        return best;
    }

    @Test
    void autoOpensTheFirstGpuElseTheWidestCpu() {
        List<DeviceInfo> all = Device.list();
        DeviceInfo expected = all.stream().filter(DeviceInfo::isGpu).findFirst()
                .orElseGet(() -> widestCpu(all) != null ? widestCpu(all) : all.get(0));
        try (Device d = Device.select("auto")) {
            assertEquals(expected, d.info());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"gpu", "7", "nonexistent"})
    void whatIsNotHereIsRefusedListingWhatIs(String spec) {
        assumeTrue(!spec.equals("gpu") || Device.list().stream().noneMatch(DeviceInfo::isGpu), "there is a GPU");
        assumeTrue(Device.list().size() <= 7, "there are more than 7 devices");
        DeviceNotFoundException e = assertThrows(DeviceNotFoundException.class, () -> Device.select(spec));
        assertTrue(e.getMessage().contains("; available: 0 "), e.getMessage());
        for (DeviceInfo d : Device.list()) {
            assertTrue(e.getMessage().contains(d.index() + " " + d.type() + " " + d.name()), e.getMessage());
        }
        assertTrue(!e.getMessage().contains("\n"), "one line");
    }

    @Test
    void listIsIndexedInOrder() {
        List<DeviceInfo> all = Device.list();
        assertTrue(!all.isEmpty(), "the tests need an OpenCL device");
        for (int i = 0; i < all.size(); i++) {
            DeviceInfo d = all.get(i);
            assertEquals(i, d.index());
            assertTrue(d.computeUnits() > 0 && d.globalMemBytes() > 0, d.describe());
            assertTrue(d.describe().startsWith(i + "  " + d.type()), d.describe());
        }
    }

    @Test
    void humanBytes() {
        assertEquals("512 MiB", DeviceInfo.humanBytes(512L << 20));
        assertEquals("6.2 GiB", DeviceInfo.humanBytes((long) (6.2 * (1L << 30))));
    }
}
