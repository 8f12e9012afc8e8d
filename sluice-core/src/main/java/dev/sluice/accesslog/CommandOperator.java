package dev.sluice.accesslog;

import dev.sluice.api.stream.StreamInfo;

/**
 * One compiled command operator ({@code %RESPONSE_CODE%}, {@code %REQ(:path)%}...). Renders
 * straight into the caller's builder so a whole line costs one {@link StringBuilder}.
 */
abstract class CommandOperator {
  /**
   * Appends this operator's value for {@code info}. Returns false, having appended nothing, when
   * the value is absent (the caller then writes Envoy's {@code -}, or nothing when empty values are
   * omitted).
   */
  abstract boolean append(StreamInfo info, StringBuilder out);

  /** True when Envoy renders the value as a JSON number in typed JSON formats. */
  boolean numeric() {
    return false;
  }

  /** An operator Sluice accepts but has no data for (dynamic metadata, CEL, TLS details...). */
  static final CommandOperator ABSENT =
      new CommandOperator() {
        @Override
        boolean append(StreamInfo info, StringBuilder out) {
          return false;
        }
      };
}
