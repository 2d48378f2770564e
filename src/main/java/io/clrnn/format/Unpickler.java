package io.clrnn.format;

import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A pickle machine for the opcodes torch.save writes. It builds plain data only: None (null),
 * bool, int (Long, or BigInteger past 64 bits), float (Double), str, bytes (a read-only
 * ByteBuffer), tuple ({@link Tuple}), list (ArrayList) and dict (LinkedHashMap). Every global
 * goes through {@link TorchGlobals}' allow-list; nothing is ever looked up by name, constructed
 * or called, so a hostile pickle can at worst be refused.
 */
final class Unpickler {
    /** A Python tuple. Lists are ArrayLists, so the two stay apart (only lists take APPEND). */
    record Tuple(List<Object> items) {
        int size() {
            return items.size();
        }

        Object get(int i) {
            return items.get(i);
        }
    }

    /**
     * How much one pickle may build before it is refused: objects created, stack entries (all
     * marks together), MARK nesting, memo entries. Each keeps a hostile file's memory bounded.
     */
    record Limits(long objects, int stack, int marks, int memo) {
        // A state_dict costs about a dozen objects per tensor: room for some 300,000 tensors.
        static final Limits DEFAULT = new Limits(4_000_000, 1_000_000, 1_000, 4_000_000);
    }

    /** A refusal from {@link TorchGlobals}; {@link #load} adds the file, part and offset. */
    static final class Refusal extends RuntimeException {
        Refusal(String detail) {
            super(detail, null, false, false);
        }
    }

    // The opcodes clrnn reads (pickle.py's names).
    private static final int MARK = '(', STOP = '.', BININT = 'J', BININT1 = 'K', BININT2 = 'M', NONE = 'N',
            BINPERSID = 'Q', REDUCE = 'R', BINSTRING = 'T', SHORT_BINSTRING = 'U', BINUNICODE = 'X', APPEND = 'a',
            BUILD = 'b', GLOBAL = 'c', APPENDS = 'e', BINGET = 'h', LONG_BINGET = 'j', BINPUT = 'q',
            LONG_BINPUT = 'r', SETITEM = 's', TUPLE = 't', SETITEMS = 'u', BINFLOAT = 'G', EMPTY_DICT = '}',
            EMPTY_LIST = ']', EMPTY_TUPLE = ')', BINBYTES = 'B', SHORT_BINBYTES = 'C', PROTO = 0x80, TUPLE1 = 0x85,
            TUPLE2 = 0x86, TUPLE3 = 0x87, NEWTRUE = 0x88, NEWFALSE = 0x89, LONG1 = 0x8a, SHORT_BINUNICODE = 0x8c,
            BINUNICODE8 = 0x8d, BINBYTES8 = 0x8e, STACK_GLOBAL = 0x93, MEMOIZE = 0x94, FRAME = 0x95;
    // Opcodes that build objects, for telling "a pickled object" apart from "a global" in refusals.
    private static final int NEWOBJ = 0x81, NEWOBJ_EX = 0x92;
    private static final int MAX_GLOBAL_LINE = 256;
    private static final Map<Integer, String> NAMES = opcodeNames();

    private final byte[] data;
    private final int start;
    private final int end;
    private final String file;
    private final String part;
    private final TorchGlobals globals;
    private final Limits limits;
    private int pos;
    private int opStart;
    private ArrayList<Object> stack = new ArrayList<>();
    private final ArrayList<ArrayList<Object>> marks = new ArrayList<>();
    private int markedEntries;
    private final HashMap<Integer, Object> memo = new HashMap<>();
    private long objects;

    /**
     * A machine for the pickle in {@code data[start, end)}. {@code file} and {@code part} (the
     * zip entry, or which pickle of a legacy file) start every error message.
     */
    Unpickler(byte[] data, int start, int end, String file, String part, TorchGlobals globals, Limits limits) {
        if (start < 0 || end > data.length || start > end) {
            throw new IllegalArgumentException("range [" + start + ", " + end + ") outside " + data.length + " bytes");
        }
        this.data = data;
        this.start = start;
        this.pos = start;
        this.end = end;
        this.file = file;
        this.part = part;
        this.globals = globals;
        this.limits = limits;
    }

