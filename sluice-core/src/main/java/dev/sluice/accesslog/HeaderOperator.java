package dev.sluice.accesslog;

import dev.sluice.api.config.ConfigException;
import dev.sluice.api.stream.StreamInfo;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.util.AsciiString;
import java.util.Locale;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * {@code %REQ(X?Y)%}, {@code %RESP(X?Y)%}, {@code %TRAILER(X?Y)%}: the header {@code X}, else
 * {@code Y}. Names are matched lower-case (HTTP/2 header names; Envoy's operator argument is
 * case-insensitive). With {@code stripQuery} it is Envoy's {@code %REQ_WITHOUT_QUERY%} formatter.
 */
final class HeaderOperator extends CommandOperator {
  private final Function<StreamInfo, @Nullable Http2Headers> headers;
  private final AsciiString main;
  private final @Nullable AsciiString alternative;
  private final boolean stripQuery;

  private HeaderOperator(
      Function<StreamInfo, @Nullable Http2Headers> headers,
      AsciiString main,
      @Nullable AsciiString alternative,
      boolean stripQuery) {
    this.headers = headers;
    this.main = main;
    this.alternative = alternative;
    this.stripQuery = stripQuery;
  }

  /** Parses {@code X?Y}; both names must be non-empty. */
  static HeaderOperator parse(
      String command,
      @Nullable String arg,
      Function<StreamInfo, @Nullable Http2Headers> headers,
      boolean stripQuery) {
    if (arg == null || arg.isEmpty()) {
      throw new ConfigException("", command + " requires a header name, e.g. " + command + "(:path)");
    }
    int q = arg.indexOf('?');
    String main = q < 0 ? arg : arg.substring(0, q);
    String alt = q < 0 ? null : arg.substring(q + 1);
    if (main.isEmpty() || (alt != null && (alt.isEmpty() || alt.indexOf('?') >= 0))) {
      throw new ConfigException("", "More than 1 alternative header specified in token: " + arg);
    }
    return new HeaderOperator(
        headers,
        AsciiString.of(main.toLowerCase(Locale.ROOT)),
        alt == null ? null : AsciiString.of(alt.toLowerCase(Locale.ROOT)),
        stripQuery);
  }

  @Override
  boolean append(StreamInfo info, StringBuilder out) {
    Http2Headers h = headers.apply(info);
    if (h == null) {
      return false;
    }
    CharSequence v = h.get(main);
    if (v == null && alternative != null) {
      v = h.get(alternative);
    }
    if (v == null) {
      return false;
    }
    if (stripQuery) {
      int end = indexOfQuery(v);
      out.append(v, 0, end);
    } else {
      out.append(v);
    }
    return true;
  }

  static int indexOfQuery(CharSequence v) {
    for (int i = 0; i < v.length(); i++) {
      char c = v.charAt(i);
      if (c == '?' || c == '#') {
        return i;
      }
    }
    return v.length();
  }
}
