package dev.vmctl.model;

import java.util.List;

/** A router (a vmctl-owned namespace with forwarding on) joining segments. */
public record RouterView(String id, String name, String netns, List<Leg> networks, List<Route> routes, String createdAt) {
    public RouterView {
        networks = networks == null ? List.of() : networks;
        routes = routes == null ? List.of() : routes;
    }

    public record Leg(String network, String address) {}

    public record Route(String to, String via) {}
}
