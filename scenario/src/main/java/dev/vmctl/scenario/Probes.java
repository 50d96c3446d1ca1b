package dev.vmctl.scenario;

import dev.vmctl.model.ExecResult;
import dev.vmctl.scenario.ScenarioSpec.Exec;
import dev.vmctl.scenario.ScenarioSpec.Http;
import dev.vmctl.scenario.ScenarioSpec.Ping;
import dev.vmctl.scenario.ScenarioSpec.Probe;
import dev.vmctl.scenario.ScenarioSpec.Tcp;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How a check's probe runs inside its VM (busybox tools of the guest image, argv only: user values are
 * arguments, never shell text) and how its output is read into measured values.
 */
final class Probes {
    private Probes() {}

    /** One try of a probe: whether it succeeded (reachable, status matched, …), what was measured, and why. */
    record Attempt(boolean success, boolean error, Map<String, Object> measured, String message) {}

    /** Slack between an attempt's own deadline and the exec call's. */
    static final Duration EXEC_SLACK = Duration.ofSeconds(3);
    static final int EXCERPT = 400;

    private static final Pattern PING_COUNTS = Pattern.compile("(\\d+) packets transmitted, (\\d+) (?:packets )?received");
    private static final Pattern PING_RTT = Pattern.compile("min/avg/max(?:/mdev)? = ([\\d.]+)/([\\d.]+)/([\\d.]+)");
    private static final Pattern HTTP_STATUS = Pattern.compile("HTTP/\\d(?:\\.\\d)? (\\d{3})");

    /** The argv of one attempt; {@code to} is already an address. */
    static List<String> argv(Probe p, String to, Duration timeout) {
        String secs = Long.toString(Math.max(1, (timeout.toMillis() + 999) / 1000));
        return switch (p) {
            case Ping ping -> List.of("ping", "-c", Integer.toString(ping.count()), "-i", seconds(ping.interval()), "-W", "1", "-w", secs, to);
            // busybox wget -T crashes (SIGSEGV in 1.35): the deadline is busybox timeout's
            case Http http -> List.of("timeout", secs, "wget", "-S", "-O", "-", "http://" + to + ":" + http.port() + http.path());
            // busybox nc has no -z: connect with stdin at its end, which closes at once once connected
            case Tcp tcp -> List.of("/bin/sh", "-c", "exec nc -w \"$1\" \"$2\" \"$3\" </dev/null", "nc", secs, to,
                    Integer.toString(tcp.port()));
            case Exec exec -> exec.argv();
        };
    }

    /** 200ms → "0.2", 10ms → "0.01", 1500ms → "1.5" (busybox ping takes fractional seconds). */
    static String seconds(Duration d) {
        return java.math.BigDecimal.valueOf(d.toMillis(), 3).stripTrailingZeros().toPlainString();
    }

    static Attempt read(Probe p, ExecResult r) {
        return switch (p) {
            case Ping ping -> ping(ping, r);
            case Http http -> http(http, r);
            case Tcp tcp -> tcp(r);
            case Exec exec -> exec(exec, r);
        };
    }

