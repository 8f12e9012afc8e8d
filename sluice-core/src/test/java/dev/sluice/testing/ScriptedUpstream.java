package dev.sluice.testing;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * An HTTP/1.1 upstream that fails on command. The request header {@code x-script} lists what to do
 * on each attempt of the request keyed by {@code x-key} (the last entry repeats): {@code ok},
 * a status code ({@code 503}), {@code hdr} (200 with {@code x-retry-me}), {@code close} (drop the
 * connection without answering), {@code rst} (close with a TCP reset), {@code hang} (never answer),
 * {@code slow:MS}, {@code hold} (answer {@code ok} only at {@link #release()}). Answers carry
 * {@code x-backend} and {@code x-attempt}; the body echoes the request body after {@code name:}.
 * A request without the header follows the upstream's default script.
 */
public final class ScriptedUpstream implements AutoCloseable {
  /** What one request looked like on arrival. */
  public record Seen(String key, String path, Map<String, String> headers, String body) {}

  public final String name;
  public final AtomicInteger connections = new AtomicInteger();
  public final AtomicInteger requests = new AtomicInteger();
  public final ConcurrentLinkedQueue<Seen> seen = new ConcurrentLinkedQueue<>();
  private final Map<String, AtomicInteger> attempts = new ConcurrentHashMap<>();
  private final ConcurrentLinkedQueue<Runnable> held = new ConcurrentLinkedQueue<>();
  private final ChannelGroup children = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
  private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
  private final Channel server;
  private final String scriptHeader;
  private final Function<FullHttpRequest, String> defaultScript;

  /** Scripted by {@code x-script}; {@code ok} without it. */
  public ScriptedUpstream(String name) throws InterruptedException {
    this(name, "x-script");
  }

  /** @param scriptHeader the header this upstream takes its script from (a mirror can have its own) */
  public ScriptedUpstream(String name, String scriptHeader) throws InterruptedException {
    this(name, scriptHeader, req -> "ok");
  }

  private ScriptedUpstream(String name, String scriptHeader, Function<FullHttpRequest, String> defaultScript)
      throws InterruptedException {
    this.name = name;
    this.scriptHeader = scriptHeader;
    this.defaultScript = defaultScript;
    server = new ServerBootstrap()
        .group(group)
        .channel(NioServerSocketChannel.class)
        .childHandler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            connections.incrementAndGet();
            children.add(ch);
            ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(1 << 20), new Handler());
          }
        })
        .bind(new InetSocketAddress("127.0.0.1", 0))
        .sync()
        .channel();
  }

  /** An upstream that holds every request to {@code /hang} until {@link #release()} and answers the others at once. */
  public static ScriptedUpstream holdingHang(String name) throws InterruptedException {
    return new ScriptedUpstream(name, "x-script", req -> req.uri().startsWith("/hang") ? "hold" : "ok");
  }

  public int port() {
    return ((InetSocketAddress) server.localAddress()).getPort();
  }

  /** How many requests are held now. */
  public int held() {
    return held.size();
  }

  /** Answers every held request ({@code ok}). */
  public void release() {
    Runnable answer;
    while ((answer = held.poll()) != null) {
      answer.run();
    }
  }

  /** How many requests carried this key. */
  public int count(String key) {
    AtomicInteger n = attempts.get(key);
    return n == null ? 0 : n.get();
  }

  private final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
      requests.incrementAndGet();
      String key = req.headers().get("x-key", "");
      int attempt = attempts.computeIfAbsent(key, k -> new AtomicInteger()).getAndIncrement();
      Map<String, String> headers = new ConcurrentHashMap<>();
      req.headers().forEach(e -> headers.merge(e.getKey().toLowerCase(), e.getValue(), (a, b) -> a + "," + b));
      String body = req.content().toString(StandardCharsets.UTF_8);
      seen.add(new Seen(key, req.uri(), headers, body));
      String given = req.headers().get(scriptHeader);
      String[] script = (given != null ? given : defaultScript.apply(req)).split(",");
      String action = script[Math.min(attempt, script.length - 1)].strip();
      switch (action) {
        case "close" -> ctx.close();
        case "rst" -> {
          ctx.channel().config().setOption(ChannelOption.SO_LINGER, 0);
          ctx.close();
        }
        case "hang" -> {}
        case "hold" -> held.add(() -> ctx.writeAndFlush(response(200, body, attempt)));
        default -> {
          if (action.startsWith("slow:")) {
            FullHttpResponse r = response(200, body, attempt);
            ctx.executor().schedule(() -> ctx.writeAndFlush(r), Long.parseLong(action.substring(5)), TimeUnit.MILLISECONDS);
          } else if (action.equals("hdr")) {
            FullHttpResponse r = response(200, body, attempt);
            r.headers().set("x-retry-me", "yes");
            ctx.writeAndFlush(r);
          } else {
            ctx.writeAndFlush(response(action.equals("ok") ? 200 : Integer.parseInt(action), body, attempt));
          }
        }
      }
    }
  }

  private FullHttpResponse response(int status, String body, int attempt) {
    byte[] b = (name + ":" + body).getBytes(StandardCharsets.UTF_8);
    FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(status),
        Unpooled.wrappedBuffer(b));
    r.headers().set(HttpHeaderNames.CONTENT_LENGTH, b.length);
    r.headers().set("x-backend", name);
    r.headers().set("x-attempt", attempt);
    return r;
  }

  @Override
  public void close() {
    server.close().syncUninterruptibly();
    children.close().syncUninterruptibly();
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
  }
}