    /** Runs the pickle to its STOP and returns what it built; {@link #position()} is then just past the STOP. */
    Object load() {
        try {
            return run();
        } catch (Refusal r) {
            throw error(r.getMessage());
        }
    }

    /** Where the next pickle of the same bytes would start. */
    int position() {
        return pos;
    }

    private Object run() {
        while (true) {
            opStart = pos;
            int op = u8();
            switch (op) {
                case PROTO -> {
                    int version = u8();
                    if (version < 2 || version > 5) {
                        throw error("pickle protocol " + version + " (clrnn reads protocols 2 to 5)");
                    }
                }
                // Frames only group opcodes for buffered reading; their length just has to fit.
                case FRAME -> length(u64(), "frame");
                case STOP -> {
                    return pop();
                }
                case MARK -> mark();
                case EMPTY_DICT -> push(created(new LinkedHashMap<>()));
                case EMPTY_LIST -> push(created(new ArrayList<>()));
                case EMPTY_TUPLE -> push(created(new Tuple(List.of())));
                case TUPLE -> push(created(new Tuple(frozen(popMark()))));
                case TUPLE1 -> push(tuple(1));
                case TUPLE2 -> push(tuple(2));
                case TUPLE3 -> push(tuple(3));
                case NONE -> push(created(null));
                case NEWTRUE -> push(created(Boolean.TRUE));
                case NEWFALSE -> push(created(Boolean.FALSE));
                case BININT -> push(created((long) s32()));
                case BININT1 -> push(created((long) u8()));
                case BININT2 -> push(created((long) u16()));
                case LONG1 -> push(created(long1()));
                case BINFLOAT -> {
                    need(8);
                    // The one big-endian field in a pickle.
                    double d = ByteBuffer.wrap(data, pos, 8).order(ByteOrder.BIG_ENDIAN).getDouble();
                    pos += 8;
                    push(created(d));
                }
                case SHORT_BINUNICODE -> push(created(utf8(u8())));
                case BINUNICODE -> push(created(utf8(u32())));
                case BINUNICODE8 -> push(created(utf8(u64())));
                // Python 2's str, which torch's legacy files from Python 2 hold; its bytes as Latin-1.
                case SHORT_BINSTRING -> push(created(latin1(u8())));
                case BINSTRING -> push(created(latin1(s32())));
                case SHORT_BINBYTES -> push(created(bytes(u8())));
                case BINBYTES -> push(created(bytes(u32())));
                case BINBYTES8 -> push(created(bytes(u64())));
                case BINPUT -> memoPut(u8());
                case LONG_BINPUT -> memoPut((int) u32());
                case MEMOIZE -> memoPut(memo.size());
                case BINGET -> memoGet(u8());
                case LONG_BINGET -> memoGet((int) u32());
                case GLOBAL -> push(global(line(), line()));
                case STACK_GLOBAL -> {
                    Object name = pop();
                    Object module = pop();
                    if (!(module instanceof String m) || !(name instanceof String n)) {
                        throw error("STACK_GLOBAL takes two strings, not " + typeName(module) + " and " + typeName(name));
                    }
                    push(global(m, n));
                }
                case BINPERSID -> push(created(globals.persistentLoad(pop())));
                case REDUCE -> {
                    Object args = pop();
                    if (!(args instanceof Tuple t)) {
                        throw error("REDUCE takes a tuple of arguments, not a " + typeName(args));
                    }
                    setTop(created(globals.call(top(), t)));
                }
                case BUILD -> {
                    pop();
                    Object target = top();
                    // torch.save's OrderedDicts carry a _metadata attribute clrnn has no use for.
                    if (!(target instanceof LinkedHashMap)) {
                        throw error("BUILD sets the state of a " + typeName(target) + "; only dicts may be built");
                    }
                }
                case SETITEM -> {
                    Object value = pop();
                    Object key = pop();
                    put(dict(top(), "SETITEM"), key, value);
                }
                case SETITEMS -> {
                    List<Object> items = popMark();
                    if (items.size() % 2 != 0) {
                        throw error("SETITEMS has an odd number of items (" + items.size() + ")");
                    }
                    Map<Object, Object> d = dict(top(), "SETITEMS");
                    for (int i = 0; i < items.size(); i += 2) {
                        put(d, items.get(i), items.get(i + 1));
                    }
                }
                case APPEND -> {
                    Object value = pop();
                    list(top(), "APPEND").add(value);
                    created(value);
                }
                case APPENDS -> {
                    List<Object> items = popMark();
                    List<Object> target = list(top(), "APPENDS");
                    for (Object item : items) {
                        target.add(created(item));
                    }
                }
                default -> throw error("unsupported pickle opcode " + describe(op));
            }
        }
    }

