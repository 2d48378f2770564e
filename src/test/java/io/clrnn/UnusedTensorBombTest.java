package io.clrnn;

import io.clrnn.base.InvalidInputException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A torch.save file whose extra key is a storage of 1 GiB of zeros, deflated to about a megabyte: the module's
 * key set is checked from the file's index before any tensor is decoded, so the refusal costs neither the
 * gigabyte nor the time to inflate it (issue 24: it took 4.5 GB and 24 s).
 */
class UnusedTensorBombTest {
    @TempDir Path dir;

    private static final long JUNK_FLOATS = 1L << 28;

    @Test
    void anUnexpectedHugeKeyIsRefusedWithoutBeingInflated() throws IOException {
        Path file = dir.resolve("bomb.pt");
        Files.write(file, bomb());
        assertTrue(Files.size(file) < 4 << 20, "small on disk: " + Files.size(file));
        InvalidInputException e = assertTimeoutPreemptively(Duration.ofSeconds(2), () -> assertThrows(
                InvalidInputException.class, () -> StateDict.load(file, RnnOptions.defaults())));
        assertTrue(e.getMessage().contains("Unexpected key(s) in state_dict: \"junk0\""), e.getMessage());
    }

    /**
     * A module too large for the memory the JVM may use: RNN(2, 4096), whose weight_hh_l0 alone takes 64 MiB as
     * float32, against 64 MiB of heap, is refused from the shapes alone, naming the file and the memory it needs;
     * against 8 GiB it passes. (An OutOfMemoryError after seconds of inflating deflated zeros, blaming the heap,
     * before.)
     */
    @Test
    void aModuleLargerThanTheMemoryTheJvmMayUseIsRefusedFromItsShapes() {
        java.util.Map<String, int[]> shapes = java.util.Map.of("weight_ih_l0", new int[] {4096, 2}, "weight_hh_l0",
                new int[] {4096, 4096}, "bias_ih_l0", new int[] {4096}, "bias_hh_l0", new int[] {4096});
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> StateDict.checkFitsInMemory(Path.of("huge.pt"), shapes, 64L << 20));
        assertTrue(e.getMessage().equals("huge.pt: the module's tensors take 0.1 GiB as float32, more than half of the "
                + "memory this JVM may use (0.1 GiB); give it more (-Xmx, or CLRNN_JAVA_OPTS for the command line)"),
                e.getMessage());
        StateDict.checkFitsInMemory(Path.of("huge.pt"), shapes, 8L << 30);
    }

    /** RNN(2, 3)'s state_dict and junk0, as torch.save's zip writes them (storages stored, junk0 deflated). */
    private static byte[] bomb() {
        return torchZip(new String[] {"weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0", "junk0"},
                new long[][] {{3, 2}, {3, 3}, {3}, {3}, {JUNK_FLOATS}}, true);
    }

    /**
     * A torch.save zip of these float tensors; with {@code fullData}, every storage but the last stored in full
     * and the last deflated zeros; without, every storage a few bytes whatever its size says.
     */
    private static byte[] torchZip(String[] names, long[][] sizes, boolean fullData) {
        ByteArrayOutputStream pkl = new ByteArrayOutputStream();
        pkl.write(0x80);
        pkl.write(2);
        pkl.write('}');
        pkl.write('(');
        for (int i = 0; i < names.length; i++) {
            str(pkl, names[i]);
            global(pkl, "torch._utils", "_rebuild_tensor_v2");
            pkl.write('(');
            pkl.write('(');
            str(pkl, "storage");
            global(pkl, "torch", "FloatStorage");
            str(pkl, String.valueOf(i));
            str(pkl, "cpu");
            integer(pkl, numel(sizes[i]));
            pkl.write('t');
            pkl.write('Q');
            integer(pkl, 0);
            pkl.write('(');
            for (long s : sizes[i]) {
                integer(pkl, s);
            }
            pkl.write('t');
            pkl.write('(');
            long stride = 1;
            long[] strides = new long[sizes[i].length];
            for (int d = sizes[i].length - 1; d >= 0; d--) {
                strides[d] = stride;
                stride *= sizes[i][d];
            }
            for (long s : strides) {
                integer(pkl, s);
            }
            pkl.write('t');
            pkl.write(0x89);
            global(pkl, "collections", "OrderedDict");
            pkl.write(')');
            pkl.write('R');
            pkl.write('t');
            pkl.write('R');
        }
        pkl.write('u');
        pkl.write('.');
        ZipWriter zip = new ZipWriter();
        zip.stored("archive/data.pkl", pkl.toByteArray());
        for (int i = 0; i < names.length; i++) {
            if (!fullData) {
                zip.stored("archive/data/" + i, new byte[16]);
            } else if (i < names.length - 1) {
                zip.stored("archive/data/" + i, new byte[(int) numel(sizes[i]) * 4]);
            } else {
                zip.deflatedZeros("archive/data/" + i, numel(sizes[i]) * 4);
            }
        }
        zip.stored("archive/version", "3\n".getBytes(StandardCharsets.US_ASCII));
        return zip.build();
    }

    private static long numel(long[] size) {
        long n = 1;
        for (long s : size) {
            n *= s;
        }
        return n;
    }

    private static void str(ByteArrayOutputStream out, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        out.write('X');
        out.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(b.length).array());
        out.writeBytes(b);
    }

    private static void global(ByteArrayOutputStream out, String module, String name) {
        out.write('c');
        out.writeBytes((module + "\n" + name + "\n").getBytes(StandardCharsets.UTF_8));
    }

    private static void integer(ByteArrayOutputStream out, long v) {
        out.write('J');
        out.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt((int) v).array());
    }

    /** Just enough of a zip writer: stored entries, and one deflated entry of zeros made without holding them. */
    private static final class ZipWriter {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();
        private final ByteArrayOutputStream central = new ByteArrayOutputStream();
        private int count;

        void stored(String name, byte[] data) {
            CRC32 crc = new CRC32();
            crc.update(data);
            entry(name, 0, data, data.length, (int) crc.getValue());
        }

        void deflatedZeros(String name, long size) {
            Deflater d = new Deflater(Deflater.BEST_COMPRESSION, true);
            CRC32 crc = new CRC32();
            byte[] zeros = new byte[1 << 20];
            byte[] buf = new byte[1 << 16];
            ByteArrayOutputStream packed = new ByteArrayOutputStream();
            for (long left = size; left > 0; left -= zeros.length) {
                int n = (int) Math.min(zeros.length, left);
                crc.update(zeros, 0, n);
                d.setInput(zeros, 0, n);
                while (!d.needsInput()) {
                    packed.write(buf, 0, d.deflate(buf));
                }
            }
            d.finish();
            while (!d.finished()) {
                packed.write(buf, 0, d.deflate(buf));
            }
            d.end();
            entry(name, 8, packed.toByteArray(), size, (int) crc.getValue());
        }

        private void entry(String name, int method, byte[] payload, long size, int crc) {
            byte[] n = name.getBytes(StandardCharsets.UTF_8);
            int offset = out.size();
            ByteBuffer h = ByteBuffer.allocate(30 + n.length).order(ByteOrder.LITTLE_ENDIAN);
            h.putInt(0x04034b50).putShort((short) 20).putShort((short) 0).putShort((short) method).putInt(0)
                    .putInt(crc).putInt(payload.length).putInt((int) size).putShort((short) n.length)
                    .putShort((short) 0).put(n);
            out.writeBytes(h.array());
            out.writeBytes(payload);
            ByteBuffer c = ByteBuffer.allocate(46 + n.length).order(ByteOrder.LITTLE_ENDIAN);
            c.putInt(0x02014b50).putShort((short) 20).putShort((short) 20).putShort((short) 0)
                    .putShort((short) method).putInt(0).putInt(crc).putInt(payload.length).putInt((int) size)
                    .putShort((short) n.length).putShort((short) 0).putShort((short) 0).putShort((short) 0)
                    .putShort((short) 0).putInt(0).putInt(offset).put(n);
            central.writeBytes(c.array());
            count++;
        }

        byte[] build() {
            int cdStart = out.size();
            out.writeBytes(central.toByteArray());
            ByteBuffer end = ByteBuffer.allocate(22).order(ByteOrder.LITTLE_ENDIAN);
            end.putInt(0x06054b50).putShort((short) 0).putShort((short) 0).putShort((short) count)
                    .putShort((short) count).putInt(central.size()).putInt(cdStart).putShort((short) 0);
            out.writeBytes(end.array());
            return out.toByteArray();
        }
    }
}
