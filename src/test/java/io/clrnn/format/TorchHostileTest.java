package io.clrnn.format;

import static io.clrnn.format.FormatFixtures.concat;
import static io.clrnn.format.TorchFixtures.f32;
import static io.clrnn.format.TorchFixtures.readAll;
import static io.clrnn.format.TorchFixtures.torchZip;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clrnn.format.TorchFixtures.Pickle;
import io.clrnn.format.TorchFixtures.Zip;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Hostile and broken torch files, built here byte by byte: each is refused with one line that
 * names the file and says what is wrong, quickly, and nothing in it is ever run.
 */
class TorchHostileTest {
    private static final String FILE = "evil.pt";
    private static final Map<String, byte[]> NO_STORAGES = Map.of();

    @TempDir
    Path dir;

    // ---- code execution ----

    @Test
    void payloadsThatWouldRunCommandsRunNothing() throws Exception {
        Path pwned = dir.resolve("pwned");
        String touch = "touch " + pwned;
        String python = "__import__('os').system('" + touch + "')";
        // What pickle.loads would run: module.function(argument), each written as GLOBAL + REDUCE.
        List<String[]> calls = List.of(new String[] {"os", "system", touch}, new String[] {"posix", "system", touch},
                new String[] {"nt", "system", touch}, new String[] {"subprocess", "getoutput", touch},
                new String[] {"builtins", "eval", python}, new String[] {"builtins", "exec", python},
                new String[] {"__builtin__", "eval", python});
        for (String[] call : calls) {
            byte[] pkl = new Pickle().proto(2).global(call[0], call[1]).put(0).str(call[2]).op(0x85, 'R').stop();
            refused(torchZip(pkl, NO_STORAGES), "data.pkl offset 2: refers to global '" + call[0] + "." + call[1]
                    + "', which clrnn does not allow");
            // The same call hidden as a value inside a state_dict beside a real tensor.
            byte[] hidden = new Pickle().proto(2).op('}').mark()
                    .str("w").tensor("FloatStorage", "0", 2, 0, new long[] {2}, new long[] {1})
                    .str("x").global(call[0], call[1]).str(call[2]).op(0x85, 'R').op('u').stop();
            refused(torchZip(hidden, Map.of("0", f32(1, 2))), "refers to global '" + call[0] + "." + call[1] + "'");
        }
        // Protocol 4's STACK_GLOBAL takes the names from the stack; still refused, by name.
        byte[] stackGlobal = new Pickle().proto(4).op(0x8c, 2).op('o', 's').op(0x8c, 6).op("system".chars().toArray())
                .op(0x93).str(touch).op(0x85, 'R').stop();
        refused(torchZip(stackGlobal, NO_STORAGES), "refers to global 'os.system'");
        assertFalse(Files.exists(pwned), "a payload ran");
    }

    @Test
    void aPickledObjectIsRefusedAsAWholeModule() {
        byte[] pkl = new Pickle().proto(2).global("__main__", "MyModel").put(0).op(')', 0x81).put(1).op('}', 'b').stop();
        refused(torchZip(pkl, NO_STORAGES), "data.pkl offset 2: holds a pickled Python object of class '__main__.MyModel'"
                + ", such as a whole model saved with torch.save(model); clrnn reads state_dicts only: save model.state_dict() instead");
    }

    @Test
    void allowedGlobalsStillOnlyDoWhatTheyAreFor() {
        refused(torchZip(new Pickle().proto(2).op('}', ')', 'R').stop(), NO_STORAGES),
                "data.pkl offset 4: REDUCE calls a dict, which is not an allowed function");
        refused(torchZip(new Pickle().proto(2).global("torch", "FloatStorage").op(')', 'R').stop(), NO_STORAGES),
                "REDUCE calls a storage class, which is not an allowed function");
        refused(torchZip(new Pickle().proto(2).global("collections", "OrderedDict").op(')', 0x81).stop(), NO_STORAGES),
                "unsupported pickle opcode NEWOBJ (0x81)");
        refused(torchZip(new Pickle().proto(2).global("collections", "OrderedDict").integer(3).op(0x85, 'R').stop(),
                NO_STORAGES), "collections.OrderedDict called with 1 arguments");
        refused(torchZip(new Pickle().proto(2).op(']', '}', 'b').stop(), NO_STORAGES),
                "BUILD sets the state of a list; only dicts may be built");
        refused(torchZip(new Pickle().proto(2).global("_codecs", "encode").str("x").str("rot13").op(0x86, 'R').stop(),
                NO_STORAGES), "_codecs.encode is allowed only as protocol 2 writes bytes");
        refused(torchZip(new Pickle().proto(2).op(']').op(')', 'K', 1, 'a').stop(), NO_STORAGES),
                "APPEND to a tuple; only lists may be appended to");
        refused(torchZip(new Pickle().proto(2).op('}', ']', 'K', 1, 's').stop(), NO_STORAGES),
                "a dict key is a list, which clrnn does not take as a key");
    }

