package dev.sluice.upstream.outlier;

import dev.sluice.api.stats.StatsScope;
import dev.sluice.api.upstream.OutlierMonitor;
import dev.sluice.upstream.ClusterImpl;
import dev.sluice.upstream.HealthFlag;
import dev.sluice.upstream.HostImpl;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.random.RandomGenerator;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A cluster's outlier detector (Envoy's Outlier::DetectorImpl), on the control thread. Consecutive
 * errors arrive from workers as soon as a host's run reaches its threshold; every {@code interval}
 * the detector re-admits hosts whose ejection has lasted {@code base_ejection_time} times their
 * backoff (capped by {@code max_ejection_time}, plus jitter), closes the success-rate interval and
 * runs the success rate and failure percentage checks. An ejection sets FAILED_OUTLIER_CHECK and
 * republishes the cluster's snapshot; {@code max_ejection_percent} bounds how many hosts may be
 * ejected at once, {@code enforcing_*} how often a detection really ejects.
 */
public final class OutlierDetector implements ClusterImpl.HostWatcher {
  private static final Logger log = LoggerFactory.getLogger(OutlierDetector.class);

  private final OutlierDetectionConfig config;
  private final OutlierStats stats;
  private final ScheduledExecutorService control;
  private final LongSupplier nanoClock;
  private final RandomGenerator random;
  private final Runnable refreshHealth;
  private final Map<HostImpl, HostMonitor> monitors = new IdentityHashMap<>();
  private @Nullable ScheduledFuture<?> timer;
  private boolean stopped;
  private volatile double successRateAverage = -1;
  private volatile double successRateThreshold = -1;
  private volatile double localOriginSuccessRateAverage = -1;
  private volatile double localOriginSuccessRateThreshold = -1;

  /**
   * @param clusterScope {@code cluster.<name>.}
   * @param control the control thread: detection, timers, ejections
   * @param nanoClock monotonic time (tests pass a manual clock)
   * @param random for {@code enforcing_*} and the ejection jitter
   * @param refreshHealth republishes the cluster's snapshot after flags changed
   */
  public OutlierDetector(OutlierDetectionConfig config, StatsScope clusterScope,
      ScheduledExecutorService control, LongSupplier nanoClock, RandomGenerator random,
      Runnable refreshHealth) {
    this.config = config;
    this.stats = new OutlierStats(clusterScope);
    this.control = control;
    this.nanoClock = nanoClock;
    this.random = random;
    this.refreshHealth = refreshHealth;
  }

  @Override
  public void hostsAdded(List<HostImpl> added) {
    for (HostImpl h : added) {
      HostMonitor m = new HostMonitor(h, this, config);
      monitors.put(h, m);
      h.setOutlierMonitor(m);
    }
  }

  @Override
  public void hostsRemoved(List<HostImpl> removed) {
    for (HostImpl h : removed) {
      if (monitors.remove(h) != null && h.setHealthFlag(HealthFlag.FAILED_OUTLIER_CHECK, false)) {
        stats.ejectionsActive.dec();
      }
      h.setOutlierMonitor(OutlierMonitor.NONE);
    }
  }

  @Override
  public void start() {
    if (stopped) {
      return;
    }
    long ms = config.interval().toMillis();
    timer = control.scheduleWithFixedDelay(this::runInterval, ms, ms, TimeUnit.MILLISECONDS);
  }

  @Override
  public void stop() {
    stopped = true;
    if (timer != null) {
      timer.cancel(false);
    }
  }

  /** The monitor of a host of this cluster, or null. Control thread. */
  @Nullable HostMonitor monitor(HostImpl host) {
    return monitors.get(host);
  }

  /** The mean success rate of the last interval ({@code /clusters}), or -1. */
  public double successRateAverage(boolean localOrigin) {
    return localOrigin ? localOriginSuccessRateAverage : successRateAverage;
  }

  /** The success rate below which hosts were ejected in the last interval, or -1. */
  public double successRateEjectionThreshold(boolean localOrigin) {
    return localOrigin ? localOriginSuccessRateThreshold : successRateThreshold;
  }

  /** A worker saw a host reach a consecutive-error threshold. */
  void onConsecutiveError(HostMonitor monitor, EjectionType type) {
    control.execute(() -> consecutiveError(monitor, type));
  }

