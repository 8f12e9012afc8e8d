package dev.sluice.http;

import io.netty.channel.CombinedChannelDuplexHandler;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.handler.codec.http.HttpResponseEncoder;

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
        .setAllowPartialChunks(true);
  }

  static CombinedChannelDuplexHandler<HttpRequestDecoder, HttpResponseEncoder> serverCodec(
      HttpConnectionManagerConfig config) {
    return new CombinedChannelDuplexHandler<>(new HttpRequestDecoder(decoderConfig(config)), new HttpResponseEncoder());
  }

  /** A transfer coding we do not implement (Envoy answers 501). */
  static final class NotImplementedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    NotImplementedException(String message) {
      super(message);
    }
  }
}
