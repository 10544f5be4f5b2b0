package io.diminuendo.config;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/** Every setting of the gateway, under the {@code diminuendo.} prefix. Validated at start-up by {@link ConfigValidator}. */
@ConfigMapping(prefix = "diminuendo")
public interface GatewayConfig {

    /** Who may connect and how tokens are checked. */
    Auth auth();

    /** Where sessions and events are kept: the embedded SQLite file or a shared PostgreSQL database. */
    Store store();

    /** How pods share events: in-process only, or through NATS. */
    Bus bus();

    /** This pod's place in a cluster. */
    Cluster cluster();

    /** Per-frame and per-connection bounds. */
    Limits limits();

    /** Agent turns. */
    Turns turns();

    /** The built-in simulated agent. */
    Simulator simulator();

    /**
     * Agent backends by name: {@code diminuendo.backends.<name>.kind=simulated|websocket|openai} and their
     * settings. A backend named {@code simulated} of kind {@code simulated} always exists.
     */
    Map<String, Backend> backends();

    /** Readiness settings. */
    Health health();

    /** The AG-UI endpoint, {@code POST /api/agui} (docs/protocol.md, "4. AG-UI"). */
    Agui agui();

    /** The web console at {@code /} (docs/client.md). */
    Console console();

    interface Console {
        /**
         * Serve the web console at {@code /}. False: {@code /} and {@code /console/*} answer 404; the client library
         * ({@code /diminuendo-client.js}) is still served.
         */
        @WithDefault("true")
        boolean enabled();

        /** Offer the simulated agent's {@code /sim} prompts in a menu (on in the dev and test profiles). */
        @WithDefault("false")
        boolean simMenu();
    }

    /** Exercising the gateway's own hot paths over loopback before readiness reports UP (docs/operations.md). */
    Warmup warmup();

    interface Warmup {
        /** Run the warm-up at start-up; readiness stays DOWN until it ends. */
        @WithDefault("true")
        boolean enabled();

        /** Rounds of health check, connect, authenticate, create, subscribe, a short turn, delete. */
        @WithDefault("300")
        int rounds();

        /** The warm-up stops after this long even if rounds are left. */
        @WithDefault("10s")
        Duration maxDuration();
    }

    interface Agui {
        /**
         * A client that closes its response before the run's terminal event cancels the turn, as {@code cancel_turn}
         * by the caller would. False: the turn goes on and stays visible in the session.
         */
        @WithDefault("true")
        boolean cancelOnDisconnect();

        /** Largest request body in bytes (a client sends its whole message history on every run); larger is 413. */
        @WithDefault("8388608")
        int maxBodyBytes();

        /** An SSE comment line is sent this often while a run streams, so proxies and dead peers notice. */
        @WithDefault("15s")
        Duration keepAliveInterval();

        /**
         * A new run that finds the session's turn still running because its client has just gone away waits at
         * most this long for that turn's cancel to complete before it is refused with 409.
         */
        @WithDefault("5s")
        Duration cancelWait();
    }

    interface Health {
        /** When true, {@code /q/health/ready} is down while the default backend is down. */
        @WithDefault("false")
        boolean requireDefaultBackend();
    }

    /** The backend new sessions use when {@code create_session} names none. */
    @WithDefault("simulated")
    String defaultBackend();

    enum BackendKind {
        SIMULATED, WEBSOCKET, OPENAI
    }

    interface Backend {
        /** {@code simulated}, {@code websocket} (docs/protocol.md, "`websocket` backends") or {@code openai} (chat completions, streaming). */
        BackendKind kind();

        /** websocket: {@code ws://host:port/agent}; openai: the base URL before {@code /v1/chat/completions}. */
        Optional<String> url();

        /** openai: sent as {@code Authorization: Bearer}; websocket: sent the same way on the upgrade. */
        Optional<String> apiKey();

        /** openai: the {@code model} of each request. */
        Optional<String> model();

        /** Time allowed to open a connection. */
        @WithDefault("5s")
        Duration connectTimeout();

