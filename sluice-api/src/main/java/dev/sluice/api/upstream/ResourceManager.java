package dev.sluice.api.upstream;

/**
 * A cluster's circuit breakers for one priority (Envoy's ResourceManager): a limit and a live
 * count for connections, pending requests, requests, retries and connection pools. The counts are
 * shared by all workers (atomic), as Envoy's are.
 */
public interface ResourceManager {
  ResourceLimit connections();

  ResourceLimit pendingRequests();

  ResourceLimit requests();

  ResourceLimit retries();

  ResourceLimit connectionPools();

  /** One limited resource. Callers check {@link #canCreate()}, then {@link #inc()}, later {@link #dec()}. */
  interface ResourceLimit {
    boolean canCreate();

    void inc();

    void dec();

    long max();

    long count();
  }
}
