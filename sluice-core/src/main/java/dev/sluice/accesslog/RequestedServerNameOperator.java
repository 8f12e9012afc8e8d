package dev.sluice.accesslog;

import dev.sluice.api.config.ConfigException;
import dev.sluice.api.stream.StreamInfo;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.util.AsciiString;
import org.jspecify.annotations.Nullable;

/**
 * {@code %REQUESTED_SERVER_NAME(X:Y)%}: the SNI, optionally falling back to (SNI_FIRST) or
 * preferring (HOST_FIRST) the request host taken from {@code x-envoy-original-host} (ORIG),
 * {@code :authority} (HOST) or the first of them present (ORIG_OR_HOST, the default).
 */
final class RequestedServerNameOperator extends CommandOperator {
  private static final AsciiString ORIGINAL_HOST = AsciiString.cached("x-envoy-original-host");
  private static final AsciiString AUTHORITY = AsciiString.cached(":authority");

  private enum Mode {
    SNI_ONLY,
    SNI_FIRST,
    HOST_FIRST
  }

  private final Mode mode;
  private final boolean useOriginal;
  private final boolean useAuthority;

  private RequestedServerNameOperator(Mode mode, boolean useOriginal, boolean useAuthority) {
    this.mode = mode;
    this.useOriginal = useOriginal;
    this.useAuthority = useAuthority;
  }

  static RequestedServerNameOperator parse(@Nullable String arg) {
    if (arg == null || arg.isEmpty()) {
      return new RequestedServerNameOperator(Mode.SNI_ONLY, false, false);
    }
    String[] parts = arg.split(":", -1);
    Mode mode;
    try {
      mode = Mode.valueOf(parts[0]);
    } catch (IllegalArgumentException e) {
      throw new ConfigException("", "REQUESTED_SERVER_NAME: invalid option '" + parts[0] + "'");
    }
    String source = parts.length > 1 ? parts[1] : "ORIG_OR_HOST";
    if (parts.length > 2) {
      throw new ConfigException("", "REQUESTED_SERVER_NAME: too many arguments '" + arg + "'");
    }
    return switch (source) {
      case "ORIG" -> new RequestedServerNameOperator(mode, true, false);
      case "HOST" -> new RequestedServerNameOperator(mode, false, true);
      case "ORIG_OR_HOST" -> new RequestedServerNameOperator(mode, true, true);
      default -> throw new ConfigException("", "REQUESTED_SERVER_NAME: invalid host source '" + source + "'");
    };
  }

  @Override
  boolean append(StreamInfo info, StringBuilder out) {
    String sni = info.requestedServerName;
    boolean hasSni = sni != null && !sni.isEmpty();
    if (mode == Mode.SNI_ONLY || (mode == Mode.SNI_FIRST && hasSni)) {
      if (!hasSni) {
        return false;
      }
      out.append(sni);
      return true;
    }
    CharSequence host = host(info.requestHeaders);
    if (host != null) {
      out.append(host);
      return true;
    }
    if (hasSni) {
      out.append(sni);
      return true;
    }
    return false;
  }

  private @Nullable CharSequence host(@Nullable Http2Headers h) {
    if (h == null) {
      return null;
    }
    CharSequence v = useOriginal ? h.get(ORIGINAL_HOST) : null;
    if (v == null && useAuthority) {
      v = h.get(AUTHORITY);
    }
    return v;
  }
}
