package dev.sluice.stats;

/**
 * Envoy's server states ({@code envoy.admin.v3.ServerInfo.State}); {@link #gaugeValue()} is what
 * the {@code server.state} gauge holds.
 */
public enum ServerState {
  LIVE(0),
  DRAINING(1),
  PRE_INITIALIZING(2),
  INITIALIZING(3);

  private final int gaugeValue;

  ServerState(int gaugeValue) {
    this.gaugeValue = gaugeValue;
  }

  public int gaugeValue() {
    return gaugeValue;
  }

  /**
   * Envoy's {@code Utility::serverState}: a failed health check (admin
   * {@code /healthcheck/fail}) shows as DRAINING whatever the initialisation state.
   */
  public static ServerState of(ServerState initState, boolean healthCheckFailed) {
    return healthCheckFailed ? DRAINING : initState;
  }
}
