package dev.vmctl.cli;

import picocli.CommandLine;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The networking options that carry structure: {@code --nic net=front,ip=198.18.20.7,rate=10mbit} (vm create) and
 * {@code --route 10.0.0.0/8=198.18.20.9} (router create). A malformed value is a usage error (exit 2)
 * that says what was expected; the addresses themselves are checked by the server.
 */
final class NetOptions {
    static final List<String> NIC_KEYS = List.of("net", "ip", "rate");

    private NetOptions() {}

    /** One {@code --nic}: the network to attach to and, optionally, a static IP. */
    record NicSpec(String network, String ip, String rate) {
        NicSpec(String network, String ip) {
            this(network, ip, null);
        }

        /** The element of the create body's {@code nics}: {@code {"network":…,"ip":…,"rate":…}}, ip and rate only when given. */
        Map<String, Object> json() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("network", network);
            if (ip != null) m.put("ip", ip);
            if (rate != null) m.put("rate", rate);
            return m;
        }
    }

    /** One {@code --route}: traffic to {@code to} goes via {@code via}. */
    record RouteSpec(String to, String via) {
        Map<String, Object> json() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("to", to);
            m.put("via", via);
            return m;
        }
    }

    /** {@code net=front}, {@code net=back,ip=198.18.20.7}, keys in any order. */
    static NicSpec parseNic(String text) {
        Map<String, String> kv = new LinkedHashMap<>();
        for (String part : text.split(",", -1)) {
            int eq = part.indexOf('=');
            if (eq < 0) {
                throw new IllegalArgumentException("'" + part + "' in '" + text + "' is not KEY=VALUE"
                        + " (expected e.g. net=front,ip=198.18.10.7; keys: " + String.join(", ", NIC_KEYS) + ")");
            }
            String key = part.substring(0, eq).strip();
            String value = part.substring(eq + 1).strip();
            if (!NIC_KEYS.contains(key)) {
                throw new IllegalArgumentException("unknown key '" + key + "' in '" + text + "' (allowed: "
                        + String.join(", ", NIC_KEYS) + ")");
            }
            if (value.isEmpty()) throw new IllegalArgumentException("no value for " + key + " in '" + text + "'");
            if (kv.put(key, value) != null) {
                throw new IllegalArgumentException(key + " given twice in '" + text + "'");
            }
        }
        if (!kv.containsKey("net")) {
            throw new IllegalArgumentException("'" + text + "' names no network (expected net=NAME[,ip=IP])");
        }
        return new NicSpec(kv.get("net"), kv.get("ip"), kv.get("rate"));
    }

    /** {@code 10.0.0.0/8=198.18.20.9}. */
    static RouteSpec parseRoute(String text) {
        int eq = text.indexOf('=');
        if (eq < 0) {
            throw new IllegalArgumentException("'" + text + "' is not CIDR=VIA (expected e.g. 10.0.0.0/8=198.18.20.9)");
        }
        String to = text.substring(0, eq).strip();
        String via = text.substring(eq + 1).strip();
        if (to.isEmpty() || via.isEmpty() || via.contains("=")) {
            throw new IllegalArgumentException("'" + text + "' is not CIDR=VIA (expected e.g. 10.0.0.0/8=198.18.20.9)");
        }
        return new RouteSpec(to, via);
    }

    static final class NicConverter implements CommandLine.ITypeConverter<NicSpec> {
        @Override
        public NicSpec convert(String value) {
            try {
                return parseNic(value);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }

    static final class RouteConverter implements CommandLine.ITypeConverter<RouteSpec> {
        @Override
        public RouteSpec convert(String value) {
            try {
                return parseRoute(value);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }
}
