package dev.sluice.upstream.pool;

/** Why an upstream stream failed: maps to Envoy's reset reasons and response flags. */
public enum ResetReason {
  /** Could not connect (flag UF). */
  CONNECTION_FAILURE("connection failure"),
  /** Connect timeout (flag UF). */
  CONNECTION_TIMEOUT("connection timeout"),
  /** The connection closed under the stream (flag UC). */
  CONNECTION_TERMINATION("connection termination"),
  /** We reset it (flag LR). */
  LOCAL_RESET("local reset"),
  /** The upstream reset the stream (flag UR). */
  REMOTE_RESET("remote reset"),
  /** The upstream refused the stream (HTTP/2 REFUSED_STREAM; flag UR). */
  REMOTE_REFUSED_STREAM_RESET("remote refused stream reset"),
  /** Circuit breaker overflow (flag UO). */
  OVERFLOW("overflow"),
  /** The upstream broke the protocol (flag UPE). */
  PROTOCOL_ERROR("protocol error");

  private final String text;

  ResetReason(String text) {
    this.text = text;
  }

  /** As Envoy prints it in "reset reason: ..." local reply bodies. */
  public String text() {
    return text;
  }
}
