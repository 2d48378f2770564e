package io.clrnn.device;

import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * How a user names a device: {@code auto} (the first GPU, else the CPU device with the most compute
 * units, else the first device), {@code cpu} (that CPU device), {@code gpu}, {@code accelerator}, an
 * index from {@code clrnn devices}, or a case-insensitive part of the device or platform name (else of
 * the device's vendor or version string). Preferring the CPU device with the most compute units picks
 * PoCL's multi-threaded driver over its in-thread one when both are listed.
 */
public final class DeviceSpec {
    /** Environment variable that sets the default spec for the CLI. */
    public static final String ENV = "CLRNN_DEVICE";

    private DeviceSpec() {}

    static DeviceInfo choose(String spec, List<DeviceInfo> devices) {
        String s = spec == null || spec.isBlank() ? "auto" : spec.trim().toLowerCase(Locale.ROOT);
        if (devices.isEmpty()) {
            throw new OpenClUnavailableException("OpenCL platforms are installed but list no device", null);
        }
        Optional<DeviceInfo> chosen = switch (s) {
            case "auto" -> first(devices, DeviceInfo.Type.GPU).or(() -> widestCpu(devices))
                    .or(() -> Optional.of(devices.get(0)));
            case "cpu" -> widestCpu(devices);
            case "gpu" -> first(devices, DeviceInfo.Type.GPU);
            case "accelerator" -> first(devices, DeviceInfo.Type.ACCELERATOR);
            default -> s.chars().allMatch(Character::isDigit) ? byIndex(s, devices) : byName(s, devices);
        };
        String what = switch (s) {
            case "cpu", "gpu", "accelerator" -> "no OpenCL " + s.toUpperCase(Locale.ROOT) + " device on this machine";
            default -> "no OpenCL device matches '" + spec + "'";
        };
        return chosen.orElseThrow(() -> new DeviceNotFoundException(
                what + "; available: " + summary(devices) + " (see 'clrnn devices')"));
    }

    /** The CPU device with the most compute units; the first of them on a tie. */
    private static Optional<DeviceInfo> widestCpu(List<DeviceInfo> devices) {
        return devices.stream().filter(DeviceInfo::isCpu)
                .reduce((best, d) -> d.computeUnits() > best.computeUnits() ? d : best);
    }

    private static Optional<DeviceInfo> first(List<DeviceInfo> devices, DeviceInfo.Type type) {
        return devices.stream().filter(d -> d.type() == type).findFirst();
    }

    private static Optional<DeviceInfo> byIndex(String s, List<DeviceInfo> devices) {
        try {
            int index = Integer.parseInt(s);
            return index < devices.size() ? Optional.of(devices.get(index)) : Optional.empty();
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    /**
     * The first device whose name or platform contains {@code s}; failing that, whose vendor or
     * version string does: PoCL names itself only there ("OpenCL 3.0 PoCL ..."), and users call it "pocl".
     */
    private static Optional<DeviceInfo> byName(String s, List<DeviceInfo> devices) {
        return devices.stream()
                .filter(d -> contains(d.name(), s) || contains(d.platform(), s))
                .findFirst()
                .or(() -> devices.stream().filter(d -> contains(d.vendor(), s) || contains(d.version(), s)).findFirst());
    }

    private static boolean contains(String text, String lowerCasePart) {
        return text != null && text.toLowerCase(Locale.ROOT).contains(lowerCasePart);
    }

    private static String summary(List<DeviceInfo> devices) {
        return devices.stream().map(d -> d.index() + " " + d.type() + " " + d.name())
                .collect(Collectors.joining(", "));
    }
}
