package dev.sluice.api.upstream;

/**
 * What the data path tells a host's outlier detector (Envoy's {@code Outlier::DetectorHostMonitor}).
 * The router reports every upstream response code; connection pools and the router report locally
 * originated events (connect failure, timeout, reset). Called on worker threads, so an
 * implementation must be lock-free; the default does nothing (no outlier detection configured).
 */
public interface OutlierMonitor {
  OutlierMonitor NONE = new OutlierMonitor() {};

  /** An HTTP response status from the upstream (externally originated result). */
  default void putHttpResponseCode(int status) {}

  /** A locally originated or classified result, as Envoy's {@code Outlier::Result}. */
  default void putResult(Result result) {}

  /** Envoy's {@code Outlier::Result}. */
  enum Result {
    /** The upstream answered a request with a failure (e.g. gRPC/5xx classified elsewhere). */
    EXT_ORIGIN_REQUEST_FAILED,
    EXT_ORIGIN_REQUEST_SUCCESS,
    LOCAL_ORIGIN_CONNECT_FAILED,
    LOCAL_ORIGIN_CONNECT_SUCCESS,
    /** The connection succeeded and the request completed: resets the local-origin failure run. */
    LOCAL_ORIGIN_CONNECT_SUCCESS_FINAL,
    LOCAL_ORIGIN_TIMEOUT
  }
}
