package dev.sluice.mesh.server;

import org.jspecify.annotations.Nullable;

/**
 * One xDS type of one proxy, as {@code istioctl proxy-status} shows it: {@code SYNCED} (the last
 * response was ACKed), {@code NOT SENT} (nothing sent yet), {@code STALE} (sent, not ACKed: no
 * reply yet, or a NACK whose {@code nackMessage} says why). {@code type} is CDS, LDS, EDS or RDS.
 */
public record TypeStatus(
    String type,
    @Nullable String sentVersion,
    @Nullable String ackedVersion,
    String state,
    @Nullable String nackedVersion,
    @Nullable String nackMessage) {
  public static final String SYNCED = "SYNCED";
  public static final String NOT_SENT = "NOT SENT";
  public static final String STALE = "STALE";
}
