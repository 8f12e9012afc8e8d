package dev.sluice.api.http;

/** What a filter tells the filter manager after a callback (Envoy's FilterHeadersStatus & co). */
public enum FilterStatus {
  /** Pass to the next filter. */
  CONTINUE,
  /**
   * Stop here; the filter manager buffers what arrives next (data, trailers) until the filter calls
   * {@code continueDecoding()}/{@code continueEncoding()} (or sends a local reply). For data, the
   * current buffer is buffered too (Envoy's StopIterationAndBuffer).
   */
  STOP_ITERATION
}
