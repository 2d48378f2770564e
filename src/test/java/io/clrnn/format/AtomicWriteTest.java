package io.clrnn.format;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.clrnn.base.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Writes replace the target whole, and a failed write leaves no temp file behind. */
class AtomicWriteTest {
    @TempDir
    Path dir;

    @Test
    void writeOverwritesAnExistingFileAndLeavesNothingElse() throws IOException {
        Path p = dir.resolve("w.npy");
        Files.writeString(p, "old contents that are longer than nothing");
        Npy.write(p, Tensor.of(new float[] {1, 2}, 2));
        assertArrayEquals(new float[] {1, 2}, Npy.read(p).data());
        Path s = dir.resolve("w.safetensors");
        Files.writeString(s, "old");
        Safetensors.write(s, Map.of("a", Tensor.of(new float[] {3})), Map.of());
        assertArrayEquals(new float[] {3}, Safetensors.read(s).get("a").data());
        assertEquals(List.of("w.npy", "w.safetensors"), names(dir));
    }

    @Test
    void failedWriteOverADirectoryLeavesNoTempFile() throws IOException {
        Path target = dir.resolve("taken.npy");
        Files.createDirectory(target);
        Files.writeString(target.resolve("inside"), "keep me");
        assertThrows(IOException.class, () -> Npy.write(target, Tensor.zeros(3)));
        assertThrows(IOException.class, () -> Safetensors.write(target, Map.of(), null));
        assertEquals(List.of("taken.npy"), names(dir));
        assertTrue(Files.isDirectory(target));
        assertEquals("keep me", Files.readString(target.resolve("inside")));
    }

    @Test
    void newFileIsNotLeftWithTheTempFilesPrivatePermissions() throws IOException {
        assumeTrue(Files.getFileStore(dir).supportsFileAttributeView(PosixFileAttributeView.class));
        Path p = dir.resolve("p.npy");
        Npy.write(p, Tensor.zeros(1));
        assertEquals("rw-r--r--", PosixFilePermissions.toString(Files.getPosixFilePermissions(p)));
        // An existing file keeps its permissions when replaced.
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rw-rw----"));
        Npy.write(p, Tensor.zeros(2));
        assertEquals("rw-rw----", PosixFilePermissions.toString(Files.getPosixFilePermissions(p)));
    }

    @Test
    void writeIntoAMissingDirectoryFailsCleanly() {
        assertThrows(IOException.class, () -> Npy.write(dir.resolve("no/such/dir/x.npy"), Tensor.zeros(1)));
    }

    @Test
    void writeWithARelativePathWorks() throws IOException {
        // relative to the working directory, whatever it is (Maven's project folder, or the test bundle's)
        Path folder = Path.of("atomic-write-test-" + ProcessHandle.current().pid());
        Path p = folder.resolve("x.npy");
        Files.createDirectories(folder);
        try {
            Npy.write(p, Tensor.of(new float[] {4}));
            assertArrayEquals(new float[] {4}, Npy.read(p).data());
        } finally {
            Files.deleteIfExists(p);
            Files.deleteIfExists(folder);
        }
    }

    private static List<String> names(Path d) throws IOException {
        try (Stream<Path> s = Files.list(d)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    /** A write that fails names the path it was given, never the temporary file beside it, and leaves nothing. */
    @Test
    void aFailedWriteNamesTheTargetNotItsTemporaryFile(@org.junit.jupiter.api.io.TempDir Path dir) throws IOException {
        Path notADir = Files.writeString(dir.resolve("plain"), "x");
        Path target = notADir.resolve("out.npy");
        java.nio.file.FileSystemException e = org.junit.jupiter.api.Assertions.assertThrows(
                java.nio.file.FileSystemException.class, () -> AtomicFiles.write(target, new byte[] {1}));
        org.junit.jupiter.api.Assertions.assertEquals(target.toString(), e.getFile());
        org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().startsWith(target + ": cannot write it: "),
                e.getMessage());
        org.junit.jupiter.api.Assertions.assertFalse(e.getMessage().contains(".tmp"), e.getMessage());
        try (java.util.stream.Stream<Path> files = Files.list(dir)) {
            org.junit.jupiter.api.Assertions.assertEquals(List.of(notADir), files.toList());
        }
    }
}