        /** openai: a turn that receives no bytes for this long fails ({@code backend_timeout}). */
        @WithDefault("60s")
        Duration idleTimeout();

        /** websocket: ping interval; the connection is declared lost after two intervals without any frame. */
        @WithDefault("5s")
        Duration heartbeatInterval();

        /**
         * websocket: first reconnect delay; doubles per failure, with jitter, up to {@code reconnect-max}. openai:
         * first reachability probe after a request could not connect; doubles per failed probe.
         */
        @WithDefault("250ms")
        Duration reconnectMin();

        /** websocket: longest reconnect delay; openai: longest delay between probes. */
        @WithDefault("10s")
        Duration reconnectMax();

        /** openai: earlier messages sent with each turn (rebuilt from the session's stored events). */
        @WithDefault("50")
        int maxHistoryMessages();
    }

    interface Auth {
        /** HMAC secret for HS256 JWTs (at least 32 bytes). Unset: HS256 tokens are refused. */
        Optional<String> jwtSecret();

        /** PEM file (X.509 public key, RSA or EC P-256) for RS256/ES256 JWTs. Unset: those are refused. */
        Optional<String> jwtPublicKeyLocation();

        /** Static API keys by name: {@code diminuendo.auth.api-keys.<name>.key|user-id|tenant-id|scopes}. */
        Map<String, ApiKey> apiKeys();

        /** How long a new connection may stay unauthenticated before it is closed with 4408. */
        @WithDefault("10s")
        Duration timeout();

        /** Clock skew tolerated when checking a JWT's {@code exp} and {@code nbf}. */
        @WithDefault("5s")
        Duration leeway();

        /** The issuer ({@code iss}) a JWT must carry, as the identity provider writes it. Unset: any issuer. */
        Optional<String> issuer();

        /** An audience a JWT's {@code aud} must name (this gateway's client id at the provider). Unset: any. */
        Optional<String> audience();

        /**
         * The identity provider's JSON Web Key Set URL: RS256 and ES256 keys by {@code kid}, fetched at start-up, every
         * {@code jwks-refresh}, and when a token names an unknown key id (at most once per
         * {@code jwks-min-refresh-interval}).
         */
        Optional<String> jwksUrl();

        /** How often the key set is fetched again. */
        @WithDefault("10m")
        Duration jwksRefresh();

        /** The shortest time between two fetches of the key set caused by unknown key ids. */
        @WithDefault("30s")
        Duration jwksMinRefreshInterval();
    }

    interface ApiKey {
        /** The key itself, as the client presents it (header or {@code authenticate} frame). */
        String key();

        /** The user id this key authenticates as. */
        String userId();

        /** The tenant this key belongs to. */
        String tenantId();

        /** Space-separated scopes: {@code sessions:read}, {@code sessions:write}, {@code sessions:admin}. */
        @WithDefault("sessions:read sessions:write")
        String scopes();
    }

    interface Store {
        /** {@code sqlite} (one process, embedded file) or {@code postgresql} (a database shared by every pod). */
        @WithDefault("sqlite")
        StoreKind kind();

        /** The SQLite database file; its directory is created at start-up. Only for {@code kind=sqlite}. */
        @WithDefault("data/diminuendo.db")
        String path();

        /** JDBC URL of the PostgreSQL database ({@code jdbc:postgresql://host:5432/db}); required for {@code kind=postgresql}. */
        Optional<String> jdbcUrl();

        /** PostgreSQL user. */
        Optional<String> username();

        /** PostgreSQL password. */
        Optional<String> password();

        /** Connections of the PostgreSQL read pool (history, replay, session lookups); the writer has one of its own. */
        @WithDefault("8")
        int readPoolSize();

        /** The single writer that owns the only write connection. */
        Writer writer();
    }

    interface Writer {
        /** Maximum writes waiting for the writer. When full, requests get {@code unavailable} and streams pause. */
        @WithDefault("65536")
        int queueCapacity();

        /** A batch is committed once it holds this many writes. */
        @WithDefault("1024")
        int maxBatchRows();

