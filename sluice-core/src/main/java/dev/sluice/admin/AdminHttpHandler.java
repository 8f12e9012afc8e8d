package dev.sluice.admin;

import dev.sluice.api.stream.StreamInfo;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2Headers;
import java.net.InetSocketAddress;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Dispatches one admin connection's requests to the registered handlers, one at a time (reading
 * pauses while a handler's answer is pending, so responses keep request order).
 */
final class AdminHttpHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
  private static final Logger log = LoggerFactory.getLogger(AdminHttpHandler.class);
  private final AdminServer server;

  AdminHttpHandler(AdminServer server) {
    this.server = server;
  }

  @Override
  protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
    boolean keepAlive = HttpUtil.isKeepAlive(request);
    StreamInfo info = requestInfo(ctx, request);
    if (!request.decoderResult().isSuccess()) {
      write(ctx, AdminResponse.text(400, "Bad Request\n"), false, info);
      return;
    }
    QueryStringDecoder uri = new QueryStringDecoder(request.uri());
    String method = request.method().name();
    AdminRequest adminRequest = new AdminRequest(
        method, uri.path(), new QueryParams(uri.parameters()),
        ByteBufUtil.getBytes(request.content()));
    ctx.channel().config().setAutoRead(false);
    dispatch(adminRequest).whenComplete((response, error) -> ctx.executor().execute(() -> {
      AdminResponse answer = response;
      if (error != null) {
        log.warn("admin handler for {} failed", adminRequest.path(), error);
        answer = AdminResponse.text(500, "error: " + error + "\n");
      }
      write(ctx, answer, keepAlive, info);
      ctx.channel().config().setAutoRead(true);
    }));
  }

  private CompletableFuture<AdminResponse> dispatch(AdminRequest request) {
    var endpoint = server.endpoint(request.path());
    if (endpoint.isEmpty()) {
      return CompletableFuture.completedFuture(
          AdminResponse.text(404, "invalid path. " + AdminPages.help(server.endpoints())));
    }
    if (endpoint.get().mutatesState() && !request.method().equals("POST")) {
      log.error("admin path \"{}\" mutates state, method={} rather than POST",
          request.path(), request.method());
      return CompletableFuture.completedFuture(AdminResponse.text(
          405, "Method " + request.method() + " not allowed, POST required."));
    }
    try {
      CompletableFuture<AdminResponse> answer = endpoint.get().handler().handle(request);
      return answer == null
          ? CompletableFuture.failedFuture(new IllegalStateException("handler returned null"))
          : answer;
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  /** What {@code admin.access_log} formats: the request as the HTTP connection manager records it. */
  private static StreamInfo requestInfo(ChannelHandlerContext ctx, FullHttpRequest request) {
    StreamInfo info = StreamInfo.startNow();
    Http2Headers headers = new DefaultHttp2Headers()
        .method(request.method().name()).path(request.uri()).scheme("http");
    String host = request.headers().get(HttpHeaderNames.HOST);
    if (host != null) {
      headers.authority(host);
    }
    for (Map.Entry<String, String> h : request.headers()) {
      if (!h.getKey().equalsIgnoreCase("host")) {
        headers.add(h.getKey().toLowerCase(Locale.ROOT), h.getValue());
      }
    }
    info.requestHeaders = headers;
    info.protocol = request.protocolVersion().text();
    info.bytesReceived = request.content().readableBytes();
    info.lastDownstreamRxNanos = System.nanoTime();
    if (ctx.channel().remoteAddress() instanceof InetSocketAddress remote) {
      info.downstreamRemoteAddress = remote;
      info.downstreamDirectRemoteAddress = remote;
    }
    if (ctx.channel().localAddress() instanceof InetSocketAddress local) {
      info.downstreamLocalAddress = local;
    }
    return info;
  }

  private void write(ChannelHandlerContext ctx, AdminResponse answer, boolean keepAlive, StreamInfo info) {
    logAccess(answer, info);
    write(ctx, answer, keepAlive);
  }

  private void logAccess(AdminResponse answer, StreamInfo info) {
    info.responseCode = answer.status();
    info.responseHeaders = new DefaultHttp2Headers().status(Integer.toString(answer.status()))
        .set("content-type", answer.contentType());
    info.bytesSent = answer.body().length;
    info.lastDownstreamTxNanos = System.nanoTime();
    info.endNanos = info.lastDownstreamTxNanos;
    try {
      server.accessLogger().log(info);
    } catch (RuntimeException e) {
      log.warn("admin access log failed", e);
    }
  }

  private static void write(ChannelHandlerContext ctx, AdminResponse answer, boolean keepAlive) {
    FullHttpResponse response = new DefaultFullHttpResponse(
        HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(answer.status()),
        Unpooled.wrappedBuffer(answer.body()));
    var headers = response.headers();
    headers.set(HttpHeaderNames.CONTENT_TYPE, answer.contentType());
    headers.setInt(HttpHeaderNames.CONTENT_LENGTH, response.content().readableBytes());
    // Envoy's admin marks every answer as not cacheable and not to be sniffed.
    headers.set(HttpHeaderNames.CACHE_CONTROL, "no-cache, max-age=0");
    headers.set("x-content-type-options", "nosniff");
    if (!keepAlive) {
      headers.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
      ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
    } else {
      ctx.writeAndFlush(response);
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    log.debug("admin connection error", cause);
    ctx.close();
  }
}
