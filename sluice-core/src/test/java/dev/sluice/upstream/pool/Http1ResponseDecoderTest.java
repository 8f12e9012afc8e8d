package dev.sluice.upstream.pool;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.http.Http2BackedHeaders;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.CharsetUtil;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link Http1ResponseDecoder}: Netty's response parser told the method in flight (RFC 9112 6.3):
 * no body after HEAD, a tunnel after a 2xx to CONNECT, interim 1xx responses before the final one.
 * Each decoded message is summarised as a string, in order.
 */
class Http1ResponseDecoderTest {
  private final Http1ResponseDecoder decoder = new Http1ResponseDecoder(
      new HttpDecoderConfig().setMaxHeaderSize(96 * 1024).setMaxChunkSize(64 * 1024).setValidateHeaders(true)
          .setHeadersFactory(Http2BackedHeaders.FACTORY).setTrailersFactory(Http2BackedHeaders.FACTORY));
  private final EmbeddedChannel channel = new EmbeddedChannel(decoder);

  @AfterEach
  void close() {
    channel.finishAndReleaseAll();
  }

  private List<String> feed(String bytes) {
    channel.writeInbound(Unpooled.copiedBuffer(bytes, CharsetUtil.ISO_8859_1));
    List<String> out = new ArrayList<>();
    for (Object msg; (msg = channel.readInbound()) != null; ) {
      try {
        out.add(describe(msg));
      } finally {
        ReferenceCountUtil.release(msg);
      }
    }
    return out;
  }

  private static String describe(Object msg) {
    StringBuilder s = new StringBuilder();
    if (msg instanceof HttpResponse r) {
      if (r.decoderResult().isFailure()) {
        return "failure";
      }
      assertThat(r.headers()).isInstanceOf(Http2BackedHeaders.class);
      s.append(r.status().code());
      r.headers().forEach(e -> s.append(' ').append(e.getKey()).append('=').append(e.getValue()));
    }
    if (msg instanceof HttpContent c) {
      if (c.decoderResult().isFailure()) {
        return "failure";
      }
      if (!s.isEmpty()) {
        s.append(' ');
      }
      s.append(c instanceof LastHttpContent ? "last[" : "data[").append(c.content().toString(CharsetUtil.ISO_8859_1)).append(']');
      if (c instanceof LastHttpContent last) {
        last.trailingHeaders().forEach(e -> s.append(' ').append(e.getKey()).append('=').append(e.getValue()));
      }
    } else if (msg instanceof ByteBuf raw) {
      s.append("raw[").append(raw.toString(CharsetUtil.ISO_8859_1)).append(']');
    }
    return s.toString();
  }

  @Test
  void headResponseHasNoBodyAndTheNextResponseFollowsOnTheSameConnection() {
    decoder.onRequest(true, false);
    assertThat(feed("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\n"))
        .containsExactly("200 content-length=5 content-type=text/plain", "last[]");
    decoder.onRequest(false, false);
    assertThat(feed("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"))
        .containsExactly("200 content-length=5", "last[hello]");
  }

