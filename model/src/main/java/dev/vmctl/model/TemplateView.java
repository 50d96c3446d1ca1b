package dev.vmctl.model;

import java.util.List;

/**
 * A request-driven node template as the API shows it: the node it was made from ({@code from}, TOPO/NODE), the node
 * snapshot it owns, the service ({@code vm} answering on {@code port}, checked with {@code ready}: {@code tcp} or
 * {@code http:/PATH}), its limits ({@code maxConcurrent} requests at once, each within {@code timeoutMs}), its network
 * ({@code subnet}: every copy gets the template's addresses inside its own segment), its members in start order, the
 * warm pool ({@code poolWarm} wanted, {@code poolReady} prepared now) and how many requests are being served.
 */
public record TemplateView(String name, String from, String snapshot, String vm, int port, String ready, int maxConcurrent,
                           long timeoutMs, String subnet, List<Member> members, List<List<String>> stages, int poolWarm,
                           int poolReady, int active, long invocations, String createdAt) {
    public TemplateView {
        members = members == null ? List.of() : List.copyOf(members);
        stages = stages == null ? List.of() : List.copyOf(stages);
    }

    /** One VM of the template's node: its name in the node, its snapshot, and the addresses of its NICs in NIC order. */
    public record Member(String vm, String snapshot, List<String> ips) {
        public Member {
            ips = ips == null ? List.of() : List.copyOf(ips);
        }
    }
}
