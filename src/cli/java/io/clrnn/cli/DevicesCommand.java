package io.clrnn.cli;

import io.clrnn.device.Device;
import io.clrnn.device.DeviceInfo;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code clrnn devices}: one line per OpenCL device, with the index {@code --device} accepts. */
@Command(name = "devices", mixinStandardHelpOptions = true, description = "List every OpenCL device: index, type, name, platform, compute units, memory.")
final class DevicesCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        List<DeviceInfo> devices = Device.list();
        for (DeviceInfo d : devices) {
            spec.commandLine().getOut().println(d.describe());
        }
        return Main.EXIT_OK;
    }
}
