package dev.sluice.upstream.outlier;

import dev.sluice.api.stats.Counter;
import dev.sluice.api.stats.Gauge;
import dev.sluice.api.stats.StatsScope;

/**
 * Envoy's {@code cluster.<name>.outlier_detection.*} stats: per ejection type a detected and an
 * enforced counter, the totals, the active gauge, overflows, and the deprecated
 * {@code ejections_total}, {@code ejections_consecutive_5xx} and {@code ejections_success_rate}
 * (counted even when not enforced).
 */
final class OutlierStats {
  final Gauge ejectionsActive;
  final Counter ejectionsOverflow;
  final Counter ejectionsEnforcedTotal;
  final Counter ejectionsTotal;
  final Counter ejectionsConsecutive5xx;
  final Counter ejectionsSuccessRate;
  private final Counter[] detected = new Counter[EjectionType.values().length];
  private final Counter[] enforced = new Counter[EjectionType.values().length];

  /** @param clusterScope {@code cluster.<name>.} */
  OutlierStats(StatsScope clusterScope) {
    StatsScope s = clusterScope.scope("outlier_detection.");
    ejectionsActive = s.gauge("ejections_active");
    ejectionsOverflow = s.counter("ejections_overflow");
    ejectionsEnforcedTotal = s.counter("ejections_enforced_total");
    ejectionsTotal = s.counter("ejections_total");
    ejectionsConsecutive5xx = s.counter("ejections_consecutive_5xx");
    ejectionsSuccessRate = s.counter("ejections_success_rate");
    for (EjectionType t : EjectionType.values()) {
      detected[t.ordinal()] = s.counter("ejections_detected_" + t.statName);
      enforced[t.ordinal()] = s.counter("ejections_enforced_" + t.statName);
    }
  }

  Counter detected(EjectionType type) {
    return detected[type.ordinal()];
  }

  Counter enforced(EjectionType type) {
    return enforced[type.ordinal()];
  }
}