    /**
     * The allowed value for a global, or a refusal. The refusal says "a pickled object" when the
     * opcodes after the global build an instance of it (protocol 2's EMPTY_TUPLE NEWOBJ, what
     * torch.save(model) writes) or when it is the class in a legacy file's ('module', class, ...)
     * record: both mean a whole module rather than its state_dict.
     */
    private Object global(String module, String name) {
        Object allowed = globals.global(module, name);
        if (allowed != null) {
            return created(allowed);
        }
        String what = FormatException.quote(module + "." + name);
        if (buildsAnObject() || (!marks.isEmpty() && stack.size() == 1 && "module".equals(stack.get(0)))) {
            throw error("holds a pickled Python object of class " + what + ", such as a whole model saved with "
                    + "torch.save(model); clrnn reads state_dicts only: save model.state_dict() instead");
        }
        throw error("refers to global " + what + ", which clrnn does not allow: it reads tensors and plain "
                + "containers only, as torch.load(weights_only=True) does");
    }

    /** Whether the next opcodes, past any memo puts, are an empty tuple (and dict) and NEWOBJ(_EX). */
    private boolean buildsAnObject() {
        int p = pos;
        while (p < end) {
            int op = data[p] & 0xFF;
            if (op == BINPUT) {
                p += 2;
            } else if (op == LONG_BINPUT) {
                p += 5;
            } else if (op == MEMOIZE) {
                p += 1;
            } else {
                break;
            }
        }
        return p + 1 < end && (data[p] & 0xFF) == EMPTY_TUPLE
                && ((data[p + 1] & 0xFF) == NEWOBJ
                    || (p + 2 < end && (data[p + 1] & 0xFF) == EMPTY_DICT && (data[p + 2] & 0xFF) == NEWOBJ_EX));
    }

    // ---- stack, marks and memo, each bounded ----

    private void push(Object o) {
        if (stack.size() + markedEntries >= limits.stack()) {
            throw error("the pickle stack grows past " + limits.stack() + " entries");
        }
        stack.add(o);
    }

    private Object pop() {
        if (stack.isEmpty()) {
            throw error(marks.isEmpty() ? "the pickle stack is empty" : "the pickle stack is empty above its MARK");
        }
        return stack.remove(stack.size() - 1);
    }

    private Object top() {
        if (stack.isEmpty()) {
            throw error("the pickle stack is empty");
        }
        return stack.get(stack.size() - 1);
    }

    private void setTop(Object o) {
        stack.set(stack.size() - 1, o);
    }

    private void mark() {
        if (marks.size() >= limits.marks()) {
            throw error("MARKs nested more than " + limits.marks() + " deep");
        }
        marks.add(stack);
        markedEntries += stack.size();
        stack = new ArrayList<>();
    }

    /** The entries pushed since the last MARK, which is removed. */
    private List<Object> popMark() {
        if (marks.isEmpty()) {
            throw error("no MARK to pop to");
        }
        List<Object> items = stack;
        stack = marks.remove(marks.size() - 1);
        markedEntries -= stack.size();
        return items;
    }

    private Tuple tuple(int n) {
        if (stack.size() < n) {
            throw error("a tuple of " + n + " needs " + n + " stack entries, there are " + stack.size());
        }
        List<Object> top = stack.subList(stack.size() - n, stack.size());
        Tuple t = new Tuple(frozen(top));
        top.clear();
        return created(t);
    }

    /** An unmodifiable copy that, unlike List.copyOf, keeps None (null) items. */
    private static List<Object> frozen(List<Object> items) {
        return Collections.unmodifiableList(Arrays.asList(items.toArray()));
    }

