package io.diminuendo.api;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;

import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.PATCH;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.diminuendo.auth.Authenticator;
import io.diminuendo.auth.Identity;
import io.diminuendo.config.GatewayConfig;
import io.diminuendo.protocol.ClientRequest;
import io.diminuendo.protocol.ErrorCode;
import io.diminuendo.protocol.FrameDecoder;
import io.diminuendo.protocol.Json;
import io.diminuendo.protocol.ProtocolException;
import io.diminuendo.protocol.ServerFrames;
import io.diminuendo.session.SessionRegistry;
import io.diminuendo.session.SessionState;
import io.diminuendo.stream.ReplayService;
import io.smallrye.common.annotation.NonBlocking;

/**
 * The REST API (docs/protocol.md, "2. HTTP"): the same registry, rules and error codes as the WebSocket requests, with
 * errors as {@code {code, message}} bodies. Changes emit the same tenant events.
 */
@Path("/api/sessions")
@Produces(MediaType.APPLICATION_JSON)
@NonBlocking
public class SessionResource {
    private final Authenticator authenticator;
    private final SessionRegistry sessions;
    private final ReplayService replay;
    private final ObjectMapper mapper;
    private final FrameDecoder decoder;
    private final RestRateLimit rate;

    public SessionResource(Authenticator authenticator, SessionRegistry sessions, ReplayService replay,
            ObjectMapper mapper, GatewayConfig config, RestRateLimit rate) {
        this.authenticator = authenticator;
        this.rate = rate;
        this.sessions = sessions;
        this.replay = replay;
        this.mapper = mapper;
        GatewayConfig.Limits limits = config.limits();
        this.decoder = new FrameDecoder(mapper,
                new FrameDecoder.Limits(limits.maxPromptChars(), limits.maxTitleChars(), limits.maxMetadataChars()));
    }

    @POST
    @Consumes(MediaType.WILDCARD)
    public CompletionStage<Response> create(@HeaderParam(HttpHeaders.AUTHORIZATION) String auth,
            @HeaderParam(HttpHeaders.CONTENT_TYPE) String contentType, String body) {
        return signedIn(auth, who -> {
            requireJson(contentType, body);
            ClientRequest.CreateSession r = (ClientRequest.CreateSession) decodeBody(body, "create_session");
            return sessions.create(who, r.title(), r.metadataJson(), r.agent())
                    .thenApply(json -> Response.status(Response.Status.CREATED).entity(json).build());
        });
    }

    @GET
    public CompletionStage<Response> list(@HeaderParam(HttpHeaders.AUTHORIZATION) String auth,
            @QueryParam("limit") String limit, @QueryParam("cursor") String cursor, @QueryParam("status") String status) {
        return signedIn(auth, who -> {
            ObjectNode frame = mapper.createObjectNode().put("type", "list_sessions");
            putNumber(frame, "limit", limit);
            frame.put("cursor", cursor).put("status", status);
            ClientRequest.ListSessions r = (ClientRequest.ListSessions) decoder.decode(frame);
            SessionRegistry.Page page = sessions.list(who, r.limit(), r.cursor(), r.status());
            return done(ok(Json.obj().raw("items", ServerFrames.rawArray(page.items()))
                    .str("nextCursor", page.nextCursor()).end()));
        });
    }

    @GET
    @Path("{id}")
    public CompletionStage<Response> get(@HeaderParam(HttpHeaders.AUTHORIZATION) String auth,
            @PathParam("id") String id) {
        return signedIn(auth, who -> done(ok(sessions.get(who, id).toJson())));
    }

    @PATCH
    @Path("{id}")
    @Consumes(MediaType.WILDCARD)
    public CompletionStage<Response> update(@HeaderParam(HttpHeaders.AUTHORIZATION) String auth,
            @HeaderParam(HttpHeaders.CONTENT_TYPE) String contentType, @PathParam("id") String id, String body) {
        return signedIn(auth, who -> {
            requireJson(contentType, body);
            ClientRequest.UpdateSession r = (ClientRequest.UpdateSession) decodeBody(body, "update_session", id);
            return sessions.updateTitle(who, id, r.title()).thenApply(SessionResource::ok);
        });
    }

    @POST
    @Path("{id}/archive")
    public CompletionStage<Response> archive(@HeaderParam(HttpHeaders.AUTHORIZATION) String auth,
            @PathParam("id") String id) {
        return signedIn(auth, who -> sessions.archive(who, id).thenApply(SessionResource::ok));
    }

