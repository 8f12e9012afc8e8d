package dev.sluice.stats;

/** One tag of a stat, as Envoy's tag extractors produce it (e.g. {@code envoy.cluster_name=foo}). */
public record Tag(String name, String value) {}