    private void memoPut(int index) {
        if (!memo.containsKey(index) && memo.size() >= limits.memo()) {
            throw error("the memo grows past " + limits.memo() + " entries");
        }
        memo.put(index, top());
    }

    private void memoGet(int index) {
        Object o = memo.get(index);
        if (o == null && !memo.containsKey(index)) {
            throw error("memo entry " + Integer.toUnsignedString(index) + " was never set");
        }
        push(o);
    }

    /** Counts one more object against the limit, and passes it through. */
    private <T> T created(T o) {
        if (++objects > limits.objects()) {
            throw error("builds more than " + limits.objects() + " objects");
        }
        return o;
    }

    private Map<Object, Object> dict(Object target, String op) {
        if (!(target instanceof LinkedHashMap)) {
            throw error(op + " into a " + typeName(target) + "; only dicts take items");
        }
        @SuppressWarnings("unchecked")
        Map<Object, Object> d = (Map<Object, Object>) target;
        return d;
    }

    private List<Object> list(Object target, String op) {
        if (!(target instanceof ArrayList)) {
            throw error(op + " to a " + typeName(target) + "; only lists may be appended to");
        }
        @SuppressWarnings("unchecked")
        List<Object> l = (List<Object>) target;
        return l;
    }

    /**
     * Keys are held to what Python can hash by value: scalars and tuples of scalars. That also
     * keeps Java's equals and hashCode away from containers, which may hold themselves.
     */
    private void put(Map<Object, Object> d, Object key, Object value) {
        boolean hashable = isScalar(key)
                || (key instanceof Tuple t && t.items().stream().allMatch(Unpickler::isScalar));
        if (!hashable) {
            throw error("a dict key is a " + typeName(key) + ", which clrnn does not take as a key");
        }
        d.put(key, value);
        created(value);
    }

    private static boolean isScalar(Object o) {
        return o == null || o instanceof String || o instanceof Long || o instanceof BigInteger
                || o instanceof Double || o instanceof Boolean || o instanceof ByteBuffer;
    }

    // ---- reading the bytes, each read checked against the end ----

    private void need(long n) {
        if (n > end - pos) {
            throw error(describe(data[opStart] & 0xFF) + " needs " + n + " more bytes, the pickle has " + (end - pos));
        }
    }

    /** A length read from the file, checked against what is left before anything is allocated. */
    private int length(long n, String what) {
        if (n < 0 || n > end - pos) {
            throw error("a " + what + " of " + Long.toUnsignedString(n) + " bytes runs past the end of the pickle ("
                    + (end - pos) + " bytes left)");
        }
        return (int) n;
    }

    private int u8() {
        if (pos >= end) {
            throw error("the pickle ends without a STOP");
        }
        return data[pos++] & 0xFF;
    }

    private int u16() {
        need(2);
        int v = ByteBuffer.wrap(data, pos, 2).order(ByteOrder.LITTLE_ENDIAN).getShort() & 0xFFFF;
        pos += 2;
        return v;
    }

