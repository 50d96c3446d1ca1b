package dev.vmctl.cli;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.List;
import java.util.Map;

/**
 * What the CLI reads of the networking API's answers (networks, routers, NICs). Like the model's
 * records these are read tolerantly: fields the CLI does not know are ignored, missing ones are null.
 * The {@code -o json} forms never go through them; they print the server's JSON as it came.
 */
final class NetViews {
    private NetViews() {}

    /** {@code GET /api/v1/networks/{name}}. */
    record Network(String id, String name, String subnet, String gateway, Integer vlan, String bridge,
                   String vlanMechanism, List<String> routers, List<Attachment> attachments, String createdAt) {
        Network {
            routers = routers == null ? List.of() : routers;
            attachments = attachments == null ? List.of() : attachments;
        }
    }

    /** A VM NIC on a network. */
    record Attachment(String vm, String nic, String ip, String mac) {}

    /** {@code GET /api/v1/routers/{name}}. */
    record Router(String id, String name, String netns, List<RouterPort> networks, List<Route> routes,
                  String createdAt) {
        Router {
            networks = networks == null ? List.of() : networks;
            routes = routes == null ? List.of() : routes;
        }
    }

    /** The router's address on one network, e.g. {@code 198.18.10.1/24}. */
    record RouterPort(String network, String address) {}

    record Route(String to, String via) {}

    /** One NIC of a VM: an element of a VM's {@code nics} and the answer of the NIC endpoints. */
    record Nic(String name, Integer index, String network, String mac, String ip, Integer prefix, String link,
               Impair impair, Map<String, JsonNode> mechanisms, String tap) {
        Nic {
            mechanisms = mechanisms == null ? Map.of() : mechanisms;
        }

        /** {@code 198.18.10.2/24}, the bare IP without a prefix, or null. */
        String address() {
            if (ip == null || ip.isBlank()) return null;
            return prefix == null ? ip : ip + "/" + prefix;
        }
    }

    /** The impairments in force on a NIC; zero or null means "not impaired in that way". */
    record Impair(Double delayMs, Double jitterMs, Double lossPercent, Double rateKbit, Double corruptPercent,
                  Double duplicatePercent) {}

    /** A VM's {@code nics} (empty when the server sent none). */
    static List<Nic> nicsOf(JsonNode vm) {
        JsonNode nics = vm == null ? null : vm.get("nics");
        if (nics == null || nics.isNull() || nics.isMissingNode()) return List.of();
        return Json.listOf(nics, Nic.class);
    }
}
