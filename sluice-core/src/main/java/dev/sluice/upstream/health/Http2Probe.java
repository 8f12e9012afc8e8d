package dev.sluice.upstream.health;

import dev.sluice.upstream.HostImpl;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2ChannelDuplexHandler;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2FrameStream;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.Http2StreamFrame;
import io.netty.util.ReferenceCountUtil;
import java.io.ByteArrayOutputStream;
import org.jspecify.annotations.Nullable;

/**
 * Health checks over HTTP/2 with prior knowledge: {@code http_health_check} with
 * {@code codec_client_type: HTTP2}, or {@code grpc_health_check} ({@code grpc.health.v1.Health/Check},
 * which passes only with {@code grpc-status: 0} and a SERVING answer). One stream per check; the
 * connection is reused until the peer sends GOAWAY.
 */
final class Http2Probe extends Probe {
  private static final int MAX_BODY = 64 * 1024;
  private final HealthCheckConfig.@Nullable Http http;
  private final HealthCheckConfig.@Nullable Grpc grpc;
  private @Nullable FrameHandler handler;
  private @Nullable Http2FrameStream stream;
  private boolean goaway;

  Http2Probe(HostImpl host, HealthCheckConfig config, HealthCheckStats stats, EventLoop loop) {
    super(host, config, stats, loop);
    this.http = config.http();
    this.grpc = config.grpc();
  }

  @Override
  protected boolean canReuse() {
    return super.canReuse() && !goaway;
  }

  @Override
  protected dev.sluice.tls.UpstreamTransportSocket.Alpn alpn() {
    return dev.sluice.tls.UpstreamTransportSocket.Alpn.HTTP2;
  }

  @Override
  protected void initPipeline(ChannelPipeline pipeline) {
    FrameHandler h = new FrameHandler();
    handler = h;
    goaway = false;
    pipeline.addLast(Http2FrameCodecBuilder.forClient().build(), h);
  }

  @Override
  protected void send(Channel channel) {
    FrameHandler fh = handler;
    if (fh == null) {
      return;
    }
    Http2FrameStream s = fh.newStream();
    stream = s;
    Http2Headers h = new DefaultHttp2Headers().scheme("http");
    byte[] body = null;
    if (grpc != null) {
      h.method("POST").path("/grpc.health.v1.Health/Check")
          .authority(authority(grpc.authority()))
          .set("content-type", "application/grpc")
          .set("te", "trailers");
      for (HealthCheckConfig.Header m : grpc.initialMetadata()) {
        h.add(m.name(), m.value());
      }
      body = GrpcHealthMessages.request(grpc.serviceName());
    } else if (http != null) {
      h.method(http.method()).path(http.path())
          .authority(authority(http.host()))
          .set("user-agent", "Envoy/HC");
      for (HealthCheckConfig.Header add : http.headersToAdd()) {
        if (add.onlyIfAbsent() && h.contains(add.name())) {
          continue;
        }
        if (add.append()) {
          h.add(add.name(), add.value());
        } else {
          h.set(add.name(), add.value());
        }
      }
      http.headersToRemove().forEach(h::remove);
    }
    channel.write(new DefaultHttp2HeadersFrame(h, body == null).stream(s));
    if (body != null) {
      channel.write(new DefaultHttp2DataFrame(Unpooled.wrappedBuffer(body), true).stream(s));
    }
    channel.flush();
  }

  /** Collects one stream's response; judges it at end of stream. */
  private final class FrameHandler extends Http2ChannelDuplexHandler {
    private @Nullable Http2Headers headers;
    private final ByteArrayOutputStream data = new ByteArrayOutputStream();

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      try {
        if (msg instanceof Http2GoAwayFrame g) {
          goaway = true;
          Http2FrameStream s = stream;
          if (s != null && s.id() > g.lastStreamId()) {
            complete(ctx.channel(), CheckResult.NETWORK_FAILED);
          }
          return;
        }
        if (!(msg instanceof Http2StreamFrame f) || f.stream() == null || f.stream() != stream) {
          return;
        }
        if (msg instanceof Http2ResetFrame) {
          finish(ctx, CheckResult.NETWORK_FAILED);
        } else if (msg instanceof Http2HeadersFrame hf) {
          if (headers == null) {
            headers = hf.headers();
            if (hf.isEndStream()) {
              finish(ctx, judge(hf.headers(), hf.headers()));
            }
          } else {
            finish(ctx, judge(headers, hf.headers()));
          }
        } else if (msg instanceof Http2DataFrame df) {
          ByteBuf content = df.content();
          if (data.size() + content.readableBytes() <= MAX_BODY) {
            byte[] bytes = new byte[content.readableBytes()];
            content.getBytes(content.readerIndex(), bytes);
            data.writeBytes(bytes);
          }
          if (df.isEndStream() && headers != null) {
            finish(ctx, judge(headers, null));
          }
        }
      } finally {
        ReferenceCountUtil.release(msg);
      }
    }

    private void finish(ChannelHandlerContext ctx, CheckResult result) {
      headers = null;
      data.reset();
      stream = null;
      complete(ctx.channel(), result);
      if (goaway) {
        ctx.close();
      }
    }

    /** @param trailers the trailers, or the headers of a trailers-only answer, or null */
    private CheckResult judge(Http2Headers response, @Nullable Http2Headers trailers) {
      int status = parseStatus(response.status());
      if (grpc == null) {
        return http == null ? CheckResult.FAILED
            : HttpResults.judge(http, stats, status, name -> {
              CharSequence v = response.get(name);
              return v == null ? null : v.toString();
            });
      }
      CharSequence type = response.get("content-type");
      if (status != 200 || type == null || !type.toString().startsWith("application/grpc")) {
        return CheckResult.FAILED;
      }
      CharSequence grpcStatus = trailers == null ? null : trailers.get("grpc-status");
      if (grpcStatus == null || !"0".contentEquals(grpcStatus)) {
        return CheckResult.FAILED;
      }
      return GrpcHealthMessages.servingStatus(data.toByteArray()) == GrpcHealthMessages.SERVING
          ? CheckResult.HEALTHY : CheckResult.FAILED;
    }

    private static int parseStatus(@Nullable CharSequence status) {
      try {
        return status == null ? 0 : Integer.parseInt(status.toString());
      } catch (NumberFormatException e) {
        return 0;
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close();
    }
  }
}
