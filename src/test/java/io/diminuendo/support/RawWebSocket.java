package io.diminuendo.support;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A WebSocket client on a plain {@link Socket} that reads only when told to, so a test can play a client that
 * stops reading: the gateway's writes then back up in the kernel buffers and its outbound queue. The upgrade is
 * done by hand; client frames are masked text frames; server frames are parsed (no extensions are negotiated).
 */
public final class RawWebSocket implements AutoCloseable {
    public static final int OP_TEXT = 0x1;
    public static final int OP_CLOSE = 0x8;
    public static final int OP_PING = 0x9;

    /** One frame from the server; {@code closeCode} is set for close frames (or -1 without a code). */
    public record Frame(int opcode, byte[] payload) {
        public String text() {
            return new String(payload, StandardCharsets.UTF_8);
        }

        public int closeCode() {
            return payload.length >= 2 ? ((payload[0] & 0xff) << 8) | (payload[1] & 0xff) : -1;
        }
    }

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    private RawWebSocket(Socket socket) throws IOException {
        this.socket = socket;
        this.in = new BufferedInputStream(socket.getInputStream(), 1024);
        this.out = socket.getOutputStream();
    }

    /** Connects to the http(s) or ws URI with the given receive buffer (set before connecting) and upgrades. */
    public static RawWebSocket connect(URI uri, int receiveBufferBytes) throws IOException {
        Socket s = new Socket();
        s.setReceiveBufferSize(receiveBufferBytes);
        s.setTcpNoDelay(true);
        s.connect(new InetSocketAddress(uri.getHost(), uri.getPort()), 5000);
        s.setSoTimeout(10_000);
        RawWebSocket ws = new RawWebSocket(s);
        ws.upgrade(uri);
        return ws;
    }

    private void upgrade(URI uri) throws IOException {
        byte[] nonce = new byte[16];
        ThreadLocalRandom.current().nextBytes(nonce);
        String request = "GET " + uri.getRawPath() + " HTTP/1.1\r\n"
                + "Host: " + uri.getHost() + ":" + uri.getPort() + "\r\n"
                + "Upgrade: websocket\r\n"
                + "Connection: Upgrade\r\n"
                + "Sec-WebSocket-Key: " + Base64.getEncoder().encodeToString(nonce) + "\r\n"
                + "Sec-WebSocket-Version: 13\r\n\r\n";
        out.write(request.getBytes(StandardCharsets.US_ASCII));
        out.flush();
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int matched = 0;
        byte[] end = {'\r', '\n', '\r', '\n'};
        while (matched < 4) {
            int b = in.read();
            if (b < 0) {
                throw new EOFException("connection closed during the upgrade: " + head);
            }
            head.write(b);
            matched = b == end[matched] ? matched + 1 : (b == '\r' ? 1 : 0);
        }
        String status = head.toString(StandardCharsets.US_ASCII).lines().findFirst().orElse("");
        if (!status.contains(" 101 ")) {
            throw new IOException("upgrade refused: " + head);
        }
    }