  @Test
  void headResponsesInOneReadAreSplitAtTheirHeads() {
    // Pipelined on the wire: HEAD (length 5, chunked), then a GET; the HEAD bodies are never sent.
    decoder.onRequest(true, false);
    List<String> first = feed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        + "HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\nno");
    // Netty drops the chunked coding of a message that has no content.
    assertThat(first).containsExactly("200", "last[]", "404 content-length=2", "last[no]");
  }

  @Test
  void continueThenFinalResponse() {
    decoder.onRequest(false, false);
    assertThat(feed("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
        .containsExactly("100", "last[]", "200 content-length=2", "last[ok]");
  }

  @Test
  void interimResponsesDoNotConsumeTheHeadFlag() {
    decoder.onRequest(true, false);
    assertThat(feed("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n"
        + "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n"))
        .containsExactly("100", "last[]", "103 link=</s.css>; rel=preload", "last[]", "200 content-length=9", "last[]");
    decoder.onRequest(false, false);
    assertThat(feed("HTTP/1.1 204 No Content\r\n\r\n")).containsExactly("204", "last[]");
  }

  @Test
  void switchingProtocolsPassesTheFollowingBytesRaw() {
    decoder.onRequest(false, false);
    assertThat(feed("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        + "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n\u0081\u0002hi"))
        .containsExactly("101 upgrade=websocket connection=Upgrade sec-websocket-accept=s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
            "last[]", "raw[\u0081\u0002hi]");
    assertThat(feed("HTTP/1.1 200 not parsed")).containsExactly("raw[HTTP/1.1 200 not parsed]");
  }

  @Test
  void connectSuccessTurnsTheConnectionIntoATunnel() {
    decoder.onRequest(false, true);
    assertThat(feed("HTTP/1.1 200 Connection Established\r\n\r\nSSH-2.0-x\r\n"))
        .containsExactly("200", "last[]", "raw[SSH-2.0-x\r\n]");
    assertThat(feed("HTTP/1.1 200 OK\r\n\r\n")).containsExactly("raw[HTTP/1.1 200 OK\r\n\r\n]");
  }

  @Test
  void connectSuccessWithNothingElseYetThenBytesLater() {
    decoder.onRequest(false, true);
    assertThat(feed("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n")).containsExactly("200 content-length=10", "last[]");
    assertThat(feed("\u0016\u0003\u0001")).containsExactly("raw[\u0016\u0003\u0001]");
  }

  @Test
  void refusedConnectKeepsHttpFraming() {
    decoder.onRequest(false, true);
    assertThat(feed("HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 4\r\n\r\ndeny"))
        .containsExactly("407 content-length=4", "last[deny]");
    decoder.onRequest(false, false);
    assertThat(feed("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")).containsExactly("200 content-length=0", "last[]");
  }

  @Test
  void bodylessStatusesAndChunkedTrailers() {
    decoder.onRequest(false, false);
    assertThat(feed("HTTP/1.1 304 Not Modified\r\nContent-Length: 7\r\nETag: \"x\"\r\n\r\n"))
        .containsExactly("304 content-length=7 etag=\"x\"", "last[]");
    decoder.onRequest(false, false);
    assertThat(feed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nGrpc-Status: 0\r\nX-T: 1\r\n\r\n"))
        .containsExactly("200 transfer-encoding=chunked", "data[abc]", "last[] grpc-status=0 x-t=1");
  }

  @Test
  void upgradeToAnotherProtocolPassesTheFollowingBytesRaw() {
    decoder.onRequest(false, false);
    assertThat(feed("HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\nPRI"))
        .containsExactly("101 upgrade=h2c connection=Upgrade", "last[]", "raw[PRI]");
  }

  /** RFC 9112 4: status-line = HTTP-version SP status-code SP [ reason-phrase ], status-code = 3DIGIT. */
  @Test
  void malformedStatusLinesAreFailedResponses() {
    for (String line : List.of("HTTP/1.1 abc OK", "HTTP/1.1 2000 OK", "HTTP/1.1 20 OK", "HTTP/1.1 +20 OK",
        "HTTP/1.1 -200 OK", "HTTP/1.1 099 Low", "HTTP/1.1 2x0 OK", "HTTP/1.1", "garbage", "HTTP/9 200 OK")) {
      Http1ResponseDecoder d = new Http1ResponseDecoder(new HttpDecoderConfig().setValidateHeaders(true)
          .setHeadersFactory(Http2BackedHeaders.FACTORY).setTrailersFactory(Http2BackedHeaders.FACTORY));
      EmbeddedChannel ch = new EmbeddedChannel(d);
      d.onRequest(false, false);
      ch.writeInbound(Unpooled.copiedBuffer(line + "\r\nContent-Length: 0\r\n\r\n", CharsetUtil.ISO_8859_1));
      Object first = ch.readInbound();
      assertThat(first).as(line).isNotNull();
      assertThat(describe(first)).as(line).isEqualTo("failure");
      ReferenceCountUtil.release(first);
      ch.finishAndReleaseAll();
    }
  }

  @Test
  void statusCodesOfThreeDigitsAreAccepted() {
    for (String code : List.of("100", "199", "200", "299", "404", "599", "600", "999")) {
      decoder.onRequest(true, false);
      assertThat(feed("HTTP/1.1 " + code + " Whatever\r\nContent-Length: 1\r\n\r\n")).as(code)
          .containsExactly(code + " content-length=1", "last[]");
    }
    decoder.onRequest(false, false);
    // The reason phrase may be empty (RFC 9112 4).
    assertThat(feed("HTTP/1.1 204 \r\n\r\n")).containsExactly("204", "last[]");
  }

  @Test
  void invalidHeaderFieldIsAFailedResponse() {
    decoder.onRequest(false, false);
    assertThat(feed("HTTP/1.1 200 OK\r\nX-Ctl: a\u0001b\r\nContent-Length: 0\r\n\r\n")).first().isEqualTo("failure");
  }
}
