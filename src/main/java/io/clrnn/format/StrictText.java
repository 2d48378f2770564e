package io.clrnn.format;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.Charset;
import java.nio.charset.CodingErrorAction;
import java.util.function.Supplier;

/** Text from a file's bytes, decoded strictly: malformed or unmappable input is refused, never replaced. */
final class StrictText {
    private StrictText() {}

    /**
     * The {@code length} bytes at {@code offset} as {@code charset} text; when they are not valid, the
     * exception {@code invalid} gives (each caller words its own refusal).
     */
    static String decode(byte[] bytes, int offset, int length, Charset charset,
            Supplier<? extends RuntimeException> invalid) {
        try {
            return charset.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes, offset, length))
                    .toString();
        } catch (CharacterCodingException e) {
            throw invalid.get();
        }
    }
}
