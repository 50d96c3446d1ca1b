package dev.vmctl.model;

/**
 * One thing wrong with a scenario file: 1-based line and column (0 when unknown), the field path
 * (e.g. {@code steps[3].fault.link.impair.loss}), what is wrong and what is allowed (null: nothing to list).
 */
public record ScenarioProblem(String file, int line, int column, String path, String message, String allowed) {}
