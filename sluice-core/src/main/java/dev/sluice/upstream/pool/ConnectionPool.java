package dev.sluice.upstream.pool;

import dev.sluice.api.upstream.Host;
import org.jspecify.annotations.Nullable;

/**
 * The connections of one worker to one host for one protocol (Envoy's per-worker pool). Streams
 * go on idle or multiplexed connections, new connections open within the circuit breakers, and
 * requests wait in a bounded pending queue meanwhile.
 */
public interface ConnectionPool {
  Host host();

  /**
   * Asks for a stream. The answer comes through {@code callbacks}, possibly before this returns.
   *
   * @return a handle to cancel the wait when the request is pending, else null
   */
  @Nullable Cancellable newStream(PoolCallbacks callbacks, UpstreamResponseCallbacks response);

  /** Closes idle connections now and the others when their streams end; no new streams. */
  void drain();

  /** True when the pool holds no connections and no pending requests. */
  boolean idle();

  /** A pending request's cancel handle. */
  interface Cancellable {
    void cancel();
  }
}