    /** Sends one masked text frame. */
    public void sendText(String text) throws IOException {
        sendFrame(0x80 | OP_TEXT, text.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Sends one masked frame with {@code firstByte} as its first byte (FIN, RSV1–3 and the opcode) and {@code payload}
     * as is: frames a standard client would never send, such as RSV bits without an extension or invalid UTF-8.
     */
    public void sendFrame(int firstByte, byte[] payload) throws IOException {
        sendRaw(frame(firstByte, payload));
    }

    /** Sends bytes as they are, in one write: several {@link #frame}s then reach the server together. */
    public void sendRaw(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    /** One masked frame's bytes: {@code firstByte} (FIN, RSV1–3, opcode), then {@code payload} as is. */
    public static byte[] frame(int firstByte, byte[] payload) {
        ByteArrayOutputStream frame = new ByteArrayOutputStream(payload.length + 14);
        frame.write(firstByte);
        if (payload.length < 126) {
            frame.write(0x80 | payload.length);
        } else if (payload.length < 65536) {
            frame.write(0x80 | 126);
            frame.write(payload.length >>> 8);
            frame.write(payload.length & 0xff);
        } else {
            frame.write(0x80 | 127);
            for (int shift = 56; shift >= 0; shift -= 8) {
                frame.write((int) (((long) payload.length >>> shift) & 0xff));
            }
        }
        byte[] mask = new byte[4];
        ThreadLocalRandom.current().nextBytes(mask);
        frame.writeBytes(mask);
        for (int i = 0; i < payload.length; i++) {
            frame.write(payload[i] ^ mask[i & 3]);
        }
        return frame.toByteArray();
    }

    /**
     * Sends only the head of a masked frame (first byte, a length of {@code payloadLength}, the mask) and none of its
     * payload: a frame whose size the server can judge before reading it.
     */
    public void sendHead(int firstByte, long payloadLength) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream(14);
        head.write(firstByte);
        head.write(0x80 | 127);
        for (int shift = 56; shift >= 0; shift -= 8) {
            head.write((int) ((payloadLength >>> shift) & 0xff));
        }
        head.write(new byte[4]);
        out.write(head.toByteArray());
        out.flush();
    }

    /**
     * Reads the next frame, or returns null at the end of the stream or when the peer reset the connection. The
     * gateway's liveness pings are skipped (each connection is pinged at its own moment of the ping interval, which
     * may fall inside any test); they are not answered, as a test never lasts an idle timeout.
     */
    public Frame read() throws IOException {
        Frame f = readFrame();
        while (f != null && f.opcode() == OP_PING) {
            f = readFrame();
        }
        return f;
    }

    private Frame readFrame() throws IOException {
        try {
            int b0 = in.read();
            if (b0 < 0) {
                return null;
            }
            int b1 = readByte();
            long length = b1 & 0x7f;
            if (length == 126) {
                length = ((long) readByte() << 8) | readByte();
            } else if (length == 127) {
                length = 0;
                for (int i = 0; i < 8; i++) {
                    length = (length << 8) | readByte();
                }
            }
            byte[] mask = null;
            if ((b1 & 0x80) != 0) {
                mask = in.readNBytes(4);
            }
            byte[] payload = in.readNBytes((int) length);
            if (payload.length < length) {
                return null;
            }
            if (mask != null) {
                for (int i = 0; i < payload.length; i++) {
                    payload[i] ^= mask[i & 3];
                }
            }
            return new Frame(b0 & 0x0f, payload);
        } catch (EOFException e) {
            return null;
        } catch (SocketException e) {
            if (e.getMessage() != null && e.getMessage().contains("reset")) {
                return null;
            }
            throw e;
        }
    }

    private int readByte() throws IOException {
        int b = in.read();
        if (b < 0) {
            throw new EOFException();
        }
        return b;
    }

    /**
     * Reads frames until the close frame and returns its code; fails when a text frame containing {@code unexpected}
     * comes first (something served that should not have been), or when the connection ends without a close frame.
     */
    public int readCloseCode(String unexpected) throws IOException {
        for (Frame f = read(); f != null; f = read()) {
            if (f.opcode() == OP_CLOSE) {
                return f.closeCode();
            }
            if (f.text().contains(unexpected)) {
                throw new AssertionError("served before the close: " + f.text());
            }
        }
        throw new AssertionError("the connection ended without a close frame");
    }

    /** Sends an {@code authenticate} frame with {@code token} and reads until {@code authenticated} comes back. */
    public void authenticate(String token) throws IOException {
        sendText("{\"type\":\"authenticate\",\"token\":\"" + token + "\"}");
        readTextUntil("\"authenticated\"");
    }

    /** Reads frames until one whose text contains {@code marker}; fails on close or timeout. */
    public String readTextUntil(String marker) throws IOException {
        while (true) {
            Frame f = read();
            if (f == null || f.opcode() == OP_CLOSE) {
                throw new IOException("connection closed while waiting for " + marker);
            }
            if (f.opcode() == OP_TEXT && f.text().contains(marker)) {
                return f.text();
            }
        }
    }

    public void readTimeout(Duration timeout) throws SocketException {
        socket.setSoTimeout((int) timeout.toMillis());
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException e) {
            // closing anyway
        }
    }
}