    private int s32() {
        need(4);
        int v = ByteBuffer.wrap(data, pos, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
        pos += 4;
        return v;
    }

    private long u32() {
        return s32() & 0xFFFF_FFFFL;
    }

    /** A u64 length; values past 2^63 come back negative, which every caller refuses. */
    private long u64() {
        need(8);
        long v = ByteBuffer.wrap(data, pos, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        pos += 8;
        return v;
    }

    /** LONG1: a little-endian two's-complement integer of up to 255 bytes. */
    private Object long1() {
        int n = length(u8(), "LONG1 integer");
        if (n == 0) {
            return 0L;
        }
        byte[] bigEndian = new byte[n];
        for (int i = 0; i < n; i++) {
            bigEndian[i] = data[pos + n - 1 - i];
        }
        pos += n;
        BigInteger v = new BigInteger(bigEndian);
        return v.bitLength() < 64 ? (Object) v.longValue() : v;
    }

    private String utf8(long n) {
        int length = length(n, "string");
        String s = StrictText.decode(data, pos, length, StandardCharsets.UTF_8,
                () -> error("a string is not valid UTF-8"));
        pos += length;
        return s;
    }

    private String latin1(long n) {
        int length = length(n, "string");
        String s = new String(data, pos, length, StandardCharsets.ISO_8859_1);
        pos += length;
        return s;
    }

    private ByteBuffer bytes(long n) {
        int length = length(n, "bytes object");
        ByteBuffer b = ByteBuffer.wrap(Arrays.copyOfRange(data, pos, pos + length)).asReadOnlyBuffer();
        pos += length;
        return b;
    }

    /** One line of a GLOBAL opcode, without its newline; short and UTF-8, or refused. */
    private String line() {
        int limit = Math.min(end, pos + MAX_GLOBAL_LINE);
        for (int i = pos; i < limit; i++) {
            if (data[i] == '\n') {
                int start = pos;
                pos = i + 1;
                return StrictText.decode(data, start, i - start, StandardCharsets.UTF_8,
                        () -> error("a GLOBAL name is not valid UTF-8"));
            }
        }
        throw error("a GLOBAL name is unterminated or longer than " + MAX_GLOBAL_LINE + " bytes");
    }

    // ---- messages ----

    private FormatException error(String detail) {
        return FormatException.of(file, part + " offset " + (opStart - start) + ": " + detail);
    }

    /** Python's name for a value's type, for messages; never the value, which may be huge or cyclic. */
    static String typeName(Object o) {
        if (o == null) {
            return "None";
        } else if (o instanceof String) {
            return "str";
        } else if (o instanceof Long || o instanceof BigInteger) {
            return "int";
        } else if (o instanceof Double) {
            return "float";
        } else if (o instanceof Boolean) {
            return "bool";
        } else if (o instanceof ByteBuffer) {
            return "bytes";
        } else if (o instanceof Tuple) {
            return "tuple";
        } else if (o instanceof ArrayList) {
            return "list";
        } else if (o instanceof LinkedHashMap) {
            return "dict";
        }
        return TorchGlobals.typeName(o);
    }

    private static String describe(int op) {
        String name = NAMES.get(op);
        String code = String.format("0x%02x", op);
        return name == null ? code : name + " (" + code + ")";
    }

    /** Every opcode pickle.py defines, so that a refusal can name the one it met. */
    private static Map<Integer, String> opcodeNames() {
        String[] pairs = {
            "(", "MARK", ".", "STOP", "0", "POP", "1", "POP_MARK", "2", "DUP", "F", "FLOAT", "I", "INT",
            "J", "BININT", "K", "BININT1", "L", "LONG", "M", "BININT2", "N", "NONE", "P", "PERSID",
            "Q", "BINPERSID", "R", "REDUCE", "S", "STRING", "T", "BINSTRING", "U", "SHORT_BINSTRING",
            "V", "UNICODE", "X", "BINUNICODE", "a", "APPEND", "b", "BUILD", "c", "GLOBAL", "d", "DICT",
            "}", "EMPTY_DICT", "e", "APPENDS", "g", "GET", "h", "BINGET", "i", "INST", "j", "LONG_BINGET",
            "l", "LIST", "]", "EMPTY_LIST", "o", "OBJ", "p", "PUT", "q", "BINPUT", "r", "LONG_BINPUT",
            "s", "SETITEM", "t", "TUPLE", ")", "EMPTY_TUPLE", "u", "SETITEMS", "G", "BINFLOAT",
            "B", "BINBYTES", "C", "SHORT_BINBYTES",
        };
        Map<Integer, String> m = new HashMap<>();
        for (int i = 0; i < pairs.length; i += 2) {
            m.put((int) pairs[i].charAt(0), pairs[i + 1]);
        }
        String[] high = {"PROTO", "NEWOBJ", "EXT1", "EXT2", "EXT4", "TUPLE1", "TUPLE2", "TUPLE3", "NEWTRUE",
            "NEWFALSE", "LONG1", "LONG4", "SHORT_BINUNICODE", "BINUNICODE8", "BINBYTES8", "EMPTY_SET",
            "ADDITEMS", "FROZENSET", "NEWOBJ_EX", "STACK_GLOBAL", "MEMOIZE", "FRAME", "BYTEARRAY8",
            "NEXT_BUFFER", "READONLY_BUFFER"};
        for (int i = 0; i < high.length; i++) {
            m.put(0x80 + i, high[i]);
        }
        return Map.copyOf(m);
    }
}
