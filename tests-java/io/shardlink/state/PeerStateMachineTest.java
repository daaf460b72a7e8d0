package io.shardlink.state;

import static io.shardlink.state.PeerState.CONNECTED;
import static io.shardlink.state.PeerState.DISCONNECTED;
import static io.shardlink.state.PeerState.FAILED;
import static io.shardlink.state.PeerState.UNAVAILABLE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

class PeerStateMachineTest {
    static final Set<List<PeerState>> LEGAL = Set.of(
            List.of(UNAVAILABLE, DISCONNECTED),
            List.of(DISCONNECTED, CONNECTED),
            List.of(DISCONNECTED, FAILED),
            List.of(DISCONNECTED, UNAVAILABLE),
            List.of(CONNECTED, FAILED),
            List.of(CONNECTED, DISCONNECTED),
            List.of(FAILED, DISCONNECTED));

    static List<Arguments> allPairs() {
        List<Arguments> out = new ArrayList<>();
        for (PeerState from : PeerState.values()) {
            for (PeerState to : PeerState.values()) {
                out.add(Arguments.of(from, to, LEGAL.contains(List.of(from, to))));
            }
        }
        return out;
    }

    @ParameterizedTest(name = "{0} -> {1} legal={2}")
    @MethodSource("allPairs")
    void everyTransitionIsLegalOrRejected(PeerState from, PeerState to, boolean legal) {
        PeerStateMachine m = new PeerStateMachine("p", from);
        List<String> seen = new ArrayList<>();
        m.addListener((peer, f, t, c) -> seen.add(peer + ":" + f + "->" + t));
        Throwable cause = new RuntimeException("why");
        if (legal) {
            m.transition(to, cause);
            assertThat(m.state()).isEqualTo(to);
            assertThat(seen).containsExactly("p:" + from + "->" + to);
            assertThat(m.lastCause()).isSameAs(cause);
            assertThat(m.history()).hasSize(1);
            assertThat(from.canMoveTo(to)).isTrue();
        } else {
            assertThatThrownBy(() -> m.transition(to, cause)).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("peer p: illegal state transition " + from + " -> " + to);
            assertThat(m.state()).isEqualTo(from);
            assertThat(seen).isEmpty();
            assertThat(m.history()).isEmpty();
            assertThat(m.tryTransition(to, null)).isFalse();
        }
    }

    @Test
    void failedAfterConnectedKeepsTheCauseAndRecovers() {
        PeerStateMachine m = new PeerStateMachine("node-b", DISCONNECTED);
        m.transition(CONNECTED);
        RuntimeException qpError = new RuntimeException("QP 17 entered the error state: IBV_WC_RETRY_EXC_ERR");
        m.transition(FAILED, qpError);
        assertThat(m.state()).isEqualTo(FAILED);
        assertThat(m.lastCause()).isSameAs(qpError);
        assertThat(m.lastCauseMessage()).contains("RETRY_EXC");
        m.transition(DISCONNECTED);
        assertThat(m.lastCause()).as("cause kept after leaving FAILED").isSameAs(qpError);
        m.transition(CONNECTED);
        assertThat(m.history()).extracting(PeerStateMachine.Transition::to)
                .containsExactly(CONNECTED, FAILED, DISCONNECTED, CONNECTED);
        assertThat(m.toString()).contains("node-b", "CONNECTED");
    }

    @Test
    void failWithReasonAndCompareAndTransition() {
        PeerStateMachine m = new PeerStateMachine("x", DISCONNECTED);
        assertThat(m.compareAndTransition(CONNECTED, FAILED, null)).isFalse();
        m.fail("ibv_modify_qp(RTR) failed: Connection timed out (errno 110)");
        assertThat(m.state()).isEqualTo(FAILED);
        assertThat(m.lastCauseMessage()).contains("errno 110");
        assertThat(m.compareAndTransition(FAILED, DISCONNECTED, null)).isTrue();
        assertThatThrownBy(() -> m.compareAndTransition(UNAVAILABLE, CONNECTED, null))
                .isInstanceOf(IllegalStateException.class);
    }

    @Test
    void successorsMatchTheLegalTable() {
        for (PeerState s : PeerState.values()) {
            Set<PeerState> expected = EnumSet.noneOf(PeerState.class);
            LEGAL.stream().filter(l -> l.get(0) == s).forEach(l -> expected.add(l.get(1)));
            assertThat(s.successors()).isEqualTo(expected);
        }
        assertThat(CONNECTED.usesRdma()).isTrue();
        assertThat(FAILED.usesRdma()).isFalse();
    }

    @Test
    void listenerErrorsDoNotBreakTransitionsAndRemovalWorks() {
        PeerStateMachine m = new PeerStateMachine("x", DISCONNECTED);
        AtomicInteger calls = new AtomicInteger();
        PeerStateListener bad = (p, f, t, c) -> {
            throw new IllegalArgumentException("listener bug");
        };
        PeerStateListener counting = (p, f, t, c) -> calls.incrementAndGet();
        m.addListener(bad);
        m.addListener(counting);
        m.transition(CONNECTED);
        m.removeListener(counting);
        m.transition(FAILED, new RuntimeException());
        assertThat(calls.get()).isEqualTo(1);
        assertThat(m.state()).isEqualTo(FAILED);
    }

    @Test
    void concurrentFailuresProduceExactlyOneTransition() throws Exception {
        PeerStateMachine m = new PeerStateMachine("x", DISCONNECTED);
        m.transition(CONNECTED);
        AtomicInteger transitions = new AtomicInteger();
        m.addListener((p, f, t, c) -> transitions.incrementAndGet());
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> ts = new ArrayList<>();
        AtomicInteger won = new AtomicInteger();
        for (int i = 0; i < 8; i++) {
            Thread t = new Thread(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    return;
                }
                if (m.compareAndTransition(CONNECTED, FAILED, new RuntimeException("qp error"))) {
                    won.incrementAndGet();
                }
            });
            t.start();
            ts.add(t);
        }
        go.countDown();
        for (Thread t : ts) {
            t.join();
        }
        assertThat(won.get()).isEqualTo(1);
        assertThat(transitions.get()).isEqualTo(1);
        assertThat(m.state()).isEqualTo(FAILED);
    }

    @Test
    void historyIsBounded() {
        PeerStateMachine m = new PeerStateMachine("x", DISCONNECTED);
        for (int i = 0; i < 50; i++) {
            m.transition(CONNECTED);
            m.transition(DISCONNECTED);
        }
        assertThat(m.history()).hasSize(PeerStateMachine.HISTORY);
    }
}
