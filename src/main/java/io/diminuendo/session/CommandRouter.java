package io.diminuendo.session;

import java.util.concurrent.CompletionStage;

import jakarta.enterprise.context.ApplicationScoped;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.diminuendo.cluster.Broker;
import io.diminuendo.protocol.ErrorCode;
import io.diminuendo.protocol.Json;
import io.diminuendo.protocol.ProtocolException;

/**
 * Sends a {@link RoutedCommand} to the pod that runs the turn and turns its answer back into what a local call would
 * have given: the turn id on success, the same {@link ProtocolException} on refusal.
 */
@ApplicationScoped
public class CommandRouter {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final Broker broker;

    public CommandRouter(Broker broker) {
        this.broker = broker;
    }

    /** Completes with the turn id the owner reports, or fails with the error it answered. */
    CompletionStage<String> route(String pod, RoutedCommand command) {
        return broker.request(pod, command.toJson()).handle((reply, failure) -> {
            if (failure != null) {
                throw ProtocolException.unavailable("the pod running this session's turn (" + pod
                        + ") did not answer; retry shortly");
            }
            JsonNode n;
            try {
                n = JSON.readTree(reply);
            } catch (Exception e) {
                throw new IllegalStateException("unreadable reply from pod " + pod, e);
            }
            if (n.hasNonNull("code")) {
                throw new ProtocolException(errorCode(n.get("code").asText()), n.path("message").asText());
            }
            return n.path("turnId").asText(null);
        });
    }

    static String ok(String turnId) {
        return Json.obj().str("turnId", turnId).end();
    }

    static String refused(ProtocolException e) {
        return Json.obj().str("code", e.code().wire()).str("message", e.getMessage()).end();
    }

    private static ErrorCode errorCode(String wire) {
        for (ErrorCode c : ErrorCode.values()) {
            if (c.wire().equals(wire)) {
                return c;
            }
        }
        return ErrorCode.INTERNAL;
    }
}
