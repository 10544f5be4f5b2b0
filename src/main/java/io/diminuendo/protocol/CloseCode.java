package io.diminuendo.protocol;

/** WebSocket close codes the gateway uses (PROTOCOL.md §1.2). */
public final class CloseCode {
    public static final int GOING_AWAY = 1001;
    public static final int TOO_BIG = 1009;
    public static final int SLOW_CONSUMER = 4009;
    public static final int UNAUTHORIZED = 4401;
    public static final int AUTH_TIMEOUT = 4408;
    public static final int TOO_MANY = 4429;

    private CloseCode() {
    }
}