    // ---- opcodes and bounds ----

    @ParameterizedTest
    @ValueSource(ints = {'i', 'o', 'I', 'P', 'd', 0x82, 0x8f, 0x96, 0xff, 0x00})
    void unknownOpcodesAreNamedWithTheirOffset(int opcode) {
        byte[] pkl = new Pickle().proto(2).op('}').op(opcode).stop();
        FormatException e = refused(torchZip(pkl, NO_STORAGES), "data.pkl offset 3: unsupported pickle opcode ");
        assertTrue(e.getMessage().contains(String.format("0x%02x", opcode)), e.getMessage());
    }

    @Test
    void lengthsAreCheckedBeforeAnythingIsAllocated() {
        refused(torchZip(new Pickle().proto(2).strClaiming(0x8000_0000L).stop(), NO_STORAGES),
                "data.pkl offset 2: a string of 2147483648 bytes runs past the end of the pickle (1 bytes left)");
        byte[] u8 = new Pickle().proto(2).op(0x8d, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff).stop();
        refused(torchZip(u8, NO_STORAGES), "a string of 18446744073709551615 bytes runs past the end");
        refused(torchZip(new Pickle().proto(2).op('j', 0xff, 0xff, 0xff, 0xff).stop(), NO_STORAGES),
                "memo entry 4294967295 was never set");
        refused(torchZip(new Pickle().proto(2).op('T', 0xff, 0xff, 0xff, 0xff).stop(), NO_STORAGES),
                "a string of 18446744073709551615 bytes runs past the end");
        refused(torchZip(new Pickle().proto(6).stop(), NO_STORAGES), "pickle protocol 6 (clrnn reads protocols 2 to 5)");
        refused(torchZip(new Pickle().proto(2).op('c', 'o', 's').stop(), NO_STORAGES), "a GLOBAL name is unterminated");
    }

    @Test
    void deepAndLongPicklesAreCutOffAtTheirLimits() {
        Pickle marks = new Pickle().proto(2);
        for (int i = 0; i < 100_000; i++) {
            marks.op('(');
        }
        refused(torchZip(marks.stop(), NO_STORAGES), "MARKs nested more than 1000 deep");

        Pickle nones = new Pickle().proto(2);
        for (int i = 0; i <= 1_000_000; i++) {
            nones.op('N');
        }
        refused(torchZip(nones.stop(), NO_STORAGES), "the pickle stack grows past 1000000 entries");

        // One list, appended to itself from the memo four million times: two bytes per object.
        Pickle appends = new Pickle().proto(2).op(']').put(0);
        for (int i = 0; i < 4_000_001; i++) {
            appends.get(0).op('a');
        }
        refused(torchZip(appends.stop(), NO_STORAGES), "builds more than 4000000 objects");
    }

    @Test
    void limitsAreTheCallersToSet() {
        Unpickler.Limits tight = new Unpickler.Limits(100, 10, 2, 3);
        Pickle memo = new Pickle().proto(2).op('N');
        for (int i = 0; i < 5; i++) {
            memo.put(i);
        }
        byte[] pkl = memo.stop();
        FormatException e = assertThrows(FormatException.class,
                () -> new Unpickler(pkl, 0, pkl.length, FILE, "data.pkl", new TorchGlobals(10), tight).load());
        assertEquals(FILE + ": data.pkl offset 9: the memo grows past 3 entries", e.getMessage());
    }

