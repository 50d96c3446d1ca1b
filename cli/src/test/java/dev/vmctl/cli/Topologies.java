package dev.vmctl.cli;

/** Topology JSON as the server sends it (with fields the CLI does not know, to prove they are ignored). */
final class Topologies {
    private Topologies() {}

    /** The example, as a user writes it. */
    static final String SHOP_YAML = """
            apiVersion: vmctl/v1
            kind: Topology
            name: shop
            networks:
              - {name: public, subnet: 198.18.1.0/24}
              - {name: internal, subnet: 198.18.2.0/24}
            nodes:
              - name: svc
                vms:
                  - {name: api,     role: api-handler, image: tiny, memory: 128M, nics: [public, internal]}
                  - {name: cache,   role: db-cache,    image: tiny, memory: 128M, nics: [internal], startBefore: [api]}
                  - {name: gateway, role: external-gw, image: tiny, memory: 128M, nics: [public]}
            """;

    static final String APPLIED = """
            {"topology":"shop","dryRun":false,"ok":true,"summary":"topology shop: 5 change(s) applied in 4.3 s",
             "steps":[
              {"verb":"create","type":"network","name":"shop-public","description":"create network shop-public 198.18.1.0/24","status":"done","error":null,"millis":120},
              {"verb":"create","type":"network","name":"shop-internal","description":"create network shop-internal 198.18.2.0/24","status":"done","error":null,"millis":95},
              {"verb":"create","type":"vm","name":"shop-svc-cache","description":"create vm shop-svc-cache (db-cache) on internal","status":"done","error":null,"millis":1800},
              {"verb":"create","type":"vm","name":"shop-svc-api","description":"create vm shop-svc-api (api-handler) on public, internal","status":"done","error":null,"millis":2140},
              {"verb":"create","type":"vm","name":"shop-svc-gateway","description":"create vm shop-svc-gateway (external-gw) on public","status":"done","error":null,"millis":2050}],
             "durationMs":4301,"parallelBoots":4,"rolledBack":false,"planVersion":1}""";

    static final String FAILED = """
            {"topology":"shop","dryRun":false,"ok":false,
             "summary":"topology shop: 2 of 5 change(s) failed; kept what was created (vmctl down shop removes it)",
             "steps":[
              {"verb":"delete","type":"vm","name":"shop-svc-old","description":"delete vm shop-svc-old (legacy)","status":"done","error":null,"millis":310},
              {"verb":"create","type":"network","name":"shop-dmz","description":"create network shop-dmz 198.18.3.0/24","status":"done","error":null,"millis":80},
              {"verb":"change","type":"vm","name":"shop-svc-gateway","description":"change vm shop-svc-gateway (external-gw): nics public → public, dmz","status":"done","error":null,"millis":2200},
              {"verb":"create","type":"vm","name":"shop-svc-cache","description":"create vm shop-svc-cache (db-cache) on internal","status":"failed","error":"boot: no answer from the guest agent within 60s\\nlast console line: Kernel panic","millis":null},
              {"verb":"create","type":"vm","name":"shop-svc-api","description":"create vm shop-svc-api (api-handler) on public, internal","status":"skipped","error":"not started: cache (which must start before it) failed","millis":null}],
             "durationMs":63000,"parallelBoots":4,"rolledBack":false}""";

    static final String PLANNED = """
            {"topology":"shop","dryRun":true,"ok":true,"summary":"3 change(s) planned (dry run)",
             "steps":[
              {"verb":"create","type":"network","name":"shop-dmz","description":"create network shop-dmz 198.18.3.0/24","status":"planned","error":null,"millis":null},
              {"verb":"change","type":"vm","name":"shop-svc-gateway","description":"change vm shop-svc-gateway (external-gw): nics public → public, dmz","status":"planned","error":null,"millis":null},
              {"verb":"delete","type":"vm","name":"shop-svc-old","description":"delete vm shop-svc-old (legacy)","status":"planned","error":null,"millis":null}],
             "durationMs":0,"parallelBoots":4,"rolledBack":false}""";

    static final String NOTHING = """
            {"topology":"shop","dryRun":false,"ok":true,"summary":"topology shop is up to date: nothing to do",
             "steps":[],"durationMs":0,"parallelBoots":4,"rolledBack":false}""";

    static final String DESTROYED = """
            {"topology":"shop","dryRun":false,"ok":true,"summary":"topology shop: 3 element(s) destroyed in 1.2 s",
             "steps":[
              {"verb":"delete","type":"vm","name":"shop-svc-api","description":"delete vm shop-svc-api","status":"done","error":null,"millis":900},
              {"verb":"delete","type":"network","name":"public","description":"delete network public","status":"done","error":null,"millis":40},
              {"verb":"delete","type":"network","name":"internal","description":null,"status":"failed","error":"network internal is in use by vm x (eth0)","millis":null}],
             "durationMs":1200,"parallelBoots":4,"rolledBack":false}""";

    static final String SVC = """
            {"topology":"shop","name":"svc","state":"RUNNING","vms":[
              {"name":"shop-svc-api","vm":"api","role":"api-handler","state":"RUNNING","ips":["198.18.1.2","198.18.2.2"],"error":null},
              {"name":"shop-svc-cache","vm":"cache","role":"db-cache","state":"RUNNING","ips":["198.18.2.3"],"error":null},
              {"name":"shop-svc-gateway","vm":"gateway","role":"external-gw","state":"RUNNING","ips":["198.18.1.3"],"error":null}]}""";

    static final String SVC_STOPPED = SVC.replace("\"RUNNING\"", "\"STOPPED\"");

    static final String DB = """
            {"topology":"lab","name":"db","state":"ERROR","vms":[
              {"name":"lab-db-primary","vm":"primary","role":"db-primary","state":"ERROR","ips":["198.18.12.10"],"error":"qemu exited with status 1\\nno kvm"},
              {"name":"lab-db-replica","vm":"replica","role":"db-replica","state":"STOPPED","ips":[],"error":null}]}""";

    static final String SHOP = """
            {"name":"shop","file":"shop.yaml","appliedAt":"2026-11-28T10:00:00.123Z","state":"RUNNING",
             "networks":["public","internal"],"routers":[],"nodes":[%s]}""".formatted(SVC);

    static final String LAB = """
            {"name":"lab","file":"routed-lab.yaml","appliedAt":"2026-11-28T11:30:00Z","state":"ERROR",
             "networks":["seg-a","seg-b","isolated"],"routers":["core"],"nodes":[%s]}""".formatted(DB);
}
