package dev.vmctl.cli;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static dev.vmctl.cli.Nets.BACK;
import static dev.vmctl.cli.Nets.ETH0;
import static dev.vmctl.cli.Nets.ETH0_DOWN;
import static dev.vmctl.cli.Nets.ETH0_IMPAIRED;
import static dev.vmctl.cli.Nets.ETH1;
import static dev.vmctl.cli.Nets.FRONT;
import static dev.vmctl.cli.Nets.R1;
import static dev.vmctl.cli.Nets.vmWithNics;
import static org.assertj.core.api.Assertions.assertThat;

/** net, router, link, nic, and vm create/show/ls with NICs, against a fake server. */
class NetCommandsTest {
    private static final String IN_USE =
            "{\"error\":\"network front is in use by vm a (eth0)\",\"detail\":\"remove or move the NIC first\"}";

    private final FakeServer server;

    NetCommandsTest() {
        try {
            server = new FakeServer();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private static JsonNode parse(String json) {
        try {
            return Json.parse(json);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private FakeServer.Request only() {
        assertThat(server.requests()).hasSize(1);
        return server.requests().getFirst();
    }

    // --- help ----------------------------------------------------------------------------------------

    @Test
    void helpListsTheNetworkingCommandsWithADescription() {
        CliRun r = CliRun.run(server.url(), "--help");
        assertThat(r.code()).isZero();
        assertThat(r.out()).containsPattern("\n  net +Create, list, inspect and remove virtual networks")
                .containsPattern("\n  router +Create, list, inspect and remove routers")
                .containsPattern("\n  link +Live link operations on a VM's NIC")
                .containsPattern("\n  nic +Add a NIC to a VM or remove one");
        assertThat(server.requests()).isEmpty();
    }

    @Test
    void everyUsageMessageFormatsCleanly() {
        // picocli falls back to the raw text and warns on System.err when a description has a stray '%'
        PrintStream original = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        List<String> usages = new ArrayList<>();
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            CommandLine cl = VmctlCli.commandLine(new PrintWriter(new StringWriter()),
                    new PrintWriter(new StringWriter()), Map.of());
            collectUsage(cl, usages);
        } finally {
            System.setErr(original);
        }
        assertThat(captured.toString(StandardCharsets.UTF_8)).doesNotContain("picocli WARN");
        assertThat(usages).hasSizeGreaterThan(20);
        assertThat(String.join("\n", usages)).contains("--loss=PERCENT", "packet loss, e.g. 2%\n")
                .doesNotContain("%%");
    }

    private static void collectUsage(CommandLine cl, List<String> into) {
        into.add(cl.getUsageMessage());
        for (CommandLine sub : cl.getSubcommands().values()) {
            if (sub.getParent() == cl && !sub.getCommandName().equals("help")) collectUsage(sub, into);
        }
    }

    @Test
    void groupsWithoutAVerbAreUsageErrors() {
        for (String group : List.of("net", "router", "link", "nic")) {
            CliRun r = CliRun.run(server.url(), group);
            assertThat(r.code()).as(group).isEqualTo(2);
            assertThat(r.err()).as(group).contains("Missing required subcommand");
        }
        assertThat(server.requests()).isEmpty();
    }

    // --- net -----------------------------------------------------------------------------------------

    @Test
    void netCreateSendsNameSubnetAndVlan() {
        server.json("POST", "/api/v1/networks", 201, BACK);
        CliRun r = CliRun.run(server.url(), "net", "create", "back", "--subnet", "198.18.20.0/24", "--vlan", "20");
        assertThat(r.code()).isZero();
        FakeServer.Request req = only();
        assertThat(req.json()).isEqualTo(parse("{\"name\":\"back\",\"subnet\":\"198.18.20.0/24\",\"vlan\":20}"));
        assertThat(req.header("Content-Type")).isEqualTo("application/json");
        assertThat(r.out()).isEqualTo("created network back: 198.18.20.0/24, gateway 198.18.20.1, vlan 20 (bridge-per-vlan)\n");
    }

    @Test
    void netCreateWithoutVlanSendsNoVlan() {
        server.json("POST", "/api/v1/networks", 201, FRONT);
        CliRun r = CliRun.run(server.url(), "net", "create", "front", "--subnet", "198.18.10.0/24");
        assertThat(r.code()).isZero();
        assertThat(only().json()).isEqualTo(parse("{\"name\":\"front\",\"subnet\":\"198.18.10.0/24\"}"));
        assertThat(r.out()).isEqualTo("created network front: 198.18.10.0/24, gateway 198.18.10.1\n");
    }

    @Test
    void netCreateNeedsASubnet() {
        CliRun r = CliRun.run(server.url(), "net", "create", "front");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("Missing required option: '--subnet=CIDR'");
        assertThat(server.requests()).isEmpty();
    }

    @Test
    void netCreateRejectedByServer() {
        server.json("POST", "/api/v1/networks", 400,
                "{\"error\":\"subnet 198.18.10.0/25 overlaps network front (198.18.10.0/24)\",\"detail\":null}");
        CliRun r = CliRun.run(server.url(), "net", "create", "x", "--subnet", "198.18.10.0/25");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).isEqualTo("error: subnet 198.18.10.0/25 overlaps network front (198.18.10.0/24)\n");
        assertThat(r.out()).isEmpty();
    }

    @Test
    void netCreateJson() {
        server.json("POST", "/api/v1/networks", 201, BACK);
        CliRun r = CliRun.run(server.url(), "net", "create", "back", "--subnet", "198.18.20.0/24", "-o", "json");
        assertThat(parse(r.out())).isEqualTo(parse(BACK));
    }

    @Test
    void netLsTable() {
        server.json("GET", "/api/v1/networks", 200, "[" + FRONT + "," + BACK + "]");
        CliRun r = CliRun.run(server.url(), "net", "ls");
        assertThat(r.code()).isZero();
        assertThat(r.out()).isEqualTo("""
                NAME   SUBNET          GATEWAY      VLAN  ROUTERS  VMS
                front  198.18.10.0/24  198.18.10.1  -     r1       a,b
                back   198.18.20.0/24  198.18.20.1  20    -        -
                """);
    }

    @Test
    void netLsEmptyPrintsTheHeader() {
        server.json("GET", "/api/v1/networks", 200, "[]");
        assertThat(CliRun.run(server.url(), "net", "list").out()).isEqualTo("NAME  SUBNET  GATEWAY  VLAN  ROUTERS  VMS\n");
    }

    @Test
    void netLsJsonIsTheServersJson() {
        String body = "[" + FRONT + "," + BACK + "]";
        server.json("GET", "/api/v1/networks", 200, body);
        CliRun r = CliRun.run(server.url(), "net", "ls", "-o", "json");
        assertThat(r.code()).isZero();
        assertThat(r.out()).isEqualTo(Json.pretty(parse(body)) + "\n");
        assertThat(r.out()).contains("\"uplink\": null");
    }

    @Test
    void netShowTable() {
        server.json("GET", "/api/v1/networks/front", 200, FRONT);
        CliRun r = CliRun.run(server.url(), "net", "show", "front");
        assertThat(r.code()).isZero();
        assertThat(r.out()).isEqualTo("""
                name:            front
                id:              net-1
                subnet:          198.18.10.0/24
                gateway:         198.18.10.1
                vlan:            none
                bridge:          vb1a2b3c4d
                vlan mechanism:  bridge-per-vlan
                routers:         r1
                created:         2026-11-28T10:00:00Z
                attachments:
                  VM  NIC   IP           MAC
                  a   eth0  198.18.10.2  52:54:00:12:34:56
                  b   eth1  198.18.10.3  52:54:00:12:34:57
                  a   eth1  198.18.10.4  52:54:00:12:34:58
                """);
    }

    @Test
    void netShowWithoutAttachments() {
        server.json("GET", "/api/v1/networks/back", 200, BACK);
        CliRun r = CliRun.run(server.url(), "net", "show", "back");
        assertThat(r.out()).contains("vlan:            20\n", "routers:         -\n", "attachments:     none\n");
    }

    @Test
    void netShowJson() {
        server.json("GET", "/api/v1/networks/front", 200, FRONT);
        CliRun r = CliRun.run(server.url(), "net", "show", "front", "-o", "json");
        assertThat(r.code()).isZero();
        assertThat(parse(r.out())).isEqualTo(parse(FRONT));
    }

    @Test
    void netShowOfAnUnknownNetwork() {
        server.json("GET", "/api/v1/networks/nope", 404, "{\"error\":\"network not found: nope\",\"detail\":\"known networks: front, back\"}");
        CliRun r = CliRun.run(server.url(), "net", "show", "nope");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).isEqualTo("error: network not found: nope\n  known networks: front, back\n");
    }

    @Test
    void netRm() {
        server.json("DELETE", "/api/v1/networks/back", 200, BACK);
        CliRun r = CliRun.run(server.url(), "net", "rm", "back");
        assertThat(r.code()).isZero();
        assertThat(r.out()).isEqualTo("removed network back\n");
        assertThat(only().body()).isEmpty();
    }

    @Test
    void netRmAnsweredWithNoContent() {
        server.on("DELETE", "/api/v1/networks/back", (req, ex) -> FakeServer.reply(ex, 204, "application/json", ""));
        assertThat(CliRun.run(server.url(), "net", "rm", "back").out()).isEqualTo("removed network back\n");
        CliRun json = CliRun.run(server.url(), "net", "rm", "back", "-o", "json");
        assertThat(json.code()).isZero();
        assertThat(json.out()).isEmpty();
    }

    @Test
    void netRmOfANetworkInUseIsRefused() {
        server.json("DELETE", "/api/v1/networks/front", 409, IN_USE);
        CliRun r = CliRun.run(server.url(), "net", "rm", "front");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).isEqualTo("error: network front is in use by vm a (eth0)\n  remove or move the NIC first\n");
        assertThat(r.out()).isEmpty();
    }

