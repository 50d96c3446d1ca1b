package dev.vmctl.cli;

/** Networking JSON as the server sends it (with fields the CLI does not know, to prove they are ignored). */
final class Nets {
    private Nets() {}

    static final String FRONT = """
            {"id":"net-1","name":"front","subnet":"198.18.10.0/24","gateway":"198.18.10.1","vlan":null,\
            "bridge":"vb1a2b3c4d","vlanMechanism":"bridge-per-vlan","routers":["r1"],\
            "attachments":[{"vm":"a","nic":"eth0","ip":"198.18.10.2","mac":"52:54:00:12:34:56"},\
            {"vm":"b","nic":"eth1","ip":"198.18.10.3","mac":"52:54:00:12:34:57"},\
            {"vm":"a","nic":"eth1","ip":"198.18.10.4","mac":"52:54:00:12:34:58"}],\
            "createdAt":"2026-11-28T10:00:00.123Z","uplink":null}""";

    static final String BACK = """
            {"id":"net-2","name":"back","subnet":"198.18.20.0/24","gateway":"198.18.20.1","vlan":20,\
            "bridge":"vb9f8e7d6c","vlanMechanism":"bridge-per-vlan","routers":[],"attachments":[],\
            "createdAt":"2026-11-28T10:00:01Z"}""";

    static final String R1 = """
            {"id":"rt-1","name":"r1","netns":"vmctl-r-r1",\
            "networks":[{"network":"front","address":"198.18.10.1/24"},{"network":"back","address":"198.18.20.1/24"}],\
            "routes":[{"to":"10.0.0.0/8","via":"198.18.20.9"}],"createdAt":"2026-11-28T10:00:02Z","forwarding":true}""";

    static final String ETH0 = """
            {"name":"eth0","index":0,"network":"front","mac":"52:54:00:12:34:56","ip":"198.18.10.2","prefix":24,\
            "link":"up","impair":null,"mechanisms":null,"tap":"vt1a2b3c4d","pci":"rp0"}""";

    static final String ETH0_DOWN = ETH0.replace("\"link\":\"up\"", "\"link\":\"down\"");

    static final String ETH0_IMPAIRED = """
            {"name":"eth0","index":0,"network":"front","mac":"52:54:00:12:34:56","ip":"198.18.10.2","prefix":24,\
            "link":"up","impair":{"delayMs":50,"jitterMs":5,"lossPercent":2.0,"rateKbit":10000,"corruptPercent":0,\
            "duplicatePercent":0},\
            "mechanisms":{"rate":"host tbf on the tap (both directions)","netem":"inside the guest (host kernel has no netem)"},\
            "tap":"vt1a2b3c4d"}""";

    static final String ETH1 = """
            {"name":"eth1","index":1,"network":"back","mac":"52:54:00:ab:cd:ef","ip":"198.18.20.7","prefix":24,\
            "link":"down","impair":{"delayMs":0,"jitterMs":0,"lossPercent":0.5,"rateKbit":512,"corruptPercent":0,\
            "duplicatePercent":1},"mechanisms":{"rate":"host tbf on the tap (both directions)","netem":null},\
            "tap":"vt9f8e7d6c"}""";

    /** A VM as the server sends it, with the given NICs' JSON as its {@code nics}. */
    static String vmWithNics(String name, String state, String... nics) {
        String vm = Vms.vm(name, state);
        return vm.substring(0, vm.length() - 1) + ",\"nics\":[" + String.join(",", nics) + "]}";
    }
}
