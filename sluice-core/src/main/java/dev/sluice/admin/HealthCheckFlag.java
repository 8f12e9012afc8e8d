package dev.sluice.admin;

/**
 * Envoy's "health check failed" switch, set by {@code POST /healthcheck/fail} and cleared by
 * {@code POST /healthcheck/ok}. The health check filter answers 503 while it is set and the server
 * reports DRAINING. Read with one volatile load.
 */
public final class HealthCheckFlag {
  private volatile boolean failed;

  public boolean failed() {
    return failed;
  }

  public void fail() {
    failed = true;
  }

  public void ok() {
    failed = false;
  }
}