    @Test
    void cyclesThroughTheMemoNeitherHangNorOverflow() {
        // A list that holds itself is plain data, and ignored.
        byte[] list = new Pickle().proto(2).op('}').str("l").op(']').put(1).get(1).op('a', 's').stop();
        assertTimeoutPreemptively(Duration.ofSeconds(5),
                () -> assertEquals(List.of(), WeightFile.open(torchZip(list, NO_STORAGES), FILE).entries()));
        // A dict that holds itself would make its tensors' names endless.
        byte[] dict = new Pickle().proto(2).op('}').put(0).str("self").get(0).op('s').stop();
        refused(torchZip(dict, NO_STORAGES), "a dict holds itself, at 'self'");
        // Dicts nested deeper than any checkpoint: {d: {d: {d: ...}}}, set from the inside out.
        Pickle deep = new Pickle().proto(2).op('}');
        for (int i = 0; i < 100; i++) {
            deep.str("d").op('}');
        }
        for (int i = 0; i < 100; i++) {
            deep.op('s');
        }
        refused(torchZip(deep.stop(), NO_STORAGES), "dicts nested more than 64 deep");
        // Tuples nested a hundred thousand deep are built without recursion, and ignored.
        Pickle tuples = new Pickle().proto(2).op('}').str("t").op('N');
        for (int i = 0; i < 100_000; i++) {
            tuples.op(0x85);
        }
        byte[] nestedTuples = tuples.op('s').stop();
        assertTimeoutPreemptively(Duration.ofSeconds(5),
                () -> assertEquals(List.of(), WeightFile.open(torchZip(nestedTuples, NO_STORAGES), FILE).entries()));
    }

    @Test
    void sharedDictsCannotMultiplyTheWork() {
        // d0 = {a: d1, b: d1}, d1 = {a: d2, b: d2}, ...: 2^40 paths to the last dict, built from it up.
        Pickle p = new Pickle().proto(2).op('}').put(40);
        for (int i = 39; i >= 0; i--) {
            p.op('}').put(i).str("a").get(i + 1).op('s').str("b").get(i + 1).op('s');
        }
        byte[] pkl = p.stop();
        FormatException e = assertTimeoutPreemptively(Duration.ofSeconds(10),
                () -> assertThrows(FormatException.class, () -> WeightFile.open(torchZip(pkl, NO_STORAGES), FILE)));
        assertTrue(e.getMessage().contains("dict entries to search") || e.getMessage().contains("tensor names longer"),
                e.getMessage());
    }

    // ---- tensors and storages ----

    @Test
    void everyViewMustLieInsideItsStorage() {
        Map<String, byte[]> four = Map.of("0", f32(1, 2, 3, 4));
        refused(tensorFile(4, 0, new long[] {10}, new long[] {1}, four),
                "a tensor of shape [10] at offset 0 reaches element 9 of storage '0', which holds 4");
        refused(tensorFile(4, 3, new long[] {2}, new long[] {1}, four), "at offset 3 reaches element 4");
        refused(tensorFile(4, 0, new long[] {2, 2}, new long[] {3, 1}, four), "reaches element 4");
        refused(tensorFile(4, 0, new long[] {3}, new long[] {1L << 62}, four), "reaches element past 2^63");
        refused(tensorFile(4, Long.MAX_VALUE, new long[] {1}, new long[] {1}, four), "reaches element 9223372036854775807");
        refused(tensorFile(4, 0, new long[] {2}, new long[] {-1}, four), "a stride is -1, outside [0, 9223372036854775807]");
        refused(tensorFile(4, -1, new long[] {2}, new long[] {1}, four), "a storage offset is -1");
        refused(tensorFile(4, 0, new long[] {-2}, new long[] {1}, four), "a dimension is -2, outside [0, 2147483647]");
        refused(tensorFile(4, 0, new long[] {1L << 31}, new long[] {1}, four), "a dimension is 2147483648");
        refused(tensorFile(4, 0, new long[] {65536, 65536}, new long[] {0, 0}, four),
                "a tensor of shape [65536, 65536] holds more elements than one Java array");
        refused(tensorFile(4, 0, new long[] {2}, new long[] {1, 1}, four), "a tensor has 1 dimensions but 2 strides");
        // Zero-size tensors read nothing, so any offset will do; a stride of 0 repeats one element.
        assertEquals(0, WeightFile.open(tensorFile(4, 99, new long[] {0, 3}, new long[] {3, 1}, four), FILE)
                .tensor("w").numel());
        assertEquals(List.of(4f, 4f, 4f), floats(WeightFile.open(tensorFile(4, 3, new long[] {3}, new long[] {0}, four), FILE)
                .tensor("w").data()));
    }