    // --- router --------------------------------------------------------------------------------------

    @Test
    void routerCreateSendsNetworksAndRoutes() {
        server.json("POST", "/api/v1/routers", 201, R1);
        CliRun r = CliRun.run(server.url(), "router", "create", "r1", "--net", "front", "--net", "back",
                "--route", "10.0.0.0/8=198.18.20.9", "--route", "0.0.0.0/0=198.18.10.254");
        assertThat(r.code()).isZero();
        assertThat(only().json()).isEqualTo(parse("""
                {"name":"r1","networks":["front","back"],
                 "routes":[{"to":"10.0.0.0/8","via":"198.18.20.9"},{"to":"0.0.0.0/0","via":"198.18.10.254"}]}"""));
        assertThat(r.out()).isEqualTo("""
                created router r1: front 198.18.10.1/24, back 198.18.20.1/24
                  route 10.0.0.0/8 via 198.18.20.9
                """);
    }

    @Test
    void routerCreateWithoutRoutesSendsNone() {
        server.json("POST", "/api/v1/routers", 201, R1);
        CliRun r = CliRun.run(server.url(), "router", "create", "r1", "--net", "front", "--net", "back");
        assertThat(r.code()).isZero();
        assertThat(only().json()).isEqualTo(parse("{\"name\":\"r1\",\"networks\":[\"front\",\"back\"]}"));
    }

