package io.clrnn.device;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Looks for the unversioned libOpenCL.so that JOCL loads, before JOCL does: when it is missing,
 * JOCL prints its own complaint on standard output, which would pollute the CLI's output, so we
 * fail first with a message that says what to install. Linux only; elsewhere JOCL decides.
 */
final class OpenClLibrary {
    private static final String NAME = "libOpenCL.so";
    private static final List<String> STANDARD_DIRS = List.of("/lib", "/usr/lib", "/lib64", "/usr/lib64",
            "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib/aarch64-linux-gnu",
            "/usr/lib/aarch64-linux-gnu", "/usr/local/lib");

    private OpenClLibrary() {}

    /** False only when no directory the dynamic loader searches holds libOpenCL.so. */
    static boolean mayBePresent() {
        if (!System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux")) {
            return true;
        }
        for (String dir : searchDirs()) {
            if (Files.exists(Path.of(dir, NAME))) {
                return true;
            }
        }
        return false;
    }

    private static List<String> searchDirs() {
        List<String> dirs = new ArrayList<>(STANDARD_DIRS);
        for (String variable : new String[] {System.getenv("LD_LIBRARY_PATH"), System.getProperty("java.library.path")}) {
            if (variable != null) {
                dirs.addAll(List.of(variable.split(":")));
            }
        }
        // directories registered with ldconfig, one per line in /etc/ld.so.conf.d/*.conf
        try (DirectoryStream<Path> confs = Files.newDirectoryStream(Path.of("/etc/ld.so.conf.d"), "*.conf")) {
            for (Path conf : confs) {
                for (String line : Files.readAllLines(conf)) {
                    if (line.startsWith("/")) {
                        dirs.add(line.trim());
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            // no such folder, or unreadable: the standard directories still count
        }
        return dirs;
    }
}
