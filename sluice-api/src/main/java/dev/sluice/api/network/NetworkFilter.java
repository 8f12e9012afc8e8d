package dev.sluice.api.network;

/**
 * A network filter, built once per filter chain from its config, applied to each connection the
 * chain accepts by adding Netty handlers to the connection's pipeline (in chain order). The last
 * filter of a chain is terminal: it consumes the bytes (HTTP connection manager, TCP proxy).
 */
public interface NetworkFilter {
  void install(DownstreamConnection connection);
}
