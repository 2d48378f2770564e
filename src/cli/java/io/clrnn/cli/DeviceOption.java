package io.clrnn.cli;

import io.clrnn.device.Device;
import io.clrnn.device.DeviceSpec;
import picocli.CommandLine.Option;

/** The {@code --device} option every computing command shares; CLRNN_DEVICE sets its default. */
final class DeviceOption {
    @Option(names = "--device", paramLabel = "SPEC", defaultValue = "${env:" + DeviceSpec.ENV + ":-auto}",
            description = "auto (default: first GPU, else CPU), cpu, gpu, an index from 'clrnn devices', "
                    + "or part of a device or platform name. Default from $" + DeviceSpec.ENV + ".")
    String spec;

    Device open() {
        return Device.select(spec);
    }

    Device open(boolean profiling) {
        return Device.select(spec, profiling);
    }
}