    @DELETE
    @Path("{id}")
    public CompletionStage<Response> delete(@HeaderParam(HttpHeaders.AUTHORIZATION) String auth,
            @PathParam("id") String id) {
        return signedIn(auth, who -> sessions.delete(who, id).thenApply(sid -> Response.noContent().build()));
    }

    @GET
    @Path("{id}/events")
    public CompletionStage<Response> events(@HeaderParam(HttpHeaders.AUTHORIZATION) String auth,
            @PathParam("id") String id, @QueryParam("afterSeq") String afterSeq, @QueryParam("limit") String limit) {
        return signedIn(auth, who -> {
            ObjectNode frame = mapper.createObjectNode().put("type", "history").put("sessionId", id);
            putNumber(frame, "afterSeq", afterSeq);
            putNumber(frame, "limit", limit);
            ClientRequest.History r = (ClientRequest.History) decoder.decode(frame);
            SessionState s = sessions.get(who, id);
            return replay.history(s.stream(), r.afterSeq(), r.limit()).thenApply(page -> ok(Json.obj()
                    .str("sessionId", id).raw("events", ServerFrames.rawArray(page.frames())).num("lastSeq", page.lastSeq())
                    .end()));
        });
    }

    /**
     * Runs {@code action} as the caller of the {@code Authorization} header once its token is verified (which can wait
     * for one refresh of the identity provider's key set) and its user is within the REST rate.
     */
    private CompletionStage<Response> signedIn(String header, Function<Identity, CompletionStage<Response>> action) {
        String token = Authenticator.bearer(header);
        if (token == null) {
            return CompletableFuture.failedFuture(
                    new ProtocolException(ErrorCode.UNAUTHORIZED, "send Authorization: Bearer <token>"));
        }
        return authenticator.authenticateAsync(token).handle((who, failure) -> {
            if (failure != null) {
                Throwable cause = failure instanceof CompletionException && failure.getCause() != null
                        ? failure.getCause() : failure;
                throw new ProtocolException(ErrorCode.UNAUTHORIZED, "authentication failed: " + cause.getMessage());
            }
            rate.admit(who);
            return who;
        }).thenCompose(action);
    }

    private static CompletionStage<Response> done(Response response) {
        return CompletableFuture.completedFuture(response);
    }

    /** A request body must be declared JSON ({@code application/json}, any parameters); an empty one needs nothing. */
    private static void requireJson(String contentType, String body) {
        if (body == null || body.isEmpty()) {
            return;
        }
        String type = contentType == null ? "" : contentType;
        int semicolon = type.indexOf(';');
        if (semicolon >= 0) {
            type = type.substring(0, semicolon);
        }
        if (!type.trim().equalsIgnoreCase(MediaType.APPLICATION_JSON)) {
            throw new ProtocolException(ErrorCode.UNSUPPORTED_MEDIA_TYPE, "the body must be JSON, sent with"
                    + " Content-Type: application/json (got " + (contentType == null ? "none" : "'" + abbreviate(contentType) + "'") + ")");
        }
    }

    private static String abbreviate(String s) {
        return s.length() <= 60 ? s : s.substring(0, 60) + "…";
    }


    private ClientRequest decodeBody(String body, String type, String... sessionId) {
        JsonNode node;
        try {
            node = body == null || body.isBlank() ? mapper.createObjectNode() : mapper.readTree(body);
        } catch (Exception e) {
            throw ProtocolException.badRequest("body is not valid JSON");
        }
        if (!node.isObject()) {
            throw ProtocolException.badRequest("body must be a JSON object");
        }
        ObjectNode frame = ((ObjectNode) node).put("type", type);
        if (sessionId.length > 0) {
            frame.put("sessionId", sessionId[0]);
        }
        return decoder.decode(frame);
    }

    /** Query parameters become typed fields: integers when they parse, else strings the decoder rejects by name. */
    private static void putNumber(ObjectNode frame, String name, String value) {
        if (value == null) {
            return;
        }
        try {
            frame.put(name, Long.parseLong(value));
        } catch (NumberFormatException e) {
            frame.put(name, value);
        }
    }

    private static Response ok(String json) {
        return Response.ok(json, MediaType.APPLICATION_JSON).build();
    }
}
