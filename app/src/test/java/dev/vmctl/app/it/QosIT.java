package dev.vmctl.app.it;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vmctl.host.Cmd;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * QoS of a deployed topology on real VMs: node n1 ({@code resources.egress: 8mbit}) has a and b, whose NIC has a
 * default {@code rate: 4mbit}; c (node n2) downloads 3 MB files from their busybox httpd. What a sends alone gets the
 * node's whole limit, a and b together share it, b alone stays at its NIC's rate, {@code link impair --rate}
 * overrides that rate and {@code link clear} returns to it. Rates are measured inside the guest (wget timed with
 * /proc/uptime), as NetworkIT does; a busy host slows TCG guests, never speeds them up, so the upper bounds are tight
 * and the lower ones loose.
 */
@ExtendWith(Fixture.class)
class QosIT {
    static final String A = "qos-n1-a", B = "qos-n1-b", C = "qos-n2-c";

    @Test
    void nodeEgressIsSharedAndNicRatesHold(Fixture f, @TempDir Path tmp) throws Exception {
        Path file = tmp.resolve("qos.yaml");
        Files.writeString(file, """
                apiVersion: vmctl/v1
                kind: Topology
                name: qos
                networks:
                  - {name: lan, subnet: 198.18.170.0/24}
                nodes:
                  - name: n1
                    resources: {egress: 8mbit}
                    vms:
                      - {name: a, image: tiny, memory: 128M, nics: [{network: lan, ip: 198.18.170.10}]}
                      - {name: b, image: tiny, memory: 128M, nics: [{network: lan, ip: 198.18.170.11, rate: 4mbit}]}
                  - name: n2
                    vms:
                      - {name: c, image: tiny, memory: 128M, nics: [{network: lan, ip: 198.18.170.12}]}
                """);
        try {
            Cli.Result up = f.cli.run("up", "-f", file.toString());
            assertThat(up.code()).as(up.toString()).isZero();
            JsonNode nicB = f.api.get("/api/v1/vms/" + B).json().path("nics").get(0);
            assertThat(nicB.path("rateKbit").asLong()).isEqualTo(4000);
            assertThat(f.api.get("/api/v1/vms/" + A).json().path("nics").get(0).path("rateKbit").isNull()).isTrue();
            Cli.Result show = f.cli.run("link", "show", B);
            assertThat(show.out()).as(show.toString()).contains("default rate 4mbit");

            // the node's egress ifb in the fabric: one HTB class per NIC of n1 (plus the node's and the default one)
            String fabric = f.api.get("/api/v1/host").json().path("fabricNamespace").asText();
            String classes = Cmd.run("ip", "netns", "exec", fabric, "tc", "class", "show", "dev", egressIfb("qos/n1")).stdout();
            assertThat(classes).contains("class htb 1:1 ").contains("class htb 1:10 ").contains("class htb 1:11 ").contains("class htb 1:ffff ");

            for (String vm : List.of(A, B)) {
                ok(exec(f, vm, "sh", "-c", "mkdir -p /tmp/www && dd if=/dev/zero of=/tmp/www/f bs=1024 count=3000 2>/dev/null"
                        + " && httpd -p 8080 -h /tmp/www </dev/null >/dev/null 2>&1"));
            }
            double alone = best(f, "198.18.170.10");
            List<Double> together = together(f);
            double bAlone = best(f, "198.18.170.11");
            System.out.printf("FIGURE qos: node egress 8mbit: a alone %.2f Mbit/s, a+b together %s = %.2f; b (rate 4mbit) alone %.2f%n",
                    alone, together, together.get(0) + together.get(1), bAlone);
            assertThat(alone).as("a alone may use the node's whole 8 Mbit/s").isBetween(5.0, 9.2);
            assertThat(together.get(0) + together.get(1)).as("a and b together: at most the node's limit " + together).isLessThan(8 * 1.3);
            assertThat(bAlone).as("b alone stays at its NIC's rate").isBetween(2.5, 4.6);

            // an impairment's rate overrides the NIC's; clearing returns to the NIC's rate
            ok(f.cli.run("link", "impair", B, "eth0", "--rate", "2mbit"));
            double impaired = best(f, "198.18.170.11");
            ok(f.cli.run("link", "clear", B, "eth0"));
            assertThat(f.api.get("/api/v1/vms/" + B).json().path("nics").get(0).path("rateKbit").asLong()).isEqualTo(4000);
            double cleared = best(f, "198.18.170.11");
            System.out.printf("FIGURE qos: b impaired at 2mbit %.2f Mbit/s, after link clear %.2f%n", impaired, cleared);
            assertThat(impaired).as("link impair --rate 2mbit").isBetween(1.2, 2.3);
            assertThat(cleared).as("back to the NIC's 4 Mbit/s").isBetween(2.5, 4.6);
        } finally {
            f.cli.run("down", "qos");
        }
        String fabric = f.api.get("/api/v1/host").json().path("fabricNamespace").asText();
        assertThat(Cmd.run("ip", "-n", fabric, "link", "show").stdout()).doesNotContain(egressIfb("qos/n1"));
    }

    static String egressIfb(String key) {
        return dev.vmctl.net.NetNames.egressIfb(key);
    }

    /** The best of two 3 MB downloads by c from the server (Mbit/s). */
    static double best(Fixture f, String server) {
        return Math.max(mbit(f, server), mbit(f, server));
    }

    static double mbit(Fixture f, String server) {
        Cli.Result r = exec(f, C, "sh", "-c", "t0=$(cut -d' ' -f1 /proc/uptime); wget -q -O /dev/null http://" + server
                + ":8080/f; rc=$?; t1=$(cut -d' ' -f1 /proc/uptime); echo $rc $t0 $t1");
        String[] p = r.out().trim().split(" ");
        assertThat(p[0]).as(r.toString()).isEqualTo("0");
        return 3000 * 1024 * 8 / (Double.parseDouble(p[2]) - Double.parseDouble(p[1])) / 1e6;
    }

    /** Both downloads at once (from a and from b), each timed on its own, Mbit/s. */
    static List<Double> together(Fixture f) {
        String one = "t0=$(cut -d' ' -f1 /proc/uptime); wget -q -O /dev/null http://%s:8080/f; t1=$(cut -d' ' -f1 /proc/uptime); echo %s $t0 $t1 > /tmp/%s";
        Cli.Result r = exec(f, C, "sh", "-c", "(" + one.formatted("198.18.170.10", "a", "ra") + ") & (" + one.formatted("198.18.170.11", "b", "rb")
                + ") & wait; cat /tmp/ra /tmp/rb");
        ok(r);
        List<Double> out = new ArrayList<>();
        for (String line : r.out().trim().split("\n")) {
            String[] p = line.trim().split(" ");
            out.add(3000 * 1024 * 8 / (Double.parseDouble(p[2]) - Double.parseDouble(p[1])) / 1e6);
        }
        assertThat(out).hasSize(2);
        return out;
    }

    static Cli.Result exec(Fixture f, String vm, String... argv) {
        List<String> a = new ArrayList<>(List.of("vm", "exec", vm, "--timeout", "90s", "--"));
        a.addAll(List.of(argv));
        return f.cli.run(a.toArray(String[]::new));
    }

    static void ok(Cli.Result r) {
        assertThat(r.code()).as(r.toString()).isZero();
    }
}
