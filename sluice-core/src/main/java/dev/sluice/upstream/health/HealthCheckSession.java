package dev.sluice.upstream.health;

import dev.sluice.upstream.HealthFlag;
import dev.sluice.upstream.HostImpl;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One host's active health checking, on the control thread (Envoy's ActiveHealthCheckSession):
 * timers, thresholds and the host's FAILED_ACTIVE_HC / DEGRADED_ACTIVE_HC / PENDING_ACTIVE_HC /
 * ACTIVE_HC_TIMEOUT flags. The first result decides at once; after that a host turns healthy after
 * {@code healthy_threshold} passes in a row, and unhealthy after {@code unhealthy_threshold}
 * network failures (timeouts included) or retriable statuses in a row, or at once on any other
 * failure.
 */
final class HealthCheckSession {
  private static final Logger log = LoggerFactory.getLogger(HealthCheckSession.class);

  /** Envoy's HealthTransition. */
  enum Transition { UNCHANGED, CHANGED, CHANGE_PENDING }

  /** Envoy's FailureType. */
  private enum Failure { ACTIVE, PASSIVE, NETWORK, NETWORK_TIMEOUT }

  final HostImpl host;
  private final HealthChecker parent;
  private final Probe probe;
  private int numHealthy;
  private int numUnhealthy;
  private boolean firstCheck = true;
  /** Identifies the running check, so a late answer or timeout of an earlier one is ignored. */
  private long attempt;
  private @Nullable ScheduledFuture<?> intervalTimer;
  private @Nullable ScheduledFuture<?> timeoutTimer;
  private boolean stopped;

  HealthCheckSession(HostImpl host, HealthChecker parent, Probe probe) {
    this.host = host;
    this.parent = parent;
    this.probe = probe;
  }

  /** The first check, after a random part of {@code initial_jitter}. */
  void start() {
    long jitter = parent.config().initialJitter().toMillis();
    schedule(jitter > 0 ? parent.random().nextLong(jitter) : 0);
  }

  void stop() {
    stopped = true;
    cancel(intervalTimer);
    cancel(timeoutTimer);
    probe.close();
  }

  private void schedule(long delayMillis) {
    cancel(intervalTimer);
    intervalTimer = parent.control().schedule(this::runCheck, delayMillis, TimeUnit.MILLISECONDS);
  }

  private void runCheck() {
    if (stopped) {
      return;
    }
    long id = ++attempt;
    parent.stats().attempt.inc();
    timeoutTimer = parent.control().schedule(() -> onTimeout(id),
        parent.config().timeout().toMillis(), TimeUnit.MILLISECONDS);
    probe.check(result -> parent.control().execute(() -> onResult(id, result)));
  }

  private void onResult(long id, CheckResult result) {
    if (stopped || id != attempt) {
      return;
    }
    cancel(timeoutTimer);
    switch (result) {
      case HEALTHY -> handleSuccess(false);
      case DEGRADED -> handleSuccess(true);
      case FAILED -> handleFailure(Failure.ACTIVE, false);
      case RETRIABLE_FAILED -> handleFailure(Failure.ACTIVE, true);
      case NETWORK_FAILED -> handleFailure(Failure.NETWORK, false);
    }
  }

  private void onTimeout(long id) {
    if (stopped || id != attempt) {
      return;
    }
    attempt++;
    probe.abort();
    handleFailure(Failure.NETWORK_TIMEOUT, false);
  }

  /** {@code x-envoy-immediate-health-check-fail} seen on traffic: fail now, keep the schedule. */
  void setUnhealthyPassive() {
    if (stopped) {
      return;
    }
    host.setHealthFlag(HealthFlag.EXCLUDED_VIA_IMMEDIATE_HC_FAIL, true);
    Transition t = fail(Failure.PASSIVE, false);
    parent.onComplete(this, t == Transition.UNCHANGED ? Transition.CHANGED : t);
  }

  private void handleSuccess(boolean degraded) {
    HealthCheckStats stats = parent.stats();
    stats.success.inc();
    numUnhealthy = 0;
    Transition t = Transition.UNCHANGED;
    if (host.hasHealthFlag(HealthFlag.FAILED_ACTIVE_HC)) {
      // The very first result moves a new host to healthy at once (faster start-up, as Envoy).
      if (firstCheck || ++numHealthy == parent.config().healthyThreshold()) {
        host.setHealthFlag(HealthFlag.ACTIVE_HC_TIMEOUT, false);
        host.setHealthFlag(HealthFlag.EXCLUDED_VIA_IMMEDIATE_HC_FAIL, false);
        host.setHealthFlag(HealthFlag.FAILED_ACTIVE_HC, false);
        t = Transition.CHANGED;
        log.debug("health check: {} in cluster {} is now healthy", host, host.cluster().name());
      } else {
        t = Transition.CHANGE_PENDING;
      }
    }
    t = clearPending(t);
    if (degraded != host.hasHealthFlag(HealthFlag.DEGRADED_ACTIVE_HC)) {
      host.setHealthFlag(HealthFlag.DEGRADED_ACTIVE_HC, degraded);
      t = Transition.CHANGED;
    }
    firstCheck = false;
    parent.onComplete(this, t);
    parent.onPassed(host);
    schedule(parent.interval(true, t));
  }

  private void handleFailure(Failure type, boolean retriable) {
    Transition t = fail(type, retriable);
    boolean first = firstCheck;
    firstCheck = false;
    if (first || parent.config().alwaysLogFailures()) {
      log.info("health check failure ({}) for {} in cluster {}", type.name().toLowerCase(java.util.Locale.ROOT),
          host, host.cluster().name());
    }
    parent.onComplete(this, t);
    schedule(parent.interval(false, t));
  }

  private Transition fail(Failure type, boolean retriable) {
    numHealthy = 0;
    Transition t = Transition.UNCHANGED;
    boolean network = type == Failure.NETWORK || type == Failure.NETWORK_TIMEOUT;
    if (!host.hasHealthFlag(HealthFlag.FAILED_ACTIVE_HC)) {
      if ((!network && !retriable) || ++numUnhealthy == parent.config().unhealthyThreshold()) {
        host.setHealthFlag(HealthFlag.FAILED_ACTIVE_HC, true);
        t = Transition.CHANGED;
        log.debug("health check: {} in cluster {} is now unhealthy", host, host.cluster().name());
      } else {
        t = Transition.CHANGE_PENDING;
      }
    }
    // The timeout flag tells why an unhealthy host failed; a later non-timeout failure clears it.
    host.setHealthFlag(HealthFlag.ACTIVE_HC_TIMEOUT, type == Failure.NETWORK_TIMEOUT
        && host.hasHealthFlag(HealthFlag.FAILED_ACTIVE_HC));
    HealthCheckStats stats = parent.stats();
    stats.failure.inc();
    if (network) {
      stats.networkFailure.inc();
    } else if (type == Failure.PASSIVE) {
      stats.passiveFailure.inc();
    }
    return clearPending(t);
  }

  /** A new host's first result always publishes (the pending flag goes away). */
  private Transition clearPending(Transition t) {
    return host.setHealthFlag(HealthFlag.PENDING_ACTIVE_HC, false) ? Transition.CHANGED : t;
  }

  private static void cancel(@Nullable ScheduledFuture<?> timer) {
    if (timer != null) {
      timer.cancel(false);
    }
  }
}
