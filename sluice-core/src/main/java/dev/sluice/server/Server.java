package dev.sluice.server;

import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import java.util.List;

/** One Sluice server: built from a loaded bootstrap, then validated or run. (Being written.) */
public final class Server {
  private final Options options;
  private final Bootstrap bootstrap;

  public Server(Options options, Bootstrap bootstrap) {
    this.options = options;
    this.bootstrap = bootstrap;
  }

  /** Compiles everything the bootstrap declares without binding a socket; returns every error. */
  public List<String> validate() {
    return List.of();
  }

  /** Runs until SIGTERM or {@code /quitquitquit}; returns the process exit code. */
  public int run() {
    return 0;
  }

  public Options options() {
    return options;
  }

  public Bootstrap bootstrap() {
    return bootstrap;
  }
}