    static Attempt ping(Ping p, ExecResult r) {
        Map<String, Object> m = new LinkedHashMap<>();
        String out = r.stdout() + "\n" + r.stderr();
        Matcher c = PING_COUNTS.matcher(out);
        if (!c.find()) {
            m.put("exitCode", r.exitCode());
            return new Attempt(false, false, m, r.timedOut() ? "ping timed out" : "no ping statistics: " + excerpt(oneLine(out)));
        }
        int sent = Integer.parseInt(c.group(1));
        int received = Integer.parseInt(c.group(2));
        double loss = sent == 0 ? 100 : Math.round((sent - received) * 1000.0 / sent) / 10.0;
        m.put("sent", sent);
        m.put("received", received);
        m.put("lossPct", loss);
        Matcher rtt = PING_RTT.matcher(out);
        Double avg = null, min = null, max = null;
        if (rtt.find()) {
            min = Double.parseDouble(rtt.group(1));
            avg = Double.parseDouble(rtt.group(2));
            max = Double.parseDouble(rtt.group(3));
            m.put("rttMinMs", min);
            m.put("rttAvgMs", avg);
            m.put("rttMaxMs", max);
        }
        if (received == 0) return new Attempt(false, false, m, "no reply (loss 100%)");
        if (loss > p.maxLossPct()) return new Attempt(false, false, m, "loss " + fmt(loss) + "% > " + fmt(p.maxLossPct()) + "%");
        if (p.maxRttMs() != null && max != null && max > p.maxRttMs()) {
            return new Attempt(false, false, m, "rtt max " + fmt(max) + " ms > " + fmt(p.maxRttMs()) + " ms");
        }
        if (p.minRttMs() != null && min != null && min < p.minRttMs()) {
            return new Attempt(false, false, m, "rtt min " + fmt(min) + " ms < " + fmt(p.minRttMs()) + " ms");
        }
        return new Attempt(true, false, m, "loss " + fmt(loss) + "%" + (avg == null ? "" : ", rtt " + fmt(min) + "/" + fmt(avg) + "/" + fmt(max) + " ms"));
    }

    static Attempt http(Http p, ExecResult r) {
        Map<String, Object> m = new LinkedHashMap<>();
        Integer status = null;
        Matcher s = HTTP_STATUS.matcher(r.stderr() + "\n" + r.stdout());
        while (s.find()) status = Integer.parseInt(s.group(1)); // the last one (after redirects)
        m.put("status", status);
        if (status == null) {
            return new Attempt(false, false, m, r.timedOut() ? "no answer (timed out)" : "no HTTP answer: " + excerpt(oneLine(r.stderr())));
        }
        String body = r.exitCode() == 0 ? r.stdout() : "";
        m.put("bodyExcerpt", excerpt(body));
        if (status != p.expectStatus()) return new Attempt(false, false, m, "status " + status + ", expected " + p.expectStatus());
        if (p.bodyMatches() != null && !Pattern.compile(p.bodyMatches()).matcher(body).find()) {
            return new Attempt(false, false, m, "body does not match /" + p.bodyMatches() + "/");
        }
        return new Attempt(true, false, m, "status " + status);
    }

    static Attempt tcp(ExecResult r) {
        Map<String, Object> m = new LinkedHashMap<>();
        boolean ok = r.exitCode() == 0;
        m.put("connected", ok);
        return new Attempt(ok, false, m, ok ? "connected" : r.timedOut() ? "connect timed out" : "cannot connect: " + excerpt(oneLine(r.stderr())));
    }

    static Attempt exec(Exec p, ExecResult r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("exitCode", r.exitCode());
        m.put("stdout", excerpt(r.stdout()));
        if (!r.stderr().isBlank()) m.put("stderr", excerpt(r.stderr()));
        if (r.timedOut()) return new Attempt(false, false, m, "timed out");
        if (r.exitCode() != p.expectExit()) return new Attempt(false, false, m, "exit " + r.exitCode() + ", expected " + p.expectExit());
        if (p.stdoutMatches() != null && !Pattern.compile(p.stdoutMatches()).matcher(r.stdout()).find()) {
            return new Attempt(false, false, m, "stdout does not match /" + p.stdoutMatches() + "/");
        }
        return new Attempt(true, false, m, "exit " + r.exitCode());
    }

    static String excerpt(String s) {
        if (s == null) return "";
        return s.length() <= EXCERPT ? s : s.substring(0, EXCERPT) + "…";
    }

    private static String oneLine(String s) {
        return s == null ? "" : s.strip().replaceAll("\\s*\\n\\s*", " | ");
    }

    static String fmt(double d) {
        return d == Math.rint(d) ? Long.toString((long) d) : String.format(java.util.Locale.ROOT, "%.2f", d);
    }
}