    @Test
    void routeWithoutEqualsIsAUsageError() {
        CliRun r = CliRun.run(server.url(), "router", "create", "r1", "--net", "front", "--route", "10.0.0.0/8");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("Invalid value for option '--route'",
                "'10.0.0.0/8' is not CIDR=VIA (expected e.g. 10.0.0.0/8=198.18.20.9)");
        assertThat(server.requests()).isEmpty();
    }

    @Test
    void routeWithAnEmptySideIsAUsageError() {
        for (String bad : List.of("=198.18.20.9", "10.0.0.0/8=", "a=b=c")) {
            CliRun r = CliRun.run(server.url(), "router", "create", "r1", "--net", "front", "--route", bad);
            assertThat(r.code()).as(bad).isEqualTo(2);
        }
        assertThat(server.requests()).isEmpty();
    }

    @Test
    void routerCreateNeedsANetwork() {
        CliRun r = CliRun.run(server.url(), "router", "create", "r1");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("Missing required option: '--net=NET'");
    }

    @Test
    void routerCreateRejectedByServer() {
        server.json("POST", "/api/v1/routers", 404, "{\"error\":\"network not found: lab\"}");
        CliRun r = CliRun.run(server.url(), "router", "create", "r1", "--net", "front", "--net", "lab");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).isEqualTo("error: network not found: lab\n");
    }

    @Test
    void routerLsTable() {
        server.json("GET", "/api/v1/routers", 200, "[" + R1 + "]");
        CliRun r = CliRun.run(server.url(), "router", "ls");
        assertThat(r.code()).isZero();
        assertThat(r.out()).isEqualTo("""
                NAME  NETWORKS    ADDRESSES                      ROUTES  CREATED
                r1    front,back  198.18.10.1/24,198.18.20.1/24  1       2026-11-28T10:00:02Z
                """);
    }

    @Test
    void routerLsJson() {
        server.json("GET", "/api/v1/routers", 200, "[" + R1 + "]");
        CliRun r = CliRun.run(server.url(), "router", "ls", "-o", "json");
        assertThat(parse(r.out())).isEqualTo(parse("[" + R1 + "]"));
    }

    @Test
    void routerShowTable() {
        server.json("GET", "/api/v1/routers/r1", 200, R1);
        CliRun r = CliRun.run(server.url(), "router", "show", "r1");
        assertThat(r.code()).isZero();
        assertThat(r.out()).isEqualTo("""
                name:     r1
                id:       rt-1
                netns:    vmctl-r-r1
                created:  2026-11-28T10:00:02Z
                networks:
                  NETWORK  ADDRESS
                  front    198.18.10.1/24
                  back     198.18.20.1/24
                routes:
                  TO          VIA
                  10.0.0.0/8  198.18.20.9
                """);
    }

    @Test
    void routerShowJson() {
        server.json("GET", "/api/v1/routers/r1", 200, R1);
        CliRun r = CliRun.run(server.url(), "router", "show", "r1", "-o", "json");
        assertThat(parse(r.out())).isEqualTo(parse(R1));
    }

    @Test
    void routerRm() {
        server.json("DELETE", "/api/v1/routers/r1", 200, R1);
        CliRun r = CliRun.run(server.url(), "router", "rm", "r1");
        assertThat(r.code()).isZero();
        assertThat(r.out()).isEqualTo("removed router r1\n");
        assertThat(only().method()).isEqualTo("DELETE");
    }

    // --- vm create --nic, vm show / ls with NICs -------------------------------------------------------

    @Test
    void vmCreateSendsTheNicsInOrder() {
        server.json("POST", "/api/v1/vms", 201, Vms.vm("a", "REQUESTED"));
        CliRun r = CliRun.run(server.url(), "vm", "create", "a", "--image", "tiny",
                "--nic", "net=front", "--nic", "ip=198.18.20.7,net=back");
        assertThat(r.code()).isZero();
        assertThat(only().json()).isEqualTo(parse("""
                {"name":"a","image":"tiny",
                 "nics":[{"network":"front"},{"network":"back","ip":"198.18.20.7"}]}"""));
    }

    @Test
    void vmCreateWithoutNicSendsNoNics() {
        server.json("POST", "/api/v1/vms", 201, Vms.vm("a", "REQUESTED"));
        CliRun.run(server.url(), "vm", "create", "a");
        assertThat(only().json().has("nics")).isFalse();
    }

    @Test
    void nicWithAnUnknownKeyIsAUsageErrorNamingTheAllowedKeys() {
        CliRun r = CliRun.run(server.url(), "vm", "create", "a", "--nic", "net=front,mtu=9000");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("Invalid value for option '--nic'", "unknown key 'mtu'", "allowed: net, ip");
        assertThat(server.requests()).isEmpty();
    }

    @Test
    void malformedNicsAreUsageErrors() {
        for (String bad : List.of("front", "ip=198.18.20.7", "net=", "net=a,net=b", "net=a,")) {
            CliRun r = CliRun.run(server.url(), "vm", "create", "a", "--nic", bad);
            assertThat(r.code()).as(bad).isEqualTo(2);
            assertThat(r.err()).as(bad).contains("Invalid value for option '--nic'");
        }
        assertThat(server.requests()).isEmpty();
    }

    @Test
    void vmShowListsTheNics() {
        server.json("GET", "/api/v1/vms/a", 200, vmWithNics("a", "RUNNING", ETH0_IMPAIRED, ETH1));
        CliRun r = CliRun.run(server.url(), "vm", "show", "a");
        assertThat(r.code()).isZero();
        assertThat(r.out()).startsWith("name:     a\n").endsWith("""
                updated:  2026-11-28T10:00:00Z
                nics:
                  NAME  NETWORK  IP           MAC                LINK  IMPAIR
                  eth0  front    198.18.10.2  52:54:00:12:34:56  up    delay 50ms, jitter 5ms, loss 2%, rate 10mbit
                  eth1  back     198.18.20.7  52:54:00:ab:cd:ef  down  loss 0.5%, rate 512kbit, duplicate 1%
                """);
    }

    @Test
    void vmShowWithoutNicsHasNoNicSection() {
        server.json("GET", "/api/v1/vms/a", 200, vmWithNics("a", "STOPPED"));
        assertThat(CliRun.run(server.url(), "vm", "show", "a").out()).doesNotContain("nics");
    }

    @Test
    void vmShowJsonKeepsTheNics() {
        String vm = vmWithNics("a", "RUNNING", ETH0_IMPAIRED, ETH1);
        server.json("GET", "/api/v1/vms/a", 200, vm);
        CliRun r = CliRun.run(server.url(), "vm", "show", "a", "-o", "json");
        assertThat(parse(r.out())).isEqualTo(parse(vm));
    }

    @Test
    void vmLsShowsTheIpsOnceSomeVmHasANic() {
        server.json("GET", "/api/v1/vms", 200, "[" + vmWithNics("a", "RUNNING", ETH0, ETH1) + ","
                + vmWithNics("b", "STOPPED") + "," + Vms.vm("c", "STOPPED") + "]");
        CliRun r = CliRun.run(server.url(), "vm", "ls");
        assertThat(r.code()).isZero();
        assertThat(r.out()).isEqualTo("""
                NAME  ID    STATE    IMAGE  CPUS  MEMORY  IPS                      CREATED
                a     id-a  RUNNING  tiny   1     128M    198.18.10.2,198.18.20.7  2026-11-28T09:59:58Z
                b     id-b  STOPPED  tiny   1     128M    -                        2026-11-28T09:59:58Z
                c     id-c  STOPPED  tiny   1     128M    -                        2026-11-28T09:59:58Z
                """);
    }

    // --- link ----------------------------------------------------------------------------------------

    @Test
    void linkDownPatchesTheNic() {
        server.json("PATCH", "/api/v1/vms/a/nics/eth0", 200, ETH0_DOWN);
        CliRun r = CliRun.run(server.url(), "link", "down", "a", "eth0");
        assertThat(r.code()).isZero();
        FakeServer.Request req = only();
        assertThat(req.json()).isEqualTo(parse("{\"link\":\"down\"}"));
        assertThat(req.header("Content-Type")).isEqualTo("application/json");
        assertThat(r.out()).isEqualTo("a/eth0: link down\n");
    }

    @Test
    void linkUp() {
        server.json("PATCH", "/api/v1/vms/a/nics/eth0", 200, ETH0);
        CliRun r = CliRun.run(server.url(), "link", "up", "a", "eth0");
        assertThat(r.code()).isZero();
        assertThat(only().json()).isEqualTo(parse("{\"link\":\"up\"}"));
        assertThat(r.out()).isEqualTo("a/eth0: link up\n");
    }

    @Test
    void linkDownJsonPrintsTheNic() {
        server.json("PATCH", "/api/v1/vms/a/nics/eth0", 200, ETH0_DOWN);
        CliRun r = CliRun.run(server.url(), "link", "down", "a", "eth0", "-o", "json");
        assertThat(parse(r.out())).isEqualTo(parse(ETH0_DOWN));
    }

    @Test
    void linkImpairSendsTheValuesAsTypedAndShowsTheMechanisms() {
        server.json("PATCH", "/api/v1/vms/a/nics/eth0", 200, ETH0_IMPAIRED);
        CliRun r = CliRun.run(server.url(), "link", "impair", "a", "eth0",
                "--delay", "50ms", "--jitter", "5ms", "--loss", "2%", "--rate", "10mbit");
        assertThat(r.code()).isZero();
        assertThat(only().json()).isEqualTo(parse(
                "{\"impair\":{\"delay\":\"50ms\",\"jitter\":\"5ms\",\"loss\":\"2%\",\"rate\":\"10mbit\"}}"));
        assertThat(r.out()).isEqualTo("""
                nic:      eth0 (vm a)
                network:  front
                ip:       198.18.10.2/24
                mac:      52:54:00:12:34:56
                link:     up
                tap:      vt1a2b3c4d
                impair:   delay 50ms, jitter 5ms, loss 2%, rate 10mbit
                mechanisms:
                  rate:   host tbf on the tap (both directions)
                  netem:  inside the guest (host kernel has no netem)
                """);
    }

    @Test
    void linkImpairSendsEveryOptionGiven() {
        server.json("PATCH", "/api/v1/vms/a/nics/eth1", 200, ETH1);
        CliRun r = CliRun.run(server.url(), "link", "impair", "a", "eth1", "--corrupt", "0.1%",
                "--duplicate", "1%", "--loss", "0.5%", "--rate", "512kbit", "--delay", "1.5s", "--jitter", "0");
        assertThat(r.code()).isZero();
        assertThat(only().json()).isEqualTo(parse("""
                {"impair":{"delay":"1.5s","jitter":"0","loss":"0.5%","rate":"512kbit","corrupt":"0.1%","duplicate":"1%"}}"""));
        assertThat(r.out()).contains("impair:   loss 0.5%, rate 512kbit, duplicate 1%\n",
                "mechanisms:\n  rate:  host tbf on the tap (both directions)\n").doesNotContain("netem");
    }

    @Test
    void linkImpairSendsTheDirectionAndShowsIt() {
        String answer = """
                {"name":"eth0","index":0,"network":"front","mac":"52:54:00:12:34:56","ip":"198.18.10.2","prefix":24,\
                "link":"up","impair":{"delayMs":100,"jitterMs":0,"lossPercent":0,"rateKbit":0,"corruptPercent":0,\
                "duplicatePercent":0,"direction":"ingress"},\
                "mechanisms":{"netemIngress":"tc netem inside the guest on an ifb"},"tap":"vt1a2b3c4d"}""";
        server.json("PATCH", "/api/v1/vms/a/nics/eth0", 200, answer);
        CliRun r = CliRun.run(server.url(), "link", "impair", "a", "eth0", "--delay", "100ms", "--direction", "ingress");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(only().json()).isEqualTo(parse("{\"impair\":{\"delay\":\"100ms\",\"direction\":\"ingress\"}}"));
        assertThat(r.out()).contains("impair:   delay 100ms, direction ingress\n",
                "mechanisms:\n  netemIngress:  tc netem inside the guest on an ifb\n");
        CliRun alone = CliRun.run(server.url(), "link", "impair", "a", "eth0", "--direction", "both");
        assertThat(alone.code()).as("a direction alone impairs nothing").isEqualTo(2);
    }

    @Test
    void linkImpairWithoutAnyImpairmentIsAUsageError() {
        CliRun r = CliRun.run(server.url(), "link", "impair", "a", "eth0");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("link impair needs at least one of --delay, --jitter, --loss, --rate, --corrupt,"
                + " --duplicate", "vmctl link clear a eth0", "Usage: vmctl link impair");
        assertThat(server.requests()).isEmpty();
    }

    @Test
    void linkImpairRejectedByServer() {
        server.json("PATCH", "/api/v1/vms/a/nics/eth0", 400,
                "{\"error\":\"invalid loss: '200%' is not a percentage\",\"detail\":\"allowed: 0%..100%\"}");
        CliRun r = CliRun.run(server.url(), "link", "impair", "a", "eth0", "--loss", "200%");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).isEqualTo("error: invalid loss: '200%' is not a percentage\n  allowed: 0%..100%\n");
    }

    @Test
    void linkClearSendsAnExplicitNull() {
        server.json("PATCH", "/api/v1/vms/a/nics/eth0", 200, ETH0);
        CliRun r = CliRun.run(server.url(), "link", "clear", "a", "eth0");
        assertThat(r.code()).isZero();
        FakeServer.Request req = only();
        assertThat(req.body()).isEqualTo("{\"impair\":null}");
        assertThat(req.json().has("impair")).isTrue();
        assertThat(req.json().get("impair").isNull()).isTrue();
        assertThat(r.out()).isEqualTo("a/eth0: impairments cleared\n");
    }

    @Test
    void linkMoveSendsTheNetworkAndPrintsTheNewAddress() {
        String moved = ETH0.replace("\"network\":\"front\"", "\"network\":\"back\"")
                .replace("198.18.10.2", "198.18.20.3");
        server.json("PATCH", "/api/v1/vms/a/nics/eth0", 200, moved);
        CliRun r = CliRun.run(server.url(), "link", "move", "a", "eth0", "--net", "back");
        assertThat(r.code()).isZero();
        assertThat(only().json()).isEqualTo(parse("{\"network\":\"back\"}"));
        assertThat(r.out()).isEqualTo("a/eth0: moved to network back, address 198.18.20.3/24\n");
    }

    @Test
    void linkMoveWithAnIp() {
        server.json("PATCH", "/api/v1/vms/a/nics/eth0", 200, ETH1);
        CliRun r = CliRun.run(server.url(), "link", "move", "a", "eth0", "--ip", "198.18.20.7", "--net", "back");
        assertThat(r.code()).isZero();
        assertThat(only().json()).isEqualTo(parse("{\"network\":\"back\",\"ip\":\"198.18.20.7\"}"));
    }

    @Test
    void linkMoveNeedsANetwork() {
        CliRun r = CliRun.run(server.url(), "link", "move", "a", "eth0");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("Missing required option: '--net=NET'");
        assertThat(server.requests()).isEmpty();
    }

    @Test
    void linkOnAnUnknownNic() {
        server.json("PATCH", "/api/v1/vms/a/nics/eth7", 404, "{\"error\":\"vm a has no NIC eth7\",\"detail\":\"NICs: eth0\"}");
        CliRun r = CliRun.run(server.url(), "link", "down", "a", "eth7");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).isEqualTo("error: vm a has no NIC eth7\n  NICs: eth0\n");
    }

    @Test
    void linkShowListsTheNics() {
        server.json("GET", "/api/v1/vms/a", 200, vmWithNics("a", "RUNNING", ETH0, ETH1));
        CliRun r = CliRun.run(server.url(), "link", "show", "a");
        assertThat(r.code()).isZero();
        assertThat(r.out()).isEqualTo("""
                NAME  NETWORK  IP           MAC                LINK  IMPAIR
                eth0  front    198.18.10.2  52:54:00:12:34:56  up    -
                eth1  back     198.18.20.7  52:54:00:ab:cd:ef  down  loss 0.5%, rate 512kbit, duplicate 1%
                """);
    }

    @Test
    void linkShowOneNic() {
        server.json("GET", "/api/v1/vms/a", 200, vmWithNics("a", "RUNNING", ETH0, ETH0_IMPAIRED.replace("eth0", "eth1")));
        CliRun r = CliRun.run(server.url(), "link", "show", "a", "eth1");
        assertThat(r.code()).isZero();
        assertThat(r.out()).startsWith("nic:      eth1 (vm a)\n")
                .endsWith("mechanisms:\n  rate:   host tbf on the tap (both directions)\n"
                        + "  netem:  inside the guest (host kernel has no netem)\n");
    }

    @Test
    void linkShowJsonIsTheServersNics() {
        server.json("GET", "/api/v1/vms/a", 200, vmWithNics("a", "RUNNING", ETH0, ETH1));
        CliRun all = CliRun.run(server.url(), "link", "show", "a", "-o", "json");
        assertThat(parse(all.out())).isEqualTo(parse("[" + ETH0 + "," + ETH1 + "]"));
        CliRun one = CliRun.run(server.url(), "link", "show", "a", "eth1", "-o", "json");
        assertThat(parse(one.out())).isEqualTo(parse(ETH1));
    }

    @Test
    void linkShowOfAMissingNic() {
        server.json("GET", "/api/v1/vms/a", 200, vmWithNics("a", "RUNNING", ETH0, ETH1));
        CliRun r = CliRun.run(server.url(), "link", "show", "a", "eth5");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).isEqualTo("error: vm a has no NIC eth5\n  its NICs: eth0, eth1\n");
    }

    @Test
    void linkShowOfAVmWithoutNics() {
        server.json("GET", "/api/v1/vms/c", 200, Vms.vm("c", "STOPPED"));
        assertThat(CliRun.run(server.url(), "link", "show", "c").out()).isEqualTo("NAME  NETWORK  IP  MAC  LINK  IMPAIR\n");
        CliRun one = CliRun.run(server.url(), "link", "show", "c", "eth0");
        assertThat(one.code()).isEqualTo(1);
        assertThat(one.err()).isEqualTo("error: vm c has no NIC eth0\n  it has no NICs\n");
    }

    // --- nic -----------------------------------------------------------------------------------------

    @Test
    void nicAddPostsTheNetwork() {
        server.json("POST", "/api/v1/vms/a/nics", 201, ETH1);
        CliRun r = CliRun.run(server.url(), "nic", "add", "a", "--net", "back");
        assertThat(r.code()).isZero();
        assertThat(only().json()).isEqualTo(parse("{\"network\":\"back\"}"));
        assertThat(r.out()).startsWith("adding a NIC on network back to a…\n")
                .containsPattern("\nadded eth1 to a in \\d+\\.\\ds: network back, address 198.18.20.7/24, mac 52:54:00:ab:cd:ef\n$");
    }

    @Test
    void nicAddWithAnIpAndJsonOutput() {
        server.json("POST", "/api/v1/vms/a/nics", 201, ETH1);
        CliRun r = CliRun.run(server.url(), "nic", "add", "a", "--net", "back", "--ip", "198.18.20.7", "-o", "json");
        assertThat(r.code()).isZero();
        assertThat(only().json()).isEqualTo(parse("{\"network\":\"back\",\"ip\":\"198.18.20.7\"}"));
        assertThat(parse(r.out())).isEqualTo(parse(ETH1));
        assertThat(r.err()).isEqualTo("adding a NIC on network back to a…\n");
    }

    @Test
    void nicAddOfAnIpOutsideTheSubnet() {
        server.json("POST", "/api/v1/vms/a/nics", 400,
                "{\"error\":\"ip 10.1.1.1 is not in network back (198.18.20.0/24)\"}");
        CliRun r = CliRun.run(server.url(), "nic", "add", "a", "--net", "back", "--ip", "10.1.1.1");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).isEqualTo("error: ip 10.1.1.1 is not in network back (198.18.20.0/24)\n");
    }

    @Test
    void nicRmDeletesAndSaysItTakesAFewSeconds() {
        server.json("DELETE", "/api/v1/vms/a/nics/eth1", 200, ETH1);
        CliRun r = CliRun.run(server.url(), "nic", "rm", "a", "eth1");
        assertThat(r.code()).isZero();
        assertThat(only().body()).isEmpty();
        assertThat(r.out()).matches("removing NIC eth1 from a… \\(PCIe unplug takes a few seconds\\)\n"
                + "removed eth1 from a in \\d+\\.\\ds\n");
    }

    @Test
    void nicRmJsonKeepsProgressOnStderr() {
        server.json("DELETE", "/api/v1/vms/a/nics/eth1", 200, ETH1);
        CliRun r = CliRun.run(server.url(), "nic", "rm", "a", "eth1", "-o", "json");
        assertThat(r.code()).isZero();
        assertThat(parse(r.out())).isEqualTo(parse(ETH1));
        assertThat(r.err()).startsWith("removing NIC eth1 from a…");
    }

    @Test
    void nicRmFailure() {
        server.json("DELETE", "/api/v1/vms/a/nics/eth1", 409,
                "{\"error\":\"nic rm: device_del rp1 timed out\",\"detail\":\"the guest did not release the device\"}");
        CliRun r = CliRun.run(server.url(), "nic", "rm", "a", "eth1");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.out()).startsWith("removing NIC eth1 from a…");
        assertThat(r.err()).isEqualTo("error: nic rm: device_del rp1 timed out\n  the guest did not release the device\n");
    }

    @Test
    void nicCommandsWaitAMinuteByDefault() {
        CommandLine cl = VmctlCli.commandLine(new PrintWriter(new StringWriter()), new PrintWriter(new StringWriter()),
                Map.of());
        CommandLine.ParseResult add = cl.parseArgs("nic", "add", "a", "--net", "back");
        assertThat(((NicAddCommand) leaf(add).commandSpec().userObject()).timeout).isEqualTo(Duration.ofSeconds(60));
        CommandLine.ParseResult rm = cl.parseArgs("nic", "rm", "a", "eth1", "--timeout", "2m");
        assertThat(((NicRemoveCommand) leaf(rm).commandSpec().userObject()).timeout).isEqualTo(Duration.ofMinutes(2));
        assertThat(LinkMoveCommand.TIMEOUT).isEqualTo(Duration.ofSeconds(60));
    }

    private static CommandLine.ParseResult leaf(CommandLine.ParseResult r) {
        while (r.hasSubcommand()) r = r.subcommand();
        return r;
    }

    @Test
    void unreachableServerExits3() throws IOException {
        int port;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            port = s.getLocalPort();
        }
        CliRun r = CliRun.run("http://127.0.0.1:" + port, "link", "down", "a", "eth0");
        assertThat(r.code()).isEqualTo(3);
        assertThat(r.err()).startsWith("error: cannot reach the vmctl server");
    }
}
