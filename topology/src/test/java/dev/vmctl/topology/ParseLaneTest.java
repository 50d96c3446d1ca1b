package dev.vmctl.topology;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

/** Issue 15 #1: where parses run, and at which priority. */
class ParseLaneTest {

    @Test
    void fromAVirtualThreadTheWorkRunsOnAParseThreadAndItsExceptionPassesUnchanged() throws Exception {
        AtomicReference<String> ranOn = new AtomicReference<>();
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        Thread.ofVirtual().start(() -> {
            ranOn.set(ParseLane.call(() -> Thread.currentThread().getName()));
            try {
                TopologyParser.parse("name: 5\n", "t.yaml");
            } catch (Throwable e) {
                thrown.set(e);
            }
        }).join();
        assertThat(ranOn.get()).startsWith("vmctl-parse-");
        assertThat(thrown.get()).isInstanceOf(TopologyException.class).hasMessageContaining("t.yaml");
        // a platform thread parses where it is
        assertThat(ParseLane.call(() -> Thread.currentThread().getName())).isEqualTo(Thread.currentThread().getName());
    }

    @Test
    void parseThreadsRunAtALowerPriority() throws Exception {
        assumeThat(System.getProperty("os.name")).containsIgnoringCase("linux");
        AtomicReference<String> nice = new AtomicReference<>();
        Thread.ofVirtual().start(() -> nice.set(ParseLane.call(ParseLaneTest::ownNice))).join();
        assertThat(nice.get()).isEqualTo(Integer.toString(ParseLane.NICE));
    }

    /** Field 19 of /proc/thread-self/stat: the calling thread's nice value. */
    private static String ownNice() throws Exception {
        String stat = Files.readString(Path.of("/proc/thread-self/stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return f[16]; // fields after the command: state is 3, nice is 19
    }
}