    @Test
    void storagesMustBeTheZipEntriesTheySayTheyAre() {
        refused(tensorFile(4, 0, new long[] {4}, new long[] {1}, Map.of("0", f32(1, 2, 3))),
                "zip entry 'archive/data/0' holds 12 bytes, but its storage of 4 float32 needs 16");
        refused(tensorFile(4, 0, new long[] {4}, new long[] {1}, NO_STORAGES),
                "storage '0' has no zip entry 'archive/data/0'");
        refused(tensorFile(1L << 60, 0, new long[] {4}, new long[] {1}, NO_STORAGES),
                "a storage '0' size is 1152921504606846976, outside");
        byte[] twice = new Pickle().proto(2).op('}').mark()
                .str("a").tensor("FloatStorage", "0", 4, 0, new long[] {4}, new long[] {1})
                .str("b").tensor("HalfStorage", "0", 8, 0, new long[] {4}, new long[] {1}).op('u').stop();
        refused(torchZip(twice, Map.of("0", f32(1, 2, 3, 4))), "storage '0' is declared twice, as 4 float32 and 8 float16");
        byte[] view = new Pickle().proto(2).mark().str("storage").global("torch", "FloatStorage").str("0").str("cpu")
                .integer(4).mark().str("1").integer(0).integer(4).op('t', 't', 'Q').stop();
        refused(torchZip(view, Map.of("0", f32(1, 2, 3, 4))), "a legacy storage record is a view of another storage");
        byte[] module = new Pickle().proto(2).mark().str("module").global("__main__", "Net").str("net.py").str("src")
                .op('t', 'Q').stop();
        refused(torchZip(module, NO_STORAGES), "holds a pickled Python object of class '__main__.Net'");
        refused(torchZip(new Pickle().proto(2).integer(7).op('Q').stop(), NO_STORAGES),
                "a persistent id is not a ('storage', ...) record but a int");
    }

    @Test
    void namesAndRootsMustMakeAStateDict() {
        byte[] clash = new Pickle().proto(2).op('}').mark()
                .str("a.b").tensor("FloatStorage", "0", 1, 0, new long[] {1}, new long[] {1})
                .str("a").op('}').str("b").tensor("FloatStorage", "0", 1, 0, new long[] {1}, new long[] {1}).op('s')
                .op('u').stop();
        refused(torchZip(clash, Map.of("0", f32(1))), "two tensors are named 'a.b'");
        refused(torchZip(new Pickle().proto(2).op('N').stop(), NO_STORAGES),
                FILE + ": holds a None, not a state_dict or a checkpoint dict that holds one");
        // Keys that are neither str nor int are skipped, with what they hold.
        byte[] odd = new Pickle().proto(2).op('}').mark()
                .op('N').tensor("FloatStorage", "0", 1, 0, new long[] {1}, new long[] {1})
                .op(0x88).tensor("FloatStorage", "0", 1, 0, new long[] {1}, new long[] {1})
                .integer(-3).tensor("FloatStorage", "0", 1, 0, new long[] {1}, new long[] {1}).op('u').stop();
        assertEquals(List.of(new WeightFile.Entry("-3", "float32", new int[] {1})),
                WeightFile.open(torchZip(odd, Map.of("0", f32(1))), FILE).entries());
    }

    // ---- zips ----

    @Test
    void zipStructureIsCheckedBeforeUse() {
        byte[] pkl = new Pickle().proto(2).op('}').stop();
        refused(new Zip().stored("archive/version", new byte[] {'3'}).build(),
                "a zip archive without a data.pkl record, not a torch.save file");
        refused(new Zip().stored("a/data.pkl", pkl).stored("b/data.pkl", pkl).build(), "with 2 data.pkl records");
        refused(new Zip().stored("a/data.pkl", pkl).stored("a/data.pkl", pkl).build(), "holds zip entry 'a/data.pkl' twice");
        refused(new Zip().stored("a/data.pkl", pkl).stored("a/byteorder", "middle".getBytes(StandardCharsets.US_ASCII))
                .build(), "byteorder record says 'middle', neither 'little' nor 'big'");
        refused(new Zip().raw("a/data.pkl", 0, pkl, pkl.length, pkl.length, Zip.crc(pkl), 1).build(),
                "zip entry 'a/data.pkl' is encrypted");
        refused(new Zip().raw("a/data.pkl", 12, pkl, pkl.length, pkl.length, Zip.crc(pkl), 0).build(),
                "uses compression method 12");
        refused(new Zip().raw("a/data.pkl", 0, pkl, pkl.length, pkl.length + 1, Zip.crc(pkl), 0).build(),
                "is stored, yet its sizes differ");
        refused(new Zip().raw("a/data.pkl", 0, pkl, pkl.length, pkl.length, Zip.crc(pkl) ^ 1, 0).build(),
                "zip entry 'a/data.pkl' fails its CRC-32 check");
        byte[] ok = new Zip().stored("a/data.pkl", pkl).build();
        byte[] lyingCount = ok.clone();
        ByteBuffer.wrap(lyingCount).order(ByteOrder.LITTLE_ENDIAN).putShort(ok.length - 12, (short) 999);
        refused(lyingCount, "cannot hold 999 entries");
        byte[] lyingOffset = ok.clone();
        ByteBuffer.wrap(lyingOffset).order(ByteOrder.LITTLE_ENDIAN).putInt(ok.length - 6, 1 << 30);
        refused(lyingOffset, "is not inside the file");
        refused(Arrays.copyOf(ok, ok.length - 1), "zip archive has no end-of-central-directory record (truncated?)");
    }

