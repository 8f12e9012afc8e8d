package dev.sluice.upstream.pool;

import dev.sluice.api.upstream.Host;

/** The answer to {@link ConnectionPool#newStream}: a stream, or why there is none. */
public interface PoolCallbacks {
  void onPoolReady(UpstreamStream stream, Host host);

  void onPoolFailure(ResetReason reason, String details, Host host);
}
