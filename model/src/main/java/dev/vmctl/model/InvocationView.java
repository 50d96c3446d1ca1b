package dev.vmctl.model;

import java.util.Map;

/**
 * One request served by a template's node: how it came ({@code method}, {@code path}), how it ended ({@code status}
 * as the client got it, {@code error} when vmctl answered itself: 429, 502, 504), the segment it ran in, whether a warm
 * pool slot served it, and its timings in milliseconds (the {@code Server-Timing} names: queue, segment, restore,
 * ready, upstream, total; plus teardown once the node and segment are gone). {@code cleaned} is false until then.
 */
public record InvocationView(String id, String template, String method, String path, Integer status, String error,
                             String segment, boolean pooled, Map<String, Double> timings, String startedAt,
                             String finishedAt, boolean cleaned) {
    public InvocationView {
        timings = timings == null ? Map.of() : java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(timings));
    }
}
