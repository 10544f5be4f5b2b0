package io.diminuendo.support;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * Gateway processes that form one cluster for a test: a PostgreSQL database created for them (dropped on close),
 * the NATS server ({@code DIMINUENDO_TEST_NATS_URL}, default the local one) under a subject prefix of their own, and
 * a pod name each ({@code pod-0}, {@code pod-1}, …). Pods can be restarted (SIGTERM, then started again under the
 * same name) or killed.
 */
public final class TestCluster implements AutoCloseable {
    public static final String NATS = System.getenv().getOrDefault("DIMINUENDO_TEST_NATS_URL", "nats://127.0.0.1:4222");

    private final String database = TestDatabases.create();
    private final String prefix = "test" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    private final String name;
    private final List<String> extra;
    private final List<GatewayProcess> pods = new ArrayList<>();

    /** Starts {@code size} pods; {@code extraProperties} are passed to each. */
    public TestCluster(String name, int size, String... extraProperties) throws Exception {
        this.name = name;
        this.extra = List.of(extraProperties);
        try {
            for (int i = 0; i < size; i++) {
                pods.add(launch(i));
            }
        } catch (Exception | AssertionError e) {
            close();
            throw e;
        }
    }

    private GatewayProcess launch(int i) throws Exception {
        List<String> props = new ArrayList<>(List.of(
                "-Ddiminuendo.store.kind=postgresql",
                "-Ddiminuendo.store.jdbc-url=" + TestDatabases.url(database),
                "-Ddiminuendo.store.username=" + TestDatabases.USER,
                "-Ddiminuendo.store.password=" + TestDatabases.PASSWORD,
                "-Ddiminuendo.bus.kind=nats", "-Ddiminuendo.bus.url=" + NATS,
                "-Ddiminuendo.bus.subject-prefix=" + prefix,
                "-Ddiminuendo.cluster.pod-name=pod-" + i));
        props.addAll(extra);
        return GatewayProcess.start(Path.of("target", "it-data", "unused.db").toAbsolutePath(), name + "-pod-" + i,
                props.toArray(String[]::new));
    }

    public GatewayProcess pod(int i) {
        return pods.get(i);
    }

    public int size() {
        return pods.size();
    }

    /** Stops pod {@code i} gracefully (SIGTERM) and starts it again under the same name; true if it stopped cleanly. */
    public boolean restart(int i) throws Exception {
        boolean clean = pods.get(i).stop();
        pods.set(i, launch(i));
        return clean;
    }

    @Override
    public void close() throws Exception {
        for (GatewayProcess p : pods) {
            p.close();
        }
        TestDatabases.drop(database);
    }
}
