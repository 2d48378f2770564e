package io.clrnn.format;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.zip.CRC32;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * The entries of a zip archive held in memory, as torch.save writes them (STORED, with zip64 end
 * records) or as a zip tool may rewrite them (DEFLATED). Every size and offset in the headers is
 * checked against the file before it is used, inflating stops at the size the header declares,
 * and each entry's CRC-32 is checked before its bytes are handed out.
 */
final class ZipArchive {
    /** One entry of the central directory, with where its data starts (found from its local header). */
    record Entry(String name, int method, int crc, long compressedSize, long size, int dataOffset) {}

    /** An entry's bytes: a range of the archive itself when STORED, a fresh array when DEFLATED. */
    record Bytes(byte[] array, int offset, int length) {}

    static final int STORED = 0;
    static final int DEFLATED = 8;
    private static final int LOCAL = 0x04034b50, CENTRAL = 0x02014b50, END = 0x06054b50,
            END64 = 0x06064b50, END64_LOCATOR = 0x07064b50;
    private static final int END_SIZE = 22, CENTRAL_SIZE = 46, LOCAL_SIZE = 30;
    // Far more than any torch file holds (one entry per storage), and a bound on memory.
    private static final long MAX_ENTRIES = 1 << 20;
    // Deflate cannot shrink data more than about 1032 times; a header that claims more is lying.
    private static final long MAX_DEFLATE_RATIO = 1032;

    private final byte[] bytes;
    private final String file;
    private final Map<String, Entry> entries;
    private final Set<String> verified = ConcurrentHashMap.newKeySet();

    private ZipArchive(byte[] bytes, String file, Map<String, Entry> entries) {
        this.bytes = bytes;
        this.file = file;
        this.entries = entries;
    }

    /** Reads and checks the central directory and every local header; {@code file} starts error messages. */
    static ZipArchive read(byte[] bytes, String file) {
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        int end = findEnd(bytes, b);
        if (end < 0) {
            throw FormatException.of(file, "zip archive has no end-of-central-directory record (truncated?)");
        }
        if (u16(b, end + 4) != 0 || u16(b, end + 6) != 0) {
            throw FormatException.of(file, "zip archive spans several disks");
        }
        long count = u16(b, end + 10);
        long cdSize = u32(b, end + 12);
        long cdOffset = u32(b, end + 16);
        long cdLimit = end;
        if (count == 0xFFFF || cdSize == 0xFFFF_FFFFL || cdOffset == 0xFFFF_FFFFL) {
            // The real values are in the zip64 end record, which a locator just before this one points to.
            int locator = end - 20;
            if (locator < 0 || b.getInt(locator) != END64_LOCATOR) {
                throw FormatException.of(file, "zip archive needs a zip64 end record but has no locator for it");
            }
            long at = b.getLong(locator + 8);
            if (at < 0 || at > locator - 56 || b.getInt((int) at) != END64) {
                throw FormatException.of(file, "zip64 end record is not where its locator points (" + at + ")");
            }
            count = b.getLong((int) at + 32);
            cdSize = b.getLong((int) at + 40);
            cdOffset = b.getLong((int) at + 48);
            cdLimit = at;
        }
        if (cdOffset < 0 || cdSize < 0 || cdOffset > cdLimit || cdSize > cdLimit - cdOffset) {
            throw FormatException.of(file, "zip central directory (" + cdSize + " bytes at " + cdOffset
                    + ") is not inside the file");
        }
        if (count < 0 || count > cdSize / CENTRAL_SIZE) {
            throw FormatException.of(file, "zip central directory of " + cdSize + " bytes cannot hold "
                    + Long.toUnsignedString(count) + " entries");
        }
        if (count > MAX_ENTRIES) {
            throw FormatException.of(file, "zip archive has " + count + " entries, more than the " + MAX_ENTRIES
                    + " clrnn reads");
        }

        Map<String, Entry> entries = new LinkedHashMap<>();
        int p = (int) cdOffset;
        int cdEnd = (int) (cdOffset + cdSize);
        for (long i = 0; i < count; i++) {
            if (p > cdEnd - CENTRAL_SIZE || b.getInt(p) != CENTRAL) {
                throw FormatException.of(file, "zip central directory entry " + i + " is missing or damaged");
            }
            int flags = u16(b, p + 8);
            int method = u16(b, p + 10);
            int crc = b.getInt(p + 16);
            long compressed = u32(b, p + 20);
            long size = u32(b, p + 24);
            int nameLength = u16(b, p + 28);
            int extraLength = u16(b, p + 30);
            int commentLength = u16(b, p + 32);
            long local = u32(b, p + 42);
            int next = p + CENTRAL_SIZE + nameLength + extraLength + commentLength;
            if (next > cdEnd || next < p) {
                throw FormatException.of(file, "zip central directory entry " + i + " runs past the directory");
            }
            String name = new String(bytes, p + CENTRAL_SIZE, nameLength, StandardCharsets.UTF_8);
            String what = "zip entry " + FormatException.quote(name);
            if (compressed == 0xFFFF_FFFFL || size == 0xFFFF_FFFFL || local == 0xFFFF_FFFFL) {
                long[] values = {size, compressed, local};
                zip64Extra(b, p + CENTRAL_SIZE + nameLength, extraLength, values, file, what);
                size = values[0];
                compressed = values[1];
                local = values[2];
            }
            if (size < 0) {
                throw FormatException.of(file, what + " claims a size past 2^63");
            }
            if ((flags & 1) != 0) {
                throw FormatException.of(file, what + " is encrypted");
            }
            if (method != STORED && method != DEFLATED) {
                throw FormatException.of(file, what + " uses compression method " + method
                        + " (clrnn reads stored and deflated entries)");
            }
            if (method == STORED && compressed != size) {
                throw FormatException.of(file, what + " is stored, yet its sizes differ (" + compressed + " and " + size + ")");
            }
            if (local < 0 || local > cdOffset - LOCAL_SIZE || b.getInt((int) local) != LOCAL) {
                throw FormatException.of(file, what + " has no local header at " + local);
            }
            long data = local + LOCAL_SIZE + u16(b, (int) local + 26) + u16(b, (int) local + 28);
            if (compressed < 0 || data > cdOffset || compressed > cdOffset - data) {
                throw FormatException.of(file, what + " data (" + compressed + " bytes at " + data
                        + ") runs past the end of the entries");
            }
            if (entries.put(name, new Entry(name, method, crc, compressed, size, (int) data)) != null) {
                throw FormatException.of(file, "zip archive holds " + what + " twice");
            }
            p = next;
        }
        return new ZipArchive(bytes, file, Collections.unmodifiableMap(entries));
    }

