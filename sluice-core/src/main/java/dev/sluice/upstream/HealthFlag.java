package dev.sluice.upstream;

/**
 * Why a host is unhealthy or degraded (Envoy's Host::HealthFlag). Each source owns its bit, so
 * EDS, active health checking and outlier detection can set and clear theirs independently. The
 * declaration order is the order in which {@code /clusters} prints them, as Envoy's.
 */
public enum HealthFlag {
  FAILED_ACTIVE_HC(true),
  FAILED_OUTLIER_CHECK(true),
  FAILED_EDS_HEALTH(true),
  DEGRADED_ACTIVE_HC(false),
  DEGRADED_EDS_HEALTH(false),
  /** Added while active health checking runs and not checked yet (shown until the first result). */
  PENDING_ACTIVE_HC(false),
  /** An upstream answered {@code x-envoy-immediate-health-check-fail}; cleared by a passing check. */
  EXCLUDED_VIA_IMMEDIATE_HC_FAIL(false),
  /** The last active health check timed out (set with FAILED_ACTIVE_HC once it takes effect). */
  ACTIVE_HC_TIMEOUT(false);

  final int bit = 1 << ordinal();
  final boolean failure;

  HealthFlag(boolean failure) {
    this.failure = failure;
  }

  static final int FAILURE_MASK = FAILED_ACTIVE_HC.bit | FAILED_OUTLIER_CHECK.bit | FAILED_EDS_HEALTH.bit;
  static final int DEGRADED_MASK = DEGRADED_ACTIVE_HC.bit | DEGRADED_EDS_HEALTH.bit;
}
