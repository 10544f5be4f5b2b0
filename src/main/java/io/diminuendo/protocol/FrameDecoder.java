package io.diminuendo.protocol;

import java.io.IOException;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;

/**
 * Turns one client text frame into a typed {@link ClientRequest}. Unknown fields are ignored; every problem is
 * a {@link DecodeException} whose message names the offending field and which still carries the request id
 * when it could be read, so the error reply can echo it.
 */
public final class FrameDecoder {
    public static final int MAX_ID_CHARS = 64;
    public static final int DEFAULT_LIST_LIMIT = 50;
    public static final int MAX_LIST_LIMIT = 200;
    public static final int DEFAULT_HISTORY_LIMIT = 100;
    public static final int MAX_HISTORY_LIMIT = 1000;

    private static final JsonFactory IDS = new JsonFactory();

    private final ObjectReader reader;
    private final Limits limits;

    /** The size limits the decoder enforces on individual fields. */
    public record Limits(int maxPromptChars, int maxTitleChars, int maxMetadataChars) {
    }

    /** A frame that could not be decoded; {@code id} is the echoable request id or null. */
    public static final class DecodeException extends ProtocolException {
        private final String id;

        DecodeException(ErrorCode code, String id, String message) {
            super(code, message);
            this.id = id;
        }

        public String id() {
            return id;
        }
    }

    public FrameDecoder(ObjectMapper mapper, Limits limits) {
        this.reader = mapper.reader().with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
        this.limits = limits;
    }

    public ClientRequest decode(String text) {
        JsonNode root;
        try {
            root = reader.readTree(text);
        } catch (JsonProcessingException e) {
            // truncated, or nested deeper than the parser allows: still answered to its id when that comes first
            throw new DecodeException(ErrorCode.BAD_REQUEST, peekId(text), "frame is not valid JSON");
        }
        return decode(root);
    }

    /** Decodes an already parsed frame (the REST API builds one from a request body). */
    public ClientRequest decode(JsonNode root) {
        if (root == null || !root.isObject()) {
            throw new DecodeException(ErrorCode.BAD_REQUEST, null, "frame must be a JSON object");
        }
        String id = readId(root);
        JsonNode typeNode = root.get("type");
        if (typeNode == null || typeNode.isNull()) {
            throw new DecodeException(ErrorCode.BAD_REQUEST, id, "field 'type' is required");
        }
        if (!typeNode.isTextual()) {
            throw new DecodeException(ErrorCode.BAD_REQUEST, id, "field 'type' must be a string");
        }
        Fields f = new Fields(root, id);
        return switch (typeNode.textValue()) {
            case "authenticate" -> new ClientRequest.Authenticate(id, f.requiredString("token", 16384));
            case "create_session" -> new ClientRequest.CreateSession(id,
                    f.optionalString("title", limits.maxTitleChars()), f.optionalObject("metadata", limits.maxMetadataChars()),
                    f.optionalString("agent", 64));
            case "list_sessions" -> new ClientRequest.ListSessions(id,
                    f.optionalInt("limit", DEFAULT_LIST_LIMIT, 1, MAX_LIST_LIMIT), f.optionalString("cursor", 256),
                    f.optionalEnum("status", "idle", "running", "archived"));
            case "get_session" -> new ClientRequest.GetSession(id, f.sessionId());
            case "update_session" -> new ClientRequest.UpdateSession(id, f.sessionId(),
                    f.requiredString("title", limits.maxTitleChars()));
            case "archive_session" -> new ClientRequest.ArchiveSession(id, f.sessionId());
            case "delete_session" -> new ClientRequest.DeleteSession(id, f.sessionId());
            case "subscribe" -> new ClientRequest.Subscribe(id, f.sessionId(), f.optionalSeq("afterSeq", -1));
            case "unsubscribe" -> new ClientRequest.Unsubscribe(id, f.sessionId());
            case "history" -> new ClientRequest.History(id, f.sessionId(), f.optionalSeq("afterSeq", 0),
                    f.optionalInt("limit", DEFAULT_HISTORY_LIMIT, 1, MAX_HISTORY_LIMIT));
            case "send_message" -> new ClientRequest.SendMessage(id, f.sessionId(),
                    f.requiredString("text", limits.maxPromptChars()), f.optionalString("clientMessageId", MAX_ID_CHARS));
            case "cancel_turn" -> new ClientRequest.CancelTurn(id, f.sessionId());
            case "permission_decision" -> new ClientRequest.PermissionDecision(id, f.sessionId(),
                    f.requiredString("requestId", 128), f.requiredEnum("decision", "allow", "deny"));
            case "ping" -> new ClientRequest.Ping(id);
            default -> throw new DecodeException(ErrorCode.UNKNOWN_TYPE, id,
                    "unknown type '" + abbreviate(typeNode.textValue()) + "'");
        };
    }