    @Test
    void zipBombsAreRefusedWithoutInflatingThem() {
        // Twenty megabytes of zeros deflate to about twenty kilobytes; the header claims 1000 bytes.
        byte[] zeros = Zip.deflate(new byte[20 << 20]);
        refused(new Zip().raw("a/data.pkl", 8, zeros, 1000, zeros.length, 0, 0).build(),
                "zip entry 'a/data.pkl' inflates to more than the 1000 bytes its header declares");
        refused(new Zip().raw("a/data.pkl", 8, zeros, 3_000_000_000L, zeros.length, 0, 0).build(),
                "zip entry 'a/data.pkl' holds 3000000000 bytes, more than the 67108864 expected");
        refused(new Zip().raw("a/data.pkl", 8, new byte[] {-1, -1, -1}, 10, 3, 0, 0).build(),
                "zip entry 'a/data.pkl' is not valid deflate data");

        // A storage of 100 million floats, claimed by 20 kB: refused when read, never allocated.
        byte[] pkl = new Pickle().proto(2).op('}').str("w")
                .tensor("FloatStorage", "0", 100_000_000, 0, new long[] {100_000_000}, new long[] {1}).op('s').stop();
        byte[] bomb = new Zip().stored("archive/data.pkl", pkl)
                .raw("archive/data/0", 8, zeros, 400_000_000, zeros.length, 0, 0).build();
        WeightFile w = WeightFile.open(bomb, FILE);
        FormatException e = assertThrows(FormatException.class, () -> w.tensor("w"));
        assertTrue(e.getMessage().contains("claims 400000000 bytes from " + zeros.length + " compressed, more than "
                + "deflate can produce"), e.getMessage());

        // A storage that inflates past its size.
        byte[] small = new Pickle().proto(2).op('}').str("w")
                .tensor("FloatStorage", "0", 4, 0, new long[] {4}, new long[] {1}).op('s').stop();
        byte[] packed = Zip.deflate(new byte[1 << 20]);
        byte[] over = new Zip().stored("archive/data.pkl", small)
                .raw("archive/data/0", 8, packed, 16, packed.length, 0, 0).build();
        FormatException o = assertThrows(FormatException.class, () -> WeightFile.open(over, FILE).tensor("w"));
        assertTrue(o.getMessage().contains("zip entry 'archive/data/0' inflates to more than the 16 bytes"), o.getMessage());
    }

    @Test
    void damagedStorageBytesFailTheirCrc() {
        byte[] lstm = TorchFixtures.bytes("lstm.pt");
        Map<String, byte[]> entries = TorchFixtures.unzip(lstm);
        byte[] storage = entries.get("lstm/data/0");
        int at = indexOf(lstm, storage);
        lstm[at + 5] ^= 0x40;
        WeightFile w = WeightFile.open(lstm, "lstm.pt");
        FormatException e = assertThrows(FormatException.class, () -> w.tensor("weight_ih_l0"));
        assertEquals("lstm.pt: zip entry 'lstm/data/0' fails its CRC-32 check (the file is damaged)", e.getMessage());
    }

    // ---- truncation ----

    @ParameterizedTest
    @ValueSource(strings = {"lstm.pt", "legacy_lstm.pt", "checkpoint.pt", "deflated.pt", "views.pt", "legacy.pt"})
    void everyTruncationIsRefused(String file) {
        byte[] whole = TorchFixtures.bytes(file);
        assertTimeoutPreemptively(Duration.ofSeconds(30), () -> {
            for (int cut = 0; cut < whole.length; cut++) {
                byte[] part = Arrays.copyOf(whole, cut);
                FormatException e = assertThrows(FormatException.class, () -> readAll(part, file), "cut at " + cut);
                TorchFileTest.assertOneLine(e, file);
            }
        });
    }

