package io.diminuendo.limits;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** The token bucket both rate limits share (WebSocket frames, REST requests), on a clock the test moves by hand. */
class TokenBucketUnitTest {
    private static final long SECOND = 1_000_000_000L;

    @Test
    void admitsTheBurstAtOnceThenRefusesUntilATokenFlowsIn() {
        TokenBucket b = new TokenBucket(10, 3, 0);
        assertThat(b.tryTake(0)).isTrue();
        assertThat(b.tryTake(0)).isTrue();
        assertThat(b.tryTake(0)).isTrue();
        assertThat(b.tryTake(0)).isFalse();
        assertThat(b.millisUntilToken()).isEqualTo(100);
        assertThat(b.tryTake(SECOND / 10 - 1)).isFalse();
        assertThat(b.tryTake(SECOND / 10)).isTrue();
    }

    @Test
    void sustainsExactlyTheRateOverTime() {
        TokenBucket b = new TokenBucket(50, 1, 0);
        int admitted = 0;
        for (long t = 0; t < 10 * SECOND; t += SECOND / 1000) {
            if (b.tryTake(t)) {
                admitted++;
            }
        }
        assertThat(admitted).isBetween(500, 501);
    }

    @Test
    void neverHoldsMoreThanTheBurstHoweverLongItWaits() {
        TokenBucket b = new TokenBucket(100, 2, 0);
        b.tryTake(0);
        assertThat(b.isFull(0)).isFalse();
        assertThat(b.isFull(3600 * SECOND)).isTrue();
        assertThat(b.tryTake(3600 * SECOND)).isTrue();
        assertThat(b.tryTake(3600 * SECOND)).isTrue();
        assertThat(b.tryTake(3600 * SECOND)).isFalse();
    }

    @Test
    void tellsHowLongUntilTheNextTokenRoundedUpToAMillisecond() {
        TokenBucket b = new TokenBucket(3, 1, 0);
        b.tryTake(0);
        b.tryTake(0);
        assertThat(b.millisUntilToken()).isEqualTo(334);
        TokenBucket fast = new TokenBucket(100_000, 1, 0);
        fast.tryTake(0);
        fast.tryTake(0);
        assertThat(fast.millisUntilToken()).isEqualTo(1);
    }

    @Test
    void refusesARateOrBurstBelowOne() {
        assertThatThrownBy(() -> new TokenBucket(0, 1, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new TokenBucket(1, 0, 0)).isInstanceOf(IllegalArgumentException.class);
    }
}