  private void consecutiveError(HostMonitor m, EjectionType type) {
    // The host may have left meanwhile, or be ejected already.
    if (stopped || monitors.get(m.host) != m || m.host.hasHealthFlag(HealthFlag.FAILED_OUTLIER_CHECK)) {
      return;
    }
    stats.detected(type).inc();
    if (type == EjectionType.CONSECUTIVE_5XX) {
      stats.ejectionsConsecutive5xx.inc();
    }
    boolean ejected = eject(m, type, nanoClock.getAsLong());
    // Reset the run, so a new run of errors can be detected even without a success between.
    switch (type) {
      case CONSECUTIVE_5XX -> m.consecutive5xx.set(0);
      case CONSECUTIVE_GATEWAY_FAILURE -> m.consecutiveGatewayFailure.set(0);
      default -> m.consecutiveLocalOriginFailure.set(0);
    }
    if (ejected) {
      refreshHealth.run();
    }
  }

  /**
   * An active health check passed: with {@code successful_active_health_check_uneject_host} (the
   * default), an ejected host comes back at once. Control thread.
   */
  public void onActiveHealthCheckPassed(HostImpl host) {
    HostMonitor m = monitors.get(host);
    if (m != null && config.successfulActiveHealthCheckUnejectHost()
        && host.hasHealthFlag(HealthFlag.FAILED_OUTLIER_CHECK)) {
      uneject(m, nanoClock.getAsLong());
      refreshHealth.run();
    }
  }

  /** One interval: re-admissions, then success rate and failure percentage. Control thread. */
  public void runInterval() {
    if (stopped) {
      return;
    }
    long now = nanoClock.getAsLong();
    boolean changed = false;
    for (HostMonitor m : monitors.values()) {
      changed |= checkForUneject(m, now);
      m.external.swap();
      m.localOrigin.swap();
      m.setSuccessRate(false, -1);
      m.setSuccessRate(true, -1);
    }
    changed |= processSuccessRate(false, now);
    if (config.splitExternalLocalOriginErrors()) {
      changed |= processSuccessRate(true, now);
    }
    if (changed) {
      refreshHealth.run();
    }
  }

  private boolean checkForUneject(HostMonitor m, long now) {
    long base = config.baseEjectionTime().toMillis();
    if (!m.host.hasHealthFlag(HealthFlag.FAILED_OUTLIER_CHECK)) {
      // Each base_ejection_time a re-admitted host stays in, its backoff shrinks by one step.
      if (m.lastUnejectionNanos >= 0 && millis(now - m.lastUnejectionNanos) >= base) {
        if (m.ejectTimeBackoff > 0) {
          m.ejectTimeBackoff--;
        }
        m.lastUnejectionNanos = now;
      }
      return false;
    }
    long max = Math.max(base, config.maxEjectionTime().toMillis());
    long ejection = Math.min(base * m.ejectTimeBackoff, max) + m.jitterMillis;
    if (millis(now - m.lastEjectionNanos) >= ejection) {
      uneject(m, now);
      return true;
    }
    return false;
  }

  private void uneject(HostMonitor m, long now) {
    if (m.host.setHealthFlag(HealthFlag.FAILED_OUTLIER_CHECK, false)) {
      stats.ejectionsActive.dec();
    }
    // Fresh runs, so a host near a threshold is not ejected again by a handful of errors.
    m.resetConsecutive();
    m.lastUnejectionNanos = now;
    log.debug("outlier detection: {} in cluster {} re-admitted", m.host, m.host.cluster().name());
  }

