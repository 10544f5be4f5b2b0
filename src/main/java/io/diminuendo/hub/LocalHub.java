package io.diminuendo.hub;

import java.util.Arrays;
import java.util.concurrent.ConcurrentHashMap;

import jakarta.enterprise.context.ApplicationScoped;

import org.jboss.logging.Logger;

/** In-process hub: each topic holds a copy-on-write array of subscribers, so publishing never locks. */
@ApplicationScoped
public class LocalHub implements Hub {
    private static final Logger LOG = Logger.getLogger(LocalHub.class);
    private static final Subscriber[] NONE = new Subscriber[0];

    private final ConcurrentHashMap<String, Subscriber[]> topics = new ConcurrentHashMap<>();

    @Override
    public void subscribe(String topic, Subscriber subscriber) {
        topics.compute(topic, (t, current) -> {
            Subscriber[] base = current == null ? NONE : current;
            for (Subscriber s : base) {
                if (s == subscriber) {
                    return base;
                }
            }
            Subscriber[] next = Arrays.copyOf(base, base.length + 1);
            next[base.length] = subscriber;
            return next;
        });
    }

    @Override
    public void unsubscribe(String topic, Subscriber subscriber) {
        topics.computeIfPresent(topic, (t, current) -> {
            int at = -1;
            for (int i = 0; i < current.length; i++) {
                if (current[i] == subscriber) {
                    at = i;
                    break;
                }
            }
            if (at < 0) {
                return current;
            }
            if (current.length == 1) {
                return null;
            }
            Subscriber[] next = new Subscriber[current.length - 1];
            System.arraycopy(current, 0, next, 0, at);
            System.arraycopy(current, at + 1, next, at, current.length - at - 1);
            return next;
        });
    }

    @Override
    public int publish(String topic, String frame, long seq) {
        Subscriber[] subs = topics.get(topic);
        if (subs == null) {
            return 0;
        }
        for (Subscriber s : subs) {
            try {
                s.deliver(frame, seq);
            } catch (RuntimeException e) {
                LOG.errorf(e, "subscriber of %s failed", topic);
            }
        }
        return subs.length;
    }

    @Override
    public void closeTopic(String topic, String reason) {
        Subscriber[] subs = topics.remove(topic);
        if (subs == null) {
            return;
        }
        for (Subscriber s : subs) {
            try {
                s.topicClosed(reason);
            } catch (RuntimeException e) {
                LOG.errorf(e, "subscriber of %s failed", topic);
            }
        }
    }
}
