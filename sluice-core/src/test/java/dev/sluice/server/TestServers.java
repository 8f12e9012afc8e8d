package dev.sluice.server;

import dev.sluice.config.BootstrapLoader;
import dev.sluice.config.ProtoTypes;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Starts a full Sluice server in-process for integration tests, in one line:
 * {@code try (Server s = TestServers.start(yaml)) { ... s.listenerPort("l") ... }}. Use port 0 in
 * the config's addresses; {@link Server#adminPort()} and {@link Server#listenerPort(String)} give
 * the bound ports. {@code close()} stops it at once.
 */
public final class TestServers {
  /** Generous for a loaded 2-core machine; start-up itself takes well under a second. */
  public static final Duration START_TIMEOUT = Duration.ofSeconds(30);

  private TestServers() {}

  /** One worker, a 2 s drain time, the rest Envoy's defaults. */
  public static Options options() {
    return options(1, Duration.ofSeconds(2));
  }

  public static Options options(int concurrency, Duration drainTime) {
    Options d = Options.defaults(null);
    return new Options(null, null, concurrency, d.logLevel(), Map.of(), null, null, drainTime,
        d.drainStrategy(), d.parentShutdownTime(), d.localAddressIpVersion(),
        d.fileFlushInterval(), false, false, null, null, null, 0, Options.Mode.SERVE, List.of());
  }

  /** A bootstrap from YAML (or JSON) text, loaded as {@code --config-yaml} is. */
  public static Bootstrap bootstrap(String yaml) {
    return new BootstrapLoader(ProtoTypes.get()).load(null, yaml, false,
        BootstrapLoader.NodeOverrides.NONE);
  }

  /** Starts a server on {@code yaml} with {@link #options()} and waits until it is LIVE. */
  public static Server start(String yaml) {
    return start(bootstrap(yaml), options());
  }

  public static Server start(Bootstrap bootstrap, Options options) {
    Server server = new Server(options, bootstrap).start();
    try {
      return server.awaitLive(START_TIMEOUT);
    } catch (RuntimeException e) {
      server.close();
      throw e;
    }
  }
}