    @Test
    void everyTruncationOfThePickleIsRefused() {
        Map<String, byte[]> entries = TorchFixtures.unzip(TorchFixtures.bytes("checkpoint.pt"));
        byte[] pkl = entries.get("checkpoint/data.pkl");
        Map<String, byte[]> storages = new LinkedHashMap<>();
        entries.forEach((name, data) -> {
            if (name.startsWith("checkpoint/data/")) {
                storages.put(name.substring("checkpoint/data/".length()), data);
            }
        });
        for (int cut = 0; cut < pkl.length; cut++) {
            byte[] file = torchZip(Arrays.copyOf(pkl, cut), storages);
            FormatException e = assertThrows(FormatException.class, () -> readAll(file, FILE), "cut at " + cut);
            TorchFileTest.assertOneLine(e, FILE);
        }
    }

    // ---- the legacy format ----

    @Test
    void legacyFilesAreCheckedLikeZipOnes() {
        byte[] sd = new Pickle().proto(2).op('}').str("w")
                .tensor("FloatStorage", "k", 2, 0, new long[] {2}, new long[] {1}).op('s').stop();
        byte[] keys = new Pickle().proto(2).op(']').str("k").op('a').stop();
        byte[] storage = concat(le64(2), f32(3, 4));
        assertEquals(List.of(3f, 4f), floats(WeightFile.open(legacy(true, 1001, sd, keys, storage), FILE).tensor("w").data()));

        refused(legacy(false, 1001, sd, keys, storage), "a legacy torch.save file from a big-endian machine");
        refused(legacy(true, 1000, sd, keys, storage), "legacy torch.save protocol 1000 (clrnn reads 1001)");
        refused(legacy(true, 1001, sd, keys, concat(storage, new byte[3])), "3 trailing bytes after the last legacy storage");
        refused(legacy(true, 1001, sd, keys, concat(le64(3), f32(3, 4))),
                "legacy storage 'k' holds 3 elements where the object declares 2");
        refused(legacy(true, 1001, sd, keys, concat(le64(2), f32(3))), "legacy storage 'k' of 8 bytes runs past the end");
        refused(legacy(true, 1001, sd, new Pickle().proto(2).op(']').str("q").op('a').stop(), storage),
                "legacy storage key 'q' names no storage of the object");
        refused(legacy(true, 1001, sd, new Pickle().proto(2).op(']').stop(), storage),
                "lists 0 storages, the object uses 1");
    }

    // ---- helpers ----

    /** One tensor "w" of float32, with the given storage size, offset, shape and strides. */
    private static byte[] tensorFile(long numel, long offset, long[] size, long[] stride, Map<String, byte[]> storages) {
        byte[] pkl = new Pickle().proto(2).op('}').str("w")
                .tensor("FloatStorage", "0", numel, offset, size, stride).op('s').stop();
        return torchZip(pkl, storages);
    }

    /** A legacy torch.save file: magic, protocol, sys_info, the object, the keys, then the storages. */
    private static byte[] legacy(boolean littleEndian, int protocol, byte[] object, byte[] keys, byte[] storages) {
        byte[] magic = new Pickle().proto(2).op(0x8a, 10, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19).stop();
        byte[] version = new Pickle().proto(2).integer(protocol).stop();
        byte[] sysInfo = new Pickle().proto(2).op('}').str("little_endian").op(littleEndian ? 0x88 : 0x89).op('s').stop();
        return concat(magic, version, sysInfo, object, keys, storages);
    }

    private static FormatException refused(byte[] file, String fragment) {
        FormatException e = assertTimeoutPreemptively(Duration.ofSeconds(10),
                () -> assertThrows(FormatException.class, () -> readAll(file, FILE)));
        TorchFileTest.assertOneLine(e, FILE);
        assertTrue(e.getMessage().contains(fragment), "expected '" + fragment + "' in: " + e.getMessage());
        return e;
    }

    private static List<Float> floats(float[] a) {
        Float[] boxed = new Float[a.length];
        for (int i = 0; i < a.length; i++) {
            boxed[i] = a[i];
        }
        return List.of(boxed);
    }

    private static byte[] le64(long v) {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array();
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        throw new IllegalArgumentException("not found");
    }
}