  /** Returns true when the host was ejected. */
  private boolean eject(HostMonitor m, EjectionType type, long now) {
    int maxPercent = Math.min(100, config.maxEjectionPercent());
    long active = stats.ejectionsActive.value();
    double ejectedPercent = 100.0 * (active + 1) / monitors.size();
    if (ejectedPercent > maxPercent && !(active == 0 && config.alwaysEjectOneHost())) {
      stats.ejectionsOverflow.inc();
      return false;
    }
    stats.ejectionsTotal.inc();
    if (random.nextInt(100) >= type.enforcing(config)) {
      return false;
    }
    stats.ejectionsActive.inc();
    stats.ejectionsEnforcedTotal.inc();
    stats.enforced(type).inc();
    long base = config.baseEjectionTime().toMillis();
    // The backoff stops growing once base x backoff reaches max_ejection_time.
    if (base * m.ejectTimeBackoff < config.maxEjectionTime().toMillis()) {
      m.ejectTimeBackoff++;
    }
    long maxJitter = config.maxEjectionTimeJitter().toMillis();
    m.jitterMillis = maxJitter > 0 ? random.nextLong(maxJitter + 1) : 0;
    m.host.setHealthFlag(HealthFlag.FAILED_OUTLIER_CHECK, true);
    m.numEjections++;
    m.lastEjectionNanos = now;
    log.debug("outlier detection: {} in cluster {} ejected ({})", m.host, m.host.cluster().name(), type);
    return true;
  }

  /**
   * Envoy's success rate check (hosts with {@code success_rate_request_volume} requests, at least
   * {@code success_rate_minimum_hosts} of them: eject those below mean - stdev_factor x stdev)
   * and failure percentage check (hosts with {@code failure_percentage_request_volume}, at least
   * {@code failure_percentage_minimum_hosts}: eject those failing at least the threshold).
   */
  private boolean processSuccessRate(boolean local, long now) {
    if (local) {
      localOriginSuccessRateAverage = -1;
      localOriginSuccessRateThreshold = -1;
    } else {
      successRateAverage = -1;
      successRateThreshold = -1;
    }
    int size = monitors.size();
    if (size < config.successRateMinimumHosts() && size < config.failurePercentageMinimumHosts()) {
      return false;
    }
    record Sample(HostMonitor monitor, double rate, long volume) {}
    List<Sample> samples = new ArrayList<>();
    long minVolume = Math.min(config.successRateRequestVolume(), config.failurePercentageRequestVolume());
    for (HostMonitor m : monitors.values()) {
      HostMonitor.SuccessRateBuckets b = local ? m.localOrigin : m.external;
      if (m.host.hasHealthFlag(HealthFlag.FAILED_OUTLIER_CHECK) || b.volume() == 0) {
        continue;
      }
      if (b.volume() >= minVolume) {
        samples.add(new Sample(m, b.rate(), b.volume()));
        m.setSuccessRate(local, b.rate());
      }
    }
    boolean changed = false;
    List<Sample> forRate = samples.stream().filter(s -> s.volume >= config.successRateRequestVolume()).toList();
    if (!forRate.isEmpty() && forRate.size() >= config.successRateMinimumHosts()) {
      double mean = forRate.stream().mapToDouble(Sample::rate).sum() / forRate.size();
      double variance = forRate.stream().mapToDouble(s -> (s.rate - mean) * (s.rate - mean)).sum() / forRate.size();
      double threshold = mean - config.successRateStdevFactor() * Math.sqrt(variance);
      if (local) {
        localOriginSuccessRateAverage = mean;
        localOriginSuccessRateThreshold = threshold;
      } else {
        successRateAverage = mean;
        successRateThreshold = threshold;
      }
      EjectionType type = local ? EjectionType.SUCCESS_RATE_LOCAL_ORIGIN : EjectionType.SUCCESS_RATE;
      for (Sample s : forRate) {
        if (s.rate < threshold) {
          if (!local) {
            stats.ejectionsSuccessRate.inc();
          }
          stats.detected(type).inc();
          changed |= eject(s.monitor, type, now);
        }
      }
    }
    List<Sample> forPercent = samples.stream()
        .filter(s -> s.volume >= config.failurePercentageRequestVolume()).toList();
    if (!forPercent.isEmpty() && forPercent.size() >= config.failurePercentageMinimumHosts()) {
      EjectionType type = local ? EjectionType.FAILURE_PERCENTAGE_LOCAL_ORIGIN : EjectionType.FAILURE_PERCENTAGE;
      for (Sample s : forPercent) {
        if (100.0 - s.rate >= config.failurePercentageThreshold()
            && !s.monitor.host.hasHealthFlag(HealthFlag.FAILED_OUTLIER_CHECK)) {
          stats.detected(type).inc();
          changed |= eject(s.monitor, type, now);
        }
      }
    }
    return changed;
  }

  private static long millis(long nanos) {
    return TimeUnit.NANOSECONDS.toMillis(nanos);
  }
}
