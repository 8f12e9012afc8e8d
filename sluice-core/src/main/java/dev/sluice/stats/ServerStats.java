package dev.sluice.stats;

import dev.sluice.api.stats.Gauge;
import dev.sluice.api.stats.StatsScope;

/**
 * Envoy's {@code server.*} gauges, declared in one place. The server updates them from its
 * control thread (state changes, and once per stats flush for uptime and memory).
 */
public final class ServerStats {
  public final Gauge state;
  public final Gauge live;
  public final Gauge uptime;
  public final Gauge memoryAllocated;
  public final Gauge memoryHeapSize;
  public final Gauge memoryPhysicalSize;
  public final Gauge concurrency;
  public final Gauge daysUntilFirstCertExpiring;
  public final Gauge secondsUntilFirstOcspResponseExpiring;
  public final Gauge version;
  public final Gauge totalConnections;
  public final Gauge parentConnections;
  public final Gauge hotRestartEpoch;
  public final Gauge hotRestartGeneration;
  public final Gauge initializationTimeMs;

  public ServerStats(StatsScope root) {
    StatsScope s = root.scope("server.");
    state = s.gauge("state");
    live = s.gauge("live");
    uptime = s.gauge("uptime");
    memoryAllocated = s.gauge("memory_allocated");
    memoryHeapSize = s.gauge("memory_heap_size");
    memoryPhysicalSize = s.gauge("memory_physical_size");
    concurrency = s.gauge("concurrency");
    daysUntilFirstCertExpiring = s.gauge("days_until_first_cert_expiring");
    secondsUntilFirstOcspResponseExpiring = s.gauge("seconds_until_first_ocsp_response_expiring");
    version = s.gauge("version");
    totalConnections = s.gauge("total_connections");
    parentConnections = s.gauge("parent_connections");
    hotRestartEpoch = s.gauge("hot_restart_epoch");
    hotRestartGeneration = s.gauge("hot_restart_generation");
    initializationTimeMs = s.gauge("initialization_time_ms");
  }

  /** Sets {@code server.state} and {@code server.live} (1 only when LIVE). */
  public void setState(ServerState current) {
    state.set(current.gaugeValue());
    live.set(current == ServerState.LIVE ? 1 : 0);
  }
}