    /** Every entry by name, in central-directory order. */
    Map<String, Entry> entries() {
        return entries;
    }

    /**
     * The bytes of an entry, refused before anything is allocated when its header claims more
     * than {@code maxSize}, and after inflating when the data is not what the header says.
     */
    Bytes read(Entry e, long maxSize) {
        String what = "zip entry " + FormatException.quote(e.name());
        if (e.size() > maxSize) {
            throw FormatException.of(file, what + " holds " + e.size() + " bytes, more than the " + maxSize + " expected");
        }
        if (e.size() > Integer.MAX_VALUE - 8) {
            throw FormatException.of(file, what + " holds " + e.size() + " bytes, more than clrnn reads in one piece (2 GiB)");
        }
        int size = (int) e.size();
        if (e.method() == STORED) {
            if (!verified.contains(e.name())) {
                checkCrc(e, bytes, e.dataOffset(), size);
                verified.add(e.name());
            }
            return new Bytes(bytes, e.dataOffset(), size);
        }
        if (e.size() > MAX_DEFLATE_RATIO * e.compressedSize() + 64) {
            throw FormatException.of(file, what + " claims " + e.size() + " bytes from " + e.compressedSize()
                    + " compressed, more than deflate can produce");
        }
        byte[] out = new byte[size];
        Inflater inflater = new Inflater(true);
        try {
            inflater.setInput(bytes, e.dataOffset(), (int) e.compressedSize());
            int n = inflate(inflater, out, 0, size);
            if (n < size) {
                throw FormatException.of(file, what + " inflates to " + n + " bytes, fewer than the " + size
                        + " its header declares");
            }
            // One byte more than declared is enough to refuse: a bomb, or a lying header.
            if (!inflater.finished() && inflate(inflater, new byte[1], 0, 1) > 0) {
                throw FormatException.of(file, what + " inflates to more than the " + size + " bytes its header declares");
            }
        } catch (DataFormatException ex) {
            throw FormatException.of(file, what + " is not valid deflate data");
        } finally {
            inflater.end();
        }
        checkCrc(e, out, 0, size);
        return new Bytes(out, 0, size);
    }

    /** Inflates into out[from, from + length); returns how many bytes came out before the data ran dry. */
    private static int inflate(Inflater inflater, byte[] out, int from, int length) throws DataFormatException {
        int n = 0;
        boolean padded = false;
        while (n < length && !inflater.finished()) {
            int k = inflater.inflate(out, from + n, length - n);
            n += k;
            if (k == 0) {
                if (inflater.needsInput() && !padded) {
                    // Raw inflate may want one byte past the compressed data to finish (see Inflater(boolean)).
                    inflater.setInput(new byte[1]);
                    padded = true;
                } else {
                    break;
                }
            }
        }
        return n;
    }

    private void checkCrc(Entry e, byte[] array, int offset, int length) {
        CRC32 crc = new CRC32();
        crc.update(array, offset, length);
        if ((int) crc.getValue() != e.crc()) {
            throw FormatException.of(file, "zip entry " + FormatException.quote(e.name()) + " fails its CRC-32 check"
                    + " (the file is damaged)");
        }
    }

    /** The end record: its signature, with a comment length that reaches exactly to the end of the file. */
    private static int findEnd(byte[] bytes, ByteBuffer b) {
        for (int p = bytes.length - END_SIZE; p >= 0 && p >= bytes.length - END_SIZE - 0xFFFF; p--) {
            if (b.getInt(p) == END && p + END_SIZE + u16(b, p + 20) == bytes.length) {
                return p;
            }
        }
        return -1;
    }

    /** Replaces the 0xFFFFFFFF values among (size, compressed size, local header offset) from the zip64 extra field. */
    private static void zip64Extra(ByteBuffer b, int from, int length, long[] values, String file, String what) {
        int p = from;
        int end = from + length;
        while (p + 4 <= end) {
            int id = u16(b, p);
            int size = u16(b, p + 2);
            if (p + 4 + size > end) {
                break;
            }
            if (id == 1) {
                int q = p + 4;
                for (int i = 0; i < values.length; i++) {
                    if (values[i] == 0xFFFF_FFFFL) {
                        if (q + 8 > p + 4 + size) {
                            throw FormatException.of(file, what + " has a zip64 field too short for its sizes");
                        }
                        values[i] = b.getLong(q);
                        q += 8;
                    }
                }
                return;
            }
            p += 4 + size;
        }
        throw FormatException.of(file, what + " needs a zip64 extra field but has none");
    }

    private static int u16(ByteBuffer b, int at) {
        return b.getShort(at) & 0xFFFF;
    }

    private static long u32(ByteBuffer b, int at) {
        return b.getInt(at) & 0xFFFF_FFFFL;
    }
}
