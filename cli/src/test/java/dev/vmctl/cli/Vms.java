package dev.vmctl.cli;

/** VmView JSON as the server would send it (with a field the CLI does not know, to prove it is ignored). */
final class Vms {
    private Vms() {}

    static String vm(String name, String state) {
        return vm(name, state, null, "2026-11-28T10:00:00Z");
    }

    static String vm(String name, String state, String error, String updatedAt) {
        return """
                {"id":"id-%s","name":"%s","state":"%s","image":"tiny","cpus":1,"memoryMiB":128,"accel":"tcg",\
                "createdAt":"2026-11-28T09:59:58.123456Z","updatedAt":"%s","pid":%s,"error":%s,"futureField":{"x":1}}"""
                .formatted(name, name, state, updatedAt, "RUNNING".equals(state) ? "4242" : "null",
                        error == null ? "null" : "\"" + error + "\"");
    }
}
