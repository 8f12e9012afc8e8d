package dev.sluice.upstream.health;

import dev.sluice.upstream.HostImpl;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoop;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import org.jspecify.annotations.Nullable;

/** {@code http_health_check} over HTTP/1.1: a bodiless request, judged on status and headers. */
final class Http1Probe extends Probe {
  private final HealthCheckConfig.Http http;

  Http1Probe(HostImpl host, HealthCheckConfig config, HealthCheckStats stats, EventLoop loop) {
    super(host, config, stats, loop);
    this.http = config.http();
  }

  @Override
  protected dev.sluice.tls.UpstreamTransportSocket.Alpn alpn() {
    return dev.sluice.tls.UpstreamTransportSocket.Alpn.HTTP1;
  }

  @Override
  protected void initPipeline(ChannelPipeline pipeline) {
    pipeline.addLast(new HttpClientCodec());
    pipeline.addLast(new ResponseHandler());
  }

  @Override
  protected void send(Channel channel) {
    FullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1,
        HttpMethod.valueOf(http.method()), http.path());
    HttpHeaders h = request.headers();
    h.set(HttpHeaderNames.HOST, authority(http.host()));
    h.set(HttpHeaderNames.USER_AGENT, "Envoy/HC");
    h.set(HttpHeaderNames.CONTENT_LENGTH, 0);
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
    channel.writeAndFlush(request);
  }

  private final class ResponseHandler extends SimpleChannelInboundHandler<HttpObject> {
    private @Nullable HttpResponse response;

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, HttpObject msg) {
      if (msg instanceof HttpResponse r) {
        response = r;
      }
      if (msg instanceof LastHttpContent && response != null) {
        HttpResponse r = response;
        response = null;
        CheckResult result = HttpResults.judge(http, stats, r.status().code(), r.headers()::get);
        boolean close = r.headers().containsValue(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE, true);
        complete(ctx.channel(), result);
        if (close) {
          ctx.close();
        }
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close();
    }
  }
}