        /**
         * A batch is committed at the latest this long after its first write, even if more are queued; it also bounds
         * {@code linger}.
         */
        @WithDefault("25ms")
        Duration maxBatchDelay();

        /**
         * When the queue runs dry and the batch holds only streamed events, the writer waits this long (counted from
         * the batch's first write) for more before it commits; a write that someone waits for (a reply, a barrier, a
         * shutdown) ends the wait at once. With many sessions streaming at once, larger commits rewrite far fewer
         * pages per event. 0 commits as soon as the queue is empty. Unset: 20ms on SQLite, 0 on PostgreSQL (other
         * pods see an event only once it is committed).
         */
        Optional<Duration> linger();

        /** SQLite {@code synchronous} pragma for the write connection: NORMAL (WAL default) or FULL. */
        @WithDefault("NORMAL")
        Synchronous synchronous();

        /**
         * How often a background thread copies the WAL into the database file (a passive checkpoint), instead of
         * the writer's commits doing it; 0 leaves it to SQLite's automatic checkpoint in the writer.
         */
        @WithDefault("100ms")
        Duration checkpointInterval();

        /**
         * SQLite only: below this many free bytes on the store's volume the writer checkpoints after every commit, so
         * the WAL stays a few pages long and the space goes to the data (a WAL that takes the last free bytes wedges
         * the store: the checkpoint that would let it start over needs them). 0 turns this off.
         */
        @WithDefault("67108864")
        long lowSpaceBytes();

        /**
         * SQLite only: the write connection's page cache, in bytes (SQLite's default is 2 MB). With many sessions
         * streaming, each commit touches a leaf of every one of them and its neighbours; a cache that holds them saves
         * reading pages back between commits. The read connections keep SQLite's default.
         */
        @WithDefault("16777216")
        long pageCacheBytes();

        /** Readiness reports the writer stalled when work has waited longer than this. */
        @WithDefault("10s")
        Duration stallThreshold();
    }

    enum Synchronous {
        OFF, NORMAL, FULL
    }

    interface Limits {
        /** Largest text frame a client may send, in bytes (after decompression); larger gets {@code too_large}. */
        @WithDefault("262144")
        int maxFrameBytes();

        /**
         * Frames a connection may have queued for sending. A subscriber whose live events would fill more than three
         * quarters of it falls behind and catches up from the store instead; past all of it (replies, other frames)
         * the connection is closed as a slow consumer (4009).
         */
        @WithDefault("8192")
        int outboundQueue();

        /**
         * Store reads (history pages, replay pages) one tenant may have running at once; more wait their turn. Keep
         * it below the read pool's size so that one tenant always leaves connections to the others.
         */
        @WithDefault("4")
        int readsPerTenant();

        /** Store reads one connection may have running at once (its replays and history together). */
        @WithDefault("2")
        int readsPerConnection();

        /**
         * How long a read waits for its tenant's or connection's turn, or for a pooled connection, before the
         * request is answered {@code unavailable} with {@code retryAfterMs}.
         */
        @WithDefault("5s")
        Duration readWait();

        /**
         * A subscriber catching up (after a resume, or behind a fast turn) whose connection keeps its outbound queue
         * more than half full this long, reading nothing, is closed as a slow consumer (4009).
         */
        @WithDefault("30s")
        Duration slowReaderTimeout();

        /**
         * Bytes (as written to the socket) a connection may have queued for sending and not yet written; more closes
         * it as a slow consumer (4009), like {@code outbound-queue}. Replays and {@code history} replies wait until
         * at most half of it is in use.
         */
        @WithDefault("8388608")
        long outboundBytes();

        /**
         * Bytes queued for sending across all connections; the connection whose frame would pass it is closed with
         * 4009. Bounds the direct memory outbound frames take: size it with the heap under the pod's memory limit.
         */
        @WithDefault("134217728")
        long outboundBytesTotal();

        /**
         * Largest {@code history} reply, in bytes of its events' JSON; a reply holds fewer than {@code limit} events
         * rather than more bytes (at least one event). At most half of {@code outbound-bytes}.
         */
        @WithDefault("1048576")
        int maxReplyBytes();

