package dev.sluice.xds;

import com.google.common.hash.Hashing;
import dev.sluice.api.stats.Counter;
import dev.sluice.api.stats.Gauge;
import dev.sluice.api.stats.StatsScope;
import java.nio.charset.StandardCharsets;

/**
 * Envoy's subscription stats for one resource type ({@code cluster_manager.cds.*},
 * {@code listener_manager.lds.*}). {@code version} is a 64-bit hash of the last accepted
 * {@code version_info} (Envoy hashes with xxHash64; here FarmHash fingerprint64: the value differs
 * from Envoy's, a change of version shows the same way).
 */
final class SubscriptionStats {
  final Counter updateAttempt;
  final Counter updateSuccess;
  final Counter updateRejected;
  final Counter updateFailure;
  final Counter updateEmpty;
  final Counter initFetchTimeout;
  final Gauge version;
  final Gauge updateTime;

  SubscriptionStats(StatsScope scope) {
    updateAttempt = scope.counter("update_attempt");
    updateSuccess = scope.counter("update_success");
    updateRejected = scope.counter("update_rejected");
    updateFailure = scope.counter("update_failure");
    updateEmpty = scope.counter("update_empty");
    initFetchTimeout = scope.counter("init_fetch_timeout");
    version = scope.gauge("version");
    updateTime = scope.gauge("update_time");
  }

  void accepted(String versionInfo, long epochMillis) {
    updateSuccess.inc();
    version.set(hash(versionInfo));
    updateTime.set(epochMillis);
  }

  static long hash(String versionInfo) {
    return Hashing.farmHashFingerprint64().hashString(versionInfo, StandardCharsets.UTF_8).asLong();
  }
}
