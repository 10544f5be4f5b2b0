package io.diminuendo.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import io.diminuendo.metrics.GatewayMetrics;
import io.diminuendo.support.TestCluster;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/**
 * Two {@link NatsBroker}s on the test NATS server under a subject prefix of their own: a run of committed events
 * published by one arrives at the other one by one, in order and unchanged — null turns, characters outside ASCII,
 * and frames large enough that the run is split over several messages.
 */
class NatsBrokerTest {
    private final String prefix = "test" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    private final List<NatsBroker> brokers = new ArrayList<>();

    private record Received(String sessionId, long seq, String kind, String turnId, String epoch, String pod,
            String frame) {
    }

    private NatsBroker broker(String pod, List<Received> into) {
        NatsBroker b = new NatsBroker(TestCluster.NATS, prefix, pod, new GatewayMetrics(new SimpleMeterRegistry()));
        b.start(new Broker.Handler() {
            @Override
            public void event(String sessionId, long seq, String kind, String turnId, String epoch, String from,
                    String frame) {
                into.add(new Received(sessionId, seq, kind, turnId, epoch, from, frame));
            }

            @Override
            public void sessionChanged(String tenantId, String sessionId, String change, String frame) {
            }
        }, command -> "{}");
        brokers.add(b);
        return b;
    }

    @AfterEach
    void stop() {
        brokers.forEach(NatsBroker::stop);
    }

    @Test
    void aRunOfEventsArrivesOneByOneInOrderAndUnchangedEvenWhenSplitOverMessages() {
        List<Received> atB = new CopyOnWriteArrayList<>();
        NatsBroker a = broker("pod-a", new CopyOnWriteArrayList<>());
        broker("pod-b", atB);
        String big = "{\"text\":\"" + "x".repeat(300 * 1024) + "\"}";
        List<Broker.Event> run = List.of(new Broker.Event(1, "user_message", "t1", "{\"text\":\"héllo 漢字 😀\"}"),
                new Broker.Event(2, "turn_started", "t1", big), new Broker.Event(3, "text_delta", "t1", big),
                new Broker.Event(4, "text_delta", null, big), new Broker.Event(5, "turn_completed", "t1", "{}"));
        a.publishEvents("s-1", "epoch-1", run);

        Awaitility.await().atMost(10, TimeUnit.SECONDS).until(() -> atB.size() == run.size());
        for (int i = 0; i < run.size(); i++) {
            Broker.Event sent = run.get(i);
            assertThat(atB.get(i)).isEqualTo(new Received("s-1", sent.seq(), sent.kind(), sent.turnId(), "epoch-1",
                    "pod-a", sent.frame()));
        }
    }
}
