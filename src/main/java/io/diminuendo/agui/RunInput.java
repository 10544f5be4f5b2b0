package io.diminuendo.agui;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;

import io.diminuendo.protocol.ErrorCode;
import io.diminuendo.protocol.FrameDecoder;
import io.diminuendo.protocol.ProtocolException;

/**
 * What the gateway reads of an AG-UI {@code RunAgentInput} (docs/protocol.md, "4. AG-UI"): the thread (a session id),
 * the run id, and either the prompt that starts a new turn — the text of the last message, which must be the
 * user's — or the {@code resume} entries that answer the interrupts of a waiting turn. Everything else the client
 * sends (earlier messages, state, tools, context, forwarded props) is not used. Every problem is a
 * {@link ProtocolException} naming the field.
 *
 * @param threadId the session id, lower case
 * @param prompt the new turn's text; null when the run resumes a turn
 * @param clientMessageId the id of the message that carries the prompt, or null
 * @param resume the answers to interrupts; empty for a new turn
 */
record RunInput(String threadId, String runId, String prompt, String clientMessageId, List<Resume> resume) {
    static final int MAX_RUN_ID_CHARS = 256;
    static final int MAX_INTERRUPT_ID_CHARS = 128;
    /** The title of a session a run creates: the start of its first prompt. */
    static final int TITLE_CHARS = 80;
    private static final Pattern UUID = Pattern.compile("[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}");

    /** One resume entry: the interrupt (a permission request id) and the decision it gets. */
    record Resume(String interruptId, String decision) {
    }

    boolean resumes() {
        return !resume.isEmpty();
    }

    /** The title for a session this run creates: the prompt's first {@value #TITLE_CHARS} characters, at most {@code max}. */
    String title(int max) {
        int length = Math.min(TITLE_CHARS, max);
        if (prompt == null || prompt.length() <= length) {
            return prompt;
        }
        int end = Character.isHighSurrogate(prompt.charAt(length - 1)) ? length - 1 : length;
        return prompt.substring(0, end);
    }

    /** Reads a parsed request body; {@code maxPromptChars} bounds the new text only. */
    static RunInput parse(JsonNode body, int maxPromptChars) {
        if (body == null || !body.isObject()) {
            throw bad("body must be a JSON object (RunAgentInput)");
        }
        String threadId = requiredString(body, "threadId");
        if (!UUID.matcher(threadId).matches()) {
            throw bad("field 'threadId' must be a UUID (it is the session id)");
        }
        String runId = requiredString(body, "runId");
        if (runId.length() > MAX_RUN_ID_CHARS) {
            throw bad("field 'runId' must be at most " + MAX_RUN_ID_CHARS + " characters");
        }
        JsonNode messages = body.get("messages");
        if (messages == null || !messages.isArray()) {
            throw bad("field 'messages' must be an array");
        }
        List<Resume> resume = resume(body.get("resume"));
        String id = threadId.toLowerCase(Locale.ROOT);
        if (!resume.isEmpty()) {
            return new RunInput(id, runId, null, null, resume);
        }
        if (messages.isEmpty()) {
            throw bad("field 'messages' must end with the user's message");
        }
        int last = messages.size() - 1;
        String field = "messages[" + last + "]";
        JsonNode message = messages.get(last);
        if (!message.isObject() || !"user".equals(message.path("role").asText(null))) {
            throw bad("field '" + field + ".role' must be \"user\": only the last message starts a turn");
        }
        String text = text(message.get("content"), field + ".content");
        if (text.isEmpty()) {
            throw bad("field '" + field + ".content' holds no text");
        }
        if (text.length() > maxPromptChars) {
            throw new ProtocolException(ErrorCode.TOO_LARGE,
                    "field '" + field + ".content' exceeds " + maxPromptChars + " characters");
        }
        String messageId = null;
        JsonNode idNode = message.get("id");
        if (idNode != null && !idNode.isNull()) {
            if (!idNode.isTextual() || idNode.textValue().length() > FrameDecoder.MAX_ID_CHARS) {
                throw bad("field '" + field + ".id' must be a string of at most " + FrameDecoder.MAX_ID_CHARS
                        + " characters");
            }
            messageId = idNode.textValue().isEmpty() ? null : idNode.textValue();
        }
        return new RunInput(id, runId, text, messageId, List.of());
    }

    /** A user message's text: the string, or its {@code text} parts joined by line breaks (other parts are left out). */
    private static String text(JsonNode content, String field) {
        if (content != null && content.isTextual()) {
            return content.textValue();
        }
        if (content == null || !content.isArray()) {
            throw bad("field '" + field + "' must be a string or an array of parts");
        }
        StringBuilder text = new StringBuilder();
        for (JsonNode part : content) {
            if ("text".equals(part.path("type").asText(null))) {
                JsonNode t = part.get("text");
                if (t == null || !t.isTextual()) {
                    throw bad("field '" + field + "' has a text part without a string 'text'");
                }
                if (text.length() > 0) {
                    text.append('\n');
                }
                text.append(t.textValue());
            }
        }
        return text.toString();
    }

    private static List<Resume> resume(JsonNode resume) {
        if (resume == null || resume.isNull()) {
            return List.of();
        }
        if (!resume.isArray()) {
            throw bad("field 'resume' must be an array");
        }
        List<Resume> out = new ArrayList<>(resume.size());
        for (int i = 0; i < resume.size(); i++) {
            String field = "resume[" + i + "]";
            JsonNode entry = resume.get(i);
            if (!entry.isObject()) {
                throw bad("field '" + field + "' must be an object");
            }
            String interruptId = requiredString(entry, "interruptId", field + ".interruptId");
            if (interruptId.length() > MAX_INTERRUPT_ID_CHARS) {
                throw bad("field '" + field + ".interruptId' must be at most " + MAX_INTERRUPT_ID_CHARS + " characters");
            }
            String status = entry.path("status").asText("");
            String decision;
            if ("cancelled".equals(status)) {
                decision = "deny";
            } else if ("resolved".equals(status)) {
                decision = entry.path("payload").path("decision").asText("");
                if (!"allow".equals(decision) && !"deny".equals(decision)) {
                    throw bad("field '" + field + ".payload.decision' must be \"allow\" or \"deny\"");
                }
            } else {
                throw bad("field '" + field + ".status' must be \"resolved\" or \"cancelled\"");
            }
            out.add(new Resume(interruptId, decision));
        }
        return List.copyOf(out);
    }

    private static String requiredString(JsonNode node, String name) {
        return requiredString(node, name, name);
    }

    private static String requiredString(JsonNode node, String name, String field) {
        JsonNode value = node.get(name);
        if (value == null || value.isNull()) {
            throw bad("field '" + field + "' is required");
        }
        if (!value.isTextual()) {
            throw bad("field '" + field + "' must be a string");
        }
        if (value.textValue().isEmpty()) {
            throw bad("field '" + field + "' must not be empty");
        }
        return value.textValue();
    }

    private static ProtocolException bad(String message) {
        return ProtocolException.badRequest(message);
    }
}
