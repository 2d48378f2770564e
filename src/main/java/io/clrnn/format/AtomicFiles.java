package io.clrnn.format;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import java.util.function.LongFunction;

/** Writes a whole file so that readers see either the old file or the new one, never half of one. */
public final class AtomicFiles {
    private AtomicFiles() {}

    /**
     * Writes {@code bytes} to a temp file next to {@code target} (same directory, so the rename
     * stays on one file system), flushes it to disk, then renames it over the target. The temp
     * file is deleted on any failure.
     */
    public static void write(Path target, byte[] bytes) throws IOException {
        Path absolute = target.toAbsolutePath();
        try {
            writeThroughTemp(absolute, bytes);
        } catch (IOException e) {
            // the temporary file is ours: a message names what the user named, and why it cannot be written
            String reason = e instanceof java.nio.file.AccessDeniedException ? "permission denied"
                    : e instanceof java.nio.file.FileSystemException f && f.getReason() != null ? f.getReason()
                    : e.getMessage();
            java.nio.file.FileSystemException named = new java.nio.file.FileSystemException(target.toString(), null,
                    "cannot write it: " + reason);
            named.initCause(e);
            throw named;
        }
    }

    private static void writeThroughTemp(Path absolute, byte[] bytes) throws IOException {
        Path dir = absolute.getParent();
        Path tmp = Files.createTempFile(dir, "." + absolute.getFileName(), ".tmp");
        try {
            copyPermissions(absolute, tmp);
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                ByteBuffer buf = ByteBuffer.wrap(bytes);
                while (buf.hasRemaining()) {
                    ch.write(buf);
                }
                // Without this a crash soon after the rename can leave an empty file under the new name.
                ch.force(true);
            }
            try {
                Files.move(tmp, absolute, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, absolute, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException | RuntimeException | Error e) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    /**
     * A temp file is created private (rw-------) and would stay so after the rename; give it the
     * old file's permissions, or rw-r--r-- for a new file, as a plain write would have.
     */
    private static void copyPermissions(Path target, Path tmp) throws IOException {
        if (!Files.getFileStore(tmp).supportsFileAttributeView(PosixFileAttributeView.class)) {
            return;
        }
        Set<PosixFilePermission> permissions = Files.isRegularFile(target)
                ? Files.getPosixFilePermissions(target)
                : PosixFilePermissions.fromString("rw-r--r--");
        Files.setPosixFilePermissions(tmp, permissions);
    }

    /**
     * Reads a whole file, refusing one too large for a Java array before trying, so the failure is
     * a clear message rather than an OutOfMemoryError.
     */
    static byte[] readAll(Path path) throws IOException {
        return readAll(path, size -> "file is " + size + " bytes, more than clrnn reads in one piece (2 GiB)");
    }

    /**
     * As {@link #readAll(Path)}, {@code tooLarge} wording the refusal (after the file's name) from the
     * file's size.
     */
    public static byte[] readAll(Path path, LongFunction<String> tooLarge) throws IOException {
        long size = Files.size(path);
        if (size > Integer.MAX_VALUE - 8) {
            throw FormatException.of(String.valueOf(path.getFileName()), tooLarge.apply(size));
        }
        return Files.readAllBytes(path);
    }
}
