package dev.sluice.accesslog;

import dev.sluice.api.config.ConfigException;
import dev.sluice.api.stream.StreamInfo;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.util.AsciiString;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import org.jspecify.annotations.Nullable;

/** {@code %PATH(X:Y)%} and {@code %QUERY_PARAM(X)%}. */
final class PathOperators {
  private static final AsciiString PATH = AsciiString.cached(":path");
  private static final AsciiString ORIGINAL_PATH = AsciiString.cached("x-envoy-original-path");

  private PathOperators() {}

  /** X: WQ (with query, default) or NQ; Y: ORIG, PATH or ORIG_OR_PATH (default). */
  static CommandOperator path(@Nullable String arg) {
    String[] parts = arg == null || arg.isEmpty() ? new String[0] : arg.split(":", -1);
    if (parts.length > 2) {
      throw new ConfigException("", "PATH: too many arguments '" + arg + "'");
    }
    String query = parts.length > 0 ? parts[0] : "WQ";
    String source = parts.length > 1 ? parts[1] : "ORIG_OR_PATH";
    if (!query.equals("WQ") && !query.equals("NQ")) {
      throw new ConfigException("", "PATH: invalid option '" + query + "', expected WQ or NQ");
    }
    boolean orig = source.equals("ORIG") || source.equals("ORIG_OR_PATH");
    boolean path = source.equals("PATH") || source.equals("ORIG_OR_PATH");
    if (!orig && !path) {
      throw new ConfigException("", "PATH: invalid source '" + source + "'");
    }
    boolean noQuery = query.equals("NQ");
    return new CommandOperator() {
      @Override
      boolean append(StreamInfo info, StringBuilder out) {
        Http2Headers h = info.requestHeaders;
        if (h == null) {
          return false;
        }
        CharSequence v = orig ? h.get(ORIGINAL_PATH) : null;
        if (v == null && path) {
          v = h.get(PATH);
        }
        if (v == null) {
          return false;
        }
        out.append(v, 0, noQuery ? HeaderOperator.indexOfQuery(v) : v.length());
        return true;
      }
    };
  }

  /** The first value of query parameter {@code name} in {@code :path}, percent-decoded. */
  static CommandOperator queryParam(@Nullable String name) {
    if (name == null || name.isEmpty()) {
      throw new ConfigException("", "QUERY_PARAM requires a parameter name");
    }
    return new CommandOperator() {
      @Override
      boolean append(StreamInfo info, StringBuilder out) {
        Http2Headers h = info.requestHeaders;
        CharSequence p = h == null ? null : h.get(PATH);
        if (p == null) {
          return false;
        }
        String path = p.toString();
        int q = path.indexOf('?');
        if (q < 0) {
          return false;
        }
        int end = path.indexOf('#', q);
        if (end < 0) {
          end = path.length();
        }
        int i = q + 1;
        while (i <= end) {
          int amp = path.indexOf('&', i);
          if (amp < 0 || amp > end) {
            amp = end;
          }
          int eq = path.indexOf('=', i);
          int keyEnd = eq < 0 || eq > amp ? amp : eq;
          if (keyEnd - i == name.length() && path.startsWith(name, i)) {
            String raw = keyEnd == amp ? "" : path.substring(keyEnd + 1, amp);
            // Percent-decoding only: '+' is kept, as Envoy's decoder keeps it.
            try {
              out.append(URLDecoder.decode(raw.replace("+", "%2B"), StandardCharsets.UTF_8));
            } catch (IllegalArgumentException malformedEscape) {
              out.append(raw);
            }
            return true;
          }
          i = amp + 1;
        }
        return false;
      }
    };
  }
}
