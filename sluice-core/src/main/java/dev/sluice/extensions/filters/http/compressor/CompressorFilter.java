package dev.sluice.extensions.filters.http.compressor;

import dev.sluice.api.http.FilterStatus;
import dev.sluice.api.http.HttpFilter;
import dev.sluice.api.http.HttpFilterCallbacks;
import dev.sluice.api.http.Route;
import dev.sluice.http.ActiveStream;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http2.Http2Headers;
import java.util.List;
import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * One stream of {@code envoy.filters.http.compressor}. Response compression is decided on the
 * response headers (Envoy's rules: enabled, long enough, not an upgrade, status not excluded,
 * content type listed, no {@code cache-control: no-transform}, etag policy, not already encoded,
 * the coding agreed from {@code accept-encoding}, a body to come); the body is then compressed chunk
 * by chunk, each chunk flushed, and handed on in place of the chunk (which is emptied).
 * {@code content-length} goes, {@code content-encoding} is set, {@code vary: Accept-Encoding} is added
 * whenever the response could have been compressed. Requests are compressed only with
 * {@code request_direction_config}.
 */
final class CompressorFilter implements HttpFilter {
  /** Transfer codings that mean the body is compressed already. */
  private static final List<String> COMPRESSING_TRANSFER_CODINGS = List.of("gzip", "x-gzip", "deflate", "compress", "br", "zstd");

  private final CompressorConfig config;
  private @Nullable ActiveStream.Slot slot;
  private @Nullable String acceptEncoding;
  private boolean headRequest;
  private boolean responseEnabled;
  private @Nullable StreamCompressor requestCompressor;
  private @Nullable StreamCompressor responseCompressor;

  CompressorFilter(CompressorConfig config) {
    this.config = config;
  }

  @Override
  public void setCallbacks(HttpFilterCallbacks callbacks) {
    // The compressed chunks go on from this filter's position, through the filter manager.
    this.slot = (ActiveStream.Slot) callbacks;
  }

  // ---------------------------------------------------------------- request

  @Override
  public FilterStatus decodeHeaders(Http2Headers headers, boolean endStream) {
    List<CharSequence> accept = headers.getAll("accept-encoding");
    acceptEncoding = accept.isEmpty() ? null : String.join(",", accept);
    headRequest = "HEAD".contentEquals(String.valueOf(headers.method()));
    PerRouteConfig perRoute = perRoute();
    responseEnabled = config.response().common().enabled() && (perRoute == null || !perRoute.disabled());
    boolean removeAccept = perRoute != null && perRoute.removeAcceptEncoding() != null
        ? perRoute.removeAcceptEncoding() : config.response().removeAcceptEncoding();
    if (removeAccept) {
      headers.remove("accept-encoding");
    }
    DirectionConfig request = config.request();
    if (request != null && request.enabled() && !endStream) {
      if (request.longEnough(headers) && request.contentTypeAllowed(headers)
          && !headers.contains("content-encoding") && transferEncodingAllowed(headers)) {
        headers.remove("content-length");
        headers.set("content-encoding", config.library().contentEncoding());
        request.stats().compressed.inc();
        requestCompressor = config.library().newCompressor();
      } else {
        request.stats().notCompressed.inc();
      }
    }
    return FilterStatus.CONTINUE;
  }

  private @Nullable PerRouteConfig perRoute() {
    ActiveStream.Slot s = slot;
    Route route = s == null ? null : s.route();
    // Keyed by this filter's own name in the chain (Istio names them envoy.filters.http.compressor.gzip...).
    return route != null && route.perFilterConfig(s.filterName()) instanceof PerRouteConfig p ? p : null;
  }

  @Override
  public FilterStatus decodeData(ByteBuf data, boolean endStream) {
    StreamCompressor c = requestCompressor;
    DirectionConfig request = config.request();
    if (c != null && request != null && slot != null) {
      ByteBuf out = compress(c, data, endStream, request.stats());
      if (endStream) {
        requestCompressor = null;
      }
      inject(out, true);
    }
    return FilterStatus.CONTINUE;
  }

  @Override
  public FilterStatus decodeTrailers(Http2Headers trailers) {
    StreamCompressor c = requestCompressor;
    DirectionConfig request = config.request();
    if (c != null && request != null) {
      requestCompressor = null;
      inject(compress(c, Unpooled.EMPTY_BUFFER, true, request.stats()), true);
    }
    return FilterStatus.CONTINUE;
  }

  // ---------------------------------------------------------------- response

  @Override
  public FilterStatus encodeHeaders(Http2Headers headers, boolean endStream) {
    ResponseConfig response = config.response();
    boolean compressible = responseEnabled
        && response.common().longEnough(headers)
        && statusCompressible(headers, response)
        && response.common().contentTypeAllowed(headers)
        && !hasToken(headers.get("cache-control"), "no-transform")
        && etagAllowed(headers, response)
        && !headers.contains("content-encoding");
    if (!endStream && !headRequest && compressible && acceptEncodingAllowed(response)
        && transferEncodingAllowed(headers)) {
      sanitizeEtag(headers);
      headers.remove("content-length");
      headers.set("content-encoding", config.library().contentEncoding());
      response.common().stats().compressed.inc();
      responseCompressor = config.library().newCompressor();
    } else {
      response.common().stats().notCompressed.inc();
    }
    if (compressible) {
      // A cache in front must know the body depends on accept-encoding, compressed here or not.
      insertVary(headers);
    }
    return FilterStatus.CONTINUE;
  }

