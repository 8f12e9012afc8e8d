package dev.sluice.listener;

import dev.sluice.api.stats.Counter;
import dev.sluice.api.stats.Gauge;
import dev.sluice.api.stats.StatsScope;

/** Envoy's {@code listener_manager.*} stats (pilot-agent polls {@code workers_started}). */
public final class ListenerManagerStats {
  public final Counter listenerAdded;
  public final Counter listenerModified;
  public final Counter listenerRemoved;
  public final Counter listenerStopped;
  /** Per worker a listener was added to, as Envoy counts. */
  public final Counter listenerCreateSuccess;
  public final Counter listenerCreateFailure;
  public final Gauge totalListenersActive;
  public final Gauge totalListenersDraining;
  public final Gauge totalListenersWarming;
  public final Gauge workersStarted;

  ListenerManagerStats(StatsScope root) {
    StatsScope scope = root.scope("listener_manager.");
    listenerAdded = scope.counter("listener_added");
    listenerModified = scope.counter("listener_modified");
    listenerRemoved = scope.counter("listener_removed");
    listenerStopped = scope.counter("listener_stopped");
    listenerCreateSuccess = scope.counter("listener_create_success");
    listenerCreateFailure = scope.counter("listener_create_failure");
    totalListenersActive = scope.gauge("total_listeners_active");
    totalListenersDraining = scope.gauge("total_listeners_draining");
    totalListenersWarming = scope.gauge("total_listeners_warming");
    workersStarted = scope.gauge("workers_started");
  }
}
