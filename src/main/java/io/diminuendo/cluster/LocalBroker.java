package io.diminuendo.cluster;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/** The broker of a single pod: there is nobody to share events with, so publishing does nothing. */
public final class LocalBroker implements Broker {
    private final String pod;

    public LocalBroker(String pod) {
        this.pod = pod;
    }

    @Override
    public void start(Handler handler, CommandHandler commands) {
    }

    @Override
    public boolean clustered() {
        return false;
    }

    @Override
    public boolean connected() {
        return true;
    }

    @Override
    public void publishEvents(String sessionId, String epoch, List<Event> events) {
    }

    @Override
    public void publishSessionChange(String tenantId, String sessionId, String change, String frame) {
    }

    @Override
    public CompletionStage<String> request(String pod, String command) {
        return CompletableFuture.failedFuture(new IllegalStateException("no other pod: the bus is local"));
    }

    @Override
    public String pod() {
        return pod;
    }

    @Override
    public void stop() {
    }
}
