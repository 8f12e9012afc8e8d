package dev.sluice.admin;

import java.util.concurrent.CompletableFuture;

/** Server commands the admin API triggers (implemented by the server). */
public interface ServerLifecycle {
  /** {@code /quitquitquit}: begin an orderly shutdown; returns at once. */
  void shutdown();

  /**
   * {@code /drain_listeners}: stop accepting on the listeners ({@code inboundOnly}: only those
   * whose {@code traffic_direction} is INBOUND); {@code graceful}: first drain for the drain time;
   * {@code skipExit}: do not exit after a graceful drain. The future completes when the drain has
   * started (Envoy answers at once and drains in the background).
   */
  CompletableFuture<Void> drainListeners(boolean inboundOnly, boolean graceful, boolean skipExit);
}
