package dev.sluice.server;

import com.google.protobuf.util.Durations;
import dev.sluice.admin.ServerInfoSource;
import dev.sluice.stats.ServerState;
import io.envoyproxy.envoy.admin.v3.CommandLineOptions;
import io.envoyproxy.envoy.config.core.v3.Node;
import java.time.Instant;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/** {@code /server_info} and {@code /ready} of a server: its command line, node and state. */
final class ServerInfoFromOptions implements ServerInfoSource {
  private static final String VERSION_PREFIX = "sluice  version: ";

  private final CommandLineOptions commandLine;
  private final Node node;
  private final Instant startTime;
  private final Supplier<ServerState> state;

  ServerInfoFromOptions(Options options, Node node, Instant startTime, Supplier<ServerState> state) {
    this.commandLine = commandLineOptions(options);
    this.node = node;
    this.startTime = startTime;
    this.state = state;
  }

  /** The {@code --version} text after the binary name: {@code <sha>/<version>/Clean/RELEASE/BoringSSL}. */
  static String versionString() {
    String line = OptionsParser.versionLine();
    return line.startsWith(VERSION_PREFIX) ? line.substring(VERSION_PREFIX.length()) : line;
  }

  @Override
  public String version() {
    return versionString();
  }

  /** No hot restart here: Envoy's answer with {@code --disable-hot-restart}. */
  @Override
  public String hotRestartVersion() {
    return "disabled";
  }

  @Override
  public ServerState initState() {
    return state.get();
  }

  @Override
  public Instant startTimeCurrentEpoch() {
    return startTime;
  }

  @Override
  public Instant startTimeFirstEpoch() {
    return startTime;
  }

  @Override
  public CommandLineOptions commandLineOptions() {
    return commandLine;
  }

  @Override
  public Node node() {
    return node;
  }

  /** The parsed command line in Envoy's {@code envoy.admin.v3.CommandLineOptions} shape. */
  static CommandLineOptions commandLineOptions(Options o) {
    CommandLineOptions.Builder b = CommandLineOptions.newBuilder()
        .setBaseId(o.baseId())
        .setConcurrency(o.concurrency())
        .setAllowUnknownStaticFields(o.allowUnknownStaticFields())
        .setRejectUnknownDynamicFields(o.rejectUnknownDynamicFields())
        .setLocalAddressIpVersion(o.localAddressIpVersion() == Options.IpVersion.V6
            ? CommandLineOptions.IpVersion.v6 : CommandLineOptions.IpVersion.v4)
        .setLogLevel(o.logLevel())
        .setComponentLogLevel(o.componentLogLevels().entrySet().stream()
            .map(e -> e.getKey() + ":" + e.getValue()).collect(Collectors.joining(",")))
        .setLogFormat(o.logFormat() == null ? SpdlogLayout.DEFAULT_FORMAT : o.logFormat())
        .setFileFlushInterval(Durations.fromMillis(o.fileFlushInterval().toMillis()))
        .setDrainTime(Durations.fromMillis(o.drainTime().toMillis()))
        .setDrainStrategy(o.drainStrategy() == Options.DrainStrategy.IMMEDIATE
            ? CommandLineOptions.DrainStrategy.Immediate : CommandLineOptions.DrainStrategy.Gradual)
        .setParentShutdownTime(Durations.fromMillis(o.parentShutdownTime().toMillis()))
        .setMode(o.mode() == Options.Mode.VALIDATE
            ? CommandLineOptions.Mode.Validate : CommandLineOptions.Mode.Serve)
        // Hot restart does not exist here, whether or not the flag was given.
        .setDisableHotRestart(true);
    if (o.configPath() != null) {
      b.setConfigPath(o.configPath().toString());
    }
    if (o.configYaml() != null) {
      b.setConfigYaml(o.configYaml());
    }
    if (o.logPath() != null) {
      b.setLogPath(o.logPath().toString());
    }
    if (o.serviceCluster() != null) {
      b.setServiceCluster(o.serviceCluster());
    }
    if (o.serviceNode() != null) {
      b.setServiceNode(o.serviceNode());
    }
    if (o.serviceZone() != null) {
      b.setServiceZone(o.serviceZone());
    }
    return b.build();
  }
}
