package dev.sluice.upstream.health;

/** The outcome of one active health check, as Envoy's health checkers classify it. */
enum CheckResult {
  HEALTHY,
  /** Passed, but the host answered {@code x-envoy-degraded}. */
  DEGRADED,
  /** Wrong status, bad gRPC answer, or identity mismatch: the host fails at once. */
  FAILED,
  /** A {@code retriable_statuses} status: counts towards {@code unhealthy_threshold}. */
  RETRIABLE_FAILED,
  /** Connect failure, reset or close before an answer: counts towards the threshold. */
  NETWORK_FAILED
}
