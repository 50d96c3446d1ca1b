package dev.vmctl.cli;

/** Snapshot JSON as the server sends it (with a field the CLI does not know, to prove it is ignored). */
final class Snapshots {
    private Snapshots() {}

    static String snapshot(String name, String vm, long sizeBytes, String ramMode, String... clones) {
        StringBuilder c = new StringBuilder();
        for (String x : clones) c.append(c.isEmpty() ? "" : ",").append('"').append(x).append('"');
        return """
                {"name":"%s","createdAt":"2026-11-28T10:00:00.123456Z","parent":null,"vm":"%s","image":"tiny",\
                "cpus":1,"memoryMiB":128,"accel":"tcg","ramMode":"%s","compressed":false,\
                "nics":[{"index":0,"mac":"52:54:00:12:34:56"}],"sizeBytes":%d,\
                "files":[{"path":"state","size":1048576,"sha256":"ab12"},{"path":"disk.qcow2","size":%d,"sha256":"cd34"}],\
                "formatVersion":1,"clones":[%s],"futureField":{"x":1}}"""
                .formatted(name, vm, ramMode, sizeBytes, sizeBytes - 1048576, c);
    }

    /** A VM that has a NIC with the given IP. */
    static String vmWithIp(String name, String state, String error, String ip) {
        String vm = Vms.vm(name, state, error, "t-" + state);
        return vm.substring(0, vm.length() - 1) + ",\"nics\":[{\"name\":\"eth0\",\"index\":0,\"network\":\"front\","
                + "\"mac\":\"52:54:00:00:00:0" + name.charAt(name.length() - 1) + "\",\"ip\":\"" + ip
                + "\",\"prefix\":24,\"link\":\"up\"}]}";
    }
}
