package io.clrnn.serve;

/** A client's mistake: answered with {@code status} and {@code {"error": message}}, never a stack trace. */
final class BadRequest extends RuntimeException {
    final int status;

    BadRequest(int status, String message) {
        super(message, null, false, false);
        this.status = status;
    }

    BadRequest(String message) {
        this(400, message);
    }
}
