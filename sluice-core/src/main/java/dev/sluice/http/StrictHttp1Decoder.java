package dev.sluice.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.util.AsciiString;
import java.util.List;

/**
 * Netty's HTTP/1 request parser set up as strictly as Envoy's: header size bounded by
 * {@code max_request_headers_kb}, strict line parsing (bare CR/LF rejected), header validation,
 * duplicate Content-Length refused, RFC 9112 transfer-coding rules. Anything it rejects becomes a
 * failed decoder result, answered 400/431 by {@link Http1ServerConnection}.
 */
final class StrictHttp1Decoder {
  /** The request line limit: Envoy counts it within max_request_headers_kb; Netty keeps it apart. */
  private static final int MAX_CHUNK_SIZE = 64 * 1024;

  private StrictHttp1Decoder() {}

  static HttpDecoderConfig decoderConfig(HttpConnectionManagerConfig config) {
    return new HttpDecoderConfig()
        .setMaxInitialLineLength(config.maxRequestHeadersBytes())
        .setMaxHeaderSize(config.maxRequestHeadersBytes())
        .setMaxChunkSize(MAX_CHUNK_SIZE)
        .setValidateHeaders(true)
        .setAllowDuplicateContentLengths(false)
        .setStrictLineParsing(true)
        .setUseRfc9112TransferEncoding(true)
        .setAllowPartialChunks(true)
        .setHeadersFactory(Http2BackedHeaders.FACTORY)
        .setTrailersFactory(Http2BackedHeaders.FACTORY);
  }

  /**
   * The request parser; its requests' headers are {@link Http2BackedHeaders}. Responses are
   * written as bytes by {@link Http1ServerConnection}. {@code onBytes} runs before each parse of
   * received bytes (request_headers_timeout starts there).
   */
  static HttpRequestDecoder serverDecoder(HttpConnectionManagerConfig config, Runnable onBytes) {
    return new RequestDecoder(decoderConfig(config), onBytes);
  }

  /**
   * An HTTP/0.9 request line has no version; Netty refuses it, Envoy reads it as HTTP/1.0 (so
   * 426 unless accept_http_10). Headers up to the empty line are still read, as Envoy's parser does.
   */
  private static final class RequestDecoder extends HttpRequestDecoder {
    private final Runnable onBytes;

    RequestDecoder(HttpDecoderConfig config, Runnable onBytes) {
      super(config);
      this.onBytes = onBytes;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf buffer, List<Object> out) throws Exception {
      if (buffer.isReadable()) {
        onBytes.run();
      }
      super.decode(ctx, buffer, out);
    }

    @Override
    protected HttpMessage createMessage(String[] initialLine) throws Exception {
      if (initialLine.length == 3 && initialLine[2].isEmpty()) {
        return super.createMessage(new String[] {initialLine[0], initialLine[1], "HTTP/1.0"});
      }
      return super.createMessage(initialLine);
    }

    /** Lower-case names, a shared constant for a known one: the stream model's form, copied once at most. */
    @Override
    protected AsciiString splitHeaderName(byte[] sb, int start, int length) {
      return HeaderNames.lowerCase(sb, start, length);
    }
  }

  /** A transfer coding we do not implement (Envoy answers 501). */
  static final class NotImplementedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    NotImplementedException(String message) {
      super(message);
    }
  }
}
