package io.clrnn.format;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.clrnn.format.TorchFixtures.Pickle;
import io.clrnn.format.Unpickler.Tuple;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The values each opcode builds, against pickles Python wrote and pickles written by hand. */
class UnpicklerTest {
    @Test
    void readsTheValuesPythonWroteIntoACheckpoint() {
        Map<String, byte[]> entries = TorchFixtures.unzip(TorchFixtures.bytes("checkpoint.pt"));
        Map<?, ?> root = (Map<?, ?>) load(entries.get("checkpoint/data.pkl"));
        assertEquals(List.of("model", "optimizer", "epoch", "note", "lr", "history", "seen", "best", "flags", "device",
                "dtype"), List.copyOf(root.keySet()));
        assertEquals(7L, root.get("epoch"));
        assertEquals("x", root.get("note"));
        assertEquals(0.001, root.get("lr"));
        assertEquals(List.of(0.5, 0.25), root.get("history"));
        assertEquals(1L << 40, root.get("seen"));
        assertNull(root.get("best"));
        assertEquals(new Tuple(List.of(true, false)), root.get("flags"));
        assertEquals(new TorchGlobals.Inert("torch.device"), root.get("device"));
        assertEquals(new TorchGlobals.Inert("torch.dtype"), root.get("dtype"));
        Map<?, ?> optimizer = (Map<?, ?>) root.get("optimizer");
        assertEquals(List.of(0L, 1L, 2L, 3L), List.copyOf(((Map<?, ?>) optimizer.get("state")).keySet()));
        assertInstanceOf(TorchGlobals.TensorRef.class, ((Map<?, ?>) root.get("model")).get("weight_ih_l0"));
    }

    @Test
    void integersOfEveryWidth() {
        assertEquals(-2L, load(new Pickle().proto(2).op('J', 0xfe, 0xff, 0xff, 0xff).stop()));
        assertEquals(255L, load(new Pickle().proto(2).op('K', 0xff).stop()));
        assertEquals(65535L, load(new Pickle().proto(2).op('M', 0xff, 0xff).stop()));
        assertEquals(0L, load(new Pickle().proto(2).op(0x8a, 0).stop()));
        assertEquals(-1L, load(new Pickle().proto(2).op(0x8a, 1, 0xff).stop()));
        assertEquals(Long.MIN_VALUE, load(new Pickle().proto(2).integer(Long.MIN_VALUE).stop()));
        assertEquals(BigInteger.ONE.shiftLeft(64), load(new Pickle().proto(2).op(0x8a, 9, 0, 0, 0, 0, 0, 0, 0, 0, 1).stop()));
    }

    @Test
    void stringsBytesAndFloats() {
        assertEquals("caf\u00e9", load(new Pickle().proto(2).str("caf\u00e9").stop()));
        assertEquals("ab", load(new Pickle().proto(4).op(0x8c, 2, 'a', 'b').stop()));
        assertEquals("ab", load(new Pickle().proto(4).op(0x8d, 2, 0, 0, 0, 0, 0, 0, 0, 'a', 'b').stop()));
        assertEquals("\u00ff", load(new Pickle().proto(2).op('U', 1, 0xff).stop()));
        assertEquals(ByteBuffer.wrap(new byte[] {1, 2}), load(new Pickle().proto(3).op('C', 2, 1, 2).stop()));
        // Protocol 2 writes bytes as _codecs.encode(text, 'latin1').
        Object encoded = load(new Pickle().proto(2).global("_codecs", "encode").str("\u00e9").str("latin1").op(0x86, 'R').stop());
        assertEquals(ByteBuffer.wrap("\u00e9".getBytes(StandardCharsets.ISO_8859_1)), encoded);
        assertEquals(-1.5, load(new Pickle().proto(2).op('G', 0xbf, 0xf8, 0, 0, 0, 0, 0, 0).stop()));
    }

    @Test
    void containersMemoAndMarks() {
        // [1, (2, None), {'k': [1, ...]}] with the first list shared through the memo.
        byte[] pkl = new Pickle().proto(2).op(']').put(0).mark().integer(1).integer(2).op('N', 0x86)
                .op('}').str("k").get(0).op('s').op('e').stop();
        List<?> list = (List<?>) load(pkl);
        assertEquals(1L, list.get(0));
        assertEquals(new Tuple(Arrays.asList(2L, null)), list.get(1));
        assertSame(list, ((Map<?, ?>) list.get(2)).get("k"));
        // FRAME, MEMOIZE and STACK_GLOBAL, as protocol 4 writes an OrderedDict.
        byte[] p4 = new Pickle().proto(4).op(0x95, 34, 0, 0, 0, 0, 0, 0, 0).op(0x8c, 11).op("collections".chars().toArray())
                .op(0x94, 0x8c, 11).op("OrderedDict".chars().toArray()).op(0x94, 0x93, 0x94, ')', 'R', 0x94).stop();
        assertEquals(Map.of(), load(p4));
    }

    @Test
    void torchSizeIsItsTuple() {
        Object size = load(new Pickle().proto(2).global("torch", "Size").ints(2, 3).op(0x85, 'R').stop());
        assertEquals(new Tuple(List.of(2L, 3L)), size);
    }

    @Test
    void anOpcodeTakesOnlyWhatItsDataHas() {
        FormatException e = assertThrows(FormatException.class, () -> load(new Pickle().proto(2).op('J', 1, 2).bytes()));
        assertEquals("t.pt: data.pkl offset 2: BININT (0x4a) needs 4 more bytes, the pickle has 2", e.getMessage());
        e = assertThrows(FormatException.class, () -> load(new Pickle().proto(2).op('N').bytes()));
        assertEquals("t.pt: data.pkl offset 3: the pickle ends without a STOP", e.getMessage());
        e = assertThrows(FormatException.class, () -> load(new Pickle().proto(2).op(0x86).stop()));
        assertEquals("t.pt: data.pkl offset 2: a tuple of 2 needs 2 stack entries, there are 0", e.getMessage());
    }

    private static Object load(byte[] pkl) {
        return new Unpickler(pkl, 0, pkl.length, "t.pt", "data.pkl", new TorchGlobals(100), Unpickler.Limits.DEFAULT).load();
    }
}
