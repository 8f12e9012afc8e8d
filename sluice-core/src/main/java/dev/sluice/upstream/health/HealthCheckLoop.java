package dev.sluice.upstream.health;

import dev.sluice.tls.SecretProvider;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * The one small event loop that carries every health check connection of a cluster manager, so
 * checks never run on a worker. Created on first use; {@link #close()} stops it.
 */
public final class HealthCheckLoop implements AutoCloseable {
  private @Nullable EventLoopGroup group;
  private boolean closed;
  /** Where the checks' TLS finds SDS secrets (none until the server says). */
  private volatile SecretProvider secrets = SecretProvider.NONE;

  /** The server's secrets, for checks over a cluster's TLS transport socket. */
  public void useSecrets(SecretProvider provider) {
    this.secrets = provider;
  }

  SecretProvider secrets() {
    return secrets;
  }

  /** The loop; throws once closed. */
  synchronized EventLoop loop() {
    if (closed) {
      throw new IllegalStateException("health check loop closed");
    }
    if (group == null) {
      group = new MultiThreadIoEventLoopGroup(1,
          Thread.ofPlatform().daemon().name("sluice-hc-", 0).factory(), NioIoHandler.newFactory());
    }
    return group.next();
  }

  @Override
  public synchronized void close() {
    closed = true;
    if (group != null) {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }
  }
}
