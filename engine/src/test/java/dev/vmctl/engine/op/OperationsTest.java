package dev.vmctl.engine.op;

import dev.vmctl.engine.EventBus;
import dev.vmctl.engine.Store;
import dev.vmctl.model.Operation;
import dev.vmctl.model.VmEvent;
import dev.vmctl.model.VmctlException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class OperationsTest {
    @TempDir
    Path tmp;

    private Store store;
    private EventBus events;
    private Operations ops;

    @BeforeEach
    void setUp() {
        store = new Store(tmp.resolve("state.db"));
        events = new EventBus();
        ops = new Operations(new OperationStore(store), events);
    }

    @AfterEach
    void tearDown() {
        store.close();
    }

    @Test
    void oneLaneRunsOneAtATimeInArrivalOrder() {
        AtomicInteger inside = new AtomicInteger();
        AtomicInteger maxInside = new AtomicInteger();
        List<Integer> order = Collections.synchronizedList(new ArrayList<>());
        List<Operations.Op> all = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            int n = i;
            all.add(ops.submit(Operations.Spec.of("test.step", "vm:a"), o -> {
                maxInside.accumulateAndGet(inside.incrementAndGet(), Math::max);
                order.add(n);
                Thread.sleep(3);
                inside.decrementAndGet();
                return n;
            }));
        }
        for (Operations.Op o : all) o.join(Duration.ofSeconds(10));
        assertThat(maxInside.get()).isEqualTo(1);
        assertThat(order).containsExactlyElementsOf(java.util.stream.IntStream.range(0, 20).boxed().toList());
        List<Operation> listed = ops.list("vm:a", null, null, 100);
        assertThat(listed).hasSize(20).allMatch(o -> o.state().equals("succeeded"));
        // newest first, and in submission order when reversed
        List<String> ids = new ArrayList<>(listed.stream().map(Operation::id).toList());
        Collections.reverse(ids);
        assertThat(ids).containsExactlyElementsOf(all.stream().map(Operations.Op::id).toList());
    }

    @Test
    void operationEventsCarryTheOperationAsTypedData() {
        java.util.List<dev.vmctl.model.VmEvent> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
        events.subscribe(seen::add);
        Accepted<Object> a = ops.run(Operations.Spec.of("vm.start", "vm:x"), java.time.Duration.ofSeconds(5), o -> "done");
        assertThat(seen).extracting(dev.vmctl.model.VmEvent::type)
                .containsExactly("operation.queued", "operation.running", "operation.succeeded");
        for (dev.vmctl.model.VmEvent e : seen) {
            assertThat(e.data()).isInstanceOf(dev.vmctl.model.Operation.class);
            assertThat(((dev.vmctl.model.Operation) e.data()).id()).isEqualTo(a.op().id());
        }
        assertThat(((dev.vmctl.model.Operation) seen.getLast().data()).state()).isEqualTo("succeeded");
    }

    @Test
    void lanesRunInParallel() throws Exception {
        CountDownLatch both = new CountDownLatch(2);
        Operations.Op a = ops.submit(Operations.Spec.of("test", "vm:a"), o -> {
            both.countDown();
            return both.await(5, TimeUnit.SECONDS);
        });
        Operations.Op b = ops.submit(Operations.Spec.of("test", "vm:b"), o -> {
            both.countDown();
            return both.await(5, TimeUnit.SECONDS);
        });
        assertThat(a.join(Duration.ofSeconds(10))).isEqualTo(true);
        assertThat(b.join(Duration.ofSeconds(10))).isEqualTo(true);
    }

    @Test
    void aFailureBeforeAcceptReachesTheCallerOnAnIdleLaneButAQueuedCallIsAnsweredAsQueued() throws Exception {
        assertThatThrownBy(() -> ops.submitAndAccept(Operations.Spec.of("vm.start", "vm:a"), o -> {
            throw new VmctlException(VmctlException.Kind.WRONG_STATE, "start: vm a is RUNNING", "allowed in: [STOPPED]");
        })).isInstanceOf(VmctlException.class).hasMessageContaining("is RUNNING");
        assertThat(ops.list("vm:a", "failed", "vm.start", 10)).hasSize(1);

        CountDownLatch release = new CountDownLatch(1);
        Operations.Op first = ops.submit(Operations.Spec.of("test.block", "vm:a"), o -> release.await(5, TimeUnit.SECONDS));
        Operations.Op queued = ops.submitAndAccept(Operations.Spec.of("vm.start", "vm:a"), o -> {
            throw new VmctlException(VmctlException.Kind.WRONG_STATE, "start: vm a is RUNNING", null);
        });
        assertThat(queued.queuedBehind()).isTrue();
        assertThat(queued.view().state()).isEqualTo("queued");
        release.countDown();
        first.join(Duration.ofSeconds(5));
        Operation end = ops.await(queued.id(), Duration.ofSeconds(5));
        assertThat(end.state()).isEqualTo("failed");
        assertThat(end.error()).contains("is RUNNING");
    }

    @Test
    void aCallRightAfterAWaitFindsTheLaneIdle() {
        for (int i = 0; i < 200; i++) {
            ops.submit(Operations.Spec.of("vm.stop", "vm:r"), o -> null).join(Duration.ofSeconds(5));
            assertThatThrownBy(() -> ops.submitAndAccept(Operations.Spec.of("vm.stop", "vm:r"), o -> {
                throw new VmctlException(VmctlException.Kind.WRONG_STATE, "stop: vm r is STOPPED", null);
            })).as("round %d", i).hasMessageContaining("is STOPPED");
        }
    }

    @Test
    void acceptedValueAndResult() {
        Operations.Op op = ops.submitAndAccept(Operations.Spec.of("test", "vm:a"), o -> {
            o.accept("accepted");
            return "done";
        });
        assertThat(op.acceptedValue()).isEqualTo("accepted");
        assertThat(op.join(Duration.ofSeconds(5))).isEqualTo("done");
        assertThat(ops.get(op.id()).state()).isEqualTo("succeeded");
        assertThat(ops.get(op.id()).startedAt()).isNotNull();
        assertThat(ops.get(op.id()).finishedAt()).isNotNull();
    }

    @Test
    void cancelQueuedRunningCancellableAndRefusals() throws Exception {
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch hook = new CountDownLatch(1);
        Operations.Op boot = ops.submit(Operations.Spec.of("vm.start", "vm:a").asCancellable(), o -> {
            o.onCancel(hook::countDown);
            started.countDown();
            while (true) {
                o.checkCancelled();
                Thread.sleep(5);
            }
        });
        Operations.Op queued = ops.submit(Operations.Spec.of("vm.stop", "vm:a"), o -> "stopped");
        started.await(5, TimeUnit.SECONDS);
        assertThat(ops.cancel(queued.id()).state()).isEqualTo("cancelled");
        assertThat(ops.cancel(boot.id()).state()).isIn("running", "cancelled");
        assertThat(hook.await(5, TimeUnit.SECONDS)).isTrue();
        assertThat(boot.await(Duration.ofSeconds(5)).state()).isEqualTo("cancelled");
        assertThatThrownBy(() -> ops.cancel(boot.id())).isInstanceOf(VmctlException.class).hasMessageContaining("already finished");

        CountDownLatch release = new CountDownLatch(1);
        Operations.Op plain = ops.submit(Operations.Spec.of("snapshot.create", "vm:b"), o -> release.await(5, TimeUnit.SECONDS));
        while (!plain.view().state().equals("running")) Thread.sleep(2);
        assertThatThrownBy(() -> ops.cancel(plain.id())).isInstanceOf(VmctlException.class)
                .hasMessageContaining("cannot be cancelled while it runs");
        release.countDown();
        assertThat(plain.await(Duration.ofSeconds(5)).state()).isEqualTo("succeeded");
    }

    @Test
    void cancelLaneKeepsTheCallersOwnOperation() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        ops.submit(Operations.Spec.of("nic.patch", "vm:a"), o -> release.await(5, TimeUnit.SECONDS));
        Operations.Op q1 = ops.submit(Operations.Spec.of("vm.reboot", "vm:a"), o -> null);
        Operations.Op destroy = ops.submit(Operations.Spec.of("vm.destroy", "vm:a"), o -> "gone");
        List<Operations.Op> cancelled = ops.cancelLane("vm:a", "vm a is being removed", destroy);
        assertThat(cancelled).containsExactly(q1);
        release.countDown();
        assertThat(destroy.join(Duration.ofSeconds(5))).isEqualTo("gone");
        assertThat(ops.get(q1.id()).state()).isEqualTo("cancelled");
        assertThat(ops.get(q1.id()).error()).contains("being removed");
    }

    @Test
    void aHeldLaneRefusesOthersButNotTheHoldersChildren() throws Exception {
        CountDownLatch held = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        List<Object> childResult = new ArrayList<>();
        Operations.Op deploy = ops.submit(Operations.Spec.of("topology.apply", "topology:shop"), o -> {
            ops.hold("vm:x", o);
            Operations.Op child = ops.submit(Operations.Spec.of("vm.start", "vm:x"), c -> "child ran");
            childResult.add(child.join(Duration.ofSeconds(5)));
            assertThat(child.view().parent()).isEqualTo(o.id());
            held.countDown();
            release.await(5, TimeUnit.SECONDS);
            return null;
        });
        assertThat(held.await(5, TimeUnit.SECONDS)).isTrue();
        assertThat(childResult).containsExactly("child ran");
        assertThatThrownBy(() -> ops.submit(Operations.Spec.of("vm.destroy", "vm:x"), o -> null))
                .isInstanceOf(VmctlException.class)
                .hasMessageContaining("held by operation " + deploy.id())
                .hasMessageContaining("topology.apply");
        release.countDown();
        deploy.join(Duration.ofSeconds(5));
        assertThat(ops.submit(Operations.Spec.of("vm.destroy", "vm:x"), o -> "ok").join(Duration.ofSeconds(5))).isEqualTo("ok");
    }

    @Test
    void eventsCarryTheOperationId() {
        List<VmEvent> seen = Collections.synchronizedList(new ArrayList<>());
        events.subscribe(seen::add);
        Operations.Op op = ops.submit(Operations.Spec.of("test", "vm:a"), o -> {
            events.publish(dev.vmctl.model.EventType.VM_STATE, "a", "a", null, null, "inside");
            Runnable elsewhere = Operations.propagate(() -> events.publish(dev.vmctl.model.EventType.VM_PROGRESS, "a", "a", null, null, "other thread"));
            Thread t = Thread.ofVirtual().start(elsewhere);
            t.join();
            return null;
        });
        op.join(Duration.ofSeconds(5));
        events.publish(dev.vmctl.model.EventType.VM_STATE, "a", "a", null, null, "outside");
        assertThat(seen).filteredOn(e -> e.type().startsWith("vm.") && !e.message().equals("outside"))
                .hasSize(2).allMatch(e -> op.id().equals(e.operation()));
        assertThat(seen).filteredOn(e -> e.message().equals("outside")).allMatch(e -> e.operation() == null);
        assertThat(seen.stream().map(VmEvent::type).filter(t -> t.startsWith("operation.")).toList())
                .containsExactly("operation.queued", "operation.running", "operation.succeeded");
    }

    @Test
    void longPollReturnsAtTheEndOrAtTheDeadline() {
        CountDownLatch release = new CountDownLatch(1);
        Operations.Op op = ops.submit(Operations.Spec.of("test", "vm:a"), o -> release.await(5, TimeUnit.SECONDS));
        long t0 = System.nanoTime();
        assertThat(ops.await(op.id(), Duration.ofMillis(200)).state()).isEqualTo("running");
        assertThat((System.nanoTime() - t0) / 1_000_000).isGreaterThanOrEqualTo(190);
        Thread.ofVirtual().start(() -> {
            try {
                Thread.sleep(100);
            } catch (InterruptedException ignored) {
                // test thread
            }
            release.countDown();
        });
        assertThat(ops.await(op.id(), Duration.ofSeconds(10)).state()).isEqualTo("succeeded");
    }

    @Test
    void aRestartFailsWhatWasQueuedOrRunning() throws Exception {
        CountDownLatch never = new CountDownLatch(1);
        Operations.Op running = ops.submit(Operations.Spec.of("vm.start", "vm:a"), o -> never.await(30, TimeUnit.SECONDS));
        Operations.Op queued = ops.submit(Operations.Spec.of("vm.stop", "vm:a"), o -> null);
        Operations.Op done = ops.submit(Operations.Spec.of("test", "vm:b"), o -> null);
        done.join(Duration.ofSeconds(5));
        while (!running.view().state().equals("running")) Thread.sleep(2);
        // a new executor over the same database: what the server sees after a crash
        Operations after = new Operations(new OperationStore(store), new EventBus());
        List<Operation> failed = after.failInterrupted();
        assertThat(failed).extracting(Operation::id).containsExactlyInAnyOrder(running.id(), queued.id());
        assertThat(after.get(running.id()).state()).isEqualTo("failed");
        assertThat(after.get(running.id()).error()).contains("server restarted");
        assertThat(after.get(queued.id()).state()).isEqualTo("failed");
        assertThat(after.get(done.id()).state()).isEqualTo("succeeded");
        never.countDown();
    }

    @Test
    void listFilters() {
        ops.submit(Operations.Spec.of("vm.start", "vm:a1"), o -> null).join(Duration.ofSeconds(5));
        ops.submit(new Operations.Spec("router.create", "router:r", List.of("router:r", "network:front"), false), o -> null)
                .join(Duration.ofSeconds(5));
        assertThatThrownBy(() -> ops.submit(Operations.Spec.of("vm.stop", "vm:a1"), o -> {
            throw new IllegalStateException("boom");
        }).join(Duration.ofSeconds(5))).hasMessageContaining("boom");
        assertThat(ops.list("vm:a1", null, null, 10)).hasSize(2);
        assertThat(ops.list("a1", null, null, 10)).hasSize(2);
        assertThat(ops.list("front", null, null, 10)).extracting(Operation::kind).containsExactly("router.create");
        assertThat(ops.list(null, "failed", null, 10)).extracting(Operation::kind).containsExactly("vm.stop");
        assertThat(ops.list(null, null, "vm.start", 10)).hasSize(1);
        assertThat(ops.list(null, null, null, 1)).hasSize(1);
    }
}