    /**
     * The id of a frame that is refused before it is decoded (over the rate, too large), as {@link #decode} would
     * echo it, or null. Reads the top-level fields only until {@code id}, skipping the other values without
     * building them; a frame that is not a JSON object, or whose id is unusable, has none.
     */
    public static String peekId(String text) {
        try (JsonParser p = IDS.createParser(text)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                return null;
            }
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                boolean isId = "id".equals(p.currentName());
                JsonToken value = p.nextToken();
                if (isId) {
                    if (value == JsonToken.VALUE_STRING && p.getTextLength() <= MAX_ID_CHARS) {
                        return Json.quote(p.getText());
                    }
                    if (value == JsonToken.VALUE_NUMBER_INT && p.getNumberType() != JsonParser.NumberType.BIG_INTEGER) {
                        return Long.toString(p.getLongValue());
                    }
                    return null;
                }
                p.skipChildren();
            }
            return null;
        } catch (IOException e) {
            // not JSON up to the id: nothing to echo
            return null;
        }
    }

    private static String readId(JsonNode root) {
        JsonNode id = root.get("id");
        if (id == null || id.isNull()) {
            return null;
        }
        if (id.isTextual() && id.textValue().length() <= MAX_ID_CHARS) {
            return Json.quote(id.textValue());
        }
        if (id.isIntegralNumber() && id.canConvertToLong()) {
            return Long.toString(id.longValue());
        }
        throw new DecodeException(ErrorCode.BAD_REQUEST, null,
                "field 'id' must be a string of at most " + MAX_ID_CHARS + " characters or an integer");
    }

    private static String abbreviate(String s) {
        return s.length() <= 40 ? s : s.substring(0, 40) + "…";
    }

    private static final class Fields {
        private final JsonNode root;
        private final String id;

        Fields(JsonNode root, String id) {
            this.root = root;
            this.id = id;
        }

        private DecodeException bad(String message) {
            return new DecodeException(ErrorCode.BAD_REQUEST, id, message);
        }

        private DecodeException tooLarge(String name, int max) {
            return new DecodeException(ErrorCode.TOO_LARGE, id, "field '" + name + "' exceeds " + max + " characters");
        }

        String sessionId() {
            return requiredString("sessionId", 64);
        }

        String requiredString(String name, int maxChars) {
            String value = optionalString(name, maxChars);
            if (value == null) {
                throw bad("field '" + name + "' is required");
            }
            if (value.isEmpty()) {
                throw bad("field '" + name + "' must not be empty");
            }
            return value;
        }

        String optionalString(String name, int maxChars) {
            JsonNode n = root.get(name);
            if (n == null || n.isNull()) {
                return null;
            }
            if (!n.isTextual()) {
                throw bad("field '" + name + "' must be a string");
            }
            if (n.textValue().length() > maxChars) {
                throw tooLarge(name, maxChars);
            }
            return n.textValue();
        }

        String optionalEnum(String name, String... allowed) {
            String value = optionalString(name, 64);
            if (value == null) {
                return null;
            }
            for (String a : allowed) {
                if (a.equals(value)) {
                    return a;
                }
            }
            throw bad("field '" + name + "' must be one of " + String.join(", ", allowed));
        }

        String requiredEnum(String name, String... allowed) {
            String value = optionalEnum(name, allowed);
            if (value == null) {
                throw bad("field '" + name + "' is required");
            }
            return value;
        }

        int optionalInt(String name, int dflt, int min, int max) {
            JsonNode n = root.get(name);
            if (n == null || n.isNull()) {
                return dflt;
            }
            if (!n.isIntegralNumber() || !n.canConvertToInt() || n.intValue() < min || n.intValue() > max) {
                throw bad("field '" + name + "' must be an integer from " + min + " to " + max);
            }
            return n.intValue();
        }

        long optionalSeq(String name, long dflt) {
            JsonNode n = root.get(name);
            if (n == null || n.isNull()) {
                return dflt;
            }
            if (!n.isIntegralNumber() || !n.canConvertToLong() || n.longValue() < 0) {
                throw bad("field '" + name + "' must be a non-negative integer");
            }
            return n.longValue();
        }

        String optionalObject(String name, int maxChars) {
            JsonNode n = root.get(name);
            if (n == null || n.isNull()) {
                return null;
            }
            if (!n.isObject()) {
                throw bad("field '" + name + "' must be a JSON object");
            }
            String json = n.toString();
            if (json.length() > maxChars) {
                throw tooLarge(name, maxChars);
            }
            return json;
        }
    }
}
