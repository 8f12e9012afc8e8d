package dev.sluice.admin;

import dev.sluice.stats.ServerState;
import io.envoyproxy.envoy.admin.v3.CommandLineOptions;
import io.envoyproxy.envoy.config.core.v3.Node;
import java.time.Instant;

/** What {@code /server_info} and {@code /ready} report about the server (supplied by it). */
public interface ServerInfoSource {
  /** Envoy-style version string, e.g. {@code <sha>/1.34.0/Clean/RELEASE/BoringSSL}. */
  String version();

  /** Envoy's hot restart compatibility version; {@code disabled} when hot restart is off. */
  String hotRestartVersion();

  /** Initialisation state: PRE_INITIALIZING, INITIALIZING or LIVE (draining comes from health). */
  ServerState initState();

  Instant startTimeCurrentEpoch();

  Instant startTimeFirstEpoch();

  CommandLineOptions commandLineOptions();

  Node node();

  /** Wall clock, injectable for tests. */
  default Instant now() {
    return Instant.now();
  }
}