  @Override
  public FilterStatus encodeData(ByteBuf data, boolean endStream) {
    StreamCompressor c = responseCompressor;
    if (c != null) {
      ByteBuf out = compress(c, data, endStream, config.response().common().stats());
      if (endStream) {
        responseCompressor = null;
      }
      inject(out, false);
    }
    return FilterStatus.CONTINUE;
  }

  @Override
  public FilterStatus encodeTrailers(Http2Headers trailers) {
    StreamCompressor c = responseCompressor;
    if (c != null) {
      // The compressed stream ends before the trailers (Envoy's addEncodedData).
      responseCompressor = null;
      inject(compress(c, Unpooled.EMPTY_BUFFER, true, config.response().common().stats()), false);
    }
    return FilterStatus.CONTINUE;
  }

  @Override
  public void onDestroy() {
    if (requestCompressor != null) {
      requestCompressor.close();
      requestCompressor = null;
    }
    if (responseCompressor != null) {
      responseCompressor.close();
      responseCompressor = null;
    }
  }

  // ---------------------------------------------------------------- helpers

  /** Compresses {@code data} (then emptied: it goes on with no bytes and its end-of-stream flag). */
  private static ByteBuf compress(StreamCompressor c, ByteBuf data, boolean finish, DirectionStats stats) {
    stats.totalUncompressedBytes.add(data.readableBytes());
    ByteBuf out = c.compress(data, finish, data == Unpooled.EMPTY_BUFFER ? io.netty.buffer.ByteBufAllocator.DEFAULT : data.alloc());
    if (data.isReadable()) {
      data.skipBytes(data.readableBytes());
    }
    stats.totalCompressedBytes.add(out.readableBytes());
    return out;
  }

  /** Hands compressed bytes to the filters after this one, ahead of the (emptied) chunk. */
  private void inject(ByteBuf out, boolean request) {
    ActiveStream.Slot s = slot;
    if (!out.isReadable() || s == null) {
      out.release();
      return;
    }
    if (request) {
      s.injectDecodedData(out, false);
    } else {
      s.encodeData(out, false);
    }
  }

  private boolean acceptEncodingAllowed(ResponseConfig response) {
    String accept = acceptEncoding;
    if (accept == null) {
      response.stats().noAcceptHeader.inc();
      return false;
    }
    CompressorChain chain = config.chain();
    AcceptEncoding.Decision decision = AcceptEncoding.choose(accept, chain.codings(), chain.preferred());
    return response.stats().count(decision, config.library().contentEncoding());
  }

  /** Not an upgrade, a bodiless status or an excluded code ({@code uncompressible_response_codes}). */
  private static boolean statusCompressible(Http2Headers headers, ResponseConfig response) {
    CharSequence status = headers.status();
    int code;
    try {
      code = status == null ? 0 : Integer.parseInt(status.toString());
    } catch (NumberFormatException e) {
      return false;
    }
    return code >= 200 && code != 204 && code != 304 && !headers.contains("upgrade")
        && !response.uncompressibleCodes().contains(code);
  }

  private static boolean etagAllowed(Http2Headers headers, ResponseConfig response) {
    if (response.disableOnEtag() && headers.contains("etag")) {
      response.stats().notCompressedEtag.inc();
      return false;
    }
    return true;
  }

  /** A strong etag no longer matches the compressed bytes: it goes; a weak one stays (Envoy). */
  private static void sanitizeEtag(Http2Headers headers) {
    CharSequence etag = headers.get("etag");
    if (etag != null && !etag.toString().startsWith("W/")) {
      headers.remove("etag");
    }
  }

  private static boolean transferEncodingAllowed(Http2Headers headers) {
    CharSequence te = headers.get("transfer-encoding");
    if (te == null) {
      return true;
    }
    for (String coding : COMPRESSING_TRANSFER_CODINGS) {
      if (hasToken(te, coding)) {
        return false;
      }
    }
    return true;
  }

  private static void insertVary(Http2Headers headers) {
    CharSequence vary = headers.get("vary");
    if (vary == null) {
      headers.set("vary", "Accept-Encoding");
    } else if (!hasToken(vary, "accept-encoding")) {
      headers.set("vary", vary + ", Accept-Encoding");
    }
  }

  /** Whether a comma-separated header value has {@code token} (case-insensitive, parameters ignored). */
  static boolean hasToken(@Nullable CharSequence value, String token) {
    if (value == null) {
      return false;
    }
    for (String part : value.toString().split(",")) {
      int semi = part.indexOf(';');
      String t = (semi < 0 ? part : part.substring(0, semi)).trim().toLowerCase(Locale.ROOT);
      if (t.equals(token)) {
        return true;
      }
    }
    return false;
  }
}