        /** Longest prompt ({@code send_message.text}) in characters. */
        @WithDefault("100000")
        int maxPromptChars();

        /** Longest session title in characters. */
        @WithDefault("200")
        int maxTitleChars();

        /** Largest session metadata object, in characters of JSON. */
        @WithDefault("16384")
        int maxMetadataChars();

        /** Authenticated connections one user may hold; more are closed with 4429. */
        @WithDefault("100")
        int maxConnectionsPerUser();

        /** Authenticated connections one tenant may hold; more are closed with 4429. */
        @WithDefault("10000")
        int maxConnectionsPerTenant();

        /** Sustained client frames per second per connection (token bucket); over it frames get {@code rate_limited}. */
        @WithDefault("100")
        int framesPerSecond();

        /** Frames a connection may send in a burst above the sustained rate. */
        @WithDefault("200")
        int frameBurst();

        /** Sustained REST requests per second per user (token bucket); over it requests get 429 and Retry-After. */
        @WithDefault("50")
        int restRequestsPerSecond();

        /** REST requests a user may send in a burst above the sustained rate. */
        @WithDefault("100")
        int restBurst();

        /** Consecutive rate-limited frames after which the connection is closed with 4429. */
        @WithDefault("100")
        int maxRejectedFrames();

        /** Sessions one connection may subscribe to at once. */
        @WithDefault("256")
        int maxSubscriptionsPerConnection();

        /** Sessions one tenant may hold (archived ones count; deleted ones do not). */
        @WithDefault("10000")
        int maxSessionsPerTenant();

        /**
         * The gateway pings every connection this often, each at its own moment in the interval rather than all at
         * once; a pong or any frame counts as activity.
         */
        @WithDefault("30s")
        Duration pingInterval();

        /** A connection with no activity for this long is closed (1001). */
        @WithDefault("90s")
        Duration idleTimeout();

        /**
         * An HTTP connection whose request headers are not complete this long after it was accepted (or, kept alive,
         * after the first byte of its next request) is closed: slow or silent clients cannot hold sockets open.
         */
        @WithDefault("10s")
        Duration headerTimeout();
    }

    /** Transport security. */
    Security security();

    interface Security {
        /**
         * Origins allowed to open {@code /ws} from a browser (exact match, e.g. {@code https://app.example.com}).
         * Unset: any origin. Requests without an {@code Origin} header (non-browser clients) are always allowed.
         */
        Optional<List<String>> allowedOrigins();
    }

    interface Turns {
        /** A turn still running after this long is ended with {@code turn_failed} code {@code timeout}. */
        @WithDefault("10m")
        Duration timeout();
    }

    interface Simulator {
        /** Delay between the echo reply's text deltas (prompts without {@code /sim}). */
        @WithDefault("2ms")
        Duration echoDelay();

        /** Serve the simulator as a §3 backend at {@code /agent} (the {@code simulator} profile turns it on). */
        @WithDefault("false")
        boolean serveAgentEndpoint();
    }

    enum StoreKind {
        SQLITE, POSTGRESQL
    }

    enum BusKind {
        LOCAL, NATS
    }

    interface Bus {
        /** {@code local} (in-process fan-out: one pod) or {@code nats} (fan-out and command routing between pods). */
        @WithDefault("local")
        BusKind kind();

        /** NATS server URL(s), comma-separated ({@code nats://host:4222}); required for {@code kind=nats}. */
        Optional<String> url();

        /** Prefix of every NATS subject the gateway uses, so several clusters (or test runs) can share a server. */
        @WithDefault("diminuendo")
        String subjectPrefix();
    }

    interface Cluster {
        /** This pod's name, unique in the cluster (leases and routed commands name it); default: the host name. */
        Optional<String> podName();

        /**
         * How long a pod's lease on a session outlives its last renewal (renewed every third of it while a turn
         * runs). When a pod dies, its running turns are ended by another pod this long after its last renewal.
         */
        @WithDefault("15s")
        Duration leaseExpiry();
    }
}
